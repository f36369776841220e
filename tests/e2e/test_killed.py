# SPDX-License-Identifier: GPL-2.0
"""All or nothing, killed anywhere: a command killed at any bpf(), rename()
or unlink() call leaves the old state or the new one, and the next command
finishes what it began."""
import os
import shutil
import unittest

from harness import CONF_A, CONF_B, NEXT, SIPKA, Env, cgroup_progs, need_root, port, rules_of, run

KILL_ALL = os.environ.get("SIPKA_KILL_ALL") == "1"
# SIPKA_KILL_SAMPLE=N: a Nth of the points (at least the middle call of each
# kind): vmtest's guests, where each kill costs a program load under TCG.
KILL_SAMPLE = int(os.environ.get("SIPKA_KILL_SAMPLE", "1"))
# Under strace LeakSanitizer cannot stop the world (it ptraces too): leaks
# are checked by the untraced runs.
TRACED = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")


def setUpModule():
    need_root()
    if not shutil.which("strace"):
        raise unittest.SkipTest("needs strace")


class Killed(Env):
    SYSCALLS = ("bpf", "rename", "unlink", "unlinkat")

    def calls(self, cmd, syscalls):
        """How many of SYSCALLS CMD makes, run once under strace (then undone by the caller)."""
        log = os.path.join(self.mnt, "..", "strace-%d.txt" % os.getpid())
        run("strace", "-f", "-qq", "-e", "trace=" + syscalls, "-o", log, *cmd, check=False, env=TRACED)
        with open(log) as f:
            n = sum(1 for line in f if "(" in line and "resumed" not in line)
        os.unlink(log)
        return n

    def points(self, n, k):
        """Where to kill: every call with SIPKA_KILL_ALL=1, else K calls (K over
        SIPKA_KILL_SAMPLE) spread evenly from the first to the last (a
        representative subset)."""
        if KILL_ALL:
            return list(range(1, n + 1))
        k = max(1, k // KILL_SAMPLE)
        if n <= k:
            return list(range(1, n + 1))
        if k == 1:
            return [1 + (n - 1) // 2]
        return sorted(set(1 + round(i * (n - 1) / (k - 1)) for i in range(k)))

    def killed(self, cmd, syscall, when):
        p = run("strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + syscall,
                "-e", "inject=%s:signal=KILL:when=%d" % (syscall, when), *cmd, check=False, env=TRACED)
        return p.returncode

    def kill_at(self, cmd, syscall, when, n):
        rc = self.killed(cmd, syscall, when)
        # The number of calls varies a little (cgroups come and go on a shared
        # host): near the end the command may finish.
        if not (rc in (-9, 137) or (rc == 0 and when > n - max(3, n // 10))):
            self.fail("not killed at %s call %d of %d: exit %d" % (syscall, when, n, rc))

    def kill_everywhere(self, setup, cmd, check):
        """SETUP(); CMD killed at the Nth bpf/rename/unlink call, for each N;
        then the state must be whole and CHECK(status) hold."""
        for syscall in self.SYSCALLS:
            setup()
            n = self.calls(cmd, syscall)
            self.sipka("detach")
            for when in self.points(n, 6 if syscall == "bpf" else 3):
                setup()
                self.kill_at(cmd, syscall, when, n)
                with self.subTest(syscall=syscall, when=when):
                    check(self.assert_whole())
                self.sipka("detach")
                self.assertFalse(os.path.exists(self.pin_dir), "detach removed all")
                self.assertEqual(cgroup_progs(self.cg), [])

    def test_killed_config_load_leaves_old_or_new_rules(self):
        a, b = self.conf(CONF_A), self.conf(CONF_B)
        cmd = [SIPKA, "--pin-dir", self.pin_dir, "config", "load", b]
        self.kill_everywhere(lambda: self.attach("--config", a), cmd,
                             lambda st: self.assertIn(self.rule_times(), [rules_of(CONF_A), rules_of(CONF_B)]))

    def test_killed_first_attach_with_config_is_all_or_nothing(self):
        b = self.conf(CONF_B)
        cmd = [SIPKA, "--pin-dir", self.pin_dir, "attach", "--cgroup", self.cg, "--config", b]

        def check(st):
            if st:
                self.assertEqual(self.rule_times(), rules_of(CONF_B), "no partial rule set")
            self.attach()       # a later plain attach keeps B, or starts from the default
            self.assertIn(self.rule_times(), [rules_of(CONF_B), [(port(5060), 60), (port(5061), 60)]])
        self.kill_everywhere(lambda: None, cmd, check)

    def test_killed_upgrade_runs_one_program_everywhere(self):
        direct = []

        def setup():
            self.attach("--config", self.conf(CONF_A))
            # A direct attachment too, as systemd's BPFProgram= makes.
            run("bpftool", "cgroup", "attach", self.cg, "sock_ops", "pinned",
                os.path.join(self.pin_dir, "prog"), "multi")
            direct.append(1)
        cmd = [NEXT, "--pin-dir", self.pin_dir, "attach", "--cgroup", self.cg]
        self.kill_everywhere(setup, cmd, lambda st: (self.assertEqual(len(st["attachments"]), 2),
                                                      self.assertEqual(self.rule_times(), rules_of(CONF_A))))

    def test_killed_detach_is_finished_by_the_next_detach(self):
        cmd = [SIPKA, "--pin-dir", self.pin_dir, "detach"]
        self.kill_everywhere(lambda: self.attach(), cmd, lambda st: None)
