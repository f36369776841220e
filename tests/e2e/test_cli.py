# SPDX-License-Identifier: GPL-2.0
"""The sipka command itself: attach, status, detach, and bad input."""
import json
import os
import tempfile

from harness import ROOT, SIPKA, Env, cgroup_progs, defer, need_root, port, run, wait_until


def setUpModule():
    need_root()


class AttachDetach(Env):
    def test_attach_twice_leaves_one_attachment(self):
        self.attach()
        again = self.sipka("attach", "--cgroup", self.cg, json_out=True)
        self.assertTrue(again["already_attached"])
        progs = cgroup_progs(self.cg)
        self.assertEqual(len(progs), 1, progs)
        self.assertEqual(progs[0]["attach_type"], "cgroup_sock_ops")
        self.assertEqual(len(self.sipka("status", json_out=True)["attachments"]), 1)

    def test_first_attach_gets_embedded_default(self):
        self.sipka("attach", "--cgroup", self.cg)     # not self.attach(): no moved default
        self.assertEqual(self.sipka("config", "show", json_out=True), [
            {"port": 5060, "name": "tcp", "time": 60, "intvl": 10, "probes": 3, "user_timeout_ms": 90000,
             "reset_events": False, "valid": True},
            {"port": 5061, "name": "tls", "time": 60, "intvl": 10, "probes": 3, "user_timeout_ms": 90000,
             "reset_events": False, "valid": True}])

    def test_reattach_keeps_live_rules_and_config_file_replaces_them(self):
        self.attach()
        self.sipka("config", "set", str(port(5070)), "--name", "ws")
        self.attach()
        self.assertEqual([r["port"] for r in self.sipka("config", "show", json_out=True)],
                         [port(5060), port(5061), port(5070)])
        self.attach("--config", os.path.join(ROOT, "examples", "sipka.conf"))
        rules = self.sipka("config", "show", json_out=True)
        self.assertEqual([(r["port"], r["name"]) for r in rules],
                         [(5060, "tcp"), (5061, "tls"), (8088, "ws"), (8089, "wss")])

    def test_status_exit_codes(self):
        self.assertEqual(self.sipka("status", check=False).returncode, 3)
        self.attach()
        status = self.sipka("status", json_out=True)
        self.assertEqual([a["cgroup"] for a in status["attachments"]], [self.cg])
        self.assertEqual(status["rules"], 2)
        self.assertFalse(status["attachments"][0]["defunct"])
        self.assertEqual(self.sipka("status", check=False).returncode, 0)
        self.sipka("detach", "--cgroup", self.cg)
        self.assertEqual(self.sipka("status", check=False).returncode, 3)

    def test_detach_one_cgroup_keeps_the_others(self):
        other = self.cg + "-b"
        os.mkdir(other)
        try:
            self.attach()
            self.sipka("attach", "--cgroup", other)
            self.sipka("detach", "--cgroup", other)
            self.assertEqual(cgroup_progs(other), [])
            self.assertEqual(len(cgroup_progs(self.cg)), 1)
            self.assertEqual(self.sipka("config", "show", json_out=True)[0]["port"], port(5060))
        finally:
            self.sipka("detach", check=False)
            os.rmdir(other)

    def test_detach_leaves_nothing(self):
        self.attach()
        status = self.sipka("status", json_out=True)
        prog_id = status["prog"]["id"]
        map_ids = json.loads(run("bpftool", "-j", "prog", "show", "id", prog_id).stdout)["map_ids"]
        self.sipka("detach")
        self.assertFalse(os.path.exists(self.pin_dir))
        self.assertEqual(cgroup_progs(self.cg), [])
        def alive():
            return ([i for i in map_ids if run("bpftool", "map", "show", "id", i, check=False).returncode == 0],
                    run("bpftool", "prog", "show", "id", prog_id, check=False).returncode == 0)
        # The kernel frees them after an RCU grace period.
        wait_until(lambda: alive() == ([], False), 30, lambda: "maps and program freed: %s" % (alive(),),
                   interval=0.1)
        self.assertEqual(alive(), ([], False))
        self.assertEqual(self.sipka("status", check=False).returncode, 3)


