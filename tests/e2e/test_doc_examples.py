# SPDX-License-Identifier: GPL-2.0
"""The examples of real output in README.md and doc/ against a real sipka: the
columns of the stats table and the fields of each JSON example are what sipka
prints. Each example is shown once, in the file named here. (The docs'
links and the facts they take from the code's tables are checked without
root by tests/docs/test_docs.py.)"""
import glob
import json
import os
import re

from harness import ROOT, Env, need_root, port

README = os.path.join(ROOT, "README.md")
OPERATIONS = os.path.join(ROOT, "doc", "operations.md")
DOCS = [README, os.path.join(ROOT, "HACKING.md")] + sorted(glob.glob(os.path.join(ROOT, "doc", "*.md")))
# Where each example lives: '$ COMMAND' and the output under it.
EXAMPLES = {"sipka stats": README, "sipka -j stats": OPERATIONS, "sipka -j config show": OPERATIONS,
            "sipka -j events": OPERATIONS}


def setUpModule():
    need_root()


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def shown(command, text):
    """The outputs shown under '$ COMMAND' in TEXT."""
    return re.findall(r"^\$ %s\n(.*?)^```" % re.escape(command), text, re.M | re.S)


class DocExamples(Env):
    def setUp(self):
        super().setUp()
        self.attach()

    def example(self, command):
        """The output shown under '$ COMMAND' in its file, the only one that shows it."""
        where = EXAMPLES[command]
        found = shown(command, read(where))
        self.assertEqual(len(found), 1, "%s shows '$ %s' %d times" % (os.path.relpath(where, ROOT), command,
                                                                      len(found)))
        others = [os.path.relpath(p, ROOT) for p in DOCS if p != where and shown(command, read(p))]
        self.assertEqual(others, [], "'$ %s' is shown again" % command)
        return found[0]

    def test_stats_example_has_the_real_columns(self):
        shown_columns = self.example("sipka stats").splitlines()[0].split()
        real = self.sipka("stats").stdout.splitlines()[0].split()
        self.assertEqual(shown_columns, real)

    def test_json_examples_have_the_real_fields(self):
        self.sipka("config", "set", str(port(5060)), "--name", "tcp", "--reset-events")
        pbx, phone = self.pbx(), self.outsider()
        self.resets(pbx, pbx("listen", "127.0.0.1", port(5060))["id"], phone, "127.0.0.1", 1)
        for command, args in (("sipka -j stats", ["stats"]), ("sipka -j config show", ["config", "show"]),
                              ("sipka -j events", ["events"])):
            example = json.loads(self.example(command).splitlines()[0])
            real = json.loads(self.sipka("-j", *args).stdout.splitlines()[0])
            example, real = (x[0] if isinstance(x, list) else x for x in (example, real))
            self.assertEqual(sorted(example), sorted(real), command)
        self.assertIn("reset_events", json.dumps(json.loads(self.example("sipka -j config show"))))
        self.assertIn("events_lost", self.example("sipka -j stats"))

    def test_operators_guide_covers_day2_operations(self):
        guide = read(OPERATIONS)
        for words in ("ss -tnoi", "timer:(keepalive", "systemctl show -p ControlGroup", "0::",
                      "make uninstall", "sipka detach", "sipka-events.service", "Troubleshooting",
                      "sipka-alerts.yml"):
            self.assertTrue(words in guide, "doc/operations.md does not say '%s'" % words)
