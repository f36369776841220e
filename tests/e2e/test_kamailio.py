# SPDX-License-Identifier: GPL-2.0
"""sipka on a real SIP stack: Kamailio as the registrar ("PBX") in its own
cgroup and network namespace, SIPp phones over TCP and baresip over TLS in a
second namespace; the phones vanish behind a black hole."""
import json
import os
import re
import subprocess
import time

from harness import event_time, port, spawn, wait_until
from sipstack import PHONE, PBX, SIP, need
from sipstack import Kamailio as KamailioEnv

TIME, INTVL, PROBES = 1, 1, 2
BOUND = TIME + INTVL * PROBES
PHONES = 10


def setUpModule():
    need("kamailio", "kamcmd", "sipp", "openssl", "baresip")


class Kamailio(KamailioEnv):
    def register_phones(self, n):
        """N SIPp phones over TCP, one connection each, idle once registered;
        and baresip, a real phone, over TLS (Debian's SIPp has no TLS)."""
        want = self.sipp_phones(n) | self.baresip(("tlsphone", "tls"))
        self.wait_registered(want, exactly=True)
        return self.wait_idle(n + 1)

    def test_registered_phones_are_armed_and_dead_ones_found(self):
        self.attach()
        for rule_port, name in ((port(5060), "tcp"), (port(5061), "tls")):
            self.sipka("config", "set", rule_port, "--name", name, "--time", TIME, "--intvl", INTVL,
                       "--probes", PROBES)
        self.register_phones(PHONES)
        self.wait_stats(port(5060), 30, armed=PHONES, active=PHONES)
        self.wait_stats(port(5061), 30, armed=1, active=1)
        conns = self.established()
        self.assertEqual(len(conns), PHONES + 1, conns)
        for line in conns:     # the kernel's own view: a keepalive timer on each
            self.assertRegex(line, r"timer:\(keepalive,")
        phones = self.tcp_list()
        self.assertEqual(len(phones), PHONES + 1)

        self.black_hole(self.phone_ns)
        cut = time.time()       # nothing from the phones reaches the PBX after this
        # The deadlines only bound a hang: the time claimed is the kernel's, from the events.
        self.wait_stats(port(5060), BOUND + 60, dead_keepalive=PHONES, active=0)
        self.wait_stats(port(5061), 30, dead_keepalive=1, active=0)
        events = [json.loads(line) for line in self.sipka("-j", "events").stdout.splitlines()]
        self.assertLessEqual(max(map(event_time, events)), cut + BOUND + 1, "dead within the bound")
        self.assertEqual({(e["remote_addr"], e["remote_port"]) for e in events}, phones,
                         "an event names each phone")
        self.assertEqual({e["reason"] for e in events}, {"keepalive"})
        self.assertEqual(sorted(e["name"] for e in events), ["tcp"] * PHONES + ["tls"])
        # No time is claimed for Kamailio's close: a deadline that a busy machine
        # cannot miss (each look is a kamcmd).
        wait_until(lambda: not self.tcp_list(), 15, lambda: "Kamailio drops them too: %s" % self.tcp_list(),
                   interval=0.1)
        self.assertEqual(self.tcp_list(), set(), "Kamailio dropped them too")

    def test_outgoing_leg_to_a_trunk_is_armed_by_its_remote_port(self):
        self.attach()
        spawn(["sipp", "-sf", os.path.join(SIP, "options-uas.xml"), "-t", "t1", "-i", PHONE, "-p", port(5060),
               "-max_socket", 100, "-nostdin"],
              netns=self.phone_ns, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: f"%s:{port(5060)} " % PHONE in self.ns_run(self.phone_ns, "ss", "-tlnH").stdout, 10,
                   f"the trunk (SIPp) listens on %s:{port(5060)}" % PHONE)
        uac = self.ns_run(self.phone_ns, "sipp", PBX + f":{port(5060)}", "-sf", os.path.join(SIP, "options-uac.xml"),
                          "-t", "t1", "-i", PHONE, "-p", port(5070), "-m", 1, "-max_socket", 100, "-nostdin",
                          "-timeout", "10", check=False)
        self.assertEqual(uac.returncode, 0, "the trunk answered through the PBX")
        trunk = [c for c in self.established() if re.search(fr"\s%s:{port(5060)}\s" % re.escape(PHONE), c)]
        self.assertEqual(len(trunk), 1, self.established())
        self.assertRegex(trunk[0], r"timer:\(keepalive,")
        # armed twice on 5060: the phone's connection in, the trunk's out
        self.assertEqual(self.stats(port(5060))["armed"], 2)

    def test_control_without_sipka_dead_phones_stay(self):
        # Kamailio turns SO_KEEPALIVE on (its tcp_keepalive defaults to yes),
        # with the kernel's timings: first probe after 7200 s, dead after
        # 7200 + 9 x 75 s = 2 h 11 min 15 s.
        self.register_phones(3)
        before = self.tcp_list()
        self.vanish_unnoticed(4, BOUND + 2)
        self.assertEqual(self.tcp_list(), before, "and Kamailio keeps them")
