# SPDX-License-Identifier: GPL-2.0
"""Day-2 operations: metrics to alert on, an event feed that does not go deaf,
output that fits a terminal, and the documentation that says so."""
import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from harness import ROOT, SIPKA, Env, defer, need_root, run

NEXT = os.path.join(ROOT, "build", "next", "sipka")     # make test builds it
ALERTS = os.path.join(ROOT, "examples", "prometheus")
FRAME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+  \(every 1s; Ctrl-C to stop\)$")


def setUpModule():
    need_root()


def metrics(text):
    """{'name{labels}': value} of the samples in Prometheus text."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


class Lines:
    """A process's stdout and stderr, line by line, each read with a timeout."""

    def __init__(self, cmd, env=None):
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.out, self.err = queue.Queue(), queue.Queue()
        self.err_seen = []
        for stream, q in ((self.p.stdout, self.out), (self.p.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, q), daemon=True).start()
        self._undo = defer(self.stop, "process %s" % cmd[0])

    @staticmethod
    def _pump(stream, q):
        for line in stream:
            q.put(line)

    def line(self, timeout=10):
        try:
            return self.out.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no line on stdout within %ss; stderr: %s" % (timeout, self.err_seen)) from None

    def err_line(self, containing, timeout=10, start=0):
        """Waits for a stderr line with CONTAINING, the START-th line or later;
        returns it."""
        end = time.monotonic() + timeout
        while True:
            for line in self.err_seen[start:]:
                if containing in line:
                    return line
            try:
                self.err_seen.append(self.err.get(timeout=max(0.01, end - time.monotonic())))
            except queue.Empty:
                raise AssertionError("no '%s' on stderr within %ss: %s" % (containing, timeout, self.err_seen)) from None

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
        self.p.wait()
        while not self.err.empty():
            self.err_seen.append(self.err.get())
        return self.p.returncode


