# SPDX-License-Identifier: GPL-2.0
"""What the SIP end-to-end tests share: Kamailio (tests/e2e/sip/kamailio.cfg)
as the PBX in the test's cgroup and network namespace, and phones in a second
namespace: SIPp over TCP, baresip over TLS (and TCP), WebSocket phones
(sip/wsphone.py) over WS and WSS; and a caller (sip/caller.py) on the PBX's
own UDP port."""
import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import ROOT, Env, Lines, defer, need_root, port, run, skip_if_host_covers, spawn, wait_until

# Kamailio's modules, in Debian's multiarch directory (x86_64-linux-gnu, aarch64-linux-gnu).
MPATH = (glob.glob("/usr/lib/*/kamailio/modules/") or ["/usr/lib/kamailio/modules/"])[0]

SIP = os.path.join(ROOT, "tests", "e2e", "sip")
PBX, PHONE = "198.18.0.1", "198.18.0.2"
PORTS = {"tcp": port(5060), "tls": port(5061), "ws": port(8080), "wss": port(8443)}
# Debian's Python modules (python3-websockets) are on this interpreter only.
SYSTEM_PYTHON = "/usr/bin/python3"


def need(*tools):
    need_root()
    for tool in tools:
        if not shutil.which(tool):
            raise unittest.SkipTest("needs %s (make test-deps)" % tool)


def need_websockets():
    if run(SYSTEM_PYTHON, "-c", "import websockets", check=False).returncode:
        raise unittest.SkipTest("needs python3-websockets (make test-deps)")


