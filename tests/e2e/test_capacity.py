# SPDX-License-Identifier: GPL-2.0
"""A table of fixed capacity: when it is full every connection is still
armed, the rest counted as untracked, and attach resizes it."""
import json

from harness import Env, need_root, port


def setUpModule():
    need_root()


class Capacity(Env):
    def test_a_full_table_arms_all_counts_the_rest_and_resizes(self):
        self.attach("--max-connections", "16")      # 32 slots; a connection may sit in 16 of them
        self.assertEqual(self.sipka("status", json_out=True)["max_connections"], 16)
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", "127.0.0.1", port(5060))["id"]
        pairs = []
        for _ in range(40):
            c = phone("connect", "127.0.0.1", port(5060))["id"]
            a = pbx("accept", lid)
            self.assertEqual(a["opts"]["keepalive"], 1, "armed, tracked or not")
            pairs.append((c, a["id"]))
        row = self.stats(port(5060))
        tracked = row["active"]
        # No more than the slots; untracked only once some window of 16 is full.
        self.assertTrue(16 <= tracked <= 32, row)
        self.assertEqual((row["armed"], row["untracked"], row["errors"]), (40, 40 - tracked, 0))
        p = self.sipka("attach", "--cgroup", self.cg, "--max-connections", "8", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("%d connections are tracked now; --max-connections must be at least that" % tracked,
                      p.stderr)
        p = self.sipka("-j", "attach", "--cgroup", self.cg, "--max-connections", "4096")
        self.assertEqual(json.loads(p.stdout)["program"], "migrated")
        self.assertEqual(self.sipka("status", json_out=True)["max_connections"], 4096)
        for c, a in pairs:
            phone("close", c)
            pbx("close", a)
        row, _ = self.wait_stats(port(5060), 30, active=0, closed=tracked)
        self.assertEqual((row["armed"], row["untracked"]), (40, 40 - tracked), "the tracked ones carried over")

    def test_connections_held_since_a_burst_leave_room_for_the_churn(self):
        # The kernel hands cookies out consecutively: 200 phones registered one
        # after another, then a churn (one connection in flight) whose cookies
        # go round the 1024 slots about 3 times. A window taken from the cookie
        # itself (0.3.0) met the phones' run of slots on each round and armed
        # about a sixth of the churn untracked.
        self.attach("--max-connections", "512")      # 1024 slots
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", "127.0.0.1", port(5060))["id"]
        for _ in range(200):
            phone("connect", "127.0.0.1", port(5060))
            pbx("accept", lid)
        made = pbx("churn", "127.0.0.1", port(5061), 1500, 1)["made"]
        self.assertEqual(made, 1500)
        self.assertEqual(self.stats(port(5060))["active"], 200)
        row, _ = self.wait_stats(port(5061), 30, armed=3000, active=0)   # both ends armed
        self.assertEqual((row["closed"], row["untracked"], row["errors"]), (3000, 0, 0), row)
