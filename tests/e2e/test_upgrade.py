# SPDX-License-Identifier: GPL-2.0
"""Upgrading: 'sipka attach' from another build replaces the program in every
live link at once, keeping rules and counters, while connections churn."""
import os

from harness import NEXT, Env, need_root, port, run, skip_if_host_covers, wait_until

COUNTERS = ("armed", "dead_keepalive", "dead_retransmit", "reset", "closed", "errors", "events_lost")


def setUpModule():
    need_root()


class Upgrade(Env):
    def status(self):
        return self.sipka("status", json_out=True)

    def test_upgrade_under_churn_arms_every_connection(self):
        skip_if_host_covers(port(5060))       # here, not in the churn's thread
        self.attach()
        self.sipka("config", "set", str(port(5060)), "--name", "tcp", "--time", "30")
        before = self.status()
        pbx = self.pbx()
        # The churn runs until the upgrade is done and connections have been armed
        # after it, however long the upgrade takes on a busy machine: the upgrade
        # happens during the churn by construction.
        pbx("churn-start", "127.0.0.1", port(5060), 2)
        samples = []

        def armed_at_least(n):
            samples.append(self.stats(port(5060)))
            return samples[-1]["armed"] >= n
        wait_until(lambda: armed_at_least(1000), 60, "the churn under way", interval=0.02)
        out = run(NEXT, "--pin-dir", self.pin_dir, "-j", "attach", "--cgroup", self.cg)
        samples.append(self.stats(port(5060)))
        upgraded = samples[-1]["armed"]
        wait_until(lambda: armed_at_least(upgraded + 1000), 60, "the churn under way after the upgrade",
                   interval=0.02)
        made = pbx("churn-stop", timeout=60)["made"]
        self.assertIn('"program":"upgraded"', out.stdout)
        self.assertIn("upgraded the program in 1 attachment", out.stderr)
        self.assertLess(upgraded, 2 * made, "the upgrade happened during the churn")

        row, _ = self.wait_stats(port(5060), 60, closed=2 * made)
        samples.append(row)
        self.assertEqual((row["armed"], row["active"], row["errors"]), (2 * made, 0, 0))
        for a, b in zip(samples, samples[1:]):
            for k in COUNTERS:
                self.assertGreaterEqual(b[k], a[k], "%s went back" % k)

        after = self.status()
        self.assertNotEqual(after["prog"]["id"], before["prog"]["id"])
        link_before, link_after = before["attachments"][0], after["attachments"][0]
        self.assertEqual(link_after["link_id"], link_before["link_id"], "the same link")
        self.assertEqual(link_after["prog_id"], after["prog"]["id"])
        self.assertEqual([(r["port"], r["time"]) for r in self.sipka("config", "show", json_out=True)],
                         [(port(5060), 30), (port(5061), 60)], "rules kept")

        # The same build again changes nothing; the first build is an upgrade again,
        # in direct attachments (bpftool, systemd BPFProgram=) as well.
        run("bpftool", "cgroup", "attach", self.cg, "sock_ops", "pinned",
            os.path.join(self.pin_dir, "prog"), "multi")
        self.assertIn('"program":"reused"', run(NEXT, "--pin-dir", self.pin_dir, "-j", "attach",
                                                "--cgroup", self.cg).stdout)
        self.assertEqual(self.status()["prog"]["id"], after["prog"]["id"])
        p = self.sipka("-j", "attach", "--cgroup", self.cg)
        self.assertIn('"program":"upgraded"', p.stdout)
        self.assertIn("upgraded the program in 2 attachments", p.stderr)
        newest = self.status()["prog"]["id"]
        self.assertEqual(sorted(a["prog_id"] for a in self.status()["attachments"]), [newest, newest])