class Metrics(Env):
    def prom(self):
        text = self.sipka("stats", "--prometheus").stdout
        check = run("promtool", "check", "metrics", input=text, check=False)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        return text, metrics(text)

    def test_up_attached_defunct_rules_and_version(self):
        self.attach()
        self.sipka("config", "set", "5070", "--name", "ws", "--time", "30", "--intvl", "5", "--probes", "4",
                   "--user-timeout", "1500", "--reset-events")
        text, m = self.prom()
        version = run(SIPKA, "--version").stdout.split()[1]
        ws = '{port="5070",transport="ws"}'
        self.assertEqual((m["sipka_up"], m["sipka_attached_cgroups"], m["sipka_defunct_links"]), (1, 1, 0))
        self.assertEqual((m["sipka_rule_keepalive_time_seconds" + ws], m["sipka_rule_keepalive_intvl_seconds" + ws],
                          m["sipka_rule_keepalive_probes" + ws], m["sipka_rule_user_timeout_seconds" + ws],
                          m["sipka_rule_reset_events" + ws], m["sipka_rule_valid" + ws]), (30, 5, 4, 1.5, 1, 1))
        self.assertEqual(m['sipka_rule_user_timeout_seconds{port="5060",transport="tcp"}'], 90)
        self.assertEqual(m['sipka_program_info{version="%s"}' % version], 1)
        for metric in ("sipka_up", "sipka_attached_cgroups", "sipka_defunct_links", "sipka_program_info",
                       "sipka_rule_keepalive_time_seconds"):
            self.assertIn("# TYPE %s gauge\n" % metric, text)

        # A second cgroup, then a direct attachment, then the second one removed.
        other = self.cg + "-m"
        os.mkdir(other)
        gone = defer(lambda: os.path.isdir(other) and os.rmdir(other), "cgroup " + other)
        self.sipka("attach", "--cgroup", other)
        self.assertEqual(self.prom()[1]["sipka_attached_cgroups"], 2)
        direct = self.cg + "-d"
        os.mkdir(direct)
        defer(lambda: os.rmdir(direct), "cgroup " + direct)
        run("bpftool", "cgroup", "attach", direct, "sock_ops", "pinned", os.path.join(self.pin_dir, "prog"), "multi")
        self.assertEqual(self.prom()[1]["sipka_attached_cgroups"], 3)
        run("bpftool", "cgroup", "detach", direct, "sock_ops", "pinned", os.path.join(self.pin_dir, "prog"))
        os.rmdir(other)
        m = self.prom()[1]
        self.assertEqual((m["sipka_attached_cgroups"], m["sipka_defunct_links"]), (1, 1))
        self.sipka("attach", "--cgroup", self.cg)      # removes the defunct link
        self.assertEqual(self.prom()[1]["sipka_defunct_links"], 0)
        del gone

    def test_not_loaded_writes_sipka_up_0_not_a_stale_file(self):
        d = tempfile.mkdtemp(prefix="sipka-prom-")
        defer(lambda: shutil.rmtree(d), "prom dir")
        path = os.path.join(d, "sipka.prom")
        self.attach()
        self.sipka("stats", "--prometheus", "--output", path)
        with open(path) as f:
            self.assertIn("sipka_connections_armed_total", f.read())
        self.sipka("detach")
        p = self.sipka("stats", "--prometheus", "--output", path, check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("not loaded", p.stderr)
        with open(path) as f:
            text = f.read()
        self.assertEqual(os.listdir(d), ["sipka.prom"])
        m = metrics(text)
        self.assertEqual((m["sipka_up"], m["sipka_attached_cgroups"], m["sipka_defunct_links"]), (0, 0, 0))
        self.assertEqual([k for k in m if not k.startswith(("sipka_up", "sipka_attached", "sipka_defunct",
                                                              "sipka_build_info"))], [], "nothing stale")
        self.assertEqual(run("promtool", "check", "metrics", input=text, check=False).returncode, 0)
        p = self.sipka("stats", "--prometheus", check=False)
        self.assertEqual((p.returncode, p.stdout), (0, text))
        # Without --prometheus, not loaded stays an error.
        self.assertEqual(self.sipka("stats", check=False).returncode, 1)

    def test_alert_rules_pass_promtool_and_name_real_metrics(self):
        p = run("promtool", "test", "rules", "sipka-alerts.test.yml", cwd=ALERTS, check=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(run("promtool", "check", "rules", "sipka-alerts.yml", cwd=ALERTS,
                             check=False).returncode, 0)
        self.attach()
        exposed = set(re.findall(r"^# TYPE (\S+)", self.sipka("stats", "--prometheus").stdout, re.M))
        with open(os.path.join(ALERTS, "sipka-alerts.yml")) as f:
            used = set(re.findall(r"\b(sipka_[a-z_]+)", "".join(l for l in f if "expr:" in l)))
        self.assertTrue({"sipka_up", "sipka_attached_cgroups", "sipka_dead_peers_total", "sipka_errors_total",
                         "sipka_events_lost_total"} <= used, used)
        self.assertEqual(used - exposed, set())

    def test_grafana_dashboard_queries_real_metrics(self):
        path = os.path.join(ROOT, "examples", "grafana", "sipka.json")
        if not os.path.exists(path):
            self.skipTest("no dashboard")
        with open(path) as f:
            dash = json.load(f)
        exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
        self.assertGreater(len(exprs), 3)
        self.attach()
        exposed = set(re.findall(r"^# TYPE (\S+)", self.sipka("stats", "--prometheus").stdout, re.M))
        used = set(re.findall(r"\b(sipka_[a-z_]+)", " ".join(exprs)))
        self.assertEqual(used - exposed, set())


class Following(Env):
    def follower(self):
        return Lines([SIPKA, "--pin-dir", self.pin_dir, "-j", "events", "-f"])

    def arm_resets(self):
        self.sipka("config", "set", "5060", "--name", "tcp", "--reset-events")

    def reset_events(self, follower, n=1):
        self.resets(self.pbx_peer, self.lid, self.phone, "127.0.0.1", n)
        return [json.loads(follower.line()) for _ in range(n)]

    def setUp(self):
        super().setUp()
        self.pbx_peer, self.phone = self.pbx(), self.outsider()
        self.lid = self.pbx_peer("listen", "127.0.0.1", 5060)["id"]

    def test_follow_keeps_delivering_across_detach_attach_and_upgrade(self):
        self.attach()
        self.arm_resets()
        f = self.follower()
        self.assertEqual([e["reason"] for e in self.reset_events(f)], ["reset"])

        self.sipka("detach")
        f.err_line("sipka is not loaded", timeout=5)
        time.sleep(1.2)         # more poll rounds: it says so once
        self.attach()
        self.arm_resets()
        f.err_line("sipka is loaded", timeout=5)
        self.assertEqual([e["reason"] for e in self.reset_events(f, 2)], ["reset", "reset"])

        self.assertEqual(sum("sipka is not loaded" in l for l in f.err_seen), 1, "said once")

        # Detach and attach at once: the pinned ring buffer is another one. The
        # follower may see the gap ("not loaded", then "loaded") or not ("replaced").
        seen = len(f.err_seen)
        self.sipka("detach")
        self.attach()
        self.arm_resets()
        line = f.err_line("map id", timeout=5, start=seen)
        self.assertTrue("replaced" in line or "sipka is loaded" in line, line)
        self.assertEqual(len(self.reset_events(f)), 1)

        # An upgrade keeps the maps: the same ring buffer goes on.
        if os.path.exists(NEXT):
            out = run(NEXT, "--pin-dir", self.pin_dir, "-j", "attach", "--cgroup", self.cg).stdout
            self.assertIn('"program":"upgraded"', out)
            self.assertEqual(len(self.reset_events(f)), 1)
        self.assertEqual(f.stop(), 0)

    def test_follow_started_before_sipka_waits_for_it(self):
        f = self.follower()
        f.err_line("sipka is not loaded", timeout=5)
        self.attach()
        self.arm_resets()
        f.err_line("sipka is loaded", timeout=5)
        e = self.reset_events(f)[0]
        self.assertEqual((e["reason"], e["rule_port"], e["name"]), ("reset", 5060, "tcp"))
        self.assertEqual(f.stop(), 0)

    def test_lifetime_is_rounded_to_milliseconds(self):
        self.attach()
        self.arm_resets()
        self.resets(self.pbx_peer, self.lid, self.phone, "127.0.0.1", 3)
        lines = self.sipka("-j", "events").stdout.splitlines()
        self.assertEqual(len(lines), 3)
        for line in lines:
            raw = re.search(r'"lifetime_s":([0-9.eE+-]+)', line).group(1)
            self.assertRegex(raw, r"^\d+(\.\d{1,3})?$", line)
            e = json.loads(line)
            self.assertIsInstance(e["lifetime_ms"], int)
            self.assertEqual(round(e["lifetime_s"] * 1000), e["lifetime_ms"])


class Terminal(Env):
    def setUp(self):
        super().setUp()
        self.attach()
        self.env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}

    def test_table_fits_100_columns_with_long_names(self):
        self.sipka("config", "set", "5060", "--name", "fifteen-chars-x")
        self.sipka("config", "set", "65535", "--name", "another-long-na")
        out = run(SIPKA, "--pin-dir", self.pin_dir, "stats", env=self.env).stdout
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["PORT", "NAME", "ARMED", "ACTIVE", "DEAD_KA", "DEAD_RTX", "RESET",
                                            "CLOSED", "ERRORS", "LOST", "UNTRACKED"])
        self.assertEqual(len(lines), 4)
        self.assertLessEqual(max(map(len, lines)), 100, out)

    def watch(self, columns, port):
        """Frames of 'stats --watch 1' at COLUMNS wide, while a connection
        to PORT is made."""
        env = dict(self.env, COLUMNS=str(columns))
        w = Lines([SIPKA, "--pin-dir", self.pin_dir, "stats", "--watch", "1"], env=env)
        pbx, phone = self.pbx(), self.outsider()
        first = w.line()
        lid = pbx("listen", "127.0.0.1", port)["id"]
        phone("connect", "127.0.0.1", port)
        pbx("accept", lid)
        out = [first]
        while sum(bool(FRAME.match(l.rstrip("\n"))) for l in out) < 3:
            out.append(w.line(timeout=5))
        self.assertEqual(w.stop(), 0)
        while not w.out.empty():
            out.append(w.out.get())
        return [l.rstrip("\n") for l in out]

    def test_watch_frames_have_the_time_and_fit_the_width(self):
        lines = self.watch(100, 5060)
        frames = [l for l in lines if FRAME.match(l)]
        self.assertGreaterEqual(len(frames), 3)
        self.assertTrue(any(re.match(r"^5060 +tcp +1 \(\+1\) +1 \(\+1\) ", l) for l in lines), lines)
        self.assertLessEqual(max(map(len, lines)), 100)
        # Only as wide as the counts: the changes go on a line below them.
        width = len(run(SIPKA, "--pin-dir", self.pin_dir, "stats", env=self.env).stdout.splitlines()[0])
        narrow = self.watch(width, 5061)
        self.assertLessEqual(max(map(len, narrow)), width, narrow)
        i = next(i for i, l in enumerate(narrow) if re.match(r"^5061 +tls +1 +1 ", l))
        self.assertRegex(narrow[i + 1], r"^ +\+1 +\+1 *$")


