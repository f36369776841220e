# SPDX-License-Identifier: GPL-2.0
"""The README's examples against the real commands, and the day-2 operations
it must cover."""
import json
import os
import re
import unittest

from harness import ROOT, Env, need_root


def setUpModule():
    need_root()


class Readme(Env):
    def setUp(self):
        super().setUp()
        with open(os.path.join(ROOT, "README.md")) as f:
            self.readme = f.read()
        self.attach()

    def example(self, command):
        """The output shown under '$ COMMAND' in the README."""
        m = re.search(r"^\$ %s\n(.*?)^```" % re.escape(command), self.readme, re.M | re.S)
        self.assertIsNotNone(m, "README has no '$ %s' example" % command)
        return m.group(1)

    def test_stats_example_has_the_real_columns(self):
        shown = self.example("sipka stats").splitlines()[0].split()
        real = self.sipka("stats").stdout.splitlines()[0].split()
        self.assertEqual(shown, real)

    def test_json_examples_have_the_real_fields(self):
        self.sipka("config", "set", "5060", "--name", "tcp", "--reset-events")
        pbx, phone = self.pbx(), self.outsider()
        self.resets(pbx, pbx("listen", "127.0.0.1", 5060)["id"], phone, "127.0.0.1", 1)
        for command, args in (("sipka -j stats", ["stats"]), ("sipka -j config show", ["config", "show"]),
                              ("sipka -j events", ["events"])):
            shown = json.loads(self.example(command).splitlines()[0])
            real = json.loads(self.sipka("-j", *args).stdout.splitlines()[0])
            shown, real = (x[0] if isinstance(x, list) else x for x in (shown, real))
            self.assertEqual(sorted(shown), sorted(real), command)
        self.assertIn("reset_events", json.dumps(json.loads(self.example("sipka -j config show"))))
        self.assertIn("events_lost", self.example("sipka -j stats"))

    def test_readme_covers_day2_operations(self):
        for words in ("ss -tnoi", "timer:(keepalive", "systemctl show -p ControlGroup", "0::",
                      "make uninstall", "sipka detach", "sipka-events.service", "Troubleshooting",
                      "sipka-alerts.yml"):
            self.assertTrue(words in self.readme, "README does not say '%s'" % words)


if __name__ == "__main__":
    unittest.main()
