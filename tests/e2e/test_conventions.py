# SPDX-License-Identifier: GPL-2.0
"""bpftool's conventions: global options anywhere, errors as JSON under -j, a
help command, and commands by unambiguous prefix."""
import json
import os

from harness import SIPKA, Env, need_root, port, run


def setUpModule():
    need_root()


class Conventions(Env):
    def setUp(self):
        super().setUp()
        self.attach()

    def raw(self, *args):
        """sipka ARGS as given: no --pin-dir or -j put in front."""
        return run(SIPKA, *args, check=False)

    def test_global_options_anywhere_on_the_line(self):
        before = self.sipka("-j", "stats").stdout
        for args in (["stats", "-j", "--pin-dir", self.pin_dir],
                     ["stats", "--pin-dir=" + self.pin_dir, "--json"],
                     ["--pin-dir", self.pin_dir, "stats", "--json"]):
            p = self.raw(*args)
            self.assertEqual((p.returncode, p.stdout), (0, before), args)
        rules = self.sipka("-j", "config", "show").stdout
        for args in (["config", "show", "-j"], ["config", "-j", "show"], ["config", "--json", "show"]):
            p = self.raw("--pin-dir", self.pin_dir, *args)
            self.assertEqual((p.returncode, p.stdout), (0, rules), args)
        # After the command's own options and its argument too.
        p = self.raw("config", "set", str(port(5070)), "--time", "30", "-j", "--pin-dir", self.pin_dir, "--name", "ws")
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual((out["port"], out["name"], out["time"], out["intvl"]), (port(5070), "ws", 30, 10))
        rule = [r for r in self.sipka("config", "show", json_out=True) if r["port"] == port(5070)]
        self.assertEqual((rule[0]["name"], rule[0]["time"]), ("ws", 30))
        self.assertRegex(self.raw("status", "-V").stdout, r"^sipka \d")

    def test_errors_are_json_on_stdout_under_json(self):
        not_loaded = os.path.join(self.mnt, "other")
        for args, words in ((["-j", "frob"], "unknown command 'frob'"),
                            (["stats", "--bogus", "-j"], "unknown option '--bogus'"),
                            (["-j", "config", "set", str(port(5060)), "--time", "0"], "out of range"),
                            (["config", "del", str(port(5099)), "--json"], f"no rule for port {port(5099)}"),
                            (["-j", "--pin-dir", not_loaded, "stats"], "not loaded"),
                            (["stats", "-j", "--pin-dir", "relative"], "absolute path"),
                            (["-j", "st"], "ambiguous")):
            if "--pin-dir" not in args:
                args = ["--pin-dir", self.pin_dir] + args
            p = self.raw(*args)
            self.assertNotEqual(p.returncode, 0, args)
            lines = p.stdout.splitlines()
            self.assertEqual(len(lines), 1, (args, p.stdout))
            obj = json.loads(lines[0])
            self.assertEqual(list(obj), ["error"], args)
            self.assertIn(words, obj["error"], args)
            # People still read it on stderr, the same words.
            self.assertIn("Error: " + obj["error"], p.stderr)
        # Without -j, nothing on stdout.
        p = self.raw("--pin-dir", self.pin_dir, "config", "del", str(port(5099)))
        self.assertEqual((p.stdout, p.returncode != 0), ("", True))

    def test_help_command(self):
        top = self.raw("help")
        self.assertEqual((top.returncode, top.stdout), (0, self.raw("--help").stdout))
        self.assertIn("  help ", top.stdout)
        for words in (["stats"], ["config"], ["config", "set"], ["events"], ["attach"]):
            p = self.raw("help", *words)
            self.assertEqual((p.returncode, p.stdout), (0, self.raw(*words, "--help").stdout), words)
            self.assertTrue(p.stdout.startswith("Usage: sipka [GLOBAL OPTIONS] " + " ".join(words)))
        self.assertEqual(self.raw("help", "att").stdout, self.raw("attach", "--help").stdout)
        bad = self.raw("help", "frob")
        self.assertEqual(bad.returncode, 2)
        self.assertIn("unknown command 'frob'", bad.stderr)

    def test_unambiguous_prefixes(self):
        for word in ("st", "stat"):
            p = self.raw("--pin-dir", self.pin_dir, word)
            self.assertEqual(p.returncode, 2)
            self.assertIn("'%s' is ambiguous" % word, p.stderr)
            self.assertIn("status", p.stderr)
            self.assertIn("stats", p.stderr)
        self.assertEqual(self.raw("--pin-dir", self.pin_dir, "-j", "statu").stdout,
                         self.sipka("-j", "status").stdout)
        other = self.cg + "-p"
        os.mkdir(other)
        try:
            p = self.raw("--pin-dir", self.pin_dir, "att", "--cgroup", other)
            self.assertEqual(p.returncode, 0, p.stderr)
            cgroups = [a["cgroup"] for a in self.sipka("status", json_out=True)["attachments"]]
            self.assertIn(other, cgroups)
            self.assertEqual(self.raw("--pin-dir", self.pin_dir, "det", "-c", other).returncode, 0)
        finally:
            self.sipka("detach", "--cgroup", other, check=False)
            os.rmdir(other)
        p = self.raw("--pin-dir", self.pin_dir, "statsx")
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown command 'statsx'", p.stderr)

    def test_new_short_options(self):
        prom = self.sipka("stats", "-P").stdout
        self.assertEqual(prom.split("\n# HELP sipka_build_info")[0],
                         self.sipka("stats", "--prometheus").stdout.split("\n# HELP sipka_build_info")[0])
        self.assertIn("sipka_up 1\n", prom)
