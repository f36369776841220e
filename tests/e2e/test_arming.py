# SPDX-License-Identifier: GPL-2.0
"""Connections get the rule of their SIP port, and nothing else is touched."""
import struct

from harness import Env, need_root, port, run

KERNEL_DEFAULT = {"keepalive": 0, "time": 7200, "intvl": 75, "probes": 9, "user_timeout_ms": 0}
DEFAULT_5060 = {"keepalive": 1, "time": 60, "intvl": 10, "probes": 3, "user_timeout_ms": 90000}


def setUpModule():
    need_root()


class Arming(Env):
    def setUp(self):
        super().setUp()
        self.attach()

    def inbound(self, listen_addr, connect_addr, port):
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", listen_addr, port)["id"]
        phone_side = phone("connect", connect_addr, port)
        pbx_side = pbx("accept", lid)
        pbx("close", lid)
        return pbx_side["opts"], phone_side["opts"]

    def outbound(self, listen_addr, port):
        pbx, trunk = self.pbx(), self.outsider()
        lid = trunk("listen", listen_addr, port)["id"]
        pbx_side = pbx("connect", listen_addr, port)["opts"]
        trunk_side = trunk("accept", lid)["opts"]
        trunk("close", lid)
        return pbx_side, trunk_side

    def test_inbound_ipv4(self):
        armed, phone = self.inbound("127.0.0.1", "127.0.0.1", port(5060))
        self.assertEqual(armed, DEFAULT_5060)
        self.assertEqual(phone, KERNEL_DEFAULT, "the phone is outside the cgroup")

    def test_inbound_ipv6(self):
        armed, phone = self.inbound("::1", "::1", port(5061))
        self.assertEqual(armed, DEFAULT_5060)
        self.assertEqual(phone, KERNEL_DEFAULT)

    def test_inbound_v4_mapped(self):
        armed, phone = self.inbound("::", "127.0.0.1", port(5060))
        self.assertEqual(armed, DEFAULT_5060)
        self.assertEqual(phone, KERNEL_DEFAULT)

    def test_outbound_ipv4(self):
        armed, trunk = self.outbound("127.0.0.1", port(5060))
        self.assertEqual(armed, DEFAULT_5060)
        self.assertEqual(trunk, KERNEL_DEFAULT, "the trunk is outside the cgroup")

    def test_outbound_ipv6(self):
        armed, trunk = self.outbound("::1", port(5061))
        self.assertEqual(armed, DEFAULT_5060)
        self.assertEqual(trunk, KERNEL_DEFAULT)

    def test_port_without_rule_untouched(self):
        inbound, _ = self.inbound("127.0.0.1", "127.0.0.1", port(5070))
        outbound, _ = self.outbound("::1", port(5071))
        self.assertEqual(inbound, KERNEL_DEFAULT)
        self.assertEqual(outbound, KERNEL_DEFAULT)
        self.assertEqual(self.stats(port(5060))["armed"], 0)

    def test_config_set_reaches_next_connection(self):
        before, _ = self.inbound("127.0.0.1", "127.0.0.1", port(5060))
        self.sipka("config", "set", str(port(5060)), "--name", "tcp", "--time", "25", "--intvl", "5",
                   "--probes", "4", "--user-timeout", "off")
        after, _ = self.inbound("127.0.0.1", "127.0.0.1", port(5060))
        self.assertEqual(before, DEFAULT_5060)
        self.assertEqual(after, {"keepalive": 1, "time": 25, "intvl": 5, "probes": 4, "user_timeout_ms": 0})
        self.sipka("config", "set", str(port(5080)), "--user-timeout", "1234")
        new_port, _ = self.inbound("127.0.0.1", "127.0.0.1", port(5080))
        self.assertEqual(new_port, dict(DEFAULT_5060, user_timeout_ms=1234))

    def test_config_del_stops_arming(self):
        self.sipka("config", "del", str(port(5060)))
        plain, _ = self.inbound("127.0.0.1", "127.0.0.1", port(5060))
        self.assertEqual(plain, KERNEL_DEFAULT)
        self.assertEqual(self.stats(port(5061))["armed"], 0)

    def bpftool_rule(self, port, time, intvl, probes, user_timeout_ms, name):
        """Writes a rule by hand, with the byte layout the README documents."""
        key = struct.pack("<I", port)
        value = struct.pack("<5I16s", time, intvl, probes, user_timeout_ms, 0, name.encode())
        run("bpftool", "map", "update", "pinned", self.pin_dir + "/config",
            "key", *["0x%02x" % b for b in key], "value", *["0x%02x" % b for b in value])

    def test_bpftool_update_reaches_next_connection(self):
        self.bpftool_rule(port(5060), 30, 3, 5, 45000, "byhand")
        armed, _ = self.inbound("127.0.0.1", "127.0.0.1", port(5060))
        self.assertEqual(armed, {"keepalive": 1, "time": 30, "intvl": 3, "probes": 5, "user_timeout_ms": 45000})
        shown = [r for r in self.sipka("config", "show", json_out=True) if r["port"] == port(5060)]
        self.assertEqual(shown, [{"port": port(5060), "name": "byhand", "time": 30, "intvl": 3,
                                  "probes": 5, "user_timeout_ms": 45000, "reset_events": False, "valid": True}])

    def test_zeros_by_hand_remove_a_rule(self):
        """config is an array of every port: a value of zeros is no rule (README), not an invalid one."""
        self.bpftool_rule(port(5060), 0, 0, 0, 0, "")
        plain, _ = self.inbound("127.0.0.1", "127.0.0.1", port(5060))
        self.assertEqual(plain, KERNEL_DEFAULT)
        # No row at all: a port without a rule has no counters.
        row = {r["port"]: r for r in self.sipka("stats", json_out=True)}.get(port(5060), {"armed": 0, "errors": 0})
        self.assertEqual((row["armed"], row["errors"]), (0, 0))
        self.assertEqual([r["port"] for r in self.sipka("config", "show", json_out=True)], [port(5061)])
        armed, _ = self.inbound("::1", "::1", port(5061))
        self.assertEqual(armed, DEFAULT_5060, "the other rule stays")

    def test_invalid_rule_by_hand_is_skipped_and_counted(self):
        for n, (time, intvl, probes) in enumerate(((0, 10, 3), (60, 40000, 3), (60, 10, 128)), 1):
            self.bpftool_rule(port(5060), time, intvl, probes, 0, "bad")
            untouched, _ = self.inbound("127.0.0.1", "127.0.0.1", port(5060))
            self.assertEqual(untouched, KERNEL_DEFAULT)
            row = self.stats(port(5060))
            self.assertEqual((row["errors"], row["armed"]), (n, 0))
