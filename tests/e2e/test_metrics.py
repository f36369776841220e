# SPDX-License-Identifier: GPL-2.0
"""Metrics to alert on: sipka stats --prometheus (and --output for
node_exporter's textfile collector), the alert rules and the dashboard that
query them."""
import json
import os
import re
import shutil
import tempfile

from harness import ROOT, SIPKA, Env, defer, need_root, run

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
        self.phone_call(5060)

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
