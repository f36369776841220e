#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""sipka's systemd units under real systemd as PID 1 (vmtest's guest, after
`make install`): sipka.service at boot, a PBX unit with the shipped drop-in
armed at start, after two restarts, after stop and start, and after a reboot,
`systemctl reload sipka` retuning live and new connections to the edited
file, sipka-prometheus.timer writing its file, and sipka-events.service
running the [events] action of the file for each death, as root, with its
output in the journal, and `systemctl reload sipka-events` changing it.

Prints "ok NAME" or "FAIL NAME: why" per check on stderr. Phase 1 ends by
printing "reboot" on stdout (the caller reboots); phase 2, after the reboot,
prints "N passed, N failed, 0 skipped" over both phases."""
import json
import os
import re
import socket
import subprocess
import sys
import time

STATE = "/var/lib/sipka-vmtest/phase"
SIPKA = "/usr/local/sbin/sipka"
DROPIN = "/usr/local/share/doc/sipka/sipka-pbx.conf"
PBX = "sipka-vmtest-pbx.service"
PORT = 5060                     # a port of /etc/sipka/sipka.conf
PROM = "/var/lib/prometheus/node-exporter/sipka.prom"

# A stand-in for the PBX: accepts SIP connections and holds them. It runs as
# a user, as PBXes do, so the drop-in's ExecStartPre needs its '+'.
PBX_PY = """\
import socket
s = socket.create_server(("0.0.0.0", %d), backlog=16)
held = []
while True:
    held.append(s.accept())
""" % PORT
PBX_UNIT = """\
[Unit]
Description=sipka vmtest: a PBX stand-in on port %d

[Service]
User=nobody
ExecStart=/usr/bin/python3 /usr/local/lib/sipka-vmtest/pbx.py

[Install]
WantedBy=multi-user.target
""" % PORT

results = []


def log(*words):
    print(*words, file=sys.stderr, flush=True)


def check(name, ok, why=""):
    results.append(bool(ok))
    log("ok  " if ok else "FAIL", name + ("" if ok else ": " + why))
    return ok


def run(*cmd, check_rc=True):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if check_rc and p.returncode:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return p


def wait(pred, timeout, step=0.2):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > end:
            return v
        time.sleep(step)


def listening():
    return str(PORT) in run("ss", "-tlnH", "sport = :%d" % PORT).stdout


def armed_5060():
    s = run(SIPKA, "-j", "stats", check_rc=False)
    try:
        return next((r["armed"] for r in json.loads(s.stdout) if r["port"] == PORT), None)
    except ValueError:
        return None


def pbx_is_armed(name):
    """A new connection to the PBX: its end shows the rule's keepalive timer
    (60 s; a socket without keepalive shows none), and `armed` grows by one."""
    if not check(name + ": PBX listening", wait(listening, 20), "nothing listens on %d" % PORT):
        return
    before = armed_5060()
    with socket.create_connection(("127.0.0.1", PORT), timeout=5) as c:
        me = c.getsockname()[1]

        def timer():
            out = run("ss", "-tnoiH", "state", "established",
                      "( sport = :%d and dport = :%d )" % (PORT, me)).stdout
            return out if "timer:(keepalive," in out else None
        t = wait(timer, 5)
        if check(name + ": keepalive timer on the PBX's end", t, "ss shows no keepalive timer"):
            m = re.search(r"timer:\(keepalive,(?:(\d+)min)?(?:(\d+)sec)?(?:(\d+)ms)?", t)
            secs = int(m.group(1) or 0) * 60 + int(m.group(2) or 0) + int(m.group(3) or 0) / 1000
            check(name + ": the rule's 60 s, not the kernel's 7200 s", 0 < secs <= 60, "timer %s s" % secs)
        after = wait(lambda: (armed_5060() or 0) > (before or 0) and armed_5060(), 5)
        check(name + ": sipka counts it armed", after, "armed %s, then %s" % (before, armed_5060()))


def keepalive_time(peer_port):
    """The keepalive time in force on the PBX's end of the connection from
    PEER_PORT, as `sipka connections` reads it from the socket."""
    for c in json.loads(run(SIPKA, "-j", "connections", check_rc=False).stdout or "[]"):
        if c["remote_port"] == peer_port:
            return c["keepalive"]["time"]
    return None


def reload_retunes():
    """systemctl reload sipka.service with the config file edited: the time
    of a connection held since before changes, and a new one gets it."""
    conf = "/etc/sipka/sipka.conf"
    with open(conf) as f:
        orig = f.read()
    edited = re.sub(r"(?m)^tcp_keepalive_time = 60$", "tcp_keepalive_time = 45", orig)
    if not check("reload: the installed config has the time 60 to edit", edited != orig, orig):
        return
    with socket.create_connection(("127.0.0.1", PORT), timeout=5) as held:
        me = held.getsockname()[1]
        check("reload: the held connection has 60 s before", wait(lambda: keepalive_time(me) == 60, 5),
              "time %s" % keepalive_time(me))
        with open(conf, "w") as f:
            f.write(edited)
        try:
            p = run("systemctl", "reload", "sipka.service", check_rc=False)
            check("systemctl reload sipka.service", p.returncode == 0,
                  p.stderr + run("systemctl", "status", "sipka.service", check_rc=False).stdout)
            check("reload: the held connection retuned to 45 s", keepalive_time(me) == 45,
                  "time %s" % keepalive_time(me))
            with socket.create_connection(("127.0.0.1", PORT), timeout=5) as new:
                port = new.getsockname()[1]
                check("reload: a new connection gets 45 s", wait(lambda: keepalive_time(port) == 45, 5),
                      "time %s" % keepalive_time(port))
        finally:
            with open(conf, "w") as f:
                f.write(orig)
            run("systemctl", "reload", "sipka.service", check_rc=False)


ACTIONS = "/etc/sipka/actions"
ACTION = """#!/bin/sh
# A stand-in for a recipe: who ran it, for which peer.
echo "%s $(id -u) $SIPKA_REMOTE_PORT" >> /run/sipka-vmtest-actions.log
echo "acted on port $SIPKA_REMOTE_PORT"
"""


def reset_by_phone():
    """A connection to the PBX that the phone resets: a death with an event
    (the rule has reset_events); the phone's port."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    me = s.getsockname()[1]
    wait(lambda: keepalive_time(me) is not None, 5)     # accepted and armed
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    s.close()
    return me


