# SPDX-License-Identifier: GPL-2.0
"""The man page renders cleanly. (Its options and the completion's are
checked against the option tables in tests/docs/test_options.py; the
completion on a live system in test_completion.py.)"""
import os
import shutil
import unittest

from harness import ROOT, SIPKA, run

MAN = os.path.join(ROOT, "man", "sipka.8")


def setUpModule():
    if not os.path.exists(SIPKA):
        raise unittest.SkipTest("build sipka first")


class Manual(unittest.TestCase):
    @unittest.skipUnless(shutil.which("groff"), "needs groff")
    def test_man_page_renders_without_warnings(self):
        p = run("groff", "-man", "-Tutf8", "-ww", "-z", MAN)
        self.assertEqual(p.stderr, "")
