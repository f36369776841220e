# SPDX-License-Identifier: GPL-2.0
"""Only its own objects: foreign and malformed pins in the pin dir are left
alone or refused, never trusted; a pin dir others could write is refused."""
import json
import os

from harness import SIPKA, Env, cgroup_progs, need_root, port, run


def setUpModule():
    need_root()


class Pins(Env):
    def foreign_map(self, pin, kind, key, value, entries, name):
        """A map sipka did not make, pinned as PIN in the pin dir (in place of
        sipka's own, if there is one); returns its path."""
        path = os.path.join(self.pin_dir, pin)
        if os.path.exists(path):
            os.unlink(path)
        run("bpftool", "map", "create", path, "type", kind, "key", key, "value", value, "entries", entries,
            "name", name)
        return path

    def test_foreign_pins_are_left_alone(self):
        self.attach()
        foreign = self.foreign_map("link-5", "hash", 4, 4, 4, "foreign")
        link99 = self.foreign_map("link-99", "array", 4, 4, 1, "foreign99")
        p = self.sipka("attach", "--cgroup", self.cg)
        self.assertIn("%s is not a link of sipka's program: left alone" % foreign, p.stderr)
        self.assertTrue(os.path.exists(foreign))
        self.assertEqual(self.sipka("status", check=False).returncode, 0)
        p = self.sipka("detach")
        self.assertIn("kept %s: it holds 2 entries that are not sipka's" % self.pin_dir, p.stdout)
        self.assertEqual(sorted(os.listdir(self.pin_dir)), ["link-5", "link-99"])
        self.assertEqual(cgroup_progs(self.cg), [])
        os.unlink(foreign)
        os.unlink(link99)

    def test_malformed_config_pin_hangs_nothing(self):
        self.attach()
        config = self.foreign_map("config", "hash", 8, 4096, 4, "sipka_config")
        for args in (["config", "show"], ["stats"], ["status"], ["config", "set", str(port(5060)), "--time", "9"]):
            p = run(SIPKA, "--pin-dir", self.pin_dir, *args, check=False, timeout=10)
            self.assertEqual(p.returncode, 0, (args, p.stderr))
        self.assertIn("config is not sipka's rule set: left alone", p.stderr)
        self.assertEqual(self.rule_times(), [(port(5060), 9), (port(5061), 60)], "the live rules changed all the same")
        os.unlink(config)
        self.sipka("status")
        self.assertEqual(json.loads(run("bpftool", "-j", "map", "show", "pinned", config).stdout)["name"],
                         "sipka_config", "status pinned the live rule set again")

    def test_a_foreign_stats_map_is_refused(self):
        self.attach()
        stats = self.foreign_map("stats", "hash", 4, 4096, 4, "sipka_stats")
        p = run(SIPKA, "--pin-dir", self.pin_dir, "stats", check=False, timeout=10)
        self.assertEqual(p.returncode, 1)
        self.assertIn("%s is not sipka's: it is map 'sipka_stats' of type 1" % stats, p.stderr)

    def test_an_unsafe_pin_dir_is_refused(self):
        os.mkdir(self.pin_dir, 0o777)
        os.chmod(self.pin_dir, 0o777)
        p = self.sipka("attach", "--cgroup", self.cg, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("is writable by group or others", p.stderr)
        self.assertIn("chmod 0700", p.stderr)
        os.chmod(self.pin_dir, 0o700)
        os.chown(self.pin_dir, 65534, 0)
        p = self.sipka("attach", "--cgroup", self.cg, check=False)
        self.assertIn("is not root's (owner uid 65534", p.stderr)
        self.assertEqual(os.listdir(self.pin_dir), [], "nothing was pinned")
        os.rmdir(self.pin_dir)
        os.symlink(self.mnt, self.pin_dir)
        p = self.sipka("attach", "--cgroup", self.cg, check=False)
        self.assertIn("a symbolic link: never followed", p.stderr)
        os.unlink(self.pin_dir)
        self.attach()
        self.assertEqual(os.stat(self.pin_dir).st_mode & 0o777, 0o700)