class Kamailio(Env):
    """Kamailio started for each test; LOST_TCP: it drops the contacts of
    closed connections (usrloc handle_lost_tcp)."""
    LOST_TCP = False

    def setUp(self):
        super().setUp()
        skip_if_host_covers(*PORTS.values())
        self.dir = tempfile.mkdtemp(prefix="sipka-kamailio-")
        defer(lambda: shutil.rmtree(self.dir), "kamailio dir")
        for name in ("kamailio.cfg", "tls.cfg"):
            with open(os.path.join(SIP, name)) as f:
                text = f.read().replace("@DIR@", self.dir).replace("@PBX@", PBX).replace("@TRUNK@", PHONE) \
                    .replace("@MPATH@", MPATH)
            text = re.sub(r"@PORT_(\d+)@", lambda m: str(port(int(m.group(1)))), text)
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=pbx",
            "-keyout", os.path.join(self.dir, "key.pem"), "-out", os.path.join(self.dir, "cert.pem"))
        self.phone_ns = self.phone_link()
        log = open(os.path.join(self.dir, "kamailio.log"), "w")
        defer(log.close, "kamailio log")
        spawn(["kamailio", "-f", os.path.join(self.dir, "kamailio.cfg"), "-DD", "-E", "-Y", self.dir]
              + (["-A", "LOST_TCP"] if self.LOST_TCP else []),
              cgroup=self.cg, netns=self.ns, stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: not self.kamcmd("core.version", check=False).returncode, 10,
                   lambda: "kamailio starts:\n" + self.log()[-2000:], interval=0.1)

    def log(self):
        with open(os.path.join(self.dir, "kamailio.log")) as f:
            return f.read()

    def kamcmd(self, *args, check=True):
        return run("kamcmd", "-s", "unix:" + os.path.join(self.dir, "kamailio_ctl"), *args, check=check)

    def registered(self):
        return set(re.findall(r"AoR: (\S+)", self.kamcmd("ul.dump").stdout))

    def wait_registered(self, want, timeout=15, exactly=False):
        """Waits until the users of WANT are registered (EXACTLY: and no other)."""
        wait_until(lambda: want == self.registered() if exactly else want <= self.registered(), timeout,
                   lambda: "registered: %s, want %s" % (sorted(self.registered()), sorted(want)), interval=0.1)

    def tcp_list(self):
        """Kamailio's own connections: (peer address, peer port)."""
        out = self.kamcmd("core.tcp_list").stdout
        return set(zip(re.findall(r"src_ip: (\S+)", out), map(int, re.findall(r"src_port: (\d+)", out))))

    def ws_dump(self):
        """Kamailio's WebSocket connections: {(peer address, peer port): state}."""
        out = self.kamcmd("ws.dump").stdout
        return {(a, int(p)): state for a, p, state in
                re.findall(r"(?:ws|wss):(\S+?):(\d+) -> \S+ \(state: (\w+)", out)}

    def established(self):
        """The PBX's established connections, as ss shows them with timers."""
        out = self.ns_run(self.ns, "ss", "-tnoH", "state", "established").stdout
        return [line for line in out.splitlines() if line.strip()]

    def vanish_unnoticed(self, n, wait_s):
        """The controls without sipka: black-holes the phones, waits WAIT_S, and
        checks that the PBX's N connections stay ESTABLISHED with the kernel's
        keepalive timer (first probe after 7200 s)."""
        self.black_hole(self.phone_ns)
        # A fixed wait is the premise of a control: nothing may happen for at
        # least as long as sipka would take to find them dead.
        time.sleep(wait_s)
        conns = self.established()
        self.assertEqual(len(conns), n, "the dead phones stay ESTABLISHED")
        for line in conns:
            minutes = re.search(r"timer:\(keepalive,(\d+)min", line)
            self.assertTrue(minutes and int(minutes.group(1)) >= 110, line)

    def wait_idle(self, n, timeout=30):
        """Waits until the PBX has N established connections, each with
        nothing unacknowledged (the phones' delayed ACKs are in) and its
        keepalive timer running: idle phones, about to vanish. Returns the
        connections, as established() shows them."""
        def idle():
            conns = self.established()
            ok = len(conns) == n and all(c.split()[1] == "0" and "timer:(keepalive," in c for c in conns)
            return conns if ok else None
        return wait_until(idle, timeout, lambda: "%d idle connections: %s" % (n, self.established()))

    def arm(self, time_, intvl, probes, *names):
        self.attach()
        for name in names:
            self.sipka("config", "set", PORTS[name], "--name", name, "--time", time_, "--intvl", intvl,
                       "--probes", probes)

    def events(self):
        return [json.loads(line) for line in self.sipka("-j", "events").stdout.splitlines()]

    # The phones, all in self.phone_ns.

    def sipp_phones(self, n, user="phone"):
        """N SIPp phones over TCP, USER1..USERN, one connection each, idle
        once registered (SIPp answers nothing else)."""
        spawn(["sipp", PBX + f":{port(5060)}", "-sf", os.path.join(SIP, "register.xml"), "-t", "tn", "-i", PHONE,
               "-s", user, "-m", n, "-r", 50, "-max_socket", 1000, "-nostdin", "-trace_err",
               "-error_file", os.path.join(self.dir, "sipp.err")],
              netns=self.phone_ns, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return {"%s%d" % (user, i) for i in range(1, n + 1)}

    def baresip(self, *accounts):
        """baresip, a real SIP phone, registered as each (user, transport)
        of ACCOUNTS: one connection per transport; answers OPTIONS itself and
        rings on INVITE."""
        conf = tempfile.mkdtemp(prefix="baresip-", dir=self.dir)
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=phone",
            "-keyout", os.path.join(conf, "cert.pem"), "-out", os.path.join(conf, "cert.pem.crt"))
        with open(os.path.join(conf, "cert.pem"), "a") as key, open(os.path.join(conf, "cert.pem.crt")) as crt:
            key.write(crt.read())       # baresip wants key and certificate in one file
        with open(os.path.join(conf, "config"), "w") as f:
            f.write(f"sip_listen %s:{port(5070)}\n" % PHONE
                    + "sip_certificate %s\n" % os.path.join(conf, "cert.pem")
                    + "module_path /usr/lib/baresip/modules\n"
                    + "module g711.so\nmodule aufile.so\n"
                    + "audio_player aufile,/dev/null\naudio_source aufile,/dev/null\naudio_alert aufile,/dev/null\n"
                    + "module_app account.so\n")
        with open(os.path.join(conf, "accounts"), "w") as f:
            for user, transport in accounts:
                f.write("<sip:%s@%s:%d;transport=%s>;regint=3600\n" % (user, PBX, PORTS[transport], transport))
        log = open(os.path.join(self.dir, os.path.basename(conf) + ".log"), "w")
        defer(log.close, "baresip log")
        p, _ = spawn(["baresip", "-f", conf], netns=self.phone_ns, stdin=subprocess.DEVNULL, stdout=log,
                     stderr=subprocess.STDOUT)
        # Killed, not stopped: on SIGTERM baresip unregisters first, and waits
        # for a PBX it can no longer reach once it vanished.
        defer(p.kill, "baresip")
        return {user for user, _ in accounts}

    def ws_phones(self, transport, n, user=None):
        """N WebSocket phones over TRANSPORT (ws, wss); returns {user: (addr, port)}."""
        url = "%s://%s:%d/" % (transport, PBX, PORTS[transport])
        p, _ = spawn([SYSTEM_PYTHON, os.path.join(SIP, "wsphone.py"), url, user or transport + "phone", n],
                     netns=self.phone_ns, stdout=subprocess.PIPE, text=True)
        defer(p.stdout.close, "ws phones' pipe")
        lines = Lines(p.stdout)
        phones = {}
        while len(phones) < n:
            line = lines.readline(15)
            if not line:
                raise AssertionError("%s phones: %d of %d registered" % (transport, len(phones), n))
            phone = json.loads(line)
            phones[phone["user"]] = tuple(phone["local"])
        return phones

    def call(self, method, user, wait=10):
        """One request from the caller, on the PBX's 127.0.0.1:port(5060) over UDP."""
        p = self.ns_run(self.ns, *caller_cmd(method, user, wait), timeout=wait + 5)
        return json.loads(p.stdout)

    def caller(self, method, user, wait=10):
        """The same request from a caller started now and held at its send (Caller)."""
        return Caller(self.ns, method, user, wait)


def caller_cmd(method, user, wait, *options):
    return [SYSTEM_PYTHON, os.path.join(SIP, "caller.py"), *options, "127.0.0.1:%d" % port(5060),
            method, user, str(wait)]


class Caller:
    """sip/caller.py started ahead in the PBX's namespace, its request made:
    go() sends it at once (no process start in what a test times), answer()
    is what it printed."""

    def __init__(self, netns, method, user, wait):
        self.wait = wait
        self.p, _ = spawn(caller_cmd(method, user, wait, "--on-go"), netns=netns,
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.out = Lines(self.p.stdout)
        line = self.out.readline()
        if line != "ready\n":
            raise AssertionError("the caller did not start: %r" % line)

    def go(self):
        self.p.stdin.write(b"go\n")
        self.p.stdin.flush()

    def answer(self):
        return json.loads(self.out.readline(self.wait + 5))
