# SPDX-License-Identifier: GPL-2.0
"""The bash completion where it reads the system: cgroup directories for
--cgroup, the live rule ports for config del and set. Its option lists are
checked without root, in tests/docs/test_options.py."""
import os
import sys
import unittest

from harness import ROOT, SIPKA, Env, cgroup2_mount, need_root, port, unique

sys.path.insert(0, os.path.join(ROOT, "tests", "docs"))
from completion import BASH_COMPLETION, completions  # noqa: E402


def setUpModule():
    need_root()
    if not os.path.exists(BASH_COMPLETION):
        raise unittest.SkipTest("needs bash-completion")


class CgroupPaths(unittest.TestCase):
    def test_cgroup_completes_directories_under_the_cgroup2_mount(self):
        mount = cgroup2_mount()
        name = unique("sipka-comp-")
        cg = os.path.join(mount, name)
        os.mkdir(cg)
        try:
            absolute, relative, short = completions([
                ["sipka", "attach", "--cgroup", cg[:-2]], ["sipka", "attach", "--cgroup", name[:-2]],
                ["sipka", "detach", "-c", name]])
        finally:
            os.rmdir(cg)
        self.assertEqual(absolute, [cg + "/"])
        self.assertEqual(relative, [name + "/"])
        self.assertEqual(short, [name + "/"])


class LivePorts(Env):
    def test_config_del_offers_the_live_rule_ports(self):
        not_loaded = completions([[SIPKA, "--pin-dir", self.pin_dir, "config", "del", ""]])[0]
        self.assertEqual(not_loaded, [], "quietly nothing when sipka cannot say")
        self.attach()
        self.sipka("config", "set", str(port(5070)), "--name", "ws")
        d, d5, s, after_port = completions([
            [SIPKA, "--pin-dir", self.pin_dir, "config", "del", ""],
            [SIPKA, "--pin-dir", self.pin_dir, "config", "del", str(port(5070))[:-1]],
            [SIPKA, "--pin-dir", self.pin_dir, "config", "set", ""],
            [SIPKA, "--pin-dir", self.pin_dir, "config", "del", str(port(5060)), ""]])
        self.assertEqual(d, [str(port(5060)), str(port(5061)), str(port(5070))])
        self.assertEqual(d5, [str(port(5070))])
        self.assertEqual(s, [str(port(5060)), str(port(5061)), str(port(5070))])
        self.assertEqual(after_port, [])
