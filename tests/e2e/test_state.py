# SPDX-License-Identifier: GPL-2.0
"""sipka's kernel state stays whole: one writer at a time, all-or-nothing rule
changes, commands killed at every bpf(), rename() and unlink() call, nested
attachments counted once, foreign pins left alone, a versioned layout."""
import json
import os
import shutil
import subprocess
import threading

from harness import ROOT, SIPKA, Env, Peer, defer, need_root, run, skip_if_host_sock_ops, undo

NEXT = os.path.join(ROOT, "build", "next", "sipka")          # another build, same layout
LAYOUT4 = os.path.join(ROOT, "build", "layout4", "sipka")    # a field appended: layout 4
ROUNDS = int(os.environ.get("SIPKA_ROUNDS", "8"))
KILL_ALL = os.environ.get("SIPKA_KILL_ALL") == "1"
# Under strace LeakSanitizer cannot stop the world (it ptraces too): leaks
# are checked by the untraced runs.
TRACED = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")

A = "[tcp]\nport = 5060\ntcp_keepalive_time = 11\n[tls]\nport = 5061\n[ws]\nport = 8088\n"
B = "[tcp]\nport = 5060\ntcp_keepalive_time = 22\n[trunk]\nport = 5070\n"


def setUpModule():
    need_root()
    if not shutil.which("strace"):
        raise unittest_skip("needs strace")


def unittest_skip(why):
    import unittest
    return unittest.SkipTest(why)


def rules_of(text):
    """(port, time) of each rule a config file text makes, as config show says."""
    out, port = [], None
    for line in text.splitlines():
        if line.startswith("port"):
            port = int(line.split("=")[1])
            out.append([port, 60])
        if line.startswith("tcp_keepalive_time"):
            out[-1][1] = int(line.split("=")[1])
    return sorted(tuple(r) for r in out)


def cgroup_progs(cg):
    out = run("bpftool", "-j", "cgroup", "show", cg).stdout.strip()
    return [p["id"] for p in json.loads(out)] if out else []