class BadInput(Env):
    """Each bad input: a message naming problem and fix, non-zero exit, nothing changed."""

    def setUp(self):
        super().setUp()
        self.attach()
        self.conf_dir = tempfile.mkdtemp(prefix="sipka-conf-")

    def tearDown(self):
        for f in os.listdir(self.conf_dir):
            os.unlink(os.path.join(self.conf_dir, f))
        os.rmdir(self.conf_dir)
        super().tearDown()

    def refused(self, args, *words, pin_dir=None):
        before = self.kernel_state()
        p = self.sipka(*args, check=False, pin_dir=pin_dir)
        self.assertNotEqual(p.returncode, 0, args)
        self.assertTrue(p.stderr.startswith("Error: "), p.stderr)
        for w in words:
            self.assertIn(w, p.stderr, args)
        self.assertEqual(self.kernel_state(), before, "%s changed the running state" % (args,))

    def test_bad_numbers(self):
        self.refused(["config", "set", str(port(5060)), "--time", "0"], "--time", "out of range", "1 to 32767")
        self.refused(["config", "set", str(port(5060)), "--intvl", "12x"], "'12x' is not a whole number")
        self.refused(["config", "set", str(port(5060)), "--probes", "128"], "1 to 127")
        self.refused(["config", "set", str(port(5060)), "--probes", "-1"], "not a whole number")
        self.refused(["config", "set", str(port(5060)), "--user-timeout", "soon"], "'auto' or 'off'")
        self.refused(["config", "set", "70000"], "PORT", "1 to 65535")
        self.refused(["config", "set", f"{port(5060)} "], "not a whole number")
        self.refused(["config", "set", "0x13c4"], "not a whole number")

    def test_bad_options_and_commands(self):
        self.refused(["config", "set", str(port(5060)), "--bogus", "1"], "unknown option '--bogus'", "--help")
        self.refused(["config", "set", str(port(5060)), "--time"], "needs a value")
        self.refused(["config", "set"], "needs PORT")
        self.refused(["config", "frob"], "unknown config command")
        self.refused(["frob"], "unknown command 'frob'")
        self.refused(["stats", "extra"], "unexpected argument 'extra'")
        self.refused(["config", "set", str(port(5060)), "--name", "much too long a name"], "1 to 15")

    def test_delete_missing_rule(self):
        self.refused(["config", "del", str(port(5099))], f"no rule for port {port(5099)}")

    def test_bad_cgroup(self):
        self.refused(["attach", "--cgroup", "/no/such/cgroup"], "does not exist")
        self.refused(["attach", "--cgroup", "/tmp"], "not a cgroup v2 directory")
        self.refused(["detach", "--cgroup", "/no/such/cgroup"], "does not exist")

    def test_bad_config_files(self):
        missing = os.path.join(self.conf_dir, "missing.conf")
        self.refused(["config", "load", missing], missing, "No such file")
        self.refused(["attach", "--cgroup", self.cg, "--config", missing], missing)
        cases = [
            ("[tcp]\nport = 5060\ntcp_keepalive_time = 6o\n", ":3:", "tcp_keepalive_time", "not a whole number"),
            ("[tcp]\nport = 5060\ntcp_keepalive_tiem = 60\n", ":3:", "unknown key 'tcp_keepalive_tiem'"),
            ("[tcp]\nport = 5060\n\n[tls]\nport = 5060\n", ":4:", "port 5060", "line 1"),
            ("[tcp]\ntcp_keepalive_time = 30\n", ":1:", "no port"),
            ("port = 5060\n", ":1:", "outside any section"),
            ("[tcp]\nport = 5060\nthis line is junk\n", ":3:", "not 'key = value'"),
            ("[defaults]\nport = 5060\n", ":2:", "[defaults] cannot have a port"),
            ("[tcp]\nport = 5060\nport = 5062\n", ":3:", "set twice"),
            ("# nothing\n", "no rules"),
            ("[tcp]\nport = 5060\n[wss]\n", ":3:", "no keys"),
            ("[tcp]\nport = 5060\ntcp_user_timeout = -5\n", ":3:", "'auto' or 'off'"),
        ]
        for text, *words in cases:
            path = self.conf(text)
            self.refused(["config", "load", path], path, *words)
        self.refused(["attach", "--cgroup", self.cg, "--config", path], path)

    def test_bad_config_files_change_nothing_and_never_hang(self):
        fifo = os.path.join(self.mnt, "..", "sipka-fifo-%d" % os.getpid())
        os.mkfifo(fifo)
        defer(lambda: os.unlink(fifo), "fifo")
        for path, why in ((fifo, "not a regular file"), ("/dev/zero", "not a regular file"),
                          ("/tmp", "a directory")):
            for args in (["config", "load", path], ["attach", "--cgroup", self.cg, "--config", path],
                         ["config", "check", path]):
                p = run(SIPKA, "--pin-dir", self.pin_dir, *args, check=False, timeout=10)
                self.assertEqual(p.returncode, 1, args)
                self.assertIn("config file %s is %s" % (path, why), p.stderr)
        p = self.sipka("attach", "--cgroup", "", check=False)
        self.assertIn("an empty one is refused", p.stderr)
        self.assertEqual(self.rule_times(), [(port(5060), 60), (port(5061), 60)], "nothing changed")
        self.assertEqual([a["cgroup"] for a in self.sipka("status", json_out=True)["attachments"]], [self.cg])

    def test_pin_dir_not_on_bpffs(self):
        not_bpffs = os.path.join(self.conf_dir, "sipka")
        self.refused(["attach", "--cgroup", self.cg], "not on a BPF filesystem", "mount -t bpf -o mode=0700 bpf",
                     pin_dir=not_bpffs)
        self.refused(["status"], "not on a BPF filesystem", pin_dir=not_bpffs)
        self.assertFalse(os.path.exists(not_bpffs))
        self.refused(["stats"], "mount -t bpf", pin_dir="/no/such/dir/sipka")

    def test_not_loaded(self):
        empty = os.path.join(self.mnt, "other")
        self.refused(["config", "set", str(port(5060))], "not loaded", "sipka attach", pin_dir=empty)
        self.refused(["stats"], "not loaded", pin_dir=empty)
