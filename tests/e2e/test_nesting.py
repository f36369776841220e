# SPDX-License-Identifier: GPL-2.0
"""Nested attachments: a cgroup inside another where sipka is attached too
counts each socket once, full table or not; another instance above is named,
and wins."""
import os

from harness import Env, Peer, defer, need_root, port, undo


def setUpModule():
    need_root()


class Nesting(Env):
    def test_nested_attachments_count_each_socket_once(self):
        child = os.path.join(self.cg, "pbx")
        os.mkdir(child)
        entry = defer(lambda: os.rmdir(child), "cgroup pbx")
        self.attach()
        p = self.sipka("attach", "--cgroup", child)
        self.assertIn("%s is inside %s, where this sipka is attached too" % (child, self.cg), p.stderr)
        both = Peer(cgroup=child, netns=self.ns)
        both("churn", "127.0.0.1", port(5060), 100, 1)
        row, _ = self.wait_stats(port(5060), 30, closed=200)
        self.assertEqual((row["armed"], row["active"], row["closed"]), (200, 0, 200))
        both.close()
        self.sipka("detach")
        undo(entry)

    def test_nested_attachments_count_each_socket_once_when_the_table_is_full(self):
        child = os.path.join(self.cg, "pbx")
        os.mkdir(child)
        entry = defer(lambda: os.rmdir(child), "cgroup pbx")
        self.attach("--max-connections", "8")     # 16 slots, each connection's window all of them
        self.sipka("attach", "--cgroup", child)
        both = Peer(cgroup=child, netns=self.ns)
        lid = both("listen", "127.0.0.1", port(5060))["id"]
        pairs = []
        for _ in range(20):                       # 40 sockets, each run by both attachments
            c = both("connect", "127.0.0.1", port(5060))["id"]
            pairs.append((c, both("accept", lid)["id"]))
        row = self.stats(port(5060))
        self.assertEqual((row["armed"], row["active"], row["untracked"], row["errors"]), (40, 16, 24, 0),
                         "each socket armed and counted once, tracked or not")
        for c, a in pairs:
            both("close", c)
            both("close", a)
        row, _ = self.wait_stats(port(5060), 30, active=0, closed=16)
        self.assertEqual((row["armed"], row["untracked"]), (40, 24))
        both.close()
        self.sipka("detach")
        undo(entry)

    def test_another_instance_above_is_named_and_wins(self):
        other = os.path.join(self.mnt, "other")
        self.sipka("attach", "--cgroup", self.cg, pin_dir=other)
        defer(lambda: self.sipka("detach", pin_dir=other, check=False), "other sipka")
        child = os.path.join(self.cg, "pbx")
        os.mkdir(child)
        entry = defer(lambda: os.rmdir(child), "cgroup pbx")
        p = self.sipka("attach", "--cgroup", child)
        self.assertRegex(p.stderr, r"sock_ops program \d+ \(sipka_sockops, another sipka\) attached to %s also "
                                   r"runs on the sockets of %s, after sipka: the keepalive settings it makes win"
                         % (self.cg, child))
        st = self.sipka("status", json_out=True)
        others = [(o["cgroup"], o["runs"]) for o in st["attachments"][0]["other_programs"]]
        # A host's programs above the test's cgroup (README command 1 on the root) are named too.
        above = [o for o in others if self.cg.startswith(o[0].rstrip("/") + "/")]
        self.assertEqual([o for o in others if o not in above], [(self.cg, "after")])
        self.assertEqual([r for _, r in above], ["after"] * len(above), above)
        self.sipka("detach")
        self.sipka("detach", pin_dir=other)
        undo(entry)
