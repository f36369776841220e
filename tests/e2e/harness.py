# SPDX-License-Identifier: GPL-2.0
"""What the real-kernel tests share: the sipka binary, a private bpffs, a
cgroup, network namespaces, nft black holes and peers placed in them.

Every resource is undone by the test that made it, and again at exit (a
failed or interrupted run leaves nothing behind)."""
import atexit
import datetime
import itertools
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# SIPKA=path picks another build (make test-sanitize: build/san/sipka).
SIPKA = os.path.abspath(os.environ.get("SIPKA") or os.path.join(ROOT, "sipka"))
NEXT = os.path.join(ROOT, "build", "next", "sipka")     # another build, same layout (make test builds it)
PEER = os.path.join(ROOT, "tests", "e2e", "peer.py")
_serial = itertools.count(1)
_undo = []      # (name, fn), run last-first
TIMEOUT = 120   # seconds any one command or answer may take before the test fails

# A sanitized build (make test-sanitize) ends with this code on any report, so that a test
# fails even when it expects the command to fail; UBSan reads only UBSAN_OPTIONS.
SANITIZER_EXIT = 86
SANITIZER_WORDS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", ": runtime error: ")
for _var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
    os.environ[_var] = ":".join(filter(None, [os.environ.get(_var), "exitcode=%d" % SANITIZER_EXIT]))


def wait_until(cond, timeout, what, interval=0.05):
    """Polls COND() until it returns something true, and returns that; fails
    after TIMEOUT seconds (COND is tried at least once) with WHAT, a string or
    a function that says what was wanted and what there is."""
    end = time.monotonic() + timeout
    while True:
        got = cond()
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError("not within %gs: %s" % (timeout, what() if callable(what) else what))
        time.sleep(interval)


def event_time(event):
    """When the kernel closed the connection of a dead-peer EVENT (sipka -j events, its "time",
    to the millisecond), as time.time() counts: a time a busy machine cannot make late, unlike
    the moment a test looks."""
    return datetime.datetime.fromisoformat(event["time"]).timestamp()


class Lines:
    """The lines of a pipe, each waited for with a deadline: a test fails, it never hangs."""

    def __init__(self, pipe):
        self.fd = pipe.fileno()     # read raw: a buffered reader would hide data from select
        self.buf = b""

    def readline(self, timeout=TIMEOUT):
        """The next line, "\n" included; "" at end of file."""
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise AssertionError("no line within %gs (so far: %r)" % (timeout, self.buf[-200:]))
            chunk = os.read(self.fd, 65536)
            if not chunk:
                line, self.buf = self.buf, b""
                return line.decode()
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode() + "\n"


class Process:
    """A process whose stdout is read line by line, each line waited for with a
    deadline, and whose stderr is read as it comes by a thread of its own (a
    chatty process never blocks on a full pipe while a test reads stdout);
    stopped with the test (SIGTERM, then SIGKILL)."""

    def __init__(self, cmd, env=None):
        self.p, self._undo = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.out = Lines(self.p.stdout)
        self.err_seen = []      # the stderr lines read so far
        self._err_more = threading.Condition()
        self._err_done = False
        self._err_reader = threading.Thread(target=self._read_err, daemon=True)
        self._err_reader.start()

    def _read_err(self):
        for line in iter(self.p.stderr.readline, b""):
            with self._err_more:
                self.err_seen.append(line.decode(errors="replace"))
                self._err_more.notify_all()
        with self._err_more:
            self._err_done = True
            self._err_more.notify_all()

    def line(self, timeout=10):
        """The next line on stdout."""
        line = self.out.readline(timeout)
        if not line:
            raise AssertionError("stdout ended; stderr: %s" % self.err_seen)
        return line

    def err_line(self, containing, timeout=10, start=0):
        """Waits for a stderr line with CONTAINING, the START-th line or later; returns it."""
        end = time.monotonic() + timeout
        with self._err_more:
            while True:
                for line in self.err_seen[start:]:
                    if containing in line:
                        return line
                start = max(start, len(self.err_seen))
                if self._err_done:
                    raise AssertionError("stderr ended without '%s': %s" % (containing, self.err_seen))
                if not self._err_more.wait(end - time.monotonic()) and time.monotonic() >= end:
                    raise AssertionError("no '%s' on stderr within %ss: %s"
                                         % (containing, timeout, self.err_seen))

    def err_ended(self, timeout=10):
        """Waits for the end of stderr (the process has ended); all of it is in err_seen."""
        self._err_reader.join(timeout)
        if self._err_reader.is_alive():
            raise AssertionError("stderr still open after %ss: %s" % (timeout, self.err_seen))

    def stop(self):
        """Stops it; returns its exit status. What it wrote on stderr is in err_seen."""
        undo(self._undo)
        self.err_ended(5)
        return self.p.returncode

    def rest(self):
        """The lines left on stdout once it has stopped."""
        return list(iter(lambda: self.out.readline(5), ""))


