# SPDX-License-Identifier: GPL-2.0
"""A versioned layout: the maps of an older layout (a field appended, the
releases 0.1.0, 0.2.0 and 0.3.0) are migrated by attach, rules and tracked
connections carried over; a newer layout is refused."""
import json
import os
import re
import time
import unittest

from harness import ROOT, Env, need_root, port, run, wait_until

with open(os.path.join(ROOT, "include", "sipka.h")) as f:
    LAYOUT = int(re.search(r"^#define SIPKA_LAYOUT (\d+)$", f.read(), re.M).group(1))
NEXT = os.path.join(ROOT, "build", "layout-next", "sipka")    # a field appended: LAYOUT + 1


def setUpModule():
    need_root()


class Migration(Env):
    def test_a_layout_with_an_appended_field_migrates_and_keeps_counting(self):
        self.attach()
        self.sipka("config", "set", str(port(5060)), "--time", "33", "--name", "tcp")
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", "127.0.0.1", port(5060))["id"]
        ids = [phone("connect", "127.0.0.1", port(5060))["id"] for _ in range(3)]
        pbx_ids = [pbx("accept", lid)["id"] for _ in ids]
        self.wait_stats(port(5060), 30, armed=3, active=3)
        p = run(NEXT, "--pin-dir", self.pin_dir, "-j", "attach", "--cgroup", self.cg)
        self.assertEqual(json.loads(p.stdout)["program"], "migrated")
        self.assertIn("moved the maps from layout %d to layout %d" % (LAYOUT, LAYOUT + 1), p.stderr)
        self.assertEqual(self.rule_times(NEXT), [(port(5060), 33), (port(5061), 60)])
        for i, j in zip(ids, pbx_ids):
            phone("close", i)
            pbx("close", j)
        def row():
            return [r for r in json.loads(run(NEXT, "--pin-dir", self.pin_dir, "-j", "stats").stdout)
                    if r["port"] == port(5060)][0]
        closed = wait_until(lambda: (lambda r: r["closed"] == 3 and r)(row()), 5,
                            lambda: "3 closed under the next layout: %s" % row())
        self.assertEqual((closed["armed"], closed["active"], closed["closed"]), (3, 0, 3), "tracked across")
        p = self.sipka("config", "show", check=False)
        self.assertEqual(p.returncode, 1)
        newer = "have layout %d, newer than this sipka's %d" % (LAYOUT + 1, LAYOUT)
        self.assertIn(newer, p.stderr)
        p = self.sipka("attach", "--cgroup", self.cg, check=False)
        self.assertIn(newer, p.stderr)
        run(NEXT, "--pin-dir", self.pin_dir, "detach")

    def under_release(self, version, n):
        """N connections to port 5060 (rule: time 44), armed by sipka VERSION
        (built from git by make test): pbx, phone, their ids."""
        old = os.path.join(ROOT, "build", "v" + version, "sipka")
        if not os.access(old, os.X_OK):
            raise unittest.SkipTest("build/v%s/sipka was not built (make test builds it from git)" % version)
        run(old, "--pin-dir", self.pin_dir, "attach", "--cgroup", self.cg, "--config", self.default_conf())
        run(old, "--pin-dir", self.pin_dir, "config", "set", str(port(5060)), "--time", "44", "--name", "tcp")
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", "127.0.0.1", port(5060))["id"]
        ids = [phone("connect", "127.0.0.1", port(5060))["id"] for _ in range(n)]
        return pbx, phone, ids, [pbx("accept", lid)["id"] for _ in ids]

    def test_0_2_0_carries_its_tracked_connections_over(self):
        pbx, phone, ids, pbx_ids = self.under_release("0.2.0", 3)
        # 0.2.0's rule set is a hash: bpftool can write a port no connection has.
        run("flock", self.pin_dir, "bpftool", "map", "update", "pinned", os.path.join(self.pin_dir, "config"),
            "key", "hex", "70", "11", "01", "00", "value", "hex", *(["01", "00", "00", "00"] * 3 + ["00"] * 24))
        # A fixed wait is the premise: an age the carried arming time must show
        # (an arming time made anew by the migration would be under a second).
        time.sleep(1.2)
        p = self.sipka("-j", "attach", "--cgroup", self.cg)
        self.assertEqual(json.loads(p.stdout)["program"], "migrated")
        self.assertIn("moved the maps from layout 2 to layout %d" % LAYOUT, p.stderr)
        self.assertEqual(self.rule_times(), [(port(5060), 44), (port(5061), 60)])
        self.assertEqual((self.stats(port(5060))["armed"], self.stats(port(5060))["active"]), (3, 3),
                         "carried over, not armed again")
        conns = [c for c in json.loads(self.sipka("-j", "connections").stdout) if c["rule_port"] == port(5060)]
        self.assertEqual(len(conns), 3, conns)
        for c in conns:
            self.assertTrue(c["tracked"], c)
            self.assertTrue(1 <= c["armed_s_ago"] <= 30, c)
        for i, j in zip(ids, pbx_ids):
            phone("close", i)
            pbx("close", j)
        self.wait_stats(port(5060), 30, armed=3, active=0, closed=3)

    def test_0_3_0_tracked_connections_are_found_where_this_layout_looks(self):
        # Carried from 0.3.0's slots to this layout's, each found at its close.
        pbx, phone, ids, pbx_ids = self.under_release("0.3.0", 40)
        p = self.sipka("-j", "attach", "--cgroup", self.cg)
        self.assertEqual(json.loads(p.stdout)["program"], "migrated")
        self.assertIn("moved the maps from layout 3 to layout %d" % LAYOUT, p.stderr)
        row = self.stats(port(5060))
        self.assertEqual((row["armed"], row["active"], row["untracked"]), (40, 40, 0), row)
        conns = [c for c in json.loads(self.sipka("-j", "connections").stdout) if c["rule_port"] == port(5060)]
        self.assertEqual(sum(c["tracked"] for c in conns), 40, conns)
        for i, j in zip(ids, pbx_ids):
            phone("close", i)
            pbx("close", j)
        self.wait_stats(port(5060), 30, armed=40, active=0, closed=40)

    def test_0_1_0_upgrades_to_this_layout(self):
        pbx, phone, ids, pbx_ids = self.under_release("0.1.0", 2)
        p = self.sipka("-j", "attach", "--cgroup", self.cg)
        self.assertEqual(json.loads(p.stdout)["program"], "migrated")
        self.assertEqual(self.rule_times(), [(port(5060), 44), (port(5061), 60)])
        self.assertEqual((self.stats(port(5060))["armed"], self.stats(port(5060))["active"]), (2, 2),
                         "the live connections are tracked again, counted once")
        self.assertNotIn("sockets", os.listdir(self.pin_dir))
        for i, j in zip(ids, pbx_ids):
            phone("close", i)
            pbx("close", j)
        self.wait_stats(port(5060), 30, armed=2, active=0, closed=2)
