# SPDX-License-Identifier: GPL-2.0
"""The call that no longer rings into the void: Kamailio drops the contact of
a phone whose connection closed (usrloc handle_lost_tcp), so once sipka has
found a vanished phone dead, a call to it fails at once instead of waiting
for a phone that is gone. Phones over TCP and TLS (baresip) and WebSocket
(sip/wsphone.py); the caller on the PBX's own UDP port."""
import json
import subprocess
import time

from harness import event_time, port, spawn, wait_until
from sipstack import Kamailio, caller_cmd, need, need_websockets

TIME, INTVL, PROBES = 2, 1, 2
BOUND = TIME + INTVL * PROBES
# user -> transport: the rule (and port) that arms its connection
PHONES = {"tcpphone": "tcp", "tlsphone": "tls", "wsphone1": "ws"}
PORT = {"tcp": port(5060), "tls": port(5061), "ws": port(8080)}
FR_TIMER = 2.0          # kamailio.cfg: tm fr_timer, the 408 for a silent phone


def setUpModule():
    need("kamailio", "kamcmd", "openssl", "baresip")
    need_websockets()


class Call(Kamailio):
    LOST_TCP = True

    def register(self):
        self.baresip(("tcpphone", "tcp"), ("tlsphone", "tls"))
        self.ws_phones("ws", 1)
        self.wait_registered(set(PHONES))
        for user in PHONES:     # each phone answers through the PBX
            self.assertEqual(self.call("OPTIONS", user)["final"], 200, user)
        self.wait_idle(len(PHONES))

    def test_call_to_a_vanished_phone_fails_fast_once_sipka_finds_it(self):
        self.arm(TIME, INTVL, PROBES, *PORT)
        self.register()
        for transport, rule_port in PORT.items():
            self.wait_stats(rule_port, 30, armed=1, active=1)

        self.black_hole(self.phone_ns)
        cut = time.time()       # nothing from the phones reaches the PBX after this
        waiting, calls = dict(PHONES), {}
        end = time.monotonic() + BOUND + 60     # only bounds a hang: the times claimed are the kernel's

        def dead():
            return [u for u, transport in waiting.items() if self.stats(PORT[transport])["dead_keepalive"] == 1]
        while waiting:     # call each phone as soon as sipka counts it dead
            for user in wait_until(dead, end - time.monotonic(), lambda: "found dead: %s" % waiting):
                calls[user] = self.call("INVITE", user, wait=FR_TIMER + 3)
                del waiting[user]
        died = {e["name"]: event_time(e) - cut for e in self.events()}
        for user, answer in calls.items():
            with self.subTest(user=user, transport=PHONES[user]):
                self.assertLessEqual(died[PHONES[user]], BOUND + 1, "dead within the bound (the kernel's time)")
                self.assertIsNotNone(answer["final"], answer)
                # a final failure, not the 408 of a phone that never answers
                self.assertGreaterEqual(answer["final"], 400, answer)
                self.assertNotEqual(answer["final"], 408, answer)
                # at once: before the transaction's timer could have made it a 408 (the caller's
                # own clock, from its send: the test's spawning of it is not counted)
                self.assertLess(answer["responses"][-1][1], FR_TIMER * 1000, answer)
        # usrloc's timer_interval is 1 s; no time is claimed for it, so a deadline
        # that a busy machine cannot miss.
        wait_until(lambda: not self.registered() & set(PHONES), 15,
                   lambda: "the contacts gone: %s" % self.registered(), interval=0.1)
        self.assertEqual(self.registered() & set(PHONES), set(), "the contacts are gone")
        for user in PHONES:
            self.assertEqual(self.call("INVITE", user)["final"], 404, user)

    def test_control_without_sipka_the_call_rings_into_the_void(self):
        self.register()
        self.black_hole(self.phone_ns)
        # A fixed wait is the premise of a control: as long as sipka would take
        # to find them dead (it would have by now), nothing finds them.
        time.sleep(BOUND + 1)
        # All three at once: each waits fr_timer for its phone.
        callers = {user: spawn(caller_cmd("INVITE", user, FR_TIMER + 3), netns=self.ns,
                               stdout=subprocess.PIPE, text=True)[0]
                   for user in PHONES}
        for user, p in callers.items():
            out, _ = p.communicate(timeout=FR_TIMER + 8)
            answer = json.loads(out)
            with self.subTest(user=user, transport=PHONES[user]):
                # relayed into the dead connection: 100 Trying, then nothing
                # until the transaction times out
                self.assertEqual(answer["responses"][0][0], 100, answer)
                self.assertEqual(answer["final"], 408, answer)
                self.assertGreaterEqual(answer["responses"][-1][1], FR_TIMER * 1000 - 100, answer)
        self.assertEqual(self.registered() & set(PHONES), set(PHONES), "the phantoms stay registered")