def unique(prefix):
    return "%s%d-%d" % (prefix, os.getpid(), next(_serial))


def run(*cmd, check=True, **kw):
    cmd = [str(c) for c in cmd]
    kw.setdefault("timeout", TIMEOUT)
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode == SANITIZER_EXIT or any(w in p.stderr for w in SANITIZER_WORDS):
        raise AssertionError("sanitizer report from %s:\n%s" % (" ".join(cmd), p.stderr))
    if check and p.returncode:
        raise AssertionError("%s failed (%d): %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
    return p


def defer(fn, name):
    """Registers FN to undo something; returns a handle for undo()."""
    entry = (name, fn)
    _undo.append(entry)
    return entry


def undo(entry):
    if entry in _undo:
        _undo.remove(entry)
        try:
            entry[1]()
        except Exception as e:  # keep undoing the rest
            print("cleanup of %s failed: %s" % (entry[0], e))


def undo_all():
    while _undo:
        undo(_undo[-1])


def _terminate(signum, _frame):
    raise SystemExit(128 + signum)     # so atexit undoes everything


atexit.register(undo_all)
signal.signal(signal.SIGTERM, _terminate)


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            if right.split()[0] == "cgroup2":
                return left.split()[4]
    raise unittest.SkipTest("cgroup v2 is not mounted")


def remove_cgroup(path):
    """Removes cgroup PATH (gone already is fine), killing what is left in it."""
    def removed():      # processes may take a moment to leave
        try:
            os.rmdir(path)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            with open(os.path.join(path, "cgroup.procs")) as f:
                for pid in f.read().split():
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            return False
    wait_until(removed, 30, "cgroup %s removed" % path, interval=0.1)


def spawn(cmd, cgroup=None, netns=None, **popen):
    """CMD in CGROUP (joined first) and network namespace NETNS, stopped with
    the test: SIGTERM, then SIGKILL."""
    if netns:
        cmd = ["nsenter", "--net=/run/netns/" + netns] + list(cmd)

    def join():
        if cgroup:
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
    p = subprocess.Popen([str(c) for c in cmd], preexec_fn=join, **popen)

    def stop():
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        p.wait(TIMEOUT)
    return p, defer(stop, "process %s" % cmd[0])


class Peer:
    """peer.py in a cgroup and/or a network namespace."""

    def __init__(self, cgroup=None, netns=None):
        self.p, self._undo = spawn(["python3", PEER], cgroup, netns, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)
        self.lines = Lines(self.p.stdout)

    def __call__(self, *words, timeout=TIMEOUT, any_port=False):
        """WORDS to peer.py; its answer. ANY_PORT: a port that need not be the suite's (a
        listener no connection reaches: a host's rule on it changes nothing)."""
        if words[0] in ("listen", "connect", "churn", "churn-start", "resets") and not any_port:
            suite_port(words[2])       # words[2] is the port
            skip_if_host_covers(words[2])
        self.p.stdin.write(" ".join(str(w) for w in words) + "\n")
        self.p.stdin.flush()
        line = self.lines.readline(timeout)
        if not line:
            raise AssertionError("peer died on: %s" % " ".join(map(str, words)))
        answer = json.loads(line)
        if "error" in answer:
            raise AssertionError("peer: %s: %s" % (" ".join(map(str, words)), answer["error"]))
        return answer

    def close(self):
        undo(self._undo)


class Env(unittest.TestCase):
    """A private bpffs with sipka's pins, a cgroup for the PBX, a netns."""

    def setUp(self):
        self.mnt = tempfile.mkdtemp(prefix="sipka-bpffs-")
        defer(lambda: os.rmdir(self.mnt), "bpffs dir")
        run("mount", "-t", "bpf", "bpf", self.mnt)
        defer(lambda: run("umount", "-l", self.mnt), "bpffs mount")
        self.pin_dir = os.path.join(self.mnt, "sipka")
        self.cg = os.path.join(cgroup2_mount(), unique("sipka-test-"))
        os.mkdir(self.cg)
        defer(self._rm_cgroup, "cgroup")
        defer(lambda: self.sipka("detach", check=False), "sipka detach")
        self.ns = self.netns()

    def tearDown(self):
        undo_all()

    def _rm_cgroup(self):
        remove_cgroup(self.cg)

    def child_cgroup(self, name):
        """A cgroup NAME under self.cg (a second PBX: "asterisk.service"), removed
        with the test, before self.cg: its path."""
        path = os.path.join(self.cg, name)
        os.mkdir(path)
        defer(lambda: remove_cgroup(path), "cgroup " + name)
        return path

    def sipka(self, *args, check=True, json_out=False, pin_dir=None):
        cmd = [SIPKA, "--pin-dir", pin_dir or self.pin_dir] + (["-j"] if json_out else []) + list(args)
        p = run(*cmd, check=check)
        return json.loads(p.stdout) if json_out else p

    def attach(self, *args):
        """sipka attach on the test's cgroup. A first attach without --config gets the embedded
        default's rules on the suite's ports: the default itself when they are not moved."""
        if "--config" not in args and not os.path.exists(os.path.join(self.pin_dir, "config")):
            args += self.first_rules()
        return self.sipka("attach", "--cgroup", self.cg, *args)

    def first_rules(self):
        """What a first attach or load is given for the embedded default's rules on the suite's
        ports: nothing when they are not moved, else --config with them moved."""
        return ("--config", self.default_conf()) if port_offset() else ()

    def default_conf(self):
        """A config file with the embedded default's rules (5060 tcp, 5061 tls) on port(5060), port(5061)."""
        return self.conf("[tcp]\nport = %d\n[tls]\nport = %d\n" % (port(5060), port(5061)))

    def conf(self, text):
        """A config file with TEXT, removed with the test."""
        fd, path = tempfile.mkstemp(prefix="sipka-", suffix=".conf")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        defer(lambda: os.unlink(path), "config file")
        return path

    def trusted_dir(self):
        """A directory an action (sipka events --exec) may run from: root's, 0755, on a path
        of root's directories no one else may write (/tmp is everyone's), in a file system
        that lets programs run (Debian's initramfs mounts /run noexec): under /run or else
        /var/lib. Removed with the test."""
        parent = next(d for d in ("/run", "/var/lib") if not os.statvfs(d).f_flag & os.ST_NOEXEC)
        d = tempfile.mkdtemp(prefix="sipka-actions-", dir=parent)
        os.chmod(d, 0o755)
        defer(lambda: shutil.rmtree(d, ignore_errors=True), "actions dir")
        return d

    def stats(self, port):
        for row in self.sipka("stats", json_out=True):
            if row["port"] == port:
                return row
        raise AssertionError("no stats row for port %d" % port)

    def wait_stats(self, port, timeout, **want):
        """Polls until the counters of PORT hold WANT; returns them and when."""
        seen = []

        def holds():
            seen[:] = [self.stats(port), time.monotonic()]
            return all(seen[0][k] == v for k, v in want.items()) and tuple(seen)
        return wait_until(holds, timeout, lambda: "port %d: wanted %s, have %s" % (port, want, seen[0]))

    def rule_times(self, sipka=SIPKA):
        """(port, time) of each live rule, as config show says; None when it fails."""
        p = run(sipka, "--pin-dir", self.pin_dir, "-j", "config", "show", check=False)
        return sorted((r["port"], r["time"]) for r in json.loads(p.stdout)) if not p.returncode else None

    def kernel_state(self):
        """What a refused command must leave as it was: the rules, the status, the programs."""
        return (self.sipka("config", "show", json_out=True), self.sipka("status", json_out=True),
                cgroup_progs(self.cg))

    def assert_whole(self, rules_ok=None):
        """What every command must leave, killed or not: status recovers it;
        every attachment runs the pinned program; no program of ours is
        attached when nothing is loaded; rules are one whole set (one of
        RULES_OK, when given). Returns the status, or None when not loaded."""
        p = self.sipka("-j", "status", check=False)
        rc, st = p.returncode, json.loads(p.stdout) if p.stdout.strip() else None
        self.assertIn(rc, (0, 3), "status failed: %s" % st)
        if not st or not st.get("loaded"):
            self.assertEqual(cgroup_progs(self.cg), [], "an orphan program is attached")
            return None
        for a in st["attachments"]:
            self.assertEqual(a["prog_id"], st["prog"]["id"], "an attachment runs another program")
        self.assertEqual(sorted(p["id"] for p in cgroup_progs(self.cg)),
                         sorted(a["prog_id"] for a in st["attachments"] if a["cgroup"] == self.cg))
        names = os.listdir(self.pin_dir)
        self.assertFalse([n for n in names if n.endswith("-new") or n.endswith("-tmp")], names)
        if rules_ok is not None:
            self.assertIn(self.rule_times(), rules_ok)
        return st

    def netns(self):
        name = unique("sipkat")
        run("ip", "netns", "add", name)
        defer(lambda: run("ip", "netns", "del", name), "netns " + name)
        self.ns_run(name, "ip", "link", "set", "lo", "up")
        return name

    def ns_run(self, ns, *cmd, **kw):
        return run("nsenter", "--net=/run/netns/" + ns, *cmd, **kw)

    def phone_link(self):
        """A second namespace, the phones, wired to self.ns:
        PBX 198.18.0.1 / 2001:db8::1, phone 198.18.0.2 / 2001:db8::2."""
        phone = self.netns()
        run("ip", "-n", self.ns, "link", "add", "pbx0", "type", "veth", "peer", "name", "phone0", "netns", phone)
        for ns, dev, n in ((self.ns, "pbx0", 1), (phone, "phone0", 2)):
            self.ns_run(ns, "ip", "addr", "add", "198.18.0.%d/24" % n, "dev", dev)
            self.ns_run(ns, "ip", "addr", "add", "2001:db8::%d/64" % n, "dev", dev, "nodad")
            self.ns_run(ns, "ip", "link", "set", dev, "up")
        return phone

    def phone_addrs(self, phone, n):
        """N more phone addresses, 198.18.0.10 up, on the phone side of the link."""
        addrs = ["198.18.0.%d" % (10 + i) for i in range(n)]
        for a in addrs:
            self.ns_run(phone, "ip", "addr", "add", a + "/24", "dev", "phone0")
        return addrs

    def black_hole(self, ns):
        """Drops every packet in and out of NS, as a NAT that forgot the flow."""
        rules = ("table inet sipka_bh {\n"
                 " chain in { type filter hook input priority 0; policy drop; }\n"
                 " chain out { type filter hook output priority 0; policy drop; }\n}\n")
        self.ns_run(ns, "nft", "-f", "-", input=rules)

    def resets(self, pbx, lid, phone, addr, n, batch_size=200):
        """N connections to the PBX, each reset by the phone while the PBX still has it
        open: a PBX that closed first (an accept-then-close) could have its FIN acked
        before the reset came, and that connection would end as an ordinary close."""
        done = self.stats(port(5060))["reset"]
        for start in range(0, n, batch_size):
            batch = min(batch_size, n - start)
            ends = [phone("connect", addr, port(5060))["id"] for _ in range(batch)]
            held = [pbx("accept", lid)["id"] for _ in range(batch)]
            for c in ends:
                phone("rst", c)
            done += batch
            self.wait_stats(port(5060), 20, reset=done)     # the PBX has seen each reset...
            for c in held:                             # ...and only now closes its sockets
                pbx("close", c)

    def pbx(self):
        return Peer(cgroup=self.cg, netns=self.ns)

    def phone_call(self, to=None):
        """A phone (outside the cgroup) connected to the PBX on 127.0.0.1:TO
        (port(5060) by default), the PBX having accepted: (pbx, phone)."""
        to = to or port(5060)
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", "127.0.0.1", to)["id"]
        phone("connect", "127.0.0.1", to)
        pbx("accept", lid)
        return pbx, phone

    def phantoms(self, cg, port_, n):
        """A PBX in CG that never closes a connection, even after the peer's FIN,
        and N phones that connected to it on 127.0.0.1:PORT_ and closed: N
        connections in CLOSE_WAIT, the phantoms. Returns the PBX."""
        pbx, phone = Peer(cgroup=cg, netns=self.ns), self.outsider()
        pbx("hold", pbx("listen", "127.0.0.1", port_)["id"])
        ids = [phone("connect", "127.0.0.1", port_)["id"] for _ in range(n)]
        wait_until(lambda: pbx("held")["n"] == n, 10, "the PBX accepted %d" % n)
        for i in ids:
            phone("close", i)
        self.phantom_peers = (pbx, phone)
        return pbx

    def outsider(self, ns=None):
        return Peer(netns=ns or self.ns)


def cgroup_progs(cg):
    """The programs attached to CG, as bpftool shows them (dicts with id, attach_type, ...)."""
    out = run("bpftool", "-j", "cgroup", "show", cg).stdout.strip()
    return json.loads(out) if out else []     # bpftool prints nothing for none


def rules_of(text):
    """(port, time) of each rule a config file TEXT makes, as config show says."""
    out = []
    for line in text.splitlines():
        if line.startswith("port"):
            out.append([int(line.split("=")[1]), 60])
        if line.startswith("tcp_keepalive_time"):
            out[-1][1] = int(line.split("=")[1])
    return sorted(tuple(r) for r in out)


def need_root():
    if os.geteuid() != 0:
        raise unittest.SkipTest("needs root (BPF, cgroups, namespaces)")
    for tool in ("ip", "nsenter", "nft", "bpftool"):
        if not shutil.which(tool):
            raise unittest.SkipTest("needs %s" % tool)


# The host's own sock_ops programs: README command 1 (`sipka attach` on the
# cgroup v2 root), a sipka on a slice, or another tool. On the cgroup v2 root
# (above every test cgroup) or above the runner's cgroup (where the phones and
# trunks run), they act on the tests' sockets too, after the test's program,
# and override what it set on the ports they cover. The tests never change
# them: a test that would listen or connect on such a port is skipped instead.
_host_progs = None


def _bpftool_json(*args):
    out = run("bpftool", "-j", *args, check=False).stdout.strip()
    return json.loads(out) if out else []


def host_sock_ops():
    """[(description, ports)] of the host's sock_ops programs over the tests'
    cgroups; ports is a sipka's set of rule ports, or None when the program's
    rules cannot be read (then it may touch any port). Read once per run."""
    global _host_progs
    if _host_progs is not None:
        return _host_progs
    mnt = cgroup2_mount()
    with open("/proc/self/cgroup") as f:
        own = next((l[3:].strip() for l in f if l.startswith("0::")), "/")
    progs = {}
    for cg in (mnt, os.path.join(mnt, own.lstrip("/"))):
        for p in _bpftool_json("cgroup", "show", cg, "effective"):
            if p.get("attach_type", "").endswith("sock_ops"):     # bpftool 7: cgroup_sock_ops
                progs[p["id"]] = p.get("name", "")
    def u32(entry, field):
        f = entry.get("formatted", {}).get(field)
        return f if isinstance(f, int) else int.from_bytes(bytes(int(b, 16) for b in entry[field]), "little")

    def present(entry):
        """sipka_rule_present: time, intvl or probes not 0 (an array has every port)."""
        f = entry.get("formatted", {}).get("value")
        if isinstance(f, dict):
            return any(f.get(k) for k in ("time", "intvl", "probes"))
        return any(int(b, 16) for b in entry["value"][:12])

    _host_progs = []
    for pid, name in sorted(progs.items()):
        ports = None
        info = _bpftool_json("prog", "show", "id", pid) or {}
        for mid in info.get("map_ids", []):
            m = _bpftool_json("map", "show", "id", mid) or {}
            rules = []
            if m.get("type") == "hash" and m.get("name", "").endswith("config") and m.get("bytes_key") == 4:
                rules = [mid]           # sipka up to 0.1: the rules' hash, keyed by port
            elif m.get("type") == "array_of_maps" and m.get("name", "").endswith("rules"):
                rules = [e.get("inner_map_id") or u32(e, "value") for e in _bpftool_json("map", "dump", "id", mid)]
            for rid in rules:           # then: the live rule set (a hash, now an array) in an array of maps
                ports = (ports or set()) | {u32(e, "key") for e in _bpftool_json("map", "dump", "id", rid)
                                            if present(e)}
        what = "sock_ops program %d (%s)" % (pid, name or "no name")
        what += " with rules for ports %s" % sorted(ports) if ports is not None else ", rules unknown"
        _host_progs.append((what, ports))
    return _host_progs


# The suite's ports, by their usual numbers: the tests name each through port(). When a host's
# sock_ops program has rules for some of them (README command 1 covers 5060 and 5061), the whole
# set moves by one offset, chosen at run time, to numbers no host rule covers; the SIP stacks'
# configs are written with the moved numbers too. SIPKA_TEST_PORT_OFFSET forces an offset.
SUITE_PORTS = [5060, 5061, 5062, 5063, 5070, 5071, 5080, 5099, 7000, 7777, 8080, 8088, 8443]
_PORT_OFFSETS = (0, 10000, 20000)     # below the ephemeral range (32768-)
_offset = None


def port_offset():
    """What port() adds: the first offset that moves every suite port off the host's rule ports."""
    global _offset
    if _offset is None:
        forced = os.environ.get("SIPKA_TEST_PORT_OFFSET")
        if forced is not None:
            _offset = int(forced)
        elif os.geteuid() or not shutil.which("bpftool"):
            _offset = 0         # the tests will skip (need_root); importing must not fail
        else:
            covered = set()
            for _, ports in host_sock_ops():
                covered |= ports or set()     # rules unknown: no offset helps; skip_if_host_covers says so
            _offset = next((o for o in _PORT_OFFSETS if not covered & {p + o for p in SUITE_PORTS}), 0)
    return _offset


def port(n):
    """The port this run uses for the suite's port N (see SUITE_PORTS)."""
    if n not in SUITE_PORTS:
        raise ValueError("port %d is not one of the suite's ports (harness.SUITE_PORTS)" % n)
    return n + port_offset()


# Two rule sets the state tests switch between, and the (port, time) pairs config show gives for them.
CONF_A = "[tcp]\nport = %d\ntcp_keepalive_time = 11\n[tls]\nport = %d\n[ws]\nport = %d\n" % (
    port(5060), port(5061), port(8088))
CONF_B = "[tcp]\nport = %d\ntcp_keepalive_time = 22\n[trunk]\nport = %d\n" % (port(5060), port(5070))


def suite_port(p):
    """Fails unless P is port(N) of a suite port N: a test's sockets use no other."""
    if int(p) - port_offset() not in SUITE_PORTS:
        raise AssertionError("port %s is not port(N) of a suite port N (harness.SUITE_PORTS)" % p)


def skip_if_host_covers(*ports):
    """Skips the test if a host's program acts on one of PORTS."""
    for p in map(int, ports):
        for what, covered in host_sock_ops():
            if covered is None or p in covered:
                raise unittest.SkipTest("the host's %s runs on the tests' sockets after theirs and "
                                        "would override port %d (README command 1?)" % (what, p))


def skip_if_host_sock_ops():
    """Skips a test whose premise is that no program but its own runs above it."""
    for what, _ in host_sock_ops():
        raise unittest.SkipTest("the host's %s runs on the tests' sockets too" % what)
