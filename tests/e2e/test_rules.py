# SPDX-License-Identifier: GPL-2.0
"""Rule changes without surprises: config set changes only what it is given,
every way of changing rules retunes the live connections alike, and the
rule limit is checked before anything is written."""
from harness import Env, need_root, port


def setUpModule():
    need_root()


class Rules(Env):
    def rule(self, port):
        return [r for r in self.sipka("config", "show", json_out=True) if r["port"] == port][0]

    def test_config_set_changes_only_the_fields_given(self):
        self.attach()
        self.sipka("config", "set", str(port(5060)), "--reset-events", "--intvl", "7")
        r = self.rule(port(5060))
        self.assertEqual((r["name"], r["time"], r["intvl"], r["probes"], r["reset_events"]),
                         ("tcp", 60, 7, 3, True))
        self.assertEqual(r["user_timeout_ms"], (60 + 7 * 3) * 1000, "auto follows the new interval")
        self.sipka("config", "set", str(port(5060)), "--time", "30")
        r = self.rule(port(5060))
        self.assertEqual((r["name"], r["time"], r["intvl"], r["reset_events"], r["user_timeout_ms"]),
                         ("tcp", 30, 7, True, (30 + 7 * 3) * 1000), "name and reset events kept")
        self.sipka("config", "set", str(port(5060)), "--user-timeout", "12345")
        self.sipka("config", "set", str(port(5060)), "--probes", "5", "--reset-events=no")
        r = self.rule(port(5060))
        self.assertEqual((r["probes"], r["user_timeout_ms"], r["reset_events"]), (5, 12345, False),
                         "a user timeout given by hand stays")
        self.sipka("config", "set", str(port(7000)))
        r = self.rule(port(7000))
        self.assertEqual((r["name"], r["time"], r["intvl"], r["probes"], r["user_timeout_ms"]),
                         ("", 60, 10, 3, 90000), "a new rule takes the defaults")

    def test_every_way_of_changing_rules_retunes_live_connections(self):
        self.attach()
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", "127.0.0.1", port(5060))["id"]
        phone("connect", "127.0.0.1", port(5060))
        sip = pbx("accept", lid)["id"]

        def time_now():
            return pbx("opts", sip)["opts"]["time"]
        self.sipka("config", "set", str(port(5060)), "--time", "41")
        self.assertEqual(time_now(), 41, "config set")
        self.sipka("config", "load", self.conf(f"[tcp]\nport = {port(5060)}\ntcp_keepalive_time = 42\n"))
        self.assertEqual(time_now(), 42, "config load")
        self.attach("--config", self.conf(f"[tcp]\nport = {port(5060)}\ntcp_keepalive_time = 43\n"))
        self.assertEqual(time_now(), 43, "attach --config")
        self.sipka("load", "--config", self.conf(f"[tcp]\nport = {port(5060)}\ntcp_keepalive_time = 44\n"))
        self.assertEqual(time_now(), 44, "load --config (sipka.service's start and reload)")
        self.sipka("config", "set", str(port(5060)), "--time", "45", "--new-only")
        self.assertEqual(time_now(), 44, "--new-only leaves it")
        self.sipka("config", "del", str(port(5060)))
        self.assertEqual(time_now(), 44, "config del keeps what it has")

    def test_rule_limit_checked_before_anything_is_written(self):
        self.attach()
        many = "".join("[r%d]\nport = %d\n" % (i, 10000 + i) for i in range(256))
        self.sipka("config", "load", self.conf(many))
        self.assertEqual(len(self.rule_times()), 256, "256 rules fit, whatever was there")
        p = self.sipka("config", "set", str(port(5060)), check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("at most 256 rules", p.stderr)
        self.assertEqual(len(self.rule_times()), 256)
