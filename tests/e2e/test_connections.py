# SPDX-License-Identifier: GPL-2.0
"""sipka connections: is phone X armed, with what, and when will it be
declared dead? Read from the kernel's own socket state."""
from harness import Env, need_root, wait_until


def setUpModule():
    need_root()


class Connections(Env):
    def test_armed_connections_with_their_keepalive_and_live_state(self):
        phone_ns = self.phone_link()
        pbx, phone = self.pbx(), self.outsider(phone_ns)
        lid = pbx("listen", "0.0.0.0", 5060)["id"]
        before = phone("connect", "198.18.0.1", 5060)["id"]
        old = pbx("accept", lid)
        self.attach("--new-only")
        self.sipka("config", "set", "5060", "--time", "2", "--intvl", "1", "--probes", "3", "--new-only")
        phone("connect", "198.18.0.1", 5060)
        new = pbx("accept", lid)
        rows = self.sipka("connections", json_out=True)
        self.assertEqual(len(rows), 1, "the one sipka armed; not the one from before the attach")
        r = rows[0]
        self.assertEqual((r["remote_addr"], r["remote_port"], r["local_addr"], r["local_port"]),
                         ("198.18.0.2", new["peer"][1], "198.18.0.1", 5060))
        self.assertEqual((r["rule_port"], r["name"], r["armed"], r["tracked"]), (5060, "tcp", True, True))
        self.assertEqual(r["keepalive"], {"on": True, "time": 2, "intvl": 1, "probes": 3,
                                          "user_timeout_ms": 5000})
        self.assertLess(r["armed_s_ago"], 5)
        # --all: the one from before, with the kernel's keepalive (off, 7200 s).
        every = self.sipka("connections", "--all", json_out=True)
        unarmed = [x for x in every if not x["armed"]]
        self.assertEqual([(x["remote_port"], x["keepalive"]["on"], x["keepalive"]["time"]) for x in unarmed],
                         [(old["peer"][1], False, 7200)])
        # Filters.
        self.assertEqual(self.sipka("connections", "--port", "5061", json_out=True), [])
        self.assertEqual(len(self.sipka("connections", "--peer", "198.18.0.2", json_out=True)), 1)
        self.assertEqual(self.sipka("connections", "--peer", "198.18.0.9", json_out=True), [])
        # The phone goes silent: the kernel's idle time and probes show it.
        self.black_hole(phone_ns)
        r = wait_until(lambda: (lambda r: r["probes_out"] >= 1 and r)(self.sipka("connections", json_out=True)[0]),
                       6, "a keepalive probe out", interval=0.1)
        self.assertGreaterEqual(r["probes_out"], 1)
        self.assertGreaterEqual(r["idle_ms"], 2000)
        table = self.sipka("connections").stdout.splitlines()
        self.assertEqual(table[0].split()[:5], ["PEER", "LOCAL", "RULE", "NAME", "ARMED"])
        self.assertIn("198.18.0.2:%d" % new["peer"][1], table[1])
        self.assertIn("2/1/3", table[1])
        phone("close", before)
