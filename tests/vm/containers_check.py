#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""sipka with containers (vmtest's containers boot): Debian's own Podman and
Docker in the guest, no traffic beyond it, no registry. The host put into the
boot's shared directory sipka's static binary twice (sipka; sipka-next, its
program built with -O1: another program) and a tar of a Debian root file
system with Kamailio (tests/vm/pbx-root); the images are made from them here.

For each engine:
1. A Kamailio container (its own network, PID and cgroup namespaces), each
   phone in a network namespace of its own with a veth to it. `sipka attach
   --cgroup-of` the container's PID, as the engine's inspect gives it for the
   container's id, arms the connection made before the attach and one made
   after; `connections` and the events show the container's addresses and
   name the container; a phone that vanishes is found dead within its bound.
2. A container under a parent slice sipka is attached to once
   (--cgroup-parent), restarted twice: each new container's connection is
   armed, the slice's link stays live, a dead phone is found after the
   second restart.
3. sipka's own image (the Containerfile, the static binary alone): run with
   --privileged and the host's PID and cgroup namespaces and bpffs, it loads
   and attaches to the PBX container's cgroup, found by its name; its state
   stays after the container is gone; a second run with the next image
   upgrades in place (another program in the same link, counters kept, the
   held connection still armed); `events --follow` and `stats --listen` run
   as the containers' main process.
Then, with Podman, the Kubernetes DaemonSet of examples/kubernetes/: each of
its containers' arguments, user, capabilities, read-only root, security
options and volumes turned into podman's flags, on a pod-shaped cgroup tree
(the PBX container in kubepods-burstable-pod<uid>.slice): the init
container's attach arms the PBX pod, the events container prints its phone's
death, the metrics container serves the count.

Prints "ok NAME" or "FAIL NAME: why" per check on stderr, then
"N passed, N failed, 0 skipped" on stdout."""
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid

import yaml

import systemd_check as sc
from systemd_check import check, log, run, wait

OUT = sys.argv[1] if len(sys.argv) > 1 else "/mnt/sipka-out"
SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SIPKA = "/usr/local/sbin/sipka"
sc.SIPKA = SIPKA
CGROUP = "/sys/fs/cgroup"       # the guest's cgroup v2 mount (sipka status names cgroups by their path in it)
PORT = 5060
KEEPALIVE = (2, 1, 2)           # time, intvl, probes: a dead phone is found in 4 s
BOUND = KEEPALIVE[0] + KEEPALIVE[1] * KEEPALIVE[2]
SLACK = 3                       # s: the event's way out under TCG
CONF = ("[defaults]\ntcp_keepalive_time = %d\ntcp_keepalive_intvl = %d\ntcp_keepalive_probes = %d\n"
        "\n[sip]\nport = %d\n" % (*KEEPALIVE, PORT))
PBX_IMAGE = "localhost/sipka-pbx:vmtest"
IMAGE, NEXT_IMAGE = "localhost/sipka:vmtest", "localhost/sipka:next"
# The PBX waits for its network (the veths, plugged in from outside once it
# runs) before Kamailio starts: Kamailio listens on the addresses it finds.
PBX_CMD = ["sh", "-c", "while [ ! -e /cfg/ready ]; do sleep 0.1; done; "
           "exec kamailio -f /cfg/kamailio.cfg -DD -E -Y /tmp"]
KAMAILIO_CFG = """#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=2
tcp_connection_lifetime=3600
auto_aliases=no
loadmodule "sl.so"
request_route { sl_send_reply("200", "OK"); }
"""
# A phone: connects, sends OPTIONS, prints its port and the reply's status
# line, holds the connection until its stdin closes.
PHONE_PY = r"""
import socket, sys
pbx, me = sys.argv[1], sys.argv[2]
s = socket.create_connection((pbx, %d), timeout=30)
port = s.getsockname()[1]
s.sendall(("OPTIONS sip:pbx@%%s SIP/2.0\r\nVia: SIP/2.0/TCP %%s:%%d;branch=z9hG4bK-%%d\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:phone@%%s>;tag=%%d\r\nTo: <sip:pbx@%%s>\r\n"
           "Call-ID: %%d@%%s\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
           %% (pbx, me, port, port, me, port, pbx, port, me)).encode())
