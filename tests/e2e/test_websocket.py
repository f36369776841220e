# SPDX-License-Identifier: GPL-2.0
"""sipka on WebRTC's transport: Kamailio as a registrar over WebSocket (8080)
and secure WebSocket (8443), phones speaking SIP over WebSocket (RFC 7118)
from a second namespace; they vanish behind a black hole."""
import time

from harness import event_time, port, wait_until
from sipstack import PBX, Kamailio, need, need_websockets

TIME, INTVL, PROBES = 2, 1, 2
BOUND = TIME + INTVL * PROBES
WS_PHONES, WSS_PHONES = 3, 2


def setUpModule():
    need("kamailio", "kamcmd", "openssl")
    need_websockets()


class WebSocket(Kamailio):
    def register(self, ws, wss):
        phones = {}
        phones.update(self.ws_phones("ws", ws))
        phones.update(self.ws_phones("wss", wss))
        self.wait_registered(set(phones))
        return phones

    def test_ws_and_wss_phones_are_armed_and_dead_ones_found(self):
        self.arm(TIME, INTVL, PROBES, "ws", "wss")
        phones = self.register(WS_PHONES, WSS_PHONES)
        self.wait_stats(port(8080), 30, armed=WS_PHONES, active=WS_PHONES)
        self.wait_stats(port(8443), 30, armed=WSS_PHONES, active=WSS_PHONES)
        conns = self.wait_idle(WS_PHONES + WSS_PHONES)
        for line in conns:     # the kernel's own view: sipka's timer, not 2 h
            self.assertRegex(line, r"timer:\(keepalive,[\d.]+(ms|sec),")
        self.assertEqual(self.ws_dump(), {p: "OPEN" for p in phones.values()})

        self.black_hole(self.phone_ns)
        cut = time.time()       # nothing from the phones reaches the PBX after this
        # The deadlines only bound a hang: the time claimed is the kernel's, from the events.
        self.wait_stats(port(8080), BOUND + 60, dead_keepalive=WS_PHONES, active=0)
        self.wait_stats(port(8443), 30, dead_keepalive=WSS_PHONES, active=0)
        events = self.events()
        self.assertLessEqual(max(map(event_time, events)), cut + BOUND + 1, "dead within the bound")
        by_phone = {(e["remote_addr"], e["remote_port"]): e for e in events}
        self.assertEqual(len(events), WS_PHONES + WSS_PHONES, events)
        self.assertEqual(set(by_phone), set(phones.values()), "an event names each phone")
        for user, addr in phones.items():
            e = by_phone[addr]
            self.assertEqual((e["reason"], e["name"], e["local_addr"]),
                             ("keepalive", user[:user.index("phone")], PBX), e)
        # No time is claimed for Kamailio's close: a deadline that a busy machine
        # cannot miss (each look is a kamcmd).
        wait_until(lambda: not self.ws_dump(), 15, lambda: "Kamailio closes them too: %s" % self.ws_dump(),
                   interval=0.1)
        self.assertEqual(self.ws_dump(), {}, "Kamailio closed them too")

    def test_control_without_sipka_dead_ws_phones_stay_open(self):
        # Kamailio's tcp_keepalive=yes turns SO_KEEPALIVE on with the kernel's
        # timings (7200 s idle); its websocket module pings only after
        # keepalive_timeout (180 s) and closes after about twice that.
        phones = self.register(2, 1)
        self.wait_idle(3)
        self.vanish_unnoticed(3, BOUND + 2)
        self.assertEqual(self.ws_dump(), {p: "OPEN" for p in phones.values()},
                         "and Kamailio holds them OPEN")
