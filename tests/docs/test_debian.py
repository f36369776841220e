# SPDX-License-Identifier: GPL-2.0
"""debian/ against the tree, without root: one version (VERSION; debian/changelog's
newest entry has it, with a Debian revision), and every unit of systemd/ handed to
dh_installsystemd in debian/rules, so none is enabled or started by default unseen."""
import glob
import os
import re
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(*path):
    with open(os.path.join(ROOT, *path), encoding="utf-8") as f:
        return f.read()


class Debian(unittest.TestCase):
    def test_changelog_has_the_version(self):
        version = read("VERSION").strip()
        first = read("debian", "changelog").splitlines()[0]
        m = re.match(r"^sipka \(([^)]+)-(\d+)\) \S+; urgency=\w+$", first)
        self.assertTrue(m, "debian/changelog's first line: %r" % first)
        self.assertEqual(m.group(1), version,
                         "debian/changelog's newest entry is %s, VERSION says %s: add an entry %s-1"
                         % (m.group(1), version, version))

    def test_every_unit_is_given_to_dh_installsystemd(self):
        units = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "systemd", "*"))
                       if p.endswith((".service", ".timer")))
        given = re.findall(r"^\tdh_installsystemd\b(.*)$", read("debian", "rules"), re.M)
        named = [w for line in given for w in line.split() if not w.startswith("-")]
        self.assertEqual(sorted(named), units, "each unit of systemd/ once in debian/rules")
        makefile = re.search(r"^UNITS\s*:=(.*)$", read("Makefile"), re.M).group(1).split()
        self.assertEqual(sorted(makefile), units, "the Makefile's UNITS are the units of systemd/")


if __name__ == "__main__":
    unittest.main()
