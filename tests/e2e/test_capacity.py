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
