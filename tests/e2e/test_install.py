# SPDX-License-Identifier: GPL-2.0
"""make install and make uninstall, into a scratch DESTDIR: the files, the
units, the completion, and a warning when sipka is still loaded."""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import ROOT, Env, defer, need_root, port, run

# The unit directory under PREFIX=/usr is systemd's own (Debian 12: /lib/systemd/system).
UNITDIR = (subprocess.run(["pkg-config", "--variable=systemdsystemunitdir", "systemd"], capture_output=True,
                          text=True).stdout.strip() or "/usr/lib/systemd/system").lstrip("/")
FILES = ["etc/sipka/sipka.conf", "usr/sbin/sipka", "usr/share/man/man8/sipka.8",
         "usr/share/bash-completion/completions/sipka", "usr/share/doc/sipka/sipka-pbx.conf",
         "usr/share/doc/sipka/sipka.conf", "usr/share/doc/sipka/README.md",
         "usr/share/doc/sipka/doc/operations.md", "usr/share/doc/sipka/doc/pbx.md",
         "usr/share/doc/sipka/doc/design.md", "usr/share/doc/sipka/doc/validation.md",
] + [UNITDIR + "/" + u for u in ("sipka.service", "sipka-prometheus.service",
                                                "sipka-prometheus.timer", "sipka-events.service")]


def make(*args):
    return run("make", "-s", "-C", ROOT, *args)


class Install(unittest.TestCase):
    def setUp(self):
        self.dest = tempfile.mkdtemp(prefix="sipka-destdir-")
        self.addCleanup(shutil.rmtree, self.dest)

    def make(self, target):
        return make(target, "DESTDIR=" + self.dest, "PREFIX=/usr")

    def files(self):
        return sorted(os.path.relpath(os.path.join(d, f), self.dest)
                      for d, _, fs in os.walk(self.dest) for f in fs)

    def test_install_and_uninstall(self):
        self.make("install")
        self.assertEqual(self.files(), sorted(FILES))
        units = os.path.join(self.dest, UNITDIR)
        with open(os.path.join(units, "sipka.service")) as f:
            self.assertIn("ExecStart=/usr/sbin/sipka load --config /etc/sipka/sipka.conf\n", f.read())
        with open(os.path.join(units, "sipka-prometheus.timer")) as f:
            self.assertIn("OnUnitActiveSec=15s", f.read())
        man = os.path.join(self.dest, "usr/share/man/man8/sipka.8")
        with open(man) as f:
            text = f.read()
        self.assertNotIn("@VERSION@", text)
        self.assertIn("/usr/share/doc/sipka/doc/", text)
        if shutil.which("groff"):
            lint = run("groff", "-man", "-Tutf8", "-ww", "-z", man)
            self.assertEqual(lint.stderr, "")
        p = run(os.path.join(self.dest, "usr/sbin/sipka"), "--version")
        self.assertRegex(p.stdout, r"^sipka \d")

        # An edited config survives a reinstall and an uninstall.
        conf = os.path.join(self.dest, "etc/sipka/sipka.conf")
        with open(conf, "a") as f:
            f.write("; edited\n")
        self.make("install")
        self.make("uninstall")
        self.assertEqual(self.files(), ["etc/sipka/sipka.conf"])
        os.unlink(conf)
        self.make("install")
        self.make("uninstall")
        self.assertEqual(self.files(), [], "an unedited config goes")

    @unittest.skipUnless(os.path.exists("/usr/share/bash-completion/bash_completion"), "needs bash-completion")
    def test_bash_completion(self):
        script = ("source /usr/share/bash-completion/bash_completion; source %s; "
                  "complete_for() { COMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1)); COMP_LINE=\"$*\"; "
                  "COMP_POINT=${#COMP_LINE}; _sipka; echo \"${COMPREPLY[*]}\"; }; "
                  "complete_for sipka con; complete_for sipka config s; "
                  f"complete_for sipka config set {port(5060)} --user; complete_for sipka stats --"
                  % os.path.join(ROOT, "loader", "sipka.bash"))
        out = subprocess.run(["bash", "-c", script], capture_output=True, text=True).stdout.splitlines()
        self.assertEqual(out[:3], ["config connections", "show set", "--user-timeout"])
        self.assertEqual(out[3].split(), ["--prometheus", "--output", "--watch", "--listen",
                                          "--close-wait-after", "--help"])


class Installed(Env):
    """Installed while sipka is loaded (root: it attaches)."""

    @classmethod
    def setUpClass(cls):
        need_root()

    def test_events_unit_and_uninstall_warning(self):
        dest = tempfile.mkdtemp(prefix="sipka-destdir-")
        defer(lambda: shutil.rmtree(dest), "destdir")
        make("install", "DESTDIR=" + dest, "PREFIX=/usr")
        unit = os.path.join(dest, UNITDIR, "sipka-events.service")
        with open(unit) as f:
            text = f.read()
        self.assertIn("\nExecStart=/usr/sbin/sipka events --follow --config /etc/sipka/sipka.conf\n", text)
        self.assertIn("\nExecReload=/bin/kill -HUP $MAINPID\n", text, "systemctl reload: the [events] action again")
        self.assertIn("StandardOutput=append:/var/log/sipka/events.jsonl", text, "the JSON Lines override")

        self.attach()
        p = make("uninstall", "DESTDIR=" + dest, "PREFIX=/usr", "PIN_DIR=" + self.pin_dir)
        self.assertIn("sipka is still loaded", p.stderr)
        self.assertIn("sipka detach", p.stderr)
        self.assertFalse(os.path.exists(unit))
        self.sipka("detach")
        make("install", "DESTDIR=" + dest, "PREFIX=/usr")
        p = make("uninstall", "DESTDIR=" + dest, "PREFIX=/usr", "PIN_DIR=" + self.pin_dir)
        self.assertNotIn("warning", p.stderr)
