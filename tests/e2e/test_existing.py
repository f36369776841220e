# SPDX-License-Identifier: GPL-2.0
"""Connections that existed before the attach, or before a rule change, follow
the rules too: attach arms them, config set and load retune them."""
import json
import os

from harness import Env, Peer, defer, need_root, port, undo, wait_until

KERNEL_DEFAULT = {"keepalive": 0, "time": 7200, "intvl": 75, "probes": 9, "user_timeout_ms": 0}


def setUpModule():
    need_root()


class Existing(Env):
    def connect(self, pbx, lid, phone, addr, port):
        """A phone's connection to the PBX: (PBX socket id, phone socket id)."""
        phone_sock = phone("connect", addr, port)["id"]
        return pbx("accept", lid)["id"], phone_sock

    def tracked(self):
        """Whether this kernel lets sipka see existing connections close (6.12,
        6.18: yes; 6.1: no, they are armed and counted in untracked)."""
        return self.sipka("status", json_out=True)["kernel"]["track_existing"]

    def other_cgroup(self):
        cg = self.cg + "-other"
        os.mkdir(cg)
        entry = defer(lambda: os.rmdir(cg), "cgroup " + cg)
        return cg, entry

    def test_attach_arms_existing_connections_and_tracks_their_end(self):
        phone_ns = self.phone_link()
        pbx, phone, local = self.pbx(), self.outsider(phone_ns), self.outsider()
        lid = pbx("listen", "::", port(5060))["id"]
        far, _ = self.connect(pbx, lid, phone, "198.18.0.1", port(5060))
        near, near_phone = self.connect(pbx, lid, local, "::1", port(5060))
        self.assertEqual(pbx("opts", far)["opts"], KERNEL_DEFAULT)

        out = self.sipka("-j", "attach", "--cgroup", self.cg, "--config",
                         self.conf(f"[tcp]\nport = {port(5060)}\ntcp_keepalive_time = 1\n"
                                   "tcp_keepalive_intvl = 1\ntcp_keepalive_probes = 2\n"))
        tracked = self.tracked()
        self.assertEqual(json.loads(out.stdout)["existing"],
                         {"armed": 2, "retuned": 0, "untracked": 0 if tracked else 2, "failed": 0,
                          "closes_counted": tracked, "netns_skipped": 0})
        armed = {"keepalive": 1, "time": 1, "intvl": 1, "probes": 2, "user_timeout_ms": 3000}
        self.assertEqual(pbx("opts", far)["opts"], armed)
        self.assertEqual(pbx("opts", near)["opts"], armed)
        self.assertEqual(local("opts", near_phone)["opts"], KERNEL_DEFAULT, "outside the cgroup")
        self.wait_stats(port(5060), 30, armed=2, active=2 if tracked else 0, untracked=0 if tracked else 2)

        self.black_hole(phone_ns)
        if not tracked:     # the kernel still ends the dead one; sipka cannot count it
            def peers():
                return [c["remote_addr"] for c in self.sipka("connections", json_out=True)]
            wait_until(lambda: "198.18.0.2" not in peers(), 10, lambda: "the dead phone's connection gone: %s"
                       % peers(), interval=0.1)
            self.assertEqual(peers(), ["::1"], "the dead phone's connection is gone, the live one stays")
            self.assertEqual(self.stats(port(5060))["errors"], 0)
            return
        row, _ = self.wait_stats(port(5060), 60, dead_keepalive=1)
        self.assertEqual((row["armed"], row["active"], row["closed"]), (2, 1, 1))
        self.assertEqual(pbx("opts", near)["opts"], armed, "the live one is still armed")
        events = [json.loads(line) for line in self.sipka("-j", "events").stdout.splitlines()]
        self.assertEqual([(e["reason"], e["remote_addr"]) for e in events], [("keepalive", "198.18.0.2")])

    def test_config_set_retunes_live_connections_only_where_it_should(self):
        other_cg, other_entry = self.other_cgroup()
        pbx, phone = self.pbx(), self.outsider()
        bystander = Peer(cgroup=other_cg, netns=self.ns)
        lid = pbx("listen", "127.0.0.1", port(5060))["id"]
        lid_norule = pbx("listen", "127.0.0.1", port(5070))["id"]
        blid = bystander("listen", "127.0.0.1", port(5062))["id"]
        sip, sip_phone = self.connect(pbx, lid, phone, "127.0.0.1", port(5060))
        norule, _ = self.connect(pbx, lid_norule, phone, "127.0.0.1", port(5070))
        # A process in a cgroup sipka is not attached to, on a rule port.
        self.attach()
        self.sipka("config", "set", str(port(5062)), "--name", "alt")
        other, _ = self.connect(bystander, blid, phone, "127.0.0.1", port(5062))
        self.assertEqual(self.stats(port(5060))["armed"], 1)

        p = self.sipka("-j", "config", "set", str(port(5060)), "--time", "20", "--intvl", "4", "--probes", "5",
                       "--user-timeout", "off")
        self.assertEqual(json.loads(p.stdout)["existing"],
                         {"armed": 0, "retuned": 1, "untracked": 0, "failed": 0,
                          "closes_counted": self.tracked(), "netns_skipped": 0})
        self.assertEqual(pbx("opts", sip)["opts"],
                         {"keepalive": 1, "time": 20, "intvl": 4, "probes": 5, "user_timeout_ms": 0})
        self.assertEqual(pbx("opts", norule)["opts"], KERNEL_DEFAULT)
        self.assertEqual(bystander("opts", other)["opts"], KERNEL_DEFAULT)
        self.assertEqual(phone("opts", sip_phone)["opts"], KERNEL_DEFAULT)
        row, t = self.stats(port(5060)), self.tracked()
        self.assertEqual((row["armed"], row["active"], row["untracked"]), (1, int(t), int(not t)),
                         "retuned, not counted again")

        # A new rule arms what exists on its port; --new-only leaves it be.
        self.sipka("config", "set", str(port(5070)), "--time", "30", "--new-only")
        self.assertEqual(pbx("opts", norule)["opts"], KERNEL_DEFAULT)
        self.sipka("config", "set", str(port(5070)), "--time", "30")
        self.assertEqual(pbx("opts", norule)["opts"]["time"], 30)
        row = self.stats(port(5070))
        self.assertEqual((row["armed"], row["active"], row["untracked"]), (1, int(t), int(not t)))
        self.assertEqual(bystander("opts", other)["opts"], KERNEL_DEFAULT)
        bystander.close()
        undo(other_entry)

    def test_config_load_retunes_and_del_keeps(self):
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", "127.0.0.1", port(5060))["id"]
        self.attach()
        sip, _ = self.connect(pbx, lid, phone, "127.0.0.1", port(5060))
        self.assertEqual(pbx("opts", sip)["opts"]["time"], 60)
        out = self.sipka("config", "load", self.conf(f"[tcp]\nport = {port(5060)}\ntcp_keepalive_time = 45\n")).stdout
        self.assertIn("existing connections: 0 armed, 1 retuned", out)
        self.assertEqual(pbx("opts", sip)["opts"]["time"], 45)
        self.sipka("config", "del", str(port(5060)))
        self.assertEqual(pbx("opts", sip)["opts"]["time"], 45, "del leaves existing connections as they are")
        self.assertEqual(self.stats(port(5060))["active"], 1)

    def test_attach_arms_descendant_cgroups(self):
        child = os.path.join(self.cg, "asterisk.service")
        os.mkdir(child)
        entry = defer(lambda: os.rmdir(child), "cgroup " + child)
        pbx, phone = Peer(cgroup=child, netns=self.ns), self.outsider()
        lid = pbx("listen", "127.0.0.1", port(5061))["id"]
        sip, _ = self.connect(pbx, lid, phone, "127.0.0.1", port(5061))
        self.assertEqual(pbx("opts", sip)["opts"], KERNEL_DEFAULT)
        self.attach()
        self.assertEqual(pbx("opts", sip)["opts"]["keepalive"], 1)
        self.assertEqual(self.stats(port(5061))["active" if self.tracked() else "untracked"], 1)
        pbx.close()
        undo(entry)

    def test_attach_new_only_leaves_existing_alone(self):
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", "127.0.0.1", port(5060))["id"]
        sip, _ = self.connect(pbx, lid, phone, "127.0.0.1", port(5060))
        out = self.attach("--new-only").stdout
        self.assertNotIn("existing", out)
        self.assertEqual(pbx("opts", sip)["opts"], KERNEL_DEFAULT)
        self.assertEqual(self.stats(port(5060))["armed"], 0)

    def test_existing_and_new_connections_choose_the_same_rule(self):
        """Accepted: the local port's rule; opened: the remote port's. The
        iterator (existing) and sock_ops (new) agree on the same connections."""
        other = self.netns()    # where nothing listens on 5060

        def make(src):
            pbx, out = self.pbx(), self.outsider()
            pbx2, out2 = Peer(cgroup=self.cg, netns=other), self.outsider(other)
            l5060 = pbx("listen", "127.0.0.1", port(5060))["id"]
            l7000 = pbx("listen", "127.0.0.1", port(7000))["id"]
            lo = out2("listen", "127.0.0.1", port(7777))["id"]
            conns = {}
            out("connect", "127.0.0.1", port(5060))
            conns["accepted on 5060"] = (pbx, pbx("accept", l5060)["id"])
            out("connect", "127.0.0.1", port(7000), "127.0.0.1", port(5061))
            conns["accepted on 7000 from port 5061"] = (pbx, pbx("accept", l7000)["id"])
            conns["opened from 5060 to 7777"] = (pbx2, pbx2("connect", "127.0.0.1", port(7777), src,
                                                                 port(5060))["id"])
            out2("accept", lo)
            conns["opened to 5061"] = (pbx2, pbx2("connect", "127.0.0.1", port(5061))["id"]) \
                if out2("listen", "127.0.0.1", port(5061)) else None
            return [pbx, out, pbx2, out2], conns

        def armed(conns):
            return {k: peer("opts", i)["opts"]["keepalive"] for k, (peer, i) in conns.items()}
        want = {"accepted on 5060": 1, "accepted on 7000 from port 5061": 0, "opened from 5060 to 7777": 0,
                "opened to 5061": 1}
        peers, conns = make("127.0.0.1")
        self.attach()
        self.assertEqual(armed(conns), want, "the iterator")
        for p in peers:
            p.close()
        peers, conns = make("127.0.0.2")     # the first is in TIME_WAIT
        self.assertEqual(armed(conns), want, "sock_ops")
