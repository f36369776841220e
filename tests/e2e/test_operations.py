# SPDX-License-Identifier: GPL-2.0
"""What ops do every week: restart the PBX (systemd remakes its cgroup, or
attaches the pinned program itself), load sipka at boot without attaching."""
import json
import os

from harness import Env, Peer, cgroup_progs, defer, need_root, port, run, undo


def setUpModule():
    need_root()


class Operations(Env):
    def child_cgroup(self, name):
        path = os.path.join(self.cg, name)
        os.mkdir(path)
        return path, defer(lambda: os.path.isdir(path) and os.rmdir(path), "cgroup " + path)

    def test_load_pins_without_attaching(self):
        out = json.loads(self.sipka("-j", "load").stdout)
        self.assertEqual((out["program"], out["rules"], out["rules_from"]),
                         ("loaded", 2, "the embedded default"))
        self.assertEqual(self.sipka("status", check=False).returncode, 3, "loaded, attached nowhere")
        self.assertEqual(cgroup_progs(self.cg), [])
        self.assertTrue(os.path.exists(os.path.join(self.pin_dir, "prog")))
        self.assertEqual(json.loads(self.sipka("-j", "load").stdout)["program"], "reused")
        bad = self.conf(f"[tcp]\nport = {port(5060)}\ntcp_keepalive_time = 0\n")
        p = self.sipka("load", "--config", bad, check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(bad + ":3:", p.stderr)
        self.assertEqual(len(self.sipka("config", "show", json_out=True)), 2, "unchanged")
        self.sipka("load", "--config", self.conf(f"[ws]\nport = {port(8088)}\n"))
        self.assertEqual([r["port"] for r in self.sipka("config", "show", json_out=True)], [port(8088)])

    def test_systemd_style_attachment_is_armed_listed_and_detached(self):
        # What BPFProgram=sock_ops:<pin dir>/prog does when the PBX starts.
        self.sipka("load", *self.first_rules())
        run("bpftool", "cgroup", "attach", self.cg, "sock_ops", "pinned",
            os.path.join(self.pin_dir, "prog"), "multi")
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", "127.0.0.1", port(5060))["id"]
        phone("connect", "127.0.0.1", port(5060))
        sip = pbx("accept", lid)
        self.assertEqual(sip["opts"]["time"], 60)
        self.wait_stats(port(5060), 30, armed=1, active=1)

        status = self.sipka("status", json_out=True)
        self.assertEqual([(a["cgroup"], a["via"]) for a in status["attachments"]], [(self.cg, "direct")])
        self.assertEqual(self.sipka("status", check=False).returncode, 0)
        self.sipka("config", "set", str(port(5060)), "--time", "25")
        self.assertEqual(pbx("opts", sip["id"])["opts"]["time"], 25, "retuned there too")

        self.sipka("detach")
        self.assertEqual(cgroup_progs(self.cg), [])
        self.assertFalse(os.path.exists(self.pin_dir))

    def test_pbx_restart_leaves_a_defunct_link_that_attach_removes(self):
        pbx_cg, entry = self.child_cgroup("pbx.service")
        self.sipka("attach", "--cgroup", pbx_cg)
        old = self.sipka("status", json_out=True)["attachments"][0]
        os.rmdir(pbx_cg)        # systemd removes the cgroup of a stopped service...
        status = json.loads(self.sipka("-j", "status", check=False).stdout)
        self.assertTrue(status["attachments"][0]["defunct"])
        p = self.sipka("status", check=False)
        self.assertEqual(p.returncode, 3)
        self.assertIn("DEFUNCT", p.stdout)
        os.mkdir(pbx_cg)        # ...and makes a new one when it starts
        p = self.sipka("attach", "--cgroup", pbx_cg)
        self.assertIn("removed %s" % old["pin"], p.stderr)
        now = self.sipka("status", json_out=True)["attachments"]
        self.assertEqual([(a["cgroup"], a["defunct"]) for a in now], [(pbx_cg, False)])
        self.assertNotEqual(now[0]["cgroup_id"], old["cgroup_id"])
        self.assertFalse(os.path.exists(old["pin"]))
        self.sipka("detach")
        undo(entry)

    def test_parent_attachment_survives_the_child_restart(self):
        # Attached to the slice: the PBX's cgroup may come and go.
        pbx_cg, entry = self.child_cgroup("pbx.service")
        self.attach()
        os.rmdir(pbx_cg)
        os.mkdir(pbx_cg)
        pbx, phone = Peer(cgroup=pbx_cg, netns=self.ns), self.outsider()
        lid = pbx("listen", "127.0.0.1", port(5061))["id"]
        phone("connect", "127.0.0.1", port(5061))
        self.assertEqual(pbx("accept", lid)["opts"]["keepalive"], 1)
        pbx.close()
        undo(entry)