class State(Env):
    def rules(self, sipka=SIPKA):
        p = run(sipka, "--pin-dir", self.pin_dir, "-j", "config", "show", check=False)
        return sorted((r["port"], r["time"]) for r in json.loads(p.stdout)) if not p.returncode else None

    def status(self):
        p = self.sipka("-j", "status", check=False)
        return p.returncode, json.loads(p.stdout) if p.stdout.strip() else None

    def assert_whole(self, rules_ok=None):
        """What every command must leave, killed or not: status recovers it;
        every attachment runs the pinned program; no program of ours is
        attached when nothing is loaded; rules are one whole set."""
        rc, st = self.status()
        self.assertIn(rc, (0, 3), "status failed: %s" % st)
        if not st or not st.get("loaded"):
            self.assertEqual(cgroup_progs(self.cg), [], "an orphan program is attached")
            return None
        for a in st["attachments"]:
            self.assertEqual(a["prog_id"], st["prog"]["id"], "an attachment runs another program")
        self.assertEqual(sorted(cgroup_progs(self.cg)),
                         sorted(a["prog_id"] for a in st["attachments"] if a["cgroup"] == self.cg))
        names = os.listdir(self.pin_dir)
        self.assertFalse([n for n in names if n.endswith("-new") or n.endswith("-tmp")], names)
        if rules_ok is not None:
            self.assertIn(self.rules(), rules_ok)
        return st

    # -- one writer at a time -------------------------------------------------

    def together(self, *cmds):
        procs = [subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for cmd in cmds]
        return [(p.wait(60), p.communicate()) for p in procs]

    def test_two_first_attaches_at_once(self):
        for _ in range(ROUNDS):
            out = self.together(*[[SIPKA, "--pin-dir", self.pin_dir, "attach", "--cgroup", self.cg]] * 2)
            self.assertEqual([rc for rc, _ in out], [0, 0], out)
            st = self.assert_whole(rules_ok=[[(5060, 60), (5061, 60)]])
            self.assertEqual(len(st["attachments"]), 1, "one attachment")
            self.sipka("detach")

    def test_attach_during_detach_leaves_a_whole_state(self):
        child = os.path.join(self.cg, "b")
        os.mkdir(child)
        entry = defer(lambda: os.rmdir(child), "cgroup b")
        for _ in range(ROUNDS):
            self.attach()
            out = self.together([SIPKA, "--pin-dir", self.pin_dir, "attach", "--cgroup", child],
                                [SIPKA, "--pin-dir", self.pin_dir, "detach"])
            self.assertEqual([rc for rc, _ in out], [0, 0], out)
            st = self.assert_whole()
            if st:      # the attach came last: loaded and attached to b
                self.assertEqual([a["cgroup"] for a in st["attachments"]], [child])
            else:
                self.assertEqual(cgroup_progs(child), [])
            self.sipka("detach")
        undo(entry)

    def test_two_builds_attach_at_once(self):
        for _ in range(ROUNDS):
            self.attach()
            out = self.together([NEXT, "--pin-dir", self.pin_dir, "attach", "--cgroup", self.cg],
                                [SIPKA, "--pin-dir", self.pin_dir, "attach", "--cgroup", self.cg])
            self.assertEqual([rc for rc, _ in out], [0, 0], out)
            self.assert_whole()
            self.sipka("detach")

    def test_config_loads_at_once_and_readers_see_whole_sets(self):
        self.attach()
        a, b = self.conf(A), self.conf(B)
        sets = [rules_of(A), rules_of(B)]
        seen, stop = [], threading.Event()

        def read():
            while not stop.is_set():
                p = run(SIPKA, "--pin-dir", self.pin_dir, "-j", "config", "show", check=False)
                if not p.returncode:
                    seen.append(sorted((r["port"], r["time"]) for r in json.loads(p.stdout)))
        reader = threading.Thread(target=read)
        reader.start()
        try:
            for _ in range(ROUNDS):
                out = self.together([SIPKA, "--pin-dir", self.pin_dir, "config", "load", a],
                                    [SIPKA, "--pin-dir", self.pin_dir, "config", "load", b])
                self.assertEqual([rc for rc, _ in out], [0, 0], out)
                self.assertIn(self.rules(), sets)
        finally:
            stop.set()
            reader.join()
        self.assertTrue(seen)
        bad = [s for s in seen if s not in sets + [[(5060, 60), (5061, 60)]]]
        self.assertEqual(bad, [], "a reader saw a mix or a port twice")

    def test_a_writer_waits_then_names_the_holder(self):
        self.attach()
        holder = subprocess.Popen(["flock", self.pin_dir, "sh", "-c", "echo locked; exec sleep 30"],
                                  stdout=subprocess.PIPE, text=True)
        defer(lambda: (holder.kill(), holder.wait()), "lock holder")
        self.assertEqual(holder.stdout.readline(), "locked\n")
        p = run(SIPKA, "--pin-dir", self.pin_dir, "config", "set", "5060", "--time", "5", check=False,
                env=dict(os.environ, SIPKA_LOCK_WAIT="1"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("process %d (flock %s sh -c echo locked; exec sleep 30) is changing sipka's state"
                      % (holder.pid, self.pin_dir), p.stderr)
        self.assertIn("waited 1 s", p.stderr)
        self.assertEqual(self.rules(), [(5060, 60), (5061, 60)], "nothing changed")

    # -- all or nothing, killed anywhere --------------------------------------

    def calls(self, cmd, syscalls):
        """How many of SYSCALLS CMD makes, run once under strace (then undone by the caller)."""
        log = os.path.join(self.mnt, "..", "strace-%d.txt" % os.getpid())
        run("strace", "-f", "-qq", "-e", "trace=" + syscalls, "-o", log, *cmd, check=False, env=TRACED)
        with open(log) as f:
            n = sum(1 for line in f if "(" in line and "resumed" not in line)
        os.unlink(log)
        return n

    def points(self, n, k):
        """Where to kill: every call with SIPKA_KILL_ALL=1, else K calls spread
        evenly from the first to the last (a representative subset)."""
        if KILL_ALL or n <= k:
            return list(range(1, n + 1))
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

    SYSCALLS = ("bpf", "rename", "unlink", "unlinkat")

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
        a, b = self.conf(A), self.conf(B)
        cmd = [SIPKA, "--pin-dir", self.pin_dir, "config", "load", b]
        self.kill_everywhere(lambda: self.attach("--config", a), cmd,
                             lambda st: self.assertIn(self.rules(), [rules_of(A), rules_of(B)]))

    def test_killed_first_attach_with_config_is_all_or_nothing(self):
        b = self.conf(B)
        cmd = [SIPKA, "--pin-dir", self.pin_dir, "attach", "--cgroup", self.cg, "--config", b]

        def check(st):
            if st:
                self.assertEqual(self.rules(), rules_of(B), "no partial rule set")
            self.attach()       # a later plain attach keeps B, or starts from the default
            self.assertIn(self.rules(), [rules_of(B), [(5060, 60), (5061, 60)]])
        self.kill_everywhere(lambda: None, cmd, check)

    def test_killed_upgrade_runs_one_program_everywhere(self):
        direct = []

        def setup():
            self.attach("--config", self.conf(A))
            # A direct attachment too, as systemd's BPFProgram= makes.
            run("bpftool", "cgroup", "attach", self.cg, "sock_ops", "pinned",
                os.path.join(self.pin_dir, "prog"), "multi")
            direct.append(1)
        cmd = [NEXT, "--pin-dir", self.pin_dir, "attach", "--cgroup", self.cg]
        self.kill_everywhere(setup, cmd, lambda st: (self.assertEqual(len(st["attachments"]), 2),
                                                      self.assertEqual(self.rules(), rules_of(A))))

    def test_killed_detach_is_finished_by_the_next_detach(self):
        cmd = [SIPKA, "--pin-dir", self.pin_dir, "detach"]
        self.kill_everywhere(lambda: self.attach(), cmd, lambda st: None)

    def test_rule_limit_checked_before_anything_is_written(self):
        self.attach()
        many = "".join("[r%d]\nport = %d\n" % (i, 10000 + i) for i in range(256))
        self.sipka("config", "load", self.conf(many))
        self.assertEqual(len(self.rules()), 256, "256 rules fit, whatever was there")
        p = self.sipka("config", "set", "5060", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("at most 256 rules", p.stderr)
        self.assertEqual(len(self.rules()), 256)

    # -- nested attachments -----------------------------------------------------

    def test_nested_attachments_count_each_socket_once(self):
        child = os.path.join(self.cg, "pbx")
        os.mkdir(child)
        entry = defer(lambda: os.rmdir(child), "cgroup pbx")
        self.attach()
        p = self.sipka("attach", "--cgroup", child)
        self.assertIn("%s is inside %s, where this sipka is attached too" % (child, self.cg), p.stderr)
        both = Peer(cgroup=child, netns=self.ns)
        both("churn", "127.0.0.1", 5060, 100, 1)
        row, _ = self.wait_stats(5060, 5, closed=200)
        self.assertEqual((row["armed"], row["active"], row["closed"]), (200, 0, 200))
        both.close()
        self.sipka("detach")
        undo(entry)

    def test_nested_attachments_count_each_socket_once_when_the_table_is_full(self):
        child = os.path.join(self.cg, "pbx")
        os.mkdir(child)
        entry = defer(lambda: os.rmdir(child), "cgroup pbx")
        self.attach("--max-connections", "8")     # 16 slots, each connection's window all of them
        self.sipka("attach", "--cgroup", child)
        both = Peer(cgroup=child, netns=self.ns)
        lid = both("listen", "127.0.0.1", 5060)["id"]
        pairs = []
        for _ in range(20):                       # 40 sockets, each run by both attachments
            c = both("connect", "127.0.0.1", 5060)["id"]
            pairs.append((c, both("accept", lid)["id"]))
        row = self.stats(5060)
        self.assertEqual((row["armed"], row["active"], row["untracked"], row["errors"]), (40, 16, 24, 0),
                         "each socket armed and counted once, tracked or not")
        for c, a in pairs:
            both("close", c)
            both("close", a)
        row, _ = self.wait_stats(5060, 5, active=0, closed=16)
        self.assertEqual((row["armed"], row["untracked"]), (40, 24))
        both.close()
        self.sipka("detach")
        undo(entry)

    def test_another_instance_above_is_named_and_wins(self):
        skip_if_host_sock_ops()     # it counts the programs above its cgroup
        other = os.path.join(self.mnt, "other")
        self.sipka("attach", "--cgroup", self.cg, pin_dir=other)
        defer(lambda: self.sipka("detach", pin_dir=other, check=False), "other sipka")
        child = os.path.join(self.cg, "pbx")
        os.mkdir(child)
        entry = defer(lambda: os.rmdir(child), "cgroup pbx")
        p = self.sipka("attach", "--cgroup", child)
        self.assertRegex(p.stderr, r"sock_ops program \d+ \(sipka_sockops, another sipka\) attached to %s also "
                                   r"runs on the sockets of %s, after sipka: the keepalive settings it makes win"
                         % (self.cg, child))
        st = self.sipka("status", json_out=True)
        others = st["attachments"][0]["other_programs"]
        self.assertEqual([(o["cgroup"], o["runs"]) for o in others], [(self.cg, "after")])
        self.sipka("detach")
        self.sipka("detach", pin_dir=other)
        undo(entry)

    # -- only its own objects ---------------------------------------------------

    def test_foreign_pins_are_left_alone(self):
        self.attach()
        foreign = os.path.join(self.pin_dir, "link-5")
        run("bpftool", "map", "create", foreign, "type", "hash", "key", "4", "value", "4",
            "entries", "4", "name", "foreign")
        link99 = os.path.join(self.pin_dir, "link-99")
        run("bpftool", "map", "create", link99, "type", "array", "key", "4", "value", "4",
            "entries", "1", "name", "foreign99")
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
        config = os.path.join(self.pin_dir, "config")
        os.unlink(config)
        run("bpftool", "map", "create", config, "type", "hash", "key", "8", "value", "4096",
            "entries", "4", "name", "sipka_config")
        for args in (["config", "show"], ["stats"], ["status"], ["config", "set", "5060", "--time", "9"]):
            p = run(SIPKA, "--pin-dir", self.pin_dir, *args, check=False, timeout=10)
            self.assertEqual(p.returncode, 0, (args, p.stderr))
        self.assertIn("config is not sipka's rule set: left alone", p.stderr)
        self.assertEqual(self.rules(), [(5060, 9), (5061, 60)], "the live rules changed all the same")
        os.unlink(config)
        self.sipka("status")
        self.assertEqual(json.loads(run("bpftool", "-j", "map", "show", "pinned", config).stdout)["name"],
                         "sipka_config", "status pinned the live rule set again")

    def test_a_foreign_stats_map_is_refused(self):
        self.attach()
        stats = os.path.join(self.pin_dir, "stats")
        os.unlink(stats)
        run("bpftool", "map", "create", stats, "type", "hash", "key", "4", "value", "4096",
            "entries", "4", "name", "sipka_stats")
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

    # -- a versioned layout -----------------------------------------------------

    def test_a_layout_with_an_appended_field_migrates_and_keeps_counting(self):
        self.attach()
        self.sipka("config", "set", "5060", "--time", "33", "--name", "tcp")
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", "127.0.0.1", 5060)["id"]
        ids = [phone("connect", "127.0.0.1", 5060)["id"] for _ in range(3)]
        pbx_ids = [pbx("accept", lid)["id"] for _ in ids]
        self.wait_stats(5060, 5, armed=3, active=3)
        p = run(LAYOUT4, "--pin-dir", self.pin_dir, "-j", "attach", "--cgroup", self.cg)
        self.assertEqual(json.loads(p.stdout)["program"], "migrated")
        self.assertIn("moved the maps from layout 3 to layout 4", p.stderr)
        self.assertEqual(self.rules(LAYOUT4), [(5060, 33), (5061, 60)])
        for i, j in zip(ids, pbx_ids):
            phone("close", i)
            pbx("close", j)
        row = None
        for _ in range(100):
            row = [r for r in json.loads(run(LAYOUT4, "--pin-dir", self.pin_dir, "-j", "stats").stdout)
                   if r["port"] == 5060][0]
            if row["closed"] == 3:
                break
            run("sleep", "0.05")
        self.assertEqual((row["armed"], row["active"], row["closed"]), (3, 0, 3), "tracked across")
        p = self.sipka("config", "show", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("have layout 4, newer than this sipka's 3", p.stderr)
        p = self.sipka("attach", "--cgroup", self.cg, check=False)
        self.assertIn("have layout 4, newer than this sipka's 3", p.stderr)
        run(LAYOUT4, "--pin-dir", self.pin_dir, "detach")

    def under_release(self, version, n):
        """N connections to port 5060 (rule: time 44), armed by sipka VERSION
        (built from git by make test): pbx, phone, their ids."""
        old = os.path.join(ROOT, "build", "v" + version, "sipka")
        if not os.access(old, os.X_OK):
            raise unittest_skip("build/v%s/sipka was not built (make test builds it from git)" % version)
        run(old, "--pin-dir", self.pin_dir, "attach", "--cgroup", self.cg)
        run(old, "--pin-dir", self.pin_dir, "config", "set", "5060", "--time", "44", "--name", "tcp")
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", "127.0.0.1", 5060)["id"]
        ids = [phone("connect", "127.0.0.1", 5060)["id"] for _ in range(n)]
        return pbx, phone, ids, [pbx("accept", lid)["id"] for _ in ids]

    def test_0_2_0_carries_its_tracked_connections_over(self):
        pbx, phone, ids, pbx_ids = self.under_release("0.2.0", 3)
        # 0.2.0's rule set is a hash: bpftool can write a port no connection has.
        run("flock", self.pin_dir, "bpftool", "map", "update", "pinned", os.path.join(self.pin_dir, "config"),
            "key", "hex", "70", "11", "01", "00", "value", "hex", *(["01", "00", "00", "00"] * 3 + ["00"] * 24))
        run("sleep", "1.2")     # an age the carried arming time must show
        p = self.sipka("-j", "attach", "--cgroup", self.cg)
        self.assertEqual(json.loads(p.stdout)["program"], "migrated")
        self.assertIn("moved the maps from layout 2 to layout 3", p.stderr)
        self.assertEqual(self.rules(), [(5060, 44), (5061, 60)])
        self.assertEqual((self.stats(5060)["armed"], self.stats(5060)["active"]), (3, 3),
                         "carried over, not armed again")
        conns = [c for c in json.loads(self.sipka("-j", "connections").stdout) if c["rule_port"] == 5060]
        self.assertEqual(len(conns), 3, conns)
        for c in conns:
            self.assertTrue(c["tracked"], c)
            self.assertTrue(1 <= c["armed_s_ago"] <= 30, c)
        for i, j in zip(ids, pbx_ids):
            phone("close", i)
            pbx("close", j)
        self.wait_stats(5060, 5, armed=3, active=0, closed=3)

    def test_0_1_0_upgrades_to_this_layout(self):
        pbx, phone, ids, pbx_ids = self.under_release("0.1.0", 2)
        p = self.sipka("-j", "attach", "--cgroup", self.cg)
        self.assertEqual(json.loads(p.stdout)["program"], "migrated")
        self.assertEqual(self.rules(), [(5060, 44), (5061, 60)])
        self.assertEqual((self.stats(5060)["armed"], self.stats(5060)["active"]), (2, 2),
                         "the live connections are tracked again, counted once")
        self.assertNotIn("sockets", os.listdir(self.pin_dir))
        for i, j in zip(ids, pbx_ids):
            phone("close", i)
            pbx("close", j)
        self.wait_stats(5060, 5, armed=2, active=0, closed=2)

    # -- exit status and messages that tell the truth ---------------------------

    def test_without_cap_sys_admin_the_partial_result_is_said(self):
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", "127.0.0.1", 5060)["id"]
        phone("connect", "127.0.0.1", 5060)
        sip = pbx("accept", lid)["id"]
        p = run("capsh", "--drop=cap_sys_admin", "--", "-c",
                "exec %s --pin-dir %s attach --cgroup %s" % (SIPKA, self.pin_dir, self.cg), check=False)
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertIn("existing connections in 1 other network namespaces were not armed: entering them "
                      "needs CAP_SYS_ADMIN", p.stderr)
        self.assertEqual(pbx("opts", sip)["opts"]["keepalive"], 0, "as said: not armed")
        self.assertEqual(self.sipka("status", check=False).returncode, 0, "attached all the same")
        p = run("capsh", "--drop=cap_sys_admin,cap_perfmon", "--", "-c",
                "exec %s --pin-dir %s config show" % (SIPKA, self.pin_dir), check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("this process lacks CAP_PERFMON", p.stderr)

    def test_bad_config_files_change_nothing_and_never_hang(self):
        self.attach()
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
        self.assertEqual(self.rules(), [(5060, 60), (5061, 60)], "nothing changed")
        self.assertEqual([a["cgroup"] for a in self.sipka("status", json_out=True)["attachments"]], [self.cg])

    # -- one arming path ----------------------------------------------------------

    def test_existing_and_new_connections_choose_the_same_rule(self):
        """Accepted: the local port's rule; opened: the remote port's. The
        iterator (existing) and sock_ops (new) agree on the same connections."""
        other = self.netns()    # where nothing listens on 5060

        def make(src):
            pbx, out = self.pbx(), self.outsider()
            pbx2, out2 = Peer(cgroup=self.cg, netns=other), self.outsider(other)
            l5060 = pbx("listen", "127.0.0.1", 5060)["id"]
            l7000 = pbx("listen", "127.0.0.1", 7000)["id"]
            lo = out2("listen", "127.0.0.1", 7777)["id"]
            conns = {}
            out("connect", "127.0.0.1", 5060)
            conns["accepted on 5060"] = (pbx, pbx("accept", l5060)["id"])
            out("connect", "127.0.0.1", 7000, "127.0.0.1", 5061)
            conns["accepted on 7000 from port 5061"] = (pbx, pbx("accept", l7000)["id"])
            conns["opened from 5060 to 7777"] = (pbx2, pbx2("connect", "127.0.0.1", 7777, src, 5060)["id"])
            out2("accept", lo)
            conns["opened to 5061"] = (pbx2, pbx2("connect", "127.0.0.1", 5061)["id"]) \
                if out2("listen", "127.0.0.1", 5061) else None
            return [pbx, out, pbx2, out2], conns

        def armed(conns):
            return {k: peer("opts", i)["opts"]["keepalive"] for k, (peer, i) in conns.items()}
        want = {"accepted on 5060": 1, "accepted on 7000 from port 5061": 0, "opened from 5060 to 7777": 0,
                "opened to 5061": 1}
        peers, conns = make("127.0.0.1")
        self.attach()
        self.assertEqual(armed(conns), want, "the iterator")
        for p in peers:
            p.close()
        peers, conns = make("127.0.0.2")     # the first is in TIME_WAIT
        self.assertEqual(armed(conns), want, "sock_ops")

    # -- a table of fixed capacity ----------------------------------------------

    def test_a_full_table_arms_all_counts_the_rest_and_resizes(self):
        self.attach("--max-connections", "16")      # 32 slots; a connection may sit in 16 of them
        self.assertEqual(self.sipka("status", json_out=True)["max_connections"], 16)
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", "127.0.0.1", 5060)["id"]
        pairs = []
        for _ in range(40):
            c = phone("connect", "127.0.0.1", 5060)["id"]
            a = pbx("accept", lid)
            self.assertEqual(a["opts"]["keepalive"], 1, "armed, tracked or not")
            pairs.append((c, a["id"]))
        row = self.stats(5060)
        tracked = row["active"]
        # No more than the slots; untracked only once some window of 16 is full.
        self.assertTrue(16 <= tracked <= 32, row)
        self.assertEqual((row["armed"], row["untracked"], row["errors"]), (40, 40 - tracked, 0))
        p = self.sipka("attach", "--cgroup", self.cg, "--max-connections", "8", check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("%d connections are tracked now; --max-connections must be at least that" % tracked,
                      p.stderr)
        p = self.sipka("-j", "attach", "--cgroup", self.cg, "--max-connections", "4096")
        self.assertEqual(json.loads(p.stdout)["program"], "migrated")
        self.assertEqual(self.sipka("status", json_out=True)["max_connections"], 4096)
        for c, a in pairs:
            phone("close", c)
            pbx("close", a)
        row, _ = self.wait_stats(5060, 5, active=0, closed=tracked)
        self.assertEqual((row["armed"], row["untracked"]), (40, 40 - tracked), "the tracked ones carried over")