def acted(name, port):
    try:
        with open("/run/sipka-vmtest-actions.log") as f:
            return "%s 0 %d" % (name, port) in f.read().splitlines()
    except FileNotFoundError:
        return False


def events_action_reload():
    """sipka-events.service with an [events] action in the config file: run
    for a death as root, its output a journal line; the file edited and
    `systemctl reload sipka-events`: the other action runs, not the first."""
    conf = "/etc/sipka/sipka.conf"
    with open(conf) as f:
        orig = f.read()
    os.makedirs(ACTIONS, mode=0o755, exist_ok=True)
    for name in ("first", "second"):
        with open(os.path.join(ACTIONS, name), "w") as f:
            f.write(ACTION % name)
        os.chmod(os.path.join(ACTIONS, name), 0o755)
    with_resets = re.sub(r"(?m)^\[defaults\]$", "[defaults]\nreset_events = yes", orig)
    with open(conf, "w") as f:
        f.write(with_resets + "\n[events]\nexec = %s/first\n" % ACTIONS)
    try:
        run("systemctl", "reload", "sipka.service")
        run("systemctl", "enable", "--now", "sipka-events.service")
        check("sipka-events.service active", wait(lambda: run(
            "systemctl", "is-active", "sipka-events.service", check_rc=False).stdout.strip() == "active", 10))
        port = reset_by_phone()     # read when the reader comes to it: the ring buffer holds it
        check("events: the file's action ran for the death, as root", wait(lambda: acted("first", port), 15),
              run("journalctl", "-u", "sipka-events", "--no-pager", check_rc=False).stdout[-2000:])

        def journal_says():
            return ("action %s/first (peer 127.0.0.1:%d): acted on port %d" % (ACTIONS, port, port)
                    in run("journalctl", "-u", "sipka-events", "-o", "cat", "--no-pager", check_rc=False).stdout)
        check("events: the action's output is a journal line naming it and the peer", wait(journal_says, 10),
              run("journalctl", "-u", "sipka-events", "--no-pager", check_rc=False).stdout[-2000:])
        with open(conf, "w") as f:
            f.write(with_resets + "\n[events]\nexec = %s/second\n" % ACTIONS)
        p = run("systemctl", "reload", "sipka-events.service", check_rc=False)
        check("systemctl reload sipka-events.service", p.returncode == 0, p.stderr)
        check("events: the reload said so in the journal", wait(lambda: "action: %s/second for each event" % ACTIONS
                                                                in run("journalctl", "-u", "sipka-events", "-o", "cat",
                                                                       "--no-pager", check_rc=False).stdout, 10))
        port = reset_by_phone()
        check("events: after the reload the edited action ran, not the first",
              wait(lambda: acted("second", port), 15) and not acted("first", port),
              run("journalctl", "-u", "sipka-events", "--no-pager", check_rc=False).stdout[-2000:])
    finally:
        run("systemctl", "disable", "--now", "sipka-events.service", check_rc=False)
        with open(conf, "w") as f:
            f.write(orig)
        run("systemctl", "reload", "sipka.service", check_rc=False)


