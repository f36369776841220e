# SPDX-License-Identifier: GPL-2.0
"""sipka events --follow --exec PROG: each death runs PROG, without a shell, with
the event on its stdin and in its environment; bounded (jobs, time, queue),
never in the reader's way, every dropped event counted; PROG trusted as sudo
and cron trust their files; the action set in the config file, reloaded on
SIGHUP. Deaths are made fast with resets (rules with reset_events)."""
import glob
import json
import os
import re
import signal
import struct
import time

from harness import SIPKA, Env, Process, need_root, port, run, wait_until

P = port(5060)
BURST = 1000


def setUpModule():
    need_root()


RECORD = """#!/usr/bin/python3
# An action that records what it was given, one file per run. Its environment as
# it started: Python adds LC_CTYPE to os.environ in the C locale (PEP 538).
import json, os, sys, uuid
with open("/proc/self/environ", "rb") as f:
    env = dict(v.decode().split("=", 1) for v in f.read().split(b"\\0") if v)
rec = {"stdin": sys.stdin.read(), "env": env, "argv": sys.argv, "cwd": os.getcwd()}
path = os.path.join(%r, uuid.uuid4().hex)
with open(path + ".tmp", "w") as f:
    json.dump(rec, f)
os.rename(path + ".tmp", path + ".json")
print("recorded %%s" %% os.environ.get("SIPKA_REMOTE_PORT"))
"""


def env_name(key):
    return "SIPKA_" + re.sub("[^A-Z0-9]", "_", key.upper())


