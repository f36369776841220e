# SPDX-License-Identifier: GPL-2.0
"""Dead-peer events (which phone, when, why) and the monitoring outputs."""
import json
import os
import signal
import subprocess
import tempfile
import time

from harness import SIPKA, Env, Lines, need_root, run

ISO8601 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"
RING_SLOTS = 256 * 1024 // (80 + 8)    # event + ring buffer record header



def setUpModule():
    need_root()


class Events(Env):
    def setUp(self):
        super().setUp()
        self.attach()

    def events(self, *args):
        p = self.sipka("events", *args, check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p

    def json_events(self):
        p = self.sipka("-j", "events")
        return [json.loads(line) for line in p.stdout.splitlines()], p.stderr

    def follow(self, *args):
        """A 'sipka events --follow', returned once it holds the reader's lock."""
        cmd = [SIPKA, "--pin-dir", self.pin_dir] + list(args) + ["events", "--follow"]
        reader = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The reader's lock is an abstract socket "@sipka-events-..." it has bound;
        # never try the lock ourselves: our try could make the reader's fail.
        end = time.monotonic() + 10
        while True:
            if self.reader_holds_lock(reader.pid):
                return reader
            if reader.poll() is not None or time.monotonic() > end:
                reader.kill()
                out, err = reader.communicate(timeout=5)
                raise AssertionError("the reader did not take its lock: %d %s" % (reader.returncode, err))
            time.sleep(0.02)

    @staticmethod
    def reader_holds_lock(pid):
        with open("/proc/net/unix") as f:
            names = {line.split()[6]: line.split()[7] for line in f.read().splitlines()[1:]
                     if len(line.split()) > 7}
        try:
            fds = os.listdir("/proc/%d/fd" % pid)
        except FileNotFoundError:
            return False
        for fd in fds:
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if target.startswith("socket:[") and names.get(target[8:-1], "").startswith("@sipka-events-"):
                return True
        return False

    def test_twenty_silent_phones_each_named_in_an_event(self):
        self.sipka("config", "set", "5060", "--name", "tcp", "--time", 1, "--intvl", 1, "--probes", 2)
        phone_ns = self.phone_link()
        phones = self.phone_addrs(phone_ns, 20)
        pbx, phone = self.pbx(), self.outsider(phone_ns)
        lid = pbx("listen", "0.0.0.0", 5060)["id"]
        ends = set()
        for addr in phones:
            ends.add(tuple(phone("connect", "198.18.0.1", 5060, addr)["local"]))
            pbx("accept", lid)
        self.black_hole(phone_ns)
        self.wait_stats(5060, 15, dead_keepalive=20, active=0)
        events, stderr = self.json_events()
        self.assertEqual(len(events), 20, events)
        self.assertEqual({(e["remote_addr"], e["remote_port"]) for e in events}, ends)
        for e in events:
            self.assertRegex(e["time"], "^" + ISO8601 + "$")
            self.assertEqual((e["reason"], e["family"], e["local_addr"], e["local_port"], e["rule_port"],
                              e["name"], e["probes"], e["retransmits"]),
                             ("keepalive", "ipv4", "198.18.0.1", 5060, 5060, "tcp", 2, 0))
            self.assertGreaterEqual(e["lifetime_s"], 3.0)
        self.assertEqual(stderr, "")
        self.assertEqual(self.json_events()[0], [], "read once")

    def test_resets_make_events_only_when_the_rule_asks(self):
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", "::", 5060)["id"]
        self.resets(pbx, lid, phone, "127.0.0.1", 1)
        self.wait_stats(5060, 5, reset=1, closed=1)
        self.assertEqual(self.json_events()[0], [])
        self.sipka("config", "set", "5060", "--name", "tcp", "--reset-events")
        self.resets(pbx, lid, phone, "::1", 1)
        self.wait_stats(5060, 5, reset=2, closed=2)
        line = self.events().stdout
        self.assertRegex(line, r"^%s reset +peer \[::1\]:\d+  local \[::1\]:5060 \(tcp\)  "
                               r"lived \d+\.\ds  probes 0  retransmits 0\n$" % ISO8601)

    def test_full_buffer_counts_the_loss_and_blocks_nothing(self):
        self.sipka("config", "set", "5060", "--name", "tcp", "--reset-events")
        made = RING_SLOTS + 300
        pbx, phone = self.pbx(), self.outsider()
        self.resets(pbx, pbx("listen", "127.0.0.1", 5060)["id"], phone, "127.0.0.1", made, 500)
        row, _ = self.wait_stats(5060, 20, reset=made, closed=made)
        self.assertGreater(row["events_lost"], 0)
        events, stderr = self.json_events()
        self.assertGreater(len(events), 0)
        self.assertEqual(len(events) + row["events_lost"], made)
        self.assertIn("%d events lost" % row["events_lost"], stderr)
        prom = self.sipka("stats", "--prometheus").stdout
        self.assertIn('sipka_events_lost_total{port="5060",transport="tcp"} %d\n' % row["events_lost"], prom)

    def test_follow_streams_until_sigint_or_sigterm(self):
        self.sipka("config", "set", "5060", "--reset-events")
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", "127.0.0.1", 5060)["id"]
        for sig in (signal.SIGINT, signal.SIGTERM):
            reader = self.follow("-j")
            try:
                second = self.sipka("events", check=False)
                self.assertNotEqual(second.returncode, 0)
                self.assertIn("one reader at a time", second.stderr)
                self.resets(pbx, lid, phone, "127.0.0.1", 2)
                out = Lines(reader.stdout)
                lines = [json.loads(out.readline(10)) for _ in range(2)]
                self.assertEqual([e["reason"] for e in lines], ["reset", "reset"])
                reader.send_signal(sig)
                self.assertEqual(reader.wait(5), 0)
            finally:
                if reader.poll() is None:
                    reader.kill()
                reader.wait(5)


class Monitoring(Env):
    def setUp(self):
        super().setUp()
        self.attach()
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", "127.0.0.1", 5060)["id"]
        phone("connect", "127.0.0.1", 5060)
        pbx("accept", lid)
        self.pbx_peer, self.phone = pbx, phone

    def test_prometheus_passes_promtool(self):
        text = self.sipka("stats", "--prometheus").stdout
        check = run("promtool", "check", "metrics", input=text, check=False)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        for metric in ("sipka_connections_armed_total", "sipka_connections_active",
                       "sipka_connections_reset_total", "sipka_connections_closed_total",
                       "sipka_errors_total", "sipka_events_lost_total"):
            self.assertIn("# TYPE %s " % metric, text)
        self.assertIn('sipka_connections_armed_total{port="5060",transport="tcp"} 1\n', text)
        self.assertIn('sipka_connections_active{port="5060",transport="tcp"} 1\n', text)
        self.assertIn('sipka_dead_peers_total{port="5060",transport="tcp",reason="keepalive"} 0\n', text)
        self.assertIn('sipka_dead_peers_total{port="5061",transport="tls",reason="retransmit"} 0\n', text)
        self.assertRegex(text, r'\nsipka_build_info\{version="[^"]+"\} 1\n')

    def test_output_file_is_written_atomically(self):
        d = tempfile.mkdtemp(prefix="sipka-prom-")
        try:
            path = os.path.join(d, "sipka.prom")
            self.sipka("stats", "--prometheus", "--output", path)
            self.assertEqual(os.listdir(d), ["sipka.prom"], "no temporary file left")
            with open(path) as f:
                self.assertEqual(f.read(), self.sipka("stats", "--prometheus").stdout)
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o644)
            p = self.sipka("stats", "--prometheus", "--output", os.path.join(d, "no", "such"), check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("Error: cannot write", p.stderr)
        finally:
            for f in os.listdir(d):
                os.unlink(os.path.join(d, f))
            os.rmdir(d)

    def test_every_json_output_parses(self):
        for args in (["stats"], ["config", "show"], ["status"]):
            json.loads(self.sipka("-j", *args).stdout)

    def test_watch_redraws_with_changes_until_interrupted(self):
        w = subprocess.Popen([SIPKA, "--pin-dir", self.pin_dir, "stats", "--watch", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(0.5)
            lid = self.pbx_peer("listen", "127.0.0.1", 5061)["id"]
            self.phone("connect", "127.0.0.1", 5061)
            self.pbx_peer("accept", lid)
            time.sleep(1.2)
            w.send_signal(signal.SIGINT)
            out, err = w.communicate(timeout=5)
        finally:
            if w.poll() is None:
                w.kill()
                w.wait(5)
        self.assertEqual(w.returncode, 0, err)
        self.assertGreaterEqual(out.count("(every 1s; Ctrl-C to stop)"), 2, out)
        self.assertRegex(out, r"\n5061 +tls +1 \(\+1\) +1 \(\+1\)")

    def test_bad_monitoring_options(self):
        for args, words in ((["stats", "--watch", "0"], "1 to 3600"),
                            (["stats", "--output", "/tmp/x"], "add --prometheus"),
                            (["stats", "--prometheus", "--watch", "2"], "timer"),
                            (["events", "--bogus"], "unknown option")):
            p = self.sipka(*args, check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(words, p.stderr)