def attachments():
    """sipka's attachments: only the PBX's are made in this guest."""
    return json.loads(run(SIPKA, "-j", "status", check_rc=False).stdout).get("attachments")


def restart(how):
    for verb in how:
        run("systemctl", verb, PBX)


def install_pbx(dropin):
    """The PBX stand-in's unit, with DROPIN, the shipped drop-in, as an operator puts it."""
    os.makedirs("/usr/local/lib/sipka-vmtest", exist_ok=True)
    with open("/usr/local/lib/sipka-vmtest/pbx.py", "w") as f:
        f.write(PBX_PY)
    with open("/etc/systemd/system/" + PBX, "w") as f:
        f.write(PBX_UNIT)
    os.makedirs("/etc/systemd/system/%s.d" % PBX, exist_ok=True)
    with open(dropin) as src, open("/etc/systemd/system/%s.d/sipka.conf" % PBX, "w") as dst:
        dst.write(src.read())
    run("systemctl", "daemon-reload")


def phase1():
    log("systemd_check: phase 1: install, start, restart")
    # As the README says.
    install_pbx(DROPIN)
    run("systemctl", "enable", "--now", "sipka.service", "sipka-prometheus.timer")
    check("sipka.service active", run("systemctl", "is-active", "sipka.service", check_rc=False)
          .stdout.strip() == "active", run("systemctl", "status", "sipka.service", check_rc=False).stdout)
    run("systemctl", "enable", "--now", PBX)
    pbx_is_armed("first start")
    restart(["restart"])
    pbx_is_armed("restart 1")
    restart(["restart"])
    pbx_is_armed("restart 2")
    att = attachments()
    check("one attachment after two restarts, to the PBX, live",
          att and len(att) == 1 and att[0].get("cgroup", "").endswith("/" + PBX) and not att[0].get("defunct"),
          "have %s" % att)
    restart(["stop", "start"])
    pbx_is_armed("stop, start")
    reload_retunes()


def phase2():
    log("systemd_check: phase 2: after the reboot")
    check("sipka.service active after the reboot",
          run("systemctl", "is-active", "sipka.service", check_rc=False).stdout.strip() == "active",
          run("systemctl", "status", "sipka.service", check_rc=False).stdout)
    pbx_is_armed("after the reboot")
    # The timer runs 15 s after boot, then every 15 s: one run after the
    # connection above has its count.
    def armed_line():
        """The file's armed count of PORT when it is 1 or more."""
        try:
            with open(PROM) as f:
                text = f.read()
        except FileNotFoundError:
            return None
        for line in text.splitlines():
            if line.startswith('sipka_connections_armed_total{port="%d"' % PORT):
                return line if int(line.split()[-1]) >= 1 else None
        return None
    check("sipka-prometheus.timer writes %s, with port %d armed" % (PROM, PORT), wait(armed_line, 45, 1),
          "%s: %s; %s" % (PROM, open(PROM).read() if os.path.exists(PROM) else "missing",
                          run("systemctl", "status", "sipka-prometheus.service", check_rc=False).stdout))
    events_action_reload()


def two_phases(state, first, second):
    """Without STATE: FIRST, its results saved in STATE, then "reboot" on stdout (the
    caller reboots). After the reboot: SECOND, then "N passed, N failed, 0 skipped" over
    both. A check that cannot run is a failure, not a crash."""
    try:
        if os.path.exists(state):
            with open(state) as f:
                results[:0] = json.load(f)
            second()
            if not all(results):
                log(run("journalctl", "-b", "-u", PBX, "-u", "sipka.service", "--no-pager",
                        check_rc=False).stdout)
            print("%d passed, %d failed, 0 skipped" % (results.count(True), results.count(False)))
            return
        try:
            first()
        finally:                # the results so far go to the next boot, or to the summary
            os.makedirs(os.path.dirname(state), exist_ok=True)
            with open(state, "w") as f:
                json.dump(results, f)
        print("reboot")
    except Exception as e:
        check("the checks ran", False, repr(e))
        log(run("journalctl", "-b", "--no-pager", "-n", "60", check_rc=False).stdout)
        print("%d passed, %d failed, 0 skipped" % (results.count(True), results.count(False)))


if __name__ == "__main__":
    two_phases(STATE, phase1, phase2)
