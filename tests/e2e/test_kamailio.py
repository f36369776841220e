# SPDX-License-Identifier: GPL-2.0
"""sipka on a real SIP stack: Kamailio as the registrar ("PBX") in its own
cgroup and network namespace, SIPp phones over TCP and baresip over TLS in a
second namespace; the phones vanish behind a black hole."""
import json
import os
import re
import shutil
import subprocess
import time

from harness import ROOT, SIPKA, Process, event_time, port, spawn, wait_until
from sipstack import PHONE, PBX, PORTS, SIP, need, need_websockets
from sipstack import Kamailio as KamailioEnv

TIME, INTVL, PROBES = 1, 1, 2
BOUND = TIME + INTVL * PROBES
PHONES = 10
FR_TIMER = 2.0          # kamailio.cfg: tm fr_timer, the 408 for a silent phone


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


# user -> transport: the rule (and port) that arms its connection.
DEFAULT_PHONES = {"tcpphone": "tcp", "tlsphone": "tls", "wsphone1": "ws"}
ACTION = os.path.join(ROOT, "examples", "actions", "kamailio")
WITHIN = 2.0        # the bound: contact gone, call answered, after the death event


class Defaults(KamailioEnv):
    """Kamailio on its defaults (usrloc handle_lost_tcp=0): the registrar keeps
    the contact of a dead connection; examples/actions/kamailio, run by sipka
    events --exec, removes it."""

    def setUp(self):
        need_websockets()
        super().setUp()
        self.arm(TIME, INTVL, PROBES, *set(DEFAULT_PHONES.values()))
        self.baresip(("tcpphone", "tcp"), ("tlsphone", "tls"))
        self.ws_phones("ws", 1)
        self.wait_registered(set(DEFAULT_PHONES), exactly=True)
        for user in DEFAULT_PHONES:     # each phone answers through the PBX
            self.assertEqual(self.call("OPTIONS", user)["final"], 200, user)
        self.wait_idle(len(DEFAULT_PHONES))

    def action(self):
        """The recipe, copied to a directory sipka trusts (root's, not writable by
        others, up to /): the checkout may sit anywhere (a user's home, a read-only
        share in the VM tests); this tests the recipe's text, the trust check is
        test_actions'. Its settings file names the test Kamailio's ctl socket."""
        d = self.trusted_dir()
        prog = os.path.join(d, "kamailio")
        shutil.copyfile(ACTION, prog)
        os.chmod(prog, 0o755)
        with open(prog + ".conf", "w") as f:
            f.write("# the test's Kamailio\nctl = unix:%s\n" % os.path.join(self.dir, "kamailio_ctl"))
        return prog

    def deaths(self, reader):
        """The phones vanish; each death event as it is read: {user: (event, when read)}."""
        self.black_hole(self.phone_ns)
        by_port = {PORTS[t]: u for u, t in DEFAULT_PHONES.items()}
        died = {}
        while len(died) < len(DEFAULT_PHONES):
            e = json.loads(reader.line(BOUND + 10))
            died[by_port[e["local_port"]]] = (e, time.monotonic())
        return died

    def test_action_removes_the_phantom_and_the_call_fails_fast(self):
        prog = self.action()
        reader = Process([SIPKA, "--pin-dir", self.pin_dir, "-j", "events", "--follow", "--exec", prog])
        reader.err_line("action: %s for each event" % prog)
        # A caller for each phone, started ahead and held at its send: a process's
        # start (most of a second of Python's under an emulated arm64) is no part
        # of the bound.
        callers = {user: self.caller("INVITE", user, wait=5) for user in DEFAULT_PHONES}
        died = self.deaths(reader)
        gone = {}

        def removed():
            """Notes when each contact is first seen gone, and calls it then."""
            registered = self.registered()
            for user in died:
                if user not in registered and user not in gone:
                    gone[user] = time.monotonic()
                    callers[user].go()
            return len(gone) == len(died)
        wait_until(removed, WITHIN + 5, lambda: "contacts removed: %s of %s" % (sorted(gone), sorted(died)),
                   interval=0.05)
        for user, (e, when) in died.items():
            with self.subTest(user=user, transport=DEFAULT_PHONES[user]):
                self.assertEqual(e["reason"], "keepalive")
                answer = callers[user].answer()
                self.assertIn(answer["final"], (404, 480), answer)
                # When the final response came, by the caller's clock (the same as ours).
                answered = answer["sent_at"] + answer["responses"][-1][1] / 1000 - when
                self.assertLessEqual(gone[user] - when, WITHIN, "the contact gone within 2 s of the death")
                self.assertLessEqual(answered, WITHIN, "the call's final response within 2 s")
                # The action's output, in sipka's log (the journal under systemd), names the AOR.
                line = reader.err_line("removed AOR %s " % user)
                self.assertIn("(keepalive: peer %s:%d, local %s:%d)"
                              % (PHONE, e["remote_port"], PBX, PORTS[DEFAULT_PHONES[user]]), line)
        self.assertEqual(reader.stop(), 0)
        self.assertFalse([l for l in reader.err_seen if "warning" in l], reader.err_seen)

    def test_control_without_the_action_the_registrar_keeps_the_phantom(self):
        reader = Process([SIPKA, "--pin-dir", self.pin_dir, "-j", "events", "--follow"])
        died = self.deaths(reader)
        # Kamailio closes the dead connections that sipka found (a deadline a busy
        # machine cannot miss: no time is claimed for it)...
        wait_until(lambda: not self.tcp_list(), 15, lambda: "closed: %s" % self.tcp_list(), interval=0.1)
        # ...and keeps their contacts: usrloc's handle_lost_tcp is 0 by default.
        self.assertEqual(self.registered(), set(DEFAULT_PHONES), "the phantoms stay registered")
        answers = {}
        for user in DEFAULT_PHONES:
            start = time.monotonic()
            answers[user] = (self.call("INVITE", user, wait=FR_TIMER + 3), time.monotonic() - start)
        self.assertEqual(self.registered(), set(DEFAULT_PHONES), "and stay after the calls")
        for user, (answer, took) in answers.items():
            # What a call to a phantom gets, per transport (doc/validation.md records it).
            print("\n  control %s (%s): %s in %.3f s" % (user, DEFAULT_PHONES[user], answer["responses"], took))
            with self.subTest(user=user):
                self.assertIsNotNone(answer["final"], answer)
                self.assertGreaterEqual(answer["final"], 400, answer)
                self.assertNotIn(answer["final"], (404, 480), "no lookup failure: the contact is there")
        self.assertEqual(reader.stop(), 0)
        self.assertEqual(len(died), 3)