def gone_or_zombie(pid):
    """True once pid has ended: reaped, or a zombie. It may be reaped between any two reads."""
    try:
        with open("/proc/%s/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


class Actions(Env):
    def setUp(self):
        super().setUp()
        self.attach()
        self.sipka("config", "set", P, "--name", "tcp", "--reset-events")
        self.pbx_peer, self.phone = self.pbx(), self.outsider()
        self.lid = self.pbx_peer("listen", "127.0.0.1", P)["id"]
        self.bin = self.trusted_dir()
        self.out = self.trusted_dir()       # where the actions write what they saw

    def deaths(self, n):
        self.resets(self.pbx_peer, self.lid, self.phone, "127.0.0.1", n)

    def script(self, name, text, mode=0o755, directory=None):
        path = os.path.join(directory or self.bin, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def recorder(self, name="record"):
        return self.script(name, RECORD % self.out)

    def records(self):
        recs = []
        for path in sorted(glob.glob(os.path.join(self.out, "*.json"))):
            with open(path) as f:
                recs.append(json.load(f))
        return recs

    def reader(self, *args, env=None):
        return Process([SIPKA, "--pin-dir", self.pin_dir, "-j", "events", "--follow"] + list(args),
                       env=env)

    def assert_given(self, rec, line):
        """REC (what an action saw) is the event LINE (what -j events printed), whole."""
        self.assertEqual(rec["stdin"], line)
        event = json.loads(line)
        env = rec["env"]
        self.assertEqual(set(env), {"PATH"} | {env_name(k) for k in event}, "every key, nothing else")
        for k, v in event.items():
            got = env[env_name(k)]
            if isinstance(v, bool):
                self.assertEqual(got, "1" if v else "0", k)
            elif isinstance(v, float):
                self.assertEqual(float(got), v, k)
            elif isinstance(v, (dict, list)):
                self.assertEqual(json.loads(got), v, k)
            else:
                self.assertEqual(got, "" if v is None else str(v), k)
        self.assertEqual(env["PATH"], "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        self.assertEqual(rec["cwd"], "/")

    def test_each_death_runs_the_action_with_its_event_on_stdin_and_in_its_environment(self):
        prog = self.recorder()
        # Nothing of sipka's own environment reaches the action.
        r = self.reader("--exec", prog, env=dict(os.environ, SIPKA_LEAK="no", LEAK="no"))
        r.err_line("action: %s for each event" % prog)
        self.deaths(3)
        lines = [r.line() for _ in range(3)]
        recs = wait_until(lambda: len(self.records()) == 3 and self.records(), 10, "3 actions ran")
        self.assertEqual(sorted(rec["stdin"] for rec in recs), sorted(lines))
        for rec in recs:
            self.assert_given(rec, rec["stdin"])
            self.assertEqual(rec["argv"], [prog])
        for line in lines:      # what it printed is logged, naming the peer
            e = json.loads(line)
            r.err_line("action %s (peer 127.0.0.1:%d): recorded %d"
                       % (prog, e["remote_port"], e["remote_port"]))
        self.assertEqual(r.stop(), 0)
        self.assertFalse([l for l in r.err_seen if "warning" in l], r.err_seen)

    def test_no_shell_anywhere_fields_and_path_stay_literal(self):
        # A rule name written by hand may hold anything: shell syntax included.
        name = b"a;b$(c)`d`|&'\"*"
        value = struct.pack("<5I16s", 60, 10, 3, 90000, 1, name)
        run("flock", self.pin_dir, "bpftool", "map", "update", "pinned", self.pin_dir + "/config",
            "key", *["0x%02x" % b for b in struct.pack("<I", P)],
            "value", *["0x%02x" % b for b in value])
        # So may the program's own path: run as it is, never split or expanded.
        odd = os.path.join(self.trusted_dir(), "we ird;$(touch x)")
        os.mkdir(odd, 0o755)
        prog = self.script("act `touch y` *", RECORD % self.out, directory=odd)
        r = self.reader("--exec", prog)
        self.deaths(1)
        line = r.line()
        self.assertEqual(json.loads(line)["name"], name.decode())
        rec = wait_until(lambda: self.records(), 10, "the action ran")[0]
        self.assert_given(rec, line)
        self.assertEqual(rec["env"]["SIPKA_NAME"], name.decode())
        self.assertEqual(rec["argv"], [prog])
        self.assertEqual(sorted(os.listdir(odd)), ["act `touch y` *"])
        self.assertFalse(os.path.exists("/x") or os.path.exists("/y") or os.path.exists("/c"))
        self.assertEqual(r.stop(), 0)

    def test_failure_is_logged_with_its_stderr(self):
        prog = self.script("fail", "#!/bin/sh\necho 'removed nothing'\necho 'no such contact' >&2\n"
                                   "echo 'second line' >&2\nexit 3\n")
        r = self.reader("--exec", prog)
        self.deaths(1)
        port_ = json.loads(r.line())["remote_port"]
        r.err_line("action %s (peer 127.0.0.1:%d): removed nothing" % (prog, port_))
        line = r.err_line("exited with status 3")
        self.assertEqual(line, "warning: action %s (peer 127.0.0.1:%d) exited with status 3; its stderr: "
                               "no such contact | second line\n" % (prog, port_))
        self.assertEqual(r.stop(), 0)

    def test_hanging_action_is_killed_at_its_time_limit_and_reading_goes_on(self):
        # The first run hangs, with a child in its process group; the others end at once.
        pids = os.path.join(self.out, "pids")
        prog = self.script("hang", """#!/bin/sh
echo x >> %(out)s/runs
[ -e %(pids)s ] && exit 0
sleep 3600 &
echo "$$ $!" > %(pids)s.tmp && mv %(pids)s.tmp %(pids)s
echo stuck >&2
wait
""" % {"out": self.out, "pids": pids})
        r = self.reader("--exec", prog, "--exec-jobs", "1", "--exec-timeout", "3")
        self.deaths(1)
        r.line()
        hung = wait_until(lambda: os.path.exists(pids) and open(pids).read().split(), 10, "the action hangs")
        # The only job hangs: the reader still reads and prints every event.
        self.deaths(4)
        self.assertEqual(len([r.line() for _ in range(4)]), 4)
        line = r.err_line("was killed", timeout=20)
        self.assertIn("did not end within 3 s and was killed (raise --exec-timeout, exec_timeout); "
                      "its stderr: stuck", line)
        for pid in hung:        # its whole process group
            wait_until(lambda: gone_or_zombie(pid), 10, "pid %s killed" % pid)
        # The four queued behind it ran once it was gone.
        wait_until(lambda: len(open(os.path.join(self.out, "runs")).read().split()) == 5, 10, "5 runs")
        self.assertEqual(r.stop(), 0)

    def test_burst_of_deaths_all_acted_on(self):
        log = os.path.join(self.out, "log")
        prog = self.script("append", "#!/bin/sh\nexec cat >> %s\n" % log)
        r = self.reader("--exec", prog)
        self.deaths(BURST)
        lines = [r.line(30) for _ in range(BURST)]

        def acted():
            if not os.path.exists(log):
                return []
            with open(log) as f:
                return f.read().splitlines(True)
        wait_until(lambda: len(acted()) == BURST, 120, lambda: "%d of %d acted on" % (len(acted()), BURST))
        self.assertEqual(sorted(acted()), sorted(lines))
        self.assertEqual(r.stop(), 0)
        self.assertFalse([l for l in r.err_seen if "dropped" in l or "warning" in l], r.err_seen)

    def test_burst_past_the_queue_counts_every_dropped_event(self):
        log, gate = os.path.join(self.out, "log"), os.path.join(self.out, "gate")
        # Each action waits for the gate: the queue (5) fills while the burst is read.
        prog = self.script("gated", "#!/bin/sh\nwhile [ ! -e %s ]; do sleep 0.05; done\nexec cat >> %s\n"
                           % (gate, log))
        started = time.monotonic()
        r = self.reader("--exec", prog, "--exec-jobs", "1", "--exec-queue", "5", "--exec-timeout", "3600")
        self.deaths(BURST)
        lines = [r.line(30) for _ in range(BURST)]       # the reader never waited for an action
        open(gate, "w").close()

        def acted():
            if not os.path.exists(log):
                return []
            with open(log) as f:
                return f.read().splitlines(True)

        def said():
            return [int(m.group(1)) for l in list(r.err_seen)
                    for m in [re.search(r"^warning: (\d+) events dropped so far", l)] if m]

        # Both only grow, and end at a sum of BURST: equal only once final (the
        # last count is said within 10 s of the last drop).
        wait_until(lambda: len(acted()) + max(said(), default=0) == BURST, 120,
                   lambda: "acted on %d, dropped %d; stderr: %s" % (len(acted()), max(said(), default=0),
                                                                   r.err_seen[-5:]))
        self.assertIn(len(acted()), (5, 6), "a job and a full queue")
        self.assertTrue(set(acted()) <= set(lines))
        self.assertEqual(r.stop(), 0)
        self.assertIn("the queue of 5 events waiting for one was full", "".join(r.err_seen))
        # Said at the first drop, then at most every 10 s: not a line per event.
        self.assertLessEqual(len(said()), 2 + (time.monotonic() - started) / 10, said())

    def test_untrusted_programs_are_refused_naming_the_fix(self):
        prog = self.recorder()
        os.chown(prog, 1234, 0)
        cases = [(prog, "program %s is owned by uid 1234, not root" % prog, "fix: chown root %s" % prog)]
        gw = self.trusted_dir()
        os.chmod(gw, 0o775)
        cases.append((self.script("r", RECORD % self.out, directory=gw),
                      "directory %s is writable by its group" % gw, "fix: chmod go-w %s" % gw))
        ow = self.trusted_dir()
        os.chmod(ow, 0o757)
        cases.append((self.script("r", RECORD % self.out, directory=ow),
                      "directory %s is writable by others" % ow, "fix: chmod go-w %s" % ow))
        ww = self.script("ww", RECORD % self.out, mode=0o777)
        cases.append((ww, "program %s is writable by others" % ww, "fix: chmod go-w %s" % ww))
        noexec = self.script("noexec", RECORD % self.out, mode=0o644)
        cases.append((noexec, "not executable", "chmod 0755"))
        for path, problem, fix in cases:
            p = self.sipka("events", "--follow", "--exec", path, check=False)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn("refusing to run the action: ", p.stderr)
            self.assertIn(problem, p.stderr)
            self.assertIn(fix, p.stderr)
        # A link is trusted only where the link itself sits is.
        link = os.path.join(gw, "link")
        os.symlink(self.recorder("good"), link)
        p = self.sipka("events", "--follow", "--exec", link, check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("fix: chmod go-w %s" % gw, p.stderr)
        p = self.sipka("events", "--exec", self.recorder("good2"), check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("add --follow", p.stderr)
        self.deaths(1)      # nothing ran, and the event is still there to read
        self.assertEqual(self.records(), [])
        self.assertEqual(len(self.sipka("-j", "events").stdout.splitlines()), 1)

    def test_config_file_sets_the_action_and_sighup_reloads_it(self):
        a = self.script("a", RECORD % self.out + "print('A')\n")
        b = self.script("b", RECORD % self.out + "print('B')\n")
        rules = "[tcp]\nport = %d\nreset_events = yes\n" % P
        conf = self.conf(rules + "[events]\nexec = %s\nexec_jobs = 2\n" % a)
        r = self.reader("--config", conf)
        r.err_line("action: %s for each event (at most 2 at once, killed after 10 s, 1024 events queued" % a)
        self.deaths(1)
        r.line()
        r.err_line(": A")

        def reload(text, said):
            with open(conf, "w") as f:
                f.write(text)
            seen = len(r.err_seen)
            r.p.send_signal(signal.SIGHUP)
            return r.err_line(said, start=seen)
        reload(rules + "[events]\nexec = %s\nexec_timeout = 7\n" % b, "reloaded %s" % conf)
        r.err_line("action: %s for each event (at most 4 at once, killed after 7 s" % b)
        self.deaths(1)
        r.line()
        r.err_line(": B")
        # A bad file, or an untrusted program, changes nothing.
        line = reload(rules + "[events]\nexec = relative/b\n", "reload refused")
        self.assertIn("exec: 'relative/b' is not an absolute path", line)
        bad = self.script("bad", "#!/bin/sh\n", mode=0o775)
        line = reload(rules + "[events]\nexec = %s\n" % bad, "reload refused")
        self.assertIn("fix: chmod go-w %s" % bad, line)
        seen = len(r.err_seen)
        self.deaths(1)
        r.line()
        r.err_line(": B", start=seen)
        # No [events] exec: no action.
        reload(rules, "action: none")
        self.deaths(1)
        r.line()
        self.assertEqual(len(self.records()), 3)
        self.assertEqual(r.stop(), 0)
        # The file's [events] is no rule: load and check take it as they did.
        self.sipka("config", "check", conf)