class Installed(Env):
    def make(self, *args):
        return run("make", "-s", "-C", ROOT, *args)

    def test_events_unit_and_uninstall_warning(self):
        dest = tempfile.mkdtemp(prefix="sipka-destdir-")
        defer(lambda: shutil.rmtree(dest), "destdir")
        self.make("install", "DESTDIR=" + dest, "PREFIX=/usr")
        unit = os.path.join(dest, "usr/lib/systemd/system/sipka-events.service")
        with open(unit) as f:
            text = f.read()
        self.assertIn("\nExecStart=/usr/sbin/sipka events --follow\n", text)
        self.assertIn("StandardOutput=append:/var/log/sipka/events.jsonl", text, "the JSON Lines override")

        self.attach()
        p = self.make("uninstall", "DESTDIR=" + dest, "PREFIX=/usr", "PIN_DIR=" + self.pin_dir)
        self.assertIn("sipka is still loaded", p.stderr)
        self.assertIn("sipka detach", p.stderr)
        self.assertFalse(os.path.exists(unit))
        self.sipka("detach")
        self.make("install", "DESTDIR=" + dest, "PREFIX=/usr")
        p = self.make("uninstall", "DESTDIR=" + dest, "PREFIX=/usr", "PIN_DIR=" + self.pin_dir)
        self.assertNotIn("warning", p.stderr)


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
