#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The Debian package under systemd as PID 1 (vmtest's deb boot). The host
built two packages into the boot's shared directory: previous/ (the 0.3.0
release, RELEASE_0.3.0, with this tree's debian/, version 0.3.0-1) and
current/ (this tree). In order:

1. `apt-get install ./sipka_0.3.0-1_*.deb`, its dependencies resolved from
   what is installed (the guest has no network): sipka.service enabled and
   active, the program loaded and attached nowhere, the other units not
   enabled, /etc/sipka/sipka.conf a conffile. A PBX unit with the shipped
   drop-in is armed. Then a reboot.
2. After the reboot: sipka.service active, the PBX armed. The upgrade to this
   tree's package while connections are held and new ones are made
   throughout: the program replaced (another id) in the same attachment,
   every held and every new connection armed, the counters kept (0.3.0's
   layout 3 is migrated to this tree's on the way).
3. `apt-get remove`: nothing of sipka in the kernel (programs, links, cgroup
   attachments) or bpffs, the binary and units gone, the config kept.
   `apt-get purge`: /etc/sipka gone, and no file of sipka left.

Prints "ok NAME" or "FAIL NAME: why" per check on stderr; phase 1 prints
"reboot" on stdout, phase 2 "N passed, N failed, 0 skipped"."""
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import threading

import systemd_check as sc
from systemd_check import PBX, PORT, check, log, pbx_is_armed, run, wait

STATE = "/var/lib/sipka-vmtest/deb-phase"
SIPKA = "/usr/sbin/sipka"
DROPIN = "/usr/share/doc/sipka/sipka-pbx.conf"
DEBS = "/var/tmp/sipka-debs"
sc.SIPKA = SIPKA            # systemd_check's helpers run the packaged sipka
results = sc.results


def apt(*args, cwd=None):
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    p = subprocess.run(["apt-get", "-y", "-q", "--no-install-recommends", *args], capture_output=True,
                       text=True, timeout=600, env=env, cwd=cwd)
    log("apt-get %s: exit %d" % (" ".join(args), p.returncode))
    return p


def installed_version():
    p = run("dpkg-query", "-W", "-f=${Status} ${Version}", "sipka", check_rc=False)
    return p.stdout.split()[-1] if p.stdout.startswith("install ok installed") else None


def deb(which):
    found = glob.glob(os.path.join(DEBS, which, "sipka_*.deb"))
    return found[0] if len(found) == 1 else None


def status():
    return json.loads(run(SIPKA, "-j", "status", check_rc=False).stdout or "{}")


def unit_state(verb, unit):
    return run("systemctl", verb, unit, check_rc=False).stdout.strip()


def connections():
    """{the peer's port: the keepalive time in force} of every armed connection."""
    return {c["remote_port"]: c["keepalive"]["time"]
            for c in json.loads(run(SIPKA, "-j", "connections", check_rc=False).stdout or "[]")}


def armed_total():
    return sc.armed_5060() or 0


def phase1(out):
    log("deb_check: phase 1: install the previous release's package, the PBX, then a reboot")
    shutil.rmtree(DEBS, ignore_errors=True)
    shutil.copytree(out + "/debs", DEBS)
    prev = deb("previous")
    if not check("the host built the previous release's package", prev, os.listdir(DEBS)):
        return
    p = apt("install", "./" + os.path.basename(prev), cwd=os.path.dirname(prev))
    check("apt-get install %s" % os.path.basename(prev), p.returncode == 0, p.stdout + p.stderr)
    check("installed: 0.3.0-1", installed_version() == "0.3.0-1", "have %s" % installed_version())
    check("sipka.service enabled and active",
          (unit_state("is-enabled", "sipka.service"), unit_state("is-active", "sipka.service"))
          == ("enabled", "active"), run("systemctl", "status", "sipka.service", check_rc=False).stdout)
    for u in ("sipka-events.service", "sipka-prometheus.timer"):
        check("%s not enabled, not running" % u,
              (unit_state("is-enabled", u), unit_state("is-active", u)) == ("disabled", "inactive"),
              "%s, %s" % (unit_state("is-enabled", u), unit_state("is-active", u)))
    st = status()
    check("the program loaded and attached nowhere", st.get("loaded") and st.get("attachments") == [],
          json.dumps(st))
    conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", "sipka").stdout
    check("/etc/sipka/sipka.conf is a conffile", "/etc/sipka/sipka.conf " in conffiles, conffiles)

    sc.install_pbx(DROPIN)
    run("systemctl", "enable", "--now", PBX)
    pbx_is_armed("the PBX with the shipped drop-in")


class Churn(threading.Thread):
    """New connections to the PBX, one after another, held, until stopped."""

    def __init__(self):
        super().__init__(daemon=True)
        self.socks, self.stop = [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.socks.append(socket.create_connection(("127.0.0.1", PORT), timeout=5))
            self.stop.wait(0.05)


def upgrade():
    cur = deb("current")
    if not check("the host built this tree's package", cur, os.listdir(DEBS)):
        return
    held = [socket.create_connection(("127.0.0.1", PORT), timeout=5) for _ in range(5)]
    ports = [s.getsockname()[1] for s in held]
    check("5 held connections armed before the upgrade",
          wait(lambda: all(connections().get(p) == 60 for p in ports), 10), "%s" % connections())
    before, prog_before, att_before = armed_total(), status().get("prog", {}).get("id"), sc.attachments()
    churn = Churn()
    churn.start()
    p = apt("install", "./" + os.path.basename(cur), cwd=os.path.dirname(cur))
    made = len(churn.socks)
    wait(lambda: len(churn.socks) >= made + 5, 10)     # and a few more after it
    churn.stop.set()
    churn.join(10)
    check("apt-get install %s (the upgrade)" % os.path.basename(cur), p.returncode == 0, p.stdout + p.stderr)
    want = os.path.basename(cur).split("_")[1]
    check("installed: %s" % want, installed_version() == want, "have %s" % installed_version())
    st = status()
    check("the program replaced: another id", st.get("prog", {}).get("id") not in (None, prog_before),
          "before %s, after %s" % (prog_before, st.get("prog")))
    att = sc.attachments()

    def links(atts):
        return [(a.get("cgroup"), a.get("via"), a.get("link_id")) for a in atts or []]
    check("the PBX's link kept, the new program in it",
          att and links(att) == links(att_before) and all(a.get("prog_id") == st["prog"]["id"] for a in att),
          "before %s, after %s" % (att_before, att))
    conns = connections()
    check("the held connections still armed", all(conns.get(p) == 60 for p in ports),
          "%s" % {p: conns.get(p) for p in ports})
    new = [s.getsockname()[1] for s in churn.socks]
    unarmed = [p for p in new if conns.get(p) != 60]
    check("no unarmed gap: each of the %d connections made during the upgrade armed" % len(new),
          new and not unarmed, "%d unarmed: %s" % (len(unarmed), unarmed[:20]))
    after = armed_total()
    check("the counters kept: armed %d before, +%d new" % (before, len(new)),
          after >= before + len(new), "armed %d after" % after)
    pbx_is_armed("after the upgrade")
    for s in held + churn.socks:
        s.close()


def bpftool(*what):
    return json.loads(run("bpftool", "-j", *what).stdout or "[]")


def nothing_in_kernel(when):
    # A pin's object is put an RCU grace period after its unlink: waited for, briefly.
    def ours(kind):
        return [o for o in bpftool(kind, "show") if o.get("name", "").startswith("sipka")]
    for kind in ("prog", "map"):
        check("%s: no sipka %s in the kernel" % (when, kind), wait(lambda: not ours(kind), 10),
              "%s" % ours(kind))

    def sockops():
        return [lk for lk in bpftool("link", "show") if "sock_ops" in json.dumps(lk)]
    check("%s: no sock_ops link" % when, wait(lambda: not sockops(), 10), "%s" % sockops())
    tree = run("bpftool", "cgroup", "tree").stdout
    check("%s: no cgroup attachment" % when, "sock_ops" not in tree, tree)
    check("%s: nothing in bpffs" % when, not os.path.exists("/sys/fs/bpf/sipka"),
          "%s" % os.listdir("/sys/fs/bpf/sipka") if os.path.exists("/sys/fs/bpf/sipka") else "")


def leftovers():
    """Files named for sipka, but for the test's own and the operator's drop-in."""
    ours = ("/etc/systemd/system/sipka-vmtest", "/usr/local/lib/sipka-vmtest", "/var/lib/sipka-vmtest",
            "/mnt/sipka-src", "/mnt/sipka-out",
            "/etc/systemd/system/multi-user.target.wants/sipka-vmtest", DEBS,
            "/etc/systemd/system/%s" % PBX, "/etc/systemd/system/multi-user.target.wants/%s" % PBX)
    found = run("find", "/", "-xdev", "-name", "*sipka*", check_rc=False).stdout.split()
    return [f for f in found if not f.startswith(ours)]


def remove_and_purge():
    p = apt("remove", "sipka")
    check("apt-get remove sipka", p.returncode == 0, p.stdout + p.stderr)
    check("remove: the PBX's drop-in named, which runs the removed sipka",
          "/etc/systemd/system/%s.d/sipka.conf" % PBX in p.stdout + p.stderr, p.stdout + p.stderr)
    nothing_in_kernel("after remove")
    gone = [f for f in (SIPKA, "/lib/systemd/system/sipka.service", "/usr/share/man/man8/sipka.8.gz")
            if os.path.exists(f)]
    check("remove: the binary, units and man page gone", not gone, "%s" % gone)
    check("remove: /etc/sipka/sipka.conf kept (a conffile)", os.path.exists("/etc/sipka/sipka.conf"))
    p = apt("purge", "sipka")
    check("apt-get purge sipka", p.returncode == 0, p.stdout + p.stderr)
    check("purge: /etc/sipka gone", not os.path.exists("/etc/sipka"), "%s" % os.listdir("/etc/sipka")
          if os.path.exists("/etc/sipka") else "")
    check("purge: dpkg knows no sipka", run("dpkg-query", "-W", "sipka", check_rc=False).returncode != 0)
    left = leftovers()
    check("purge: no file of sipka left", not left, "%s" % left)
    nothing_in_kernel("after purge")


def phase2():
    log("deb_check: phase 2: after the reboot, the upgrade, remove, purge")
    check("sipka.service active after the reboot", unit_state("is-active", "sipka.service") == "active",
          run("systemctl", "status", "sipka.service", check_rc=False).stdout)
    pbx_is_armed("after the reboot")
    upgrade()
    remove_and_purge()


if __name__ == "__main__":
    sc.two_phases(STATE, lambda: phase1(sys.argv[1]), phase2)
