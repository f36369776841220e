# SPDX-License-Identifier: GPL-2.0
"""How armed connections end, counted exactly: keepalive death, retransmission
death, reset, ordinary close; a phone in a second namespace plays dead."""
import json
import time

from harness import Env, event_time, need_root, port

# time 1 s, interval 1 s, 2 probes: dead 3 s after the last packet.
TIME, INTVL, PROBES = 1, 1, 2
BOUND = TIME + INTVL * PROBES
MARGIN = 1.0    # the kernel's timer slack


def setUpModule():
    need_root()


class DeadPeers(Env):
    def setUp(self):
        super().setUp()
        self.attach()
        self.phone_ns = self.phone_link()
        self.pbx_peer = self.pbx()
        self.phone = self.outsider(self.phone_ns)
        self.listener = self.pbx_peer("listen", "::", port(5060))["id"]

    def call_in(self):
        """A phone connects; returns the PBX's socket and a time (time.time()) no
        later than the last packet the PBX received from the phone."""
        before = time.time()
        phone_sock = self.phone("connect", "198.18.0.1", port(5060))["id"]
        pbx_sock = self.pbx_peer("accept", self.listener)
        self.assertEqual(pbx_sock["opts"]["keepalive"], 1)
        return pbx_sock["id"], phone_sock, before

    def test_silent_phone_dies_by_keepalive_within_bound(self):
        self.sipka("config", "set", str(port(5060)), "--time", TIME, "--intvl", INTVL, "--probes", PROBES)
        _, _, before = self.call_in()
        self.black_hole(self.phone_ns)
        self.wait_stats(port(5060), 10, armed=1, active=1, dead_keepalive=0)
        # The deadline only bounds a hang: the times are the kernel's, from the event, not
        # when this test looked (a busy machine looks late).
        row, _ = self.wait_stats(port(5060), BOUND + 60, dead_keepalive=1)
        (e,) = [json.loads(line) for line in self.sipka("-j", "events").stdout.splitlines()]
        self.assertEqual(e["reason"], "keepalive", e)
        self.assertGreaterEqual(event_time(e) + 0.001, before + BOUND,
                                "keepalive gave up before time + intvl x probes")
        # Armed at the handshake's last packet, the last the phone sent: dead BOUND later.
        self.assertLessEqual(e["lifetime_ms"], (BOUND + MARGIN) * 1000, e)
        self.assertEqual((row["active"], row["closed"], row["dead_retransmit"], row["reset"]), (0, 1, 0, 0))

    def test_unacknowledged_data_dies_by_user_timeout(self):
        # Keepalive far off: only the user timeout can end it.
        self.sipka("config", "set", str(port(5060)), "--time", 60, "--user-timeout", 2000)
        pbx_sock, _, _ = self.call_in()
        self.black_hole(self.phone_ns)
        sent = time.time()
        self.pbx_peer("send", pbx_sock, 100)
        row, _ = self.wait_stats(port(5060), 60, dead_retransmit=1)
        (e,) = [json.loads(line) for line in self.sipka("-j", "events").stdout.splitlines()]
        self.assertEqual(e["reason"], "retransmit", e)
        self.assertGreaterEqual(event_time(e) + 0.001, sent + 2.0, "the user timeout, 2 s after the send")
        self.assertEqual((row["active"], row["closed"], row["dead_keepalive"], row["reset"]), (0, 1, 0, 0))

    def test_reset_by_phone_is_not_a_death(self):
        self.sipka("config", "set", str(port(5060)), "--time", TIME, "--intvl", INTVL, "--probes", PROBES)
        _, phone_sock, _ = self.call_in()
        self.phone("rst", phone_sock)
        row, _ = self.wait_stats(port(5060), 30, reset=1)
        # And no death is counted later: a fixed wait is the premise, as long as
        # keepalive would take to find the phone dead, and then some.
        time.sleep(BOUND + MARGIN)
        row = self.stats(port(5060))
        self.assertEqual((row["active"], row["closed"], row["dead_keepalive"], row["dead_retransmit"]),
                         (0, 1, 0, 0))

    def test_ordinary_close(self):
        pbx_sock, phone_sock, _ = self.call_in()
        self.phone("close", phone_sock)
        self.pbx_peer("close", pbx_sock)
        row, _ = self.wait_stats(port(5060), 30, closed=1)
        self.assertEqual((row["armed"], row["active"], row["dead_keepalive"], row["dead_retransmit"],
                          row["reset"], row["errors"]), (1, 0, 0, 0, 0, 0))


class Counters(Env):
    def test_exact_for_1000_connections_from_two_threads(self):
        self.attach()
        # Both ends in the cgroup: each connection is armed twice (5060 is
        # the local port of one end and the remote port of the other).
        made = self.pbx()("churn", "127.0.0.1", port(5060), 1000, 2)["made"]
        self.assertEqual(made, 1000)
        row, _ = self.wait_stats(port(5060), 60, closed=2000)
        self.assertEqual((row["armed"], row["active"], row["errors"]), (2000, 0, 0))
        self.assertEqual((row["dead_keepalive"], row["dead_retransmit"], row["reset"]), (0, 0, 0))
