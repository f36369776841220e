# SPDX-License-Identifier: GPL-2.0
"""Metrics to alert on: sipka stats --prometheus (and --output for
node_exporter's textfile collector, rewritten with --watch), served over HTTP
with --listen (scraped by a real Prometheus, under load, and fed malformed
requests), the alert rules and the dashboard that query them."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request

from harness import ROOT, SIPKA, TIMEOUT, Env, Process, defer, need_root, port, run, spawn, wait_until

ALERTS = os.path.join(ROOT, "examples", "prometheus")


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


class Exposition(Env):
    """One armed connection on 5060."""

    def setUp(self):
        super().setUp()
        self.attach()
        self.phone_call(port(5060))

    def test_prometheus_passes_promtool(self):
        text = self.sipka("stats", "--prometheus").stdout
        check = run("promtool", "check", "metrics", input=text, check=False)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        for metric in ("sipka_connections_armed_total", "sipka_connections_active",
                       "sipka_connections_reset_total", "sipka_connections_closed_total",
                       "sipka_errors_total", "sipka_events_lost_total"):
            self.assertIn("# TYPE %s " % metric, text)
        self.assertIn(f'sipka_connections_armed_total{{port="{port(5060)}",transport="tcp"}} 1\n', text)
        self.assertIn(f'sipka_connections_active{{port="{port(5060)}",transport="tcp"}} 1\n', text)
        self.assertIn(f'sipka_dead_peers_total{{port="{port(5060)}",transport="tcp",reason="keepalive"}} 0\n', text)
        self.assertIn(f'sipka_dead_peers_total{{port="{port(5061)}",transport="tls",reason="retransmit"}} 0\n', text)
        self.assertRegex(text, r'\nsipka_build_info\{version="[^"]+"\} 1\n')

    def test_output_file_is_written_atomically(self):
        d = tempfile.mkdtemp(prefix="sipka-prom-")
        defer(lambda: shutil.rmtree(d), "prom dir")
        path = os.path.join(d, "sipka.prom")
        self.sipka("stats", "--prometheus", "--output", path)
        self.assertEqual(os.listdir(d), ["sipka.prom"], "no temporary file left")
        with open(path) as f:
            self.assertEqual(f.read(), self.sipka("stats", "--prometheus").stdout)
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o644)
        p = self.sipka("stats", "--prometheus", "--output", os.path.join(d, "no", "such"), check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("Error: cannot write", p.stderr)


class Metrics(Env):
    def prom(self):
        text = self.sipka("stats", "--prometheus").stdout
        check = run("promtool", "check", "metrics", input=text, check=False)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        return text, metrics(text)


    def test_up_attached_defunct_rules_and_version(self):
        self.attach()
        self.sipka("config", "set", str(port(5070)), "--name", "ws", "--time", "30", "--intvl", "5", "--probes", "4",
                   "--user-timeout", "1500", "--reset-events")
        text, m = self.prom()
        version = run(SIPKA, "--version").stdout.split()[1]
        ws = f'{{port="{port(5070)}",transport="ws"}}'
        self.assertEqual((m["sipka_up"], m["sipka_attached_cgroups"], m["sipka_defunct_links"]), (1, 1, 0))
        self.assertEqual((m["sipka_rule_keepalive_time_seconds" + ws], m["sipka_rule_keepalive_intvl_seconds" + ws],
                          m["sipka_rule_keepalive_probes" + ws], m["sipka_rule_user_timeout_seconds" + ws],
                          m["sipka_rule_reset_events" + ws], m["sipka_rule_valid" + ws]), (30, 5, 4, 1.5, 1, 1))
        self.assertEqual(m[f'sipka_rule_user_timeout_seconds{{port="{port(5060)}",transport="tcp"}}'], 90)
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


class Phantoms(Env):
    """sipka_connections_close_wait_phantoms: the same in the text, the file and over HTTP."""

    def test_phantoms_gauge_in_text_file_and_http(self):
        p5060 = port(5060)
        self.attach()
        self.sipka("config", "set", p5060, "--name", "tcp")
        key = 'sipka_connections_close_wait_phantoms{port="%d",transport="tcp"}' % p5060
        self.assertEqual(metrics(self.sipka("stats", "--prometheus").stdout)[key], 0)
        self.phantoms(self.cg, p5060, 3)
        self.assertEqual(metrics(self.sipka("stats", "--prometheus").stdout)[key], 0, "held under 60 s")
        text = wait_until(lambda: (lambda t: metrics(t)[key] == 3 and t)(
            self.sipka("stats", "--prometheus", "--close-wait-after", "1").stdout), 10, "3 held over 1 s")
        self.assertIn("# TYPE sipka_connections_close_wait_phantoms gauge\n", text)
        check = run("promtool", "check", "metrics", input=text, check=False)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        d = tempfile.mkdtemp(prefix="sipka-prom-")
        defer(lambda: shutil.rmtree(d), "prom dir")
        path = os.path.join(d, "sipka.prom")
        self.sipka("stats", "--prometheus", "--close-wait-after", "1", "--output", path)
        with open(path) as f:
            self.assertEqual(metrics(f.read())[key], 3)
        srv = Process([SIPKA, "--pin-dir", self.pin_dir, "stats", "--listen", "127.0.0.1:0",
                       "--close-wait-after", "1"])
        hostport = re.search(r"http://(\S+)/metrics", srv.err_line("serving the metrics on http://")).group(1)
        with urllib.request.urlopen("http://%s/metrics" % hostport, timeout=30) as r:
            self.assertEqual(metrics(r.read().decode())[key], 3)
        self.assertEqual(srv.stop(), 0)
        p = self.sipka("stats", "--close-wait-after", "1", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("add --prometheus or --listen", p.stderr)


class WatchFile(Env):
    """--prometheus --output FILE --watch N: the file rewritten whole every N seconds."""

    def test_watch_rewrites_the_file_until_stopped(self):
        d = tempfile.mkdtemp(prefix="sipka-prom-")
        defer(lambda: shutil.rmtree(d), "prom dir")
        path = os.path.join(d, "sipka.prom")
        self.attach()
        pbx, phone = self.phone_call(port(5060))
        w = Process([SIPKA, "--pin-dir", self.pin_dir, "stats", "--prometheus", "--output", path,
                     "--watch", "1"])
        armed = f'sipka_connections_armed_total{{port="{port(5060)}",transport="tcp"}}'

        def says():
            """The file's metrics, checking that it is whole. Beside it there may be
            only the temporary file of a round being written (renamed over it when
            whole); none is left once the watch has stopped (checked at the end)."""
            self.assertEqual([f for f in os.listdir(d) if not re.fullmatch(r"sipka\.prom(\.\w{6})?", f)], [])
            with open(path) as f:
                text = f.read()
            self.assertTrue(text.endswith("\n") and "sipka_build_info" in text, text[-200:])
            return metrics(text)
        wait_until(lambda: os.path.exists(path) and says().get(armed) == 1, 10, "the first round")
        phone("connect", "127.0.0.1", port(5060))
        wait_until(lambda: says().get(armed) == 2, 10, lambda: "armed 2 in %s" % says())
        self.sipka("detach")
        wait_until(lambda: says()["sipka_up"] == 0, 10, "sipka_up 0 after detach")
        self.assertEqual([k for k in says() if not k.startswith(("sipka_up", "sipka_attached", "sipka_defunct",
                                                                 "sipka_build_info"))], [], "nothing stale")
        w.p.send_signal(signal.SIGINT)
        self.assertEqual(w.p.wait(TIMEOUT), 0)
        self.assertEqual(w.stop(), 0)
        self.assertEqual(sum("not loaded" in l for l in w.err_seen), 1, w.err_seen)
        self.assertEqual(os.listdir(d), ["sipka.prom"], "the last file stays, nothing else")

    def test_watch_refusals(self):
        p = self.sipka("stats", "--prometheus", "--watch", "5", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("without the timer: add --output FILE, or serve the metrics with --listen ADDR:PORT",
                      p.stderr)
        # The first round that cannot write ends the command: a wrong path is seen at once.
        p = self.sipka("stats", "--prometheus", "--output", "/nonexistent/dir/sipka.prom", "--watch", "1",
                       check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("Error: cannot write /nonexistent/dir/sipka.prom", p.stderr)


def free_port():
    """A loopback port no one listens on now (for Prometheus' own --web.listen-address)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_counts(pid):
    """(open fds, threads, RSS in KiB) of process PID."""
    with open("/proc/%d/status" % pid) as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return len(os.listdir("/proc/%d/fd" % pid)), len(os.listdir("/proc/%d/task" % pid)), rss


def raw(port, data, timeout=10):
    """What the server answers DATA with, on a connection of its own: b"" when it
    closes without an answer (a reset counts as closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:     # it closed first: a reset, a pipe broken, no longer connected
            pass
        got = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return got
                got += chunk
        except ConnectionResetError:
            return got


def status_of(answer):
    """The status code of a raw answer, or None when there is none."""
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
    return int(m.group(1)) if m else None


class Listen(Env):
    """stats --listen: /metrics over HTTP from the live maps."""

    def serve(self, addr="127.0.0.1:0", env=None):
        """sipka stats --listen ADDR, stopped with the test: (process, its URL's host:port)."""
        p = Process([SIPKA, "--pin-dir", self.pin_dir, "stats", "--listen", addr], env=env)
        line = p.err_line("serving the metrics on http://")
        hostport = re.search(r"http://(\S+)/metrics", line).group(1)
        return p, hostport

    def get(self, hostport, path="/metrics", method="GET"):
        """(status, headers, body) of one request on a connection of its own."""
        host, port = hostport.rsplit(":", 1)
        c = http.client.HTTPConnection(host.strip("[]"), int(port), timeout=30)
        try:
            c.request(method, path)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read().decode()
        finally:
            c.close()

    def test_serves_what_the_file_mode_writes(self):
        self.attach()
        self.phone_call(port(5060))
        srv, hp = self.serve()
        status, headers, text = self.get(hp)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        self.assertEqual(text, self.sipka("stats", "--prometheus").stdout)
        check = run("promtool", "check", "metrics", input=text, check=False)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertEqual(metrics(text)[f'sipka_connections_armed_total{{port="{port(5060)}",transport="tcp"}}'], 1)
        # Read at each scrape: a change shows at the next one.
        self.sipka("config", "set", str(port(5070)), "--name", "trunk")
        self.assertIn(f'sipka_rule_valid{{port="{port(5070)}",transport="trunk"}} 1\n', self.get(hp)[2])
        status, headers, body = self.get(hp, method="HEAD")
        self.assertEqual((status, body), (200, ""))
        self.assertEqual(int(headers["Content-Length"]), len(self.get(hp)[2].encode()))
        # Not loaded: sipka_up 0 and nothing stale, said once on stderr.
        self.sipka("detach")
        for _ in range(2):
            status, _, text = self.get(hp)
            self.assertEqual(status, 200)
            m = metrics(text)
            self.assertEqual((m["sipka_up"], m["sipka_attached_cgroups"], m["sipka_defunct_links"]), (0, 0, 0))
            self.assertEqual([k for k in m if not k.startswith(("sipka_up", "sipka_attached", "sipka_defunct",
                                                                  "sipka_build_info"))], [], "nothing stale")
        self.assertEqual(text, self.sipka("stats", "--prometheus").stdout)
        self.assertEqual(srv.stop(), 0)
        self.assertEqual(sum("not loaded" in l for l in srv.err_seen), 1, srv.err_seen)

    def test_a_request_kept_waiting_by_a_busy_server_is_answered(self):
        """libmicrohttpd counts a connection idle while its request waits for a
        busy thread: a request the server cannot get to for 12 s (stopped, as a
        starved machine would keep it) is answered, not closed unanswered."""
        self.attach()
        srv, hp = self.serve()
        host, p = hp.rsplit(":", 1)
        fds = len(os.listdir("/proc/%d/fd" % srv.p.pid))
        with socket.create_connection((host, int(p)), timeout=TIMEOUT) as c:
            # Accepted first: a connection still in the listen backlog is not timed.
            wait_until(lambda: len(os.listdir("/proc/%d/fd" % srv.p.pid)) > fds, 10, "accepted")
            os.kill(srv.p.pid, signal.SIGSTOP)
            try:
                c.sendall(b"GET /metrics HTTP/1.1\r\nHost: sipka\r\nConnection: close\r\n\r\n")
                time.sleep(12)      # the premise: longer than 10 s (the old bound) without progress
            finally:
                os.kill(srv.p.pid, signal.SIGCONT)
            answer = b"".join(iter(lambda: c.recv(65536), b""))
        self.assertTrue(answer.startswith(b"HTTP/1.1 200 OK"), answer[:200])

    def test_binds_loopback_unless_told_ipv6_too(self):
        self.attach()
        srv, hp = self.serve(":0")
        port = hp.rsplit(":", 1)[1]
        self.assertEqual(hp, "127.0.0.1:" + port)
        listening = run("ss", "-Hltn", "sport = :" + port).stdout.split()
        self.assertIn("127.0.0.1:" + port, listening)
        self.assertEqual(self.get(hp)[0], 200)
        srv.p.send_signal(signal.SIGINT)
        self.assertEqual(srv.p.wait(TIMEOUT), 0, "SIGINT stops it cleanly")
        srv.stop()
        if not socket.has_ipv6 or not os.path.exists("/proc/net/if_inet6"):
            self.skipTest("no IPv6")
        srv6, hp6 = self.serve("[::1]:0")
        self.assertTrue(hp6.startswith("[::1]:"), hp6)
        status, _, text = self.get(hp6)
        self.assertEqual((status, metrics(text)["sipka_up"]), (200, 1))
        self.assertEqual(srv6.stop(), 0)

    def test_refusals_name_the_fix(self):
        for addr, says in (("9560", "'9560' has no port; give ADDR:PORT, [IPV6]:PORT, or :PORT for 127.0.0.1"),
                           ("localhost:9560", "names are not looked up"),
                           ("::1:9560", "put an IPv6 address in brackets: [::1]:9560"),
                           (":65536", "65536 is out of range"),
                           ("127.0.0.1:http", "'http' is not a whole number")):
            p = self.sipka("stats", "--listen", addr, check=False)
            self.assertEqual(p.returncode, 2, addr)
            self.assertIn("Error: --listen: ", p.stderr)
            self.assertIn(says, p.stderr)
        for extra, says in ((["--prometheus", "--output", "/tmp/x.prom"], "leave out --output"),
                            (["--watch", "5"], "leave out --watch")):
            p = self.sipka("stats", "--listen", ":0", *extra, check=False)
            self.assertEqual(p.returncode, 2)
            self.assertIn(says, p.stderr)
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            p = self.sipka("stats", "--listen", "127.0.0.1:%d" % port, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("Error: cannot listen on 127.0.0.1:%d: Address already in use" % port, p.stderr)

    def test_malformed_requests_are_refused(self):
        self.attach()
        srv, hp = self.serve()
        port = int(hp.rsplit(":", 1)[1])
        for path in ("/", "/metrics/", "/other", "/metricsx"):
            self.assertEqual(self.get(hp, path)[0], 404, path)
        for method in ("POST", "PUT", "DELETE", "OPTIONS"):
            status, headers, _ = self.get(hp, method=method)
            self.assertEqual((status, headers.get("Allow")), (405, "GET, HEAD"), method)
        a = raw(port, b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        self.assertEqual(status_of(a), 405, a[:200])
        a = raw(port, b"POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"x" * 65536)
        self.assertIn(status_of(a), (404, None), a[:200])
        # Garbage: refused with a 4xx, or the connection closed; never a 200.
        for data in (b"GARBAGE\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)),
                     b"GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n", b"GET\r\n\r\n",
                     b"GET /metrics HTTP/1.1\r\nHost: x\r\nBad header line\r\n\r\n"):
            a = raw(port, data)
            st = status_of(a)
            self.assertTrue(st is None and not a or st is not None and 400 <= st < 600, (data[:40], a[:200]))
        # A header larger than a connection's memory (32 KiB): refused, nothing served.
        a = raw(port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 100000 + b"\r\n\r\n")
        st = status_of(a)
        self.assertTrue(st is None and not a or st in (400, 413, 414, 431), a[:200])
        # A request line that long, too.
        a = raw(port, b"GET /metrics?" + b"a" * 100000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        st = status_of(a)
        self.assertTrue(st is None and not a or st in (400, 413, 414, 431), a[:200])
        # Still serving, and still itself.
        status, _, text = self.get(hp)
        self.assertEqual((status, metrics(text)["sipka_up"]), (200, 1))
        self.assertEqual(srv.p.poll(), None)
        self.assertEqual(srv.stop(), 0)

    def test_a_thousand_requests_from_fifty_clients_leak_nothing(self):
        """1,000 requests, 50 clients at once, each on a connection of its own: every
        answer 200 and whole; the server's fds and threads as before, and its RSS
        within 2 MiB of before (one leaked answer per request would be 4 MiB, one
        leaked reading of the maps 100 MiB). A sanitized build (make test-sanitize)
        keeps freed memory and shadow pages, so 8 MiB there: its leak checker, at
        the server's exit, is the judge."""
        self.attach()
        self.phone_call(port(5060))
        env = dict(os.environ)      # under ASan, freed memory is not held back in bulk
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "quarantine_size_mb=1"]))
        srv, hp = self.serve(env=env)
        pid = srv.p.pid
        fds = proc_counts(pid)[0]   # no connection open
        failures, done, lock = [], [0], threading.Lock()
        armed = f'sipka_connections_armed_total{{port="{port(5060)}",transport="tcp"}}'

        def client(n=20):
            for _ in range(n):
                try:
                    status, _, text = self.get(hp)
                    m = metrics(text)
                    ok = status == 200 and m["sipka_up"] == 1 and m[armed] == 1 and \
                        text.endswith('"} 1\n') and "sipka_build_info" in text
                except Exception as e:      # noqa: BLE001 -- collected, asserted below
                    ok, status = False, repr(e)
                with lock:
                    done[0] += 1
                    if not ok:
                        failures.append(status)
        def fifty_clients(n):
            clients = [threading.Thread(target=client, args=(n,)) for _ in range(50)]
            for t in clients:
                t.start()
            for t in clients:
                t.join(TIMEOUT)
            self.assertFalse(any(t.is_alive() for t in clients), "clients still running")
        # Warm up as the run will go, 50 at once: malloc's arenas and each
        # pool thread's connections reach their size before the baseline.
        fifty_clients(2)
        self.assertEqual((done[0], failures[:5]), (100, []))
        wait_until(lambda: proc_counts(pid)[0] == fds, 20, "the warm-up's connections closed")
        _, threads, rss = proc_counts(pid)
        self.assertLessEqual(threads, 4, "the main thread and a pool of a few")
        done[0] = 0
        fifty_clients(20)
        self.assertEqual((done[0], failures[:5]), (1000, []))
        wait_until(lambda: proc_counts(pid)[0] == fds, 20,
                   lambda: "fds back to %d: %s" % (fds, os.listdir("/proc/%d/fd" % pid)))
        after = proc_counts(pid)
        self.assertEqual(after[1], threads, "threads")
        with open(SIPKA, "rb") as f:
            bound = 8192 if b"__asan_init" in f.read() else 2048
        self.assertLess(after[2] - rss, bound, "RSS grew from %d to %d KiB" % (rss, after[2]))
        self.assertEqual(srv.stop(), 0)

    def test_a_real_prometheus_scrapes_it(self):
        self.attach()
        self.phone_call(port(5060))
        srv, hp = self.serve()
        d = tempfile.mkdtemp(prefix="sipka-prometheus-")
        defer(lambda: shutil.rmtree(d), "prometheus dir")
        conf = os.path.join(d, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: sipka\n    static_configs:\n"
                    "      - targets: ['%s']\n" % hp)
        web = "127.0.0.1:%d" % free_port()
        log = open(os.path.join(d, "log"), "w")
        defer(log.close, "prometheus log")
        spawn(["prometheus", "--config.file=" + conf, "--storage.tsdb.path=" + os.path.join(d, "data"),
               "--web.listen-address=" + web, "--log.level=warn"], stdout=log, stderr=subprocess.STDOUT)

        def api(path, **query):
            url = "http://%s/api/v1/%s?%s" % (web, path, urllib.parse.urlencode(query))
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    return json.load(r)["data"]
            except OSError:     # not listening yet
                return None

        def up():
            t = api("targets")
            return t and [x for x in t["activeTargets"] if x["health"] == "up"]

        def prom_log():
            with open(os.path.join(d, "log")) as f:
                return f.read()[-2000:]
        target = wait_until(up, 60, lambda: "the target up: %s; log: %s" % (api("targets"), prom_log()))[0]
        self.assertEqual((target["scrapeUrl"], target["lastError"]), ("http://%s/metrics" % hp, ""))

        def value(query):
            r = api("query", query=query)
            return r and r["result"] and float(r["result"][0]["value"][1])
        self.assertEqual(wait_until(lambda: value('sipka_up{job="sipka"}'), 30, "sipka_up in Prometheus"), 1)
        self.assertEqual(value(f'sipka_connections_armed_total{{port="{port(5060)}",transport="tcp"}}'), 1)
        self.assertEqual(value('sipka_attached_cgroups'), 1)
        self.assertEqual(value('up{job="sipka"}'), 1)
        self.assertEqual(srv.stop(), 0)