print(port, s.recv(4096).split(b"\r\n")[0].decode(), flush=True)
sys.stdin.read()
""" % PORT

cleanups = []


def sh(*cmd, timeout=600):
    """A command that may take long under TCG (an import, a build)."""
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), p.returncode, (p.stderr or p.stdout)[-800:]))
    return p


def sipka_json(*args):
    return json.loads(run(SIPKA, "-j", *args).stdout)


def connection(phone):
    return next((c for c in sipka_json("connections") if c["remote_addr"] == phone.addr), None)


class Phone:
    """A network namespace of its own, 10.77.N.2, with a veth to a PBX
    container's 10.77.N.1 (plugged in by Pbx.plumb)."""
    count = 0

    def __init__(self):
        Phone.count += 1
        self.n = Phone.count
        self.ns = "sipkavm-ph%d" % self.n
        self.addr, self.pbx_addr = "10.77.%d.2" % self.n, "10.77.%d.1" % self.n
        self.veth = "svph%d" % self.n
        self.proc = None
        run("ip", "netns", "add", self.ns)
        cleanups.append(lambda: run("ip", "netns", "del", self.ns, check_rc=False))

    def connect(self):
        """Connects to the PBX (OPTIONS, 200 OK) and holds the connection."""
        self.proc = subprocess.Popen(["nsenter", "--net=/run/netns/" + self.ns, "python3", "-c", PHONE_PY,
                                      self.pbx_addr, self.addr], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        cleanups.append(self.proc.kill)
        line = self.proc.stdout.readline().split(None, 1)
        if len(line) != 2 or not line[1].startswith("SIP/2.0 200"):
            raise RuntimeError("phone %s: no 200 from the PBX: %r %s" % (self.addr, line, self.proc.stderr.read()))
        self.port = int(line[0])
        return self

    def vanish(self):
        """Gone without a FIN or RST: everything to and from it dropped."""
        subprocess.run(["ip", "netns", "exec", self.ns, "nft", "-f", "-"], check=True, text=True, input="""
            table inet sipkavm {
                chain in { type filter hook input priority 0; policy drop; }
                chain out { type filter hook output priority 0; policy drop; }
            }""")
        return time.monotonic()


class Events:
    """`sipka -j events --follow` on the host, read as the events come. The
    ring buffer has one reader at a time: stopped while a container reads."""

    def __init__(self):
        self.start()

    def start(self):
        self.lines = []
        self.proc = subprocess.Popen([SIPKA, "-j", "events", "--follow"], stdout=subprocess.PIPE, text=True)
        cleanups.append(self.proc.kill)
        threading.Thread(target=self.read, args=(self.proc, self.lines), daemon=True).start()

    @staticmethod
    def read(proc, lines):
        for line in proc.stdout:
            lines.append((time.monotonic(), json.loads(line)))

    def stop(self):
        self.proc.kill()
        self.proc.wait()

    def seen(self):
        return self.lines

    def of(self, phone, timeout):
        """When the event of PHONE's death was seen, and the event."""
        return wait(lambda: next(((t, e) for t, e in self.seen() if e["remote_addr"] == phone.addr), None),
                    timeout)


class ContainerEvents(Events):
    """`sipka -j events --follow` as a container's main process: its log."""

    def __init__(self, engine, name, *args):
        """ARGS: `ENGINE run`'s, its image and command included."""
        self.engine, self.name = engine, name
        cleanups.append(lambda: run(engine, "rm", "-f", name, check_rc=False))
        sh(engine, "run", "-d", "--name", name, *args)
        self.lines = []

    def seen(self):
        for line in run(self.engine, "logs", self.name, check_rc=False).stdout.splitlines()[len(self.lines):]:
            self.lines.append((time.monotonic(), json.loads(line)))
        return self.lines

    def reading(self):
        """Once it holds the reader's lock: an OFD lock on the bpffs's root
        (the pin dir's parent), in /proc/locks."""
        st = os.stat("/sys/fs/bpf")
        dev = "%02x:%02x:%d" % (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)

        def held():
            with open("/proc/locks") as f:
                return any("OFDLCK" in line and dev in line.split() for line in f)
        return wait(held, 30)

    def stop(self):
        run(self.engine, "rm", "-f", self.name)


class Pbx:
    """A Kamailio container of ENGINE with no network of the engine's: each
    phone's veth is plugged into its network namespace from outside."""

    def __init__(self, engine, name, phones, *flags):
        self.engine, self.name, self.phones = engine, name, phones
        self.dir = "/root/" + name
        os.makedirs(self.dir)
        cleanups.append(lambda: shutil.rmtree(self.dir, ignore_errors=True))
        with open(os.path.join(self.dir, "kamailio.cfg"), "w") as f:
            f.write(KAMAILIO_CFG)
        cleanups.append(lambda: run(engine, "rm", "-f", name, check_rc=False))
        self.id = sh(engine, "run", "-d", "--name", name, "--network", "none", "-v", self.dir + ":/cfg:ro",
                     *flags, PBX_IMAGE, *PBX_CMD).stdout.strip().splitlines()[-1]
        self.label = "%s:%s" % (engine, self.id[:12])
        self.plumb(0)

    def pid(self):
        p = run(self.engine, "inspect", "-f", "{{.State.Pid}}", self.name, check_rc=False)
        return int(p.stdout) if p.returncode == 0 and p.stdout.strip().isdigit() else 0

    def cgroup(self):
        with open("/proc/%d/cgroup" % self.pid()) as f:
            return next(line[3:].strip() for line in f if line.startswith("0::"))

    def plumb(self, old_pid):
        pid = wait(lambda: self.pid() not in (0, old_pid) and self.pid(), 60)
        if not pid:
            raise RuntimeError("%s: no new process" % self.name)
        into = ["nsenter", "-t", str(pid), "-n", "ip"]
        for ph in self.phones:
            eth = "eth%d" % ph.n
            run("ip", "-n", ph.ns, "link", "del", ph.veth, check_rc=False)  # the last start's, if not yet gone
            run("ip", "link", "add", ph.veth, "type", "veth", "peer", "name", eth, "netns", str(pid))
            run("ip", "link", "set", ph.veth, "netns", ph.ns)
            run("ip", "-n", ph.ns, "addr", "add", ph.addr + "/24", "dev", ph.veth)
            run("ip", "-n", ph.ns, "link", "set", ph.veth, "up")
            run(*into, "addr", "add", ph.pbx_addr + "/24", "dev", eth)
            run(*into, "link", "set", eth, "up")
        run(*into, "link", "set", "lo", "up")
        open(os.path.join(self.dir, "ready"), "w").close()
        listening = wait(lambda: ":%d" % PORT in run("nsenter", "-t", str(pid), "-n", "ss", "-tlnH").stdout, 60)
        if not listening:
            raise RuntimeError("%s: Kamailio does not listen: %s" % (
                self.name, run(self.engine, "logs", self.name, check_rc=False).stderr[-800:]))

    def restart(self):
        old = self.pid()
        os.unlink(os.path.join(self.dir, "ready"))
        sh(self.engine, "restart", self.name)
        self.plumb(old)


def armed(name, phone, pbx):
    """PHONE's connection, as `sipka connections` shows it: armed with the
    rule's keepalive, at the container's address, naming the container."""
    c = wait(lambda: connection(phone), 10)
    if not check(name + ": listed", c, "no connection from %s in sipka connections" % phone.addr):
        return False
    return check(name + ": armed with the rule's keepalive, at the container's address, naming it",
                 c["armed"] and c["keepalive"]["on"] and c["keepalive"]["time"] == KEEPALIVE[0] and
                 (c["local_addr"], c["local_port"], c["remote_port"]) == (phone.pbx_addr, PORT, phone.port) and
                 c["pbx"] == pbx.label, json.dumps(c))


def found_dead(name, phone, pbx, events):
    gone = phone.vanish()
    got = events.of(phone, BOUND + SLACK + 5)
    if not check(name + ": its death an event", got, "no event for %s in %d s" % (phone.addr, BOUND + SLACK + 5)):
        return
    t, e = got
    log("     found dead %.1f s after it vanished (bound %d s)" % (t - gone, BOUND))
    check(name + ": a keepalive death within its bound, the container's address and name",
          t - gone <= BOUND + SLACK and e["reason"] == "keepalive" and
          (e["local_addr"], e["local_port"], e["remote_port"], e["pbx"]) ==
          (phone.pbx_addr, PORT, phone.port, pbx.label),
          "%.1f s: %s" % (t - gone, json.dumps(e)))


def armed_from_host(engine, conf_dir, events):
    """1: a PBX container armed by its PID as the engine gives it for its id."""
    conf = os.path.join(conf_dir, "sipka.conf")
    early, late = Phone(), Phone()
    pbx = Pbx(engine, "sipkavm-pbx-" + engine, [early, late])
    early.connect()
    pid = run(engine, "inspect", "-f", "{{.State.Pid}}", pbx.id).stdout.strip()
    check(engine + " attach --cgroup-of its PID", run(SIPKA, "attach", "--config", conf, "--cgroup-of", pid,
                                                      check_rc=False).returncode == 0)
    armed(engine + " the connection from before the attach", early, pbx)
    armed(engine + " a connection after the attach", late.connect(), pbx)
    found_dead(engine + " a phone that vanishes", late, pbx, events)
    run(SIPKA, "detach", "--cgroup-of", pid)
    run(engine, "rm", "-f", pbx.name)


def restarts(engine, conf_dir, events):
    """2: the documented recipe: a slice attached once, the container under it."""
    conf = os.path.join(conf_dir, "sipka.conf")
    slice_ = "sipkavm%s.slice" % engine
    unit = "/run/systemd/system/" + slice_
    with open(unit, "w") as f:
        f.write("[Unit]\nDescription=sipka vmtest: %s's PBX containers\n" % engine)
    cleanups.append(lambda: os.path.exists(unit) and os.unlink(unit))
    run("systemctl", "daemon-reload")
    run("systemctl", "start", slice_)
    cleanups.append(lambda: run("systemctl", "stop", slice_, check_rc=False))
    run(SIPKA, "attach", "--config", conf, "--cgroup", slice_)
    phones = [Phone() for _ in range(3)]
    pbx = Pbx(engine, "sipkavm-pbx2-" + engine, phones, "--cgroup-parent", slice_)
    check(engine + " the container under the slice", pbx.cgroup().startswith("/%s/" % slice_), pbx.cgroup())
    armed(engine + " before the restarts", phones[0].connect(), pbx)
    for i in (1, 2):
        before = os.stat(CGROUP + pbx.cgroup()).st_ino
        pbx.restart()
        after = os.stat(CGROUP + pbx.cgroup()).st_ino
        check("%s restart %d: a new cgroup" % (engine, i), after != before, "cgroup inode %d again" % after)
        armed("%s after restart %d" % (engine, i), phones[i].connect(), pbx)
        links = [a for a in sipka_json("status")["attachments"] if a["cgroup"] == CGROUP + "/" + slice_]
        check("%s restart %d: the slice's link live" % (engine, i), len(links) == 1 and not links[0]["defunct"],
              json.dumps(links))
    found_dead(engine + " after two restarts, a phone that vanishes", phones[2], pbx, events)
    run(engine, "rm", "-f", pbx.name)
    run(SIPKA, "detach", "--cgroup", slice_)


def as_container(engine, conf_dir, events):
    """3: sipka's own image: attach, state kept, upgrade, events, metrics."""
    run(SIPKA, "detach")            # nothing loaded: the container loads it
    phones = [Phone() for _ in range(3)]
    pbx = Pbx(engine, "sipkavm-pbx3-" + engine, phones)
    host = [engine, "run", "--privileged", "--pid=host", "--cgroupns=host", "--network", "none",
            "-v", "/sys/fs/bpf:/sys/fs/bpf"]
    attach = ["-v", conf_dir + ":/etc/sipka:ro"]
    config = ["--config", "/etc/sipka/sipka.conf"]
    pid = run(engine, "inspect", "-f", "{{.State.Pid}}", pbx.name).stdout.strip()
    first = sh(*host, "--rm", *attach, IMAGE, "-j", "attach", *config, "--cgroup-of", pid)
    check(engine + " sipka's container loads and attaches", '"program":"loaded"' in first.stdout.replace(" ", ""),
          first.stdout + first.stderr)
    status = sipka_json("status")
    check(engine + " its state stays in the host's bpffs after it is gone",
          status["loaded"] and [a["cgroup"] for a in status["attachments"]] == [CGROUP + pbx.cgroup()],
          json.dumps(status))
    armed(engine + " armed by sipka's container", phones[0].connect(), pbx)
    counters = next(r for r in sipka_json("stats") if r["port"] == PORT)
    second = sh(*host, "--rm", *attach, NEXT_IMAGE, "-j", "attach", *config, "--cgroup-of", pid)
    after = sipka_json("status")
    link0, link1 = status["attachments"][0], after["attachments"][0]
    check(engine + " a second run (the next image) upgrades in place",
          '"program":"upgraded"' in second.stdout.replace(" ", "") and after["prog"]["id"] != status["prog"]["id"]
          and link1["link_id"] == link0["link_id"] and link1["prog_id"] == after["prog"]["id"],
          second.stdout + json.dumps(after))
    now = next(r for r in sipka_json("stats") if r["port"] == PORT)
    check(engine + " the counters kept", all(now[k] >= counters[k] for k in ("armed", "active")), "%s, then %s" % (
        counters, now))
    armed(engine + " the held connection, after the upgrade", phones[0], pbx)
    armed(engine + " a new connection, after the upgrade", phones[1].connect(), pbx)

    events.stop()                   # one reader at a time: the container's now
    reader = ContainerEvents(engine, "sipkavm-events-" + engine, *host[2:], NEXT_IMAGE, "-j", "events", "--follow")
    metrics = "sipkavm-metrics-" + engine
    cleanups.append(lambda: run(engine, "rm", "-f", metrics, check_rc=False))
    sh(*host, "-d", "--name", metrics, NEXT_IMAGE, "stats", "--listen", "0.0.0.0:9560")
    check(engine + " events --follow as a container's main process reads", reader.reading(),
          run(engine, "logs", reader.name, check_rc=False).stderr[-500:])
    second = run(SIPKA, "events", check_rc=False)
    check(engine + " while it reads, a reader on the host is refused (one reader at a time)",
          second.returncode != 0 and "one reader at a time" in second.stderr, second.stdout + second.stderr)
    found_dead(engine + " events --follow as a container's main process: a phone that vanishes", phones[1], pbx,
               reader)
    scraped = scrape(engine, metrics)
    check(engine + " stats --listen as a container's main process counts it", dead_counted(scraped),
          scraped[-1500:])
    reader.stop()
    events.start()
    run(engine, "rm", "-f", metrics, pbx.name)


def scrape(engine, name):
    """GET /metrics inside container NAME's network namespace."""
    pid = wait(lambda: int(run(engine, "inspect", "-f", "{{.State.Pid}}", name).stdout or 0), 30)
    get = ("import http.client; c = http.client.HTTPConnection('127.0.0.1', 9560, timeout=10); "
           "c.request('GET', '/metrics'); print(c.getresponse().read().decode())")
    p = wait(lambda: run("nsenter", "-t", str(pid), "-n", "python3", "-c", get, check_rc=False).stdout, 30)
    return p or ""


def dead_counted(metrics):
    return re.search(r'^sipka_dead_peers_total\{port="%d",[^}]*reason="keepalive"\} [1-9]' % PORT, metrics, re.M)


def kubernetes(events):
    """The DaemonSet's containers, as podman runs them on a pod-shaped tree."""
    run(SIPKA, "detach")
    with open(os.path.join(SRC, "examples", "kubernetes", "daemonset.yaml")) as f:
        pod = yaml.safe_load(f)["spec"]["template"]["spec"]
    with open(os.path.join(SRC, "examples", "kubernetes", "configmap.yaml")) as f:
        conf = yaml.safe_load(f)["data"]["sipka.conf"]
    # The ConfigMap's rules with this boot's short keepalive (its own is 60/10x3).
    for key, v in zip(("time", "intvl", "probes"), KEEPALIVE):
        conf = re.sub(r"(?m)^tcp_keepalive_%s = \d+$" % key, "tcp_keepalive_%s = %d" % (key, v), conf)
    cm = "/root/sipkavm-configmap"
    os.makedirs(cm)
    cleanups.append(lambda: shutil.rmtree(cm, ignore_errors=True))
    with open(os.path.join(cm, "sipka.conf"), "w") as f:
        f.write(conf)
    volumes = {v["name"]: v for v in pod["volumes"]}

    def flags(c):
        s = c["securityContext"]
        f = ["--pid=host"] if pod.get("hostPID") else []
        f += ["--cgroupns=private", "--network", "none",      # Kubernetes' cgroup v2 default; a pod network
              "--user", "%d:%d" % (s["runAsUser"], s["runAsGroup"])]
        f += ["--privileged"] if s.get("privileged") else []
        f += ["--read-only"] if s.get("readOnlyRootFilesystem") else []
        f += ["--cap-drop=all"] if "ALL" in s["capabilities"].get("drop", []) else []
        f += ["--cap-add=" + cap for cap in s["capabilities"].get("add", [])]
        f += ["--security-opt=no-new-privileges"] if s.get("allowPrivilegeEscalation") is False else []
        f += ["--security-opt=seccomp=unconfined"] if s["seccompProfile"]["type"] == "Unconfined" else []
        f += ["--security-opt=apparmor=unconfined"] if s["appArmorProfile"]["type"] == "Unconfined" else []
        for m in c.get("volumeMounts", []):
            v = volumes[m["name"]]
            src = v["hostPath"]["path"] if "hostPath" in v else cm
            f += ["-v", "%s:%s%s" % (src, m["mountPath"], ":ro" if m.get("readOnly") else "")]
        return f

    containers = {c["name"]: c for c in pod["initContainers"] + pod["containers"]}
    uid = str(uuid.uuid4()).replace("-", "_")
    phone = Phone()
    pbx = Pbx("podman", "sipkavm-pbx-pod", [phone], "--cgroup-parent", "kubepods-burstable-pod%s.slice" % uid)
    check("kubernetes: the PBX in a pod-shaped cgroup",
          pbx.cgroup().startswith("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice/" % uid),
          pbx.cgroup())
    cleanups.append(lambda: run("systemctl", "stop", "kubepods.slice", check_rc=False))
    init = containers["attach"]
    p = run("podman", "run", "--rm", *flags(init), IMAGE, *init["args"], check_rc=False)
    check("kubernetes: the init container's attach", p.returncode == 0, p.stderr)
    armed("kubernetes: the PBX pod's connection", phone.connect(), pbx)
    events.stop()                   # one reader at a time: the events container's now
    c = containers["events"]
    reader = ContainerEvents("podman", "sipkavm-k8s-events", *flags(c), IMAGE, *c["args"])
    c = containers["metrics"]
    cleanups.append(lambda: run("podman", "rm", "-f", "sipkavm-k8s-metrics", check_rc=False))
    sh("podman", "run", "-d", "--name", "sipkavm-k8s-metrics", *flags(c), IMAGE, *c["args"])
    check("kubernetes: the events container reads", reader.reading(),
          run("podman", "logs", reader.name, check_rc=False).stderr[-500:])
    found_dead("kubernetes: the events container: the pod's phone that vanishes", phone, pbx, reader)
    scraped = scrape("podman", "sipkavm-k8s-metrics")
    check("kubernetes: the metrics container counts it", dead_counted(scraped), scraped[-1500:])
    reader.stop()
    events.start()


def images(engine, conf_dir, events):
    """0: the images: the PBX's imported from the tar, sipka's two built from the Containerfile."""
    sh(engine, "import", os.path.join(OUT, "pbx-root.tar"), PBX_IMAGE)
    for tag, binary in ((IMAGE, "sipka"), (NEXT_IMAGE, "sipka-next")):
        ctx = "/root/ctx-" + binary
        os.makedirs(ctx + "/build/static", exist_ok=True)
        shutil.copy(os.path.join(SRC, "Containerfile"), ctx)
        shutil.copy(os.path.join(OUT, binary), ctx + "/build/static/sipka")
        sh(engine, "build", "-t", tag, "-f", ctx + "/Containerfile", ctx)
    v = run(engine, "run", "--rm", "--network", "none", IMAGE, "--version", check_rc=False)
    check(engine + " sipka's image, built offline from the Containerfile, runs", v.stdout.startswith("sipka "),
          v.stdout + v.stderr)


def main():
    shutil.copy(os.path.join(OUT, "sipka"), SIPKA)
    os.chmod(SIPKA, 0o755)
    conf_dir = "/root/sipkavm-etc"
    os.makedirs(conf_dir, exist_ok=True)
    conf = os.path.join(conf_dir, "sipka.conf")
    with open(conf, "w") as f:
        f.write(CONF)
    # Docker without its bridge and iptables rules: the containers here have none.
    os.makedirs("/etc/docker", exist_ok=True)
    with open("/etc/docker/daemon.json", "w") as f:
        json.dump({"bridge": "none", "iptables": False}, f)
    run("systemctl", "unmask", "containerd.service", "docker.service", "docker.socket")
    sh("systemctl", "start", "docker.service")
    log("guest: %s; %s" % (run("podman", "--version").stdout.strip(), run("docker", "--version").stdout.strip()))
    run(SIPKA, "load", "--config", conf)
    events = Events()
    for engine in ("podman", "docker"):
        start = time.monotonic()
        for part in (images, armed_from_host, restarts, as_container):
            try:
                part(engine, conf_dir, events)
            except Exception as e:      # this part cannot go on: a failure, then the next part
                check("%s %s" % (engine, part.__doc__.split(".")[0]), False, repr(e))
                if part is images:      # nothing to run without them
                    break
        log("guest: %s took %d s" % (engine, time.monotonic() - start))
    try:
        kubernetes(events)
    except Exception as e:
        check("kubernetes", False, repr(e))


if __name__ == "__main__":
    try:
        main()
    finally:
        for f in reversed(cleanups):
            try:
                f()
            except Exception as e:
                log("cleanup:", repr(e))
        run(SIPKA, "detach", check_rc=False)
    print("%d passed, %d failed, 0 skipped" % (sum(sc.results), len(sc.results) - sum(sc.results)))
