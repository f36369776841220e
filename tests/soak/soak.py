#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make soak: everything at once for SOAK_MINUTES (default 30), then exact books.

At the same time, for the whole run:
- churn on three rule ports, both ends in the PBX's cgroup: serial (one thread) on
  port(5060), parallel on port(5061) (4 threads) and port(5062) (2 threads);
- a few hundred idle phones held on port(5062) from a second network namespace,
  some black-holed (an nft set of their ports) on a schedule and replaced by new ones;
- a rule change every few seconds (config set, del, load, attach --config);
- an upgrade every few minutes (build/next/sipka and ./sipka in turn), and now and
  then a command killed at a random bpf() call (strace's inject, as test_killed);
- a second cgroup attached, churned in, and detached, over and over;
- sipka events --follow and sipka stats --watch running throughout, sipka
  connections run over and over.
At the end it checks the books (see the checks below) and prints a summary with
the figures, ending "soak: N passed, N failed" like the other suites."""
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))
import harness  # noqa: E402
from harness import NEXT, SIPKA, Env, Peer, cgroup_progs, need_root, port, run, unique, wait_until  # noqa: E402

MINUTES = float(os.environ.get("SOAK_MINUTES", "30"))
SECONDS = MINUTES * 60
PHONES = int(os.environ.get("SOAK_PHONES", "300"))     # idle phones held at any time
BH_BATCH = 10                                          # phones black-holed at each turn
BH_EVERY = 20                                          # seconds between black-hole turns
RULE_EVERY = 3                                         # seconds between rule changes
UPGRADE_EVERY = max(30, min(180, SECONDS / 10))        # an upgrade every few minutes (at least 6 a run)
CG2_EVERY = 40                                         # the second cgroup: attached, then detached, each
KILL_UPGRADE, KILL_RULE = 1 / 3, 1 / 8                 # chance that such a command is killed
# Churn in batches with a pause between them: a batch of 200 takes some 20 ms on loopback, so
# the churn is some thousands of connections a second, and leaves room for the rest of a
# shared 2-core machine.
CHURN_PAUSE = float(os.environ.get("SOAK_CHURN_PAUSE", "0.2"))
SAMPLE_EVERY = 5                                       # the readers' RSS and fds
# The readers' bound: after the warm-up (the first fifth of the run, at least 30 s), neither
# RSS nor open fds may grow past the largest value seen during the warm-up by more than this.
# A leak of 64 bytes per stats redraw (1/s) would pass it only in runs under 34 minutes
# (128 KiB / 64 B = 2048 redraws); the figures say how far below it the run stayed.
RSS_BOUND_KB = 128
PHONE_TIME, PHONE_INTVL, PHONE_PROBES = 2, 1, 2        # port C's rule: a dead phone found in 4 s
TRACED = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0")
PHONE_ADDR, PBX_ADDR = "198.18.0.2", "198.18.0.1"


def log(msg):
    print("[%7.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


T0 = time.monotonic()


class Reader:
    """A long-running sipka reader whose stdout and stderr are drained by threads
    (a pipe left full would stop it, and flat memory would then prove nothing)."""

    def __init__(self, name, cmd, keep_lines):
        self.name = name
        self.p, self._undo = harness.spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines, self.err, self.out_count, self.last_out = [], [], 0, None
        self.keep = keep_lines
        self.samples = []       # (seconds, VmRSS kB, open fds)
        self.threads = [threading.Thread(target=self._drain, args=(self.p.stdout, True), daemon=True),
                        threading.Thread(target=self._drain, args=(self.p.stderr, False), daemon=True)]
        for t in self.threads:
            t.start()

    def _drain(self, pipe, out):
        for raw in iter(pipe.readline, b""):
            line = raw.decode(errors="replace")
            if out:
                self.out_count += 1
                self.last_out = time.monotonic()
                if self.keep:
                    self.lines.append(line)
            else:
                self.err.append(line)

    def sample(self):
        try:
            with open("/proc/%d/status" % self.p.pid) as f:
                rss = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
            fds = len(os.listdir("/proc/%d/fd" % self.p.pid))
        except (OSError, StopIteration):
            return
        self.samples.append((time.monotonic() - START, rss, fds))

    def stop(self):
        """SIGTERM; returns the exit status once both pipes are drained."""
        self.p.terminate()
        try:
            rc = self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait(10)
        for t in self.threads:
            t.join(10)
        harness.undo(self._undo)
        return rc


START = time.monotonic()


class Soak(Env):
    def runTest(self):     # unittest wants one; the soak is run by main()
        pass

    # -- bookkeeping --------------------------------------------------------------
    def init(self):
        self.results = []        # (ok, name, detail)
        self.figures = []
        self.stop_flag = threading.Event()
        self.made = {}           # port -> connections churned (each armed at both ends)
        self.made_lock = threading.Lock()
        self.errors = []         # exceptions from the background threads
        self.counts = dict(rules=0, rules_killed=0, upgrades=0, upgrades_killed=0, cg2=0,
                           conn_runs=0, conn_max_s=0.0, recovered=0, kills_tried=0, kills_too_late=0)
        self.build = SIPKA       # the build whose program is attached now
        self.seen = {}           # counters that must stay 0, as last seen
        self.bpf_calls = {}      # kind of command -> its bpf() calls, counted once under strace

    def check(self, ok, name, detail=""):
        self.results.append((bool(ok), name, detail))
        print("%-4s %s%s" % ("ok" if ok else "FAIL", name, (": " + detail) if detail else ""), flush=True)

    def cmd(self, build, *args, check=True):
        return run(build, "--pin-dir", self.pin_dir, *args, check=check)

    def add_made(self, p, n):
        with self.made_lock:
            self.made[p] = self.made.get(p, 0) + n

    # -- background load ----------------------------------------------------------
    def churner(self, peer, p, batch, threads, stop):
        """Churns BATCH connections from THREADS threads on P, over and over, until STOP is set."""
        try:
            while not stop.is_set():
                self.add_made(p, peer("churn", "127.0.0.1", p, batch, threads, timeout=120)["made"])
                stop.wait(CHURN_PAUSE)
        except Exception:
            self.errors.append("churn on %d: %s" % (p, traceback.format_exc()))

    def lister(self):
        """sipka connections, over and over, while everything else goes on."""
        try:
            while not self.stop_flag.is_set():
                t = time.monotonic()
                p = self.cmd(SIPKA, "-j", "connections", check=False)
                took = time.monotonic() - t
                if p.returncode or not isinstance(json.loads(p.stdout), list):
                    self.errors.append("connections exited %d: %s" % (p.returncode, p.stderr.strip()))
                self.counts["conn_runs"] += 1
                self.counts["conn_max_s"] = max(self.counts["conn_max_s"], took)
                self.stop_flag.wait(2)
        except Exception:
            self.errors.append("connections: %s" % traceback.format_exc())

    def sampler(self):
        while not self.stop_flag.is_set():
            for r in self.readers:
                r.sample()
            self.stop_flag.wait(SAMPLE_EVERY)

    # -- phones -------------------------------------------------------------------
    def connect_phones(self, n):
        for _ in range(n):
            ph = self.phone("connect", PBX_ADDR, self.C)["local"][1]
            self.pbx("accept", self.lid)
            self.live.add(ph)

    def black_hole_some(self):
        some = random.sample(sorted(self.live), min(BH_BATCH, len(self.live)))
        self.ns_run(self.phone_ns, "nft", "add", "element", "inet", self.nft, "bh",
                    "{ %s }" % ", ".join(map(str, some)))
        for ph in some:
            self.live.discard(ph)
            self.holed[ph] = time.monotonic()
        self.connect_phones(len(some))

    # -- writers ------------------------------------------------------------------
    def strace_count(self, kind, argv):
        """Runs ARGV once under strace, counting its bpf() calls (the run is a real one)."""
        log_path = os.path.join(os.path.dirname(self.mnt), "soak-strace-%d.txt" % os.getpid())
        p = run("strace", "-f", "-qq", "-e", "trace=bpf", "-o", log_path, *argv, check=False, env=TRACED)
        with open(log_path) as f:
            self.bpf_calls[kind] = sum(1 for line in f if "(" in line and "resumed" not in line)
        os.unlink(log_path)
        return p

    def writer(self, kind, argv, kill_chance):
        """Runs a writing command: counted under strace the first time, killed at a
        random bpf() call with KILL_CHANCE, else plainly. Returns (killed, process)."""
        if kind not in self.bpf_calls:
            p = self.strace_count(kind, argv)
            if p.returncode:
                raise AssertionError("%s failed (%d): %s" % (" ".join(argv), p.returncode, p.stderr))
            return False, p
        if random.random() < kill_chance:
            self.counts["kills_tried"] += 1
            when = random.randint(1, self.bpf_calls[kind])
            p = run("strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=bpf",
                    "-e", "inject=bpf:signal=KILL:when=%d" % when, *argv, check=False, env=TRACED)
            if p.returncode in (-9, 137):
                self.assert_whole()     # old state or new, never a mix; no orphan program
                return True, p
            if p.returncode:
                raise AssertionError("%s (kill at bpf call %d) failed (%d): %s"
                                     % (" ".join(argv), when, p.returncode, p.stderr))
            self.counts["kills_too_late"] += 1
            return False, p             # near the end: the command finished first
        return False, run(*argv)

    def rule_change(self, i):
        A, B, C, D = self.A, self.B, self.C, self.D
        step = i % 7
        if step == 0:
            kind, args = "set", ["config", "set", A, "--time", random.randint(10, 120)]
        elif step == 1:
            kind, args = "set", ["config", "set", B, "--intvl", random.randint(1, 30),
                                 "--name", "b%d" % random.randint(0, 99)]
        elif step == 2:
            kind, args = "set", ["config", "set", C, "--time", random.choice((PHONE_TIME, PHONE_TIME + 1))]
        elif step == 4 and D in self.rule_ports():     # a killed set may have left none to delete
            kind, args = "del", ["config", "del", D]
        elif step in (3, 4):
            kind, args = "set", ["config", "set", D, "--time", random.randint(10, 99)]
        elif step == 5:
            kind, args = "attach-config", ["attach", "--cgroup", self.cg, "--config", self.rules_file()]
        else:
            kind, args = "load", ["config", "load", self.rules_file()]
        argv = [self.build, "--pin-dir", self.pin_dir] + [str(a) for a in args]
        killed, _ = self.writer(kind, argv, KILL_RULE)
        self.counts["rules"] += 1
        self.counts["rules_killed"] += killed

    def rule_ports(self):
        return {r["port"] for r in json.loads(self.cmd(self.build, "-j", "config", "show").stdout)}

    def rules_file(self):
        path = os.path.join(os.path.dirname(self.mnt), "soak-rules-%d.conf" % os.getpid())
        if not os.path.exists(path):
            harness.defer(lambda: os.unlink(path), "rules file")
        with open(path, "w") as f:
            f.write("[a]\nport = %d\ntcp_keepalive_time = %d\n" % (self.A, random.randint(10, 120)))
            f.write("[b]\nport = %d\ntcp_keepalive_intvl = %d\n" % (self.B, random.randint(1, 30)))
            f.write("[c]\nport = %d\ntcp_keepalive_time = %d\ntcp_keepalive_intvl = %d\n"
                    "tcp_keepalive_probes = %d\n" % (self.C, random.choice((PHONE_TIME, PHONE_TIME + 1)),
                                                     PHONE_INTVL, PHONE_PROBES))
            if random.random() < 0.5:
                f.write("[d]\nport = %d\n" % self.D)
        return path

    def upgrade(self):
        other = NEXT if self.build == SIPKA else SIPKA
        argv = [other, "--pin-dir", self.pin_dir, "-j", "attach", "--cgroup", self.cg]
        killed, p = self.writer("upgrade", argv, KILL_UPGRADE)
        if killed:
            self.counts["upgrades_killed"] += 1
            p = run(*argv)      # the next command finishes (or undoes) what the killed one began
            self.counts["recovered"] += 1
            if '"program":"upgraded"' not in p.stdout and '"program":"reused"' not in p.stdout:
                raise AssertionError("after a killed upgrade: %s" % p.stdout)
        elif '"program":"upgraded"' not in p.stdout:
            raise AssertionError("not an upgrade: %s %s" % (p.stdout, p.stderr))
        self.build = other
        self.counts["upgrades"] += 1

    def cg2_start(self):
        self.cmd(self.build, "attach", "--cgroup", self.cg2)
        self.cg2_peer = Peer(cgroup=self.cg2, netns=self.ns2)
        self.cg2_thread = threading.Thread(target=self.churner, args=(self.cg2_peer, self.A2, 200, 2, self.cg2_stopping))
        self.cg2_thread.start()

    def cg2_end(self):
        # Its churn stops first: a connection armed there and closed after the detach
        # would have its close unseen (no program runs for that cgroup any more).
        self.cg2_stopping.set()
        self.cg2_thread.join(120)
        self.cg2_stopping.clear()
        self.cg2_peer.close()
        self.cmd(self.build, "detach", "--cgroup", self.cg2)
        if cgroup_progs(self.cg2):
            raise AssertionError("a program left on the second cgroup: %s" % cgroup_progs(self.cg2))
        self.counts["cg2"] += 1

    def note(self, what):
        """Says when a counter that must stay 0 moved, and after what."""
        rows = self.sipka("stats", json_out=True)
        now = {k: sum(r[k] for r in rows) for k in ("untracked", "errors", "events_lost")}
        moved = {k: v - self.seen.get(k, 0) for k, v in now.items() if v != self.seen.get(k, 0)}
        if moved:
            log("after %s: %s" % (what, ", ".join("%s +%d" % kv for kv in moved.items())))
        self.seen = now

    # -- state snapshots ----------------------------------------------------------
    def maps(self):
        """{pin: (map id, bytes of memlock, max entries)} of sipka's pinned maps."""
        out = {}
        for name in sorted(os.listdir(self.pin_dir)):
            info = json.loads(run("bpftool", "-j", "map", "show", "pinned",
                                  os.path.join(self.pin_dir, name), check=False).stdout or "{}")
            if "id" in info:
                out[name] = (info["id"], info.get("bytes_memlock"), info.get("max_entries"))
        return out

    def soak(self):
        self.init()
        need_root()
        if not shutil.which("strace"):
            raise AssertionError("needs strace")
        if not os.access(NEXT, os.X_OK):
            raise AssertionError("needs %s (make build/next/sipka)" % NEXT)
        self.A, self.B, self.C, self.D, self.A2 = port(5060), port(5061), port(5062), port(5063), port(5060)
        harness.skip_if_host_covers(self.A, self.B, self.C, self.D)
        bpffs_before = sorted(os.listdir(self.mnt))

        self.cmd(SIPKA, "attach", "--cgroup", self.cg, "--config", self.rules_file())
        self.cmd(SIPKA, "config", "set", self.C, "--time", PHONE_TIME, "--intvl", PHONE_INTVL,
                 "--probes", PHONE_PROBES)
        maps_before = self.maps()
        self.cg2 = os.path.join(harness.cgroup2_mount(), unique("sipka-soak2-"))
        os.mkdir(self.cg2)
        harness.defer(lambda: os.rmdir(self.cg2), "second cgroup")
        harness.defer(lambda: self.cmd(SIPKA, "detach", "--cgroup", self.cg2, check=False), "detach cg2")
        self.ns2 = self.netns()
        self.cg2_stopping = threading.Event()

        # Phones: a veth from the PBX's namespace to theirs; their black hole, an nft set of ports.
        self.phone_ns = self.phone_link()
        self.nft = "sipka_soak"
        self.ns_run(self.phone_ns, "nft", "-f", "-", input=(
            "table inet %s {\n set bh { type inet_service; }\n"
            " chain in { type filter hook input priority 0; tcp dport @bh drop; }\n"
            " chain out { type filter hook output priority 0; tcp sport @bh drop; }\n}\n" % self.nft))
        self.pbx = Peer(cgroup=self.cg, netns=self.ns)
        self.lid = self.pbx("listen", PBX_ADDR, self.C)["id"]
        self.phone = Peer(netns=self.phone_ns)
        self.live, self.holed = set(), {}
        self.connect_phones(PHONES)
        log("%d phones held on port %d" % (PHONES, self.C))

        self.readers = [
            Reader("events --follow", [SIPKA, "--pin-dir", self.pin_dir, "-j", "events", "--follow"], True),
            Reader("stats --watch 1", [SIPKA, "--pin-dir", self.pin_dir, "stats", "--watch", "1"], False),
        ]
        global START
        START = time.monotonic()
        threads = []
        for p, batch, n in ((self.A, 200, 1), (self.B, 400, 4), (self.C, 200, 2)):
            threads.append(threading.Thread(target=self.churner, args=(Peer(cgroup=self.cg, netns=self.ns),
                                                                       p, batch, n, self.stop_flag)))
        threads += [threading.Thread(target=self.lister), threading.Thread(target=self.sampler)]
        for t in threads:
            t.start()

        # The driver: one writer at a time, as a real operator's tools would be.
        end = START + SECONDS
        nxt = dict(rule=START + RULE_EVERY, bh=START + BH_EVERY, upgrade=START + UPGRADE_EVERY,
                   cg2=START + CG2_EVERY / 2, report=START + 60)
        cg2_on, i = False, 0
        try:
            while time.monotonic() < end and not self.errors:
                now = time.monotonic()
                if now >= nxt["rule"]:
                    self.rule_change(i)
                    self.note("rule change %d" % (i % 7))
                    i += 1
                    nxt["rule"] = now + RULE_EVERY
                if now >= nxt["bh"]:
                    self.black_hole_some()
                    self.note("black hole")
                    nxt["bh"] = now + BH_EVERY
                if now >= nxt["upgrade"]:
                    self.upgrade()
                    self.note("upgrade")
                    nxt["upgrade"] = now + UPGRADE_EVERY
                if now >= nxt["cg2"]:
                    if cg2_on:
                        self.cg2_end()
                    else:
                        self.cg2_start()
                    cg2_on = not cg2_on
                    self.note("cg2 %s" % ("on" if cg2_on else "off"))
                    nxt["cg2"] = now + CG2_EVERY / 2
                if now >= nxt["report"]:
                    log("%s; made %s; %d black-holed" % (
                        ", ".join("%s %d" % (k, v) for k, v in self.counts.items() if k != "conn_max_s"),
                        self.made, len(self.holed)))
                    nxt["report"] = now + 60
                time.sleep(max(0, min(nxt.values()) - time.monotonic()))
        finally:
            self.stop_flag.set()
            if cg2_on:
                self.cg2_end()
            for t in threads:
                t.join(180)
        ran = time.monotonic() - START
        log("load stopped after %.0f s" % ran)
        self.check(not self.errors, "the load ran without an error", "; ".join(self.errors)[:2000])
        self.books(ran, maps_before, bpffs_before)

    # -- the books ----------------------------------------------------------------
    def stats_rows(self):
        return {r["port"]: r for r in self.sipka("stats", json_out=True)}

    def books(self, ran, maps_before, bpffs_before):
        A, B, C = self.A, self.B, self.C
        # Every black-holed phone found dead (each within its bound; the last ones may be
        # a few seconds from it), then the counters, which move no more.
        n_bh = len(self.holed)
        try:
            self.wait_stats(C, 60, dead_keepalive=n_bh)
        except AssertionError as e:
            self.check(False, "every black-holed phone counted dead", str(e))
        rows = self.stats_rows()
        made = dict(self.made)
        self.figures.append("connections churned (each armed at both ends): %s" % made)
        for p, r in sorted(rows.items()):
            self.figures.append("port %d: %s" % (p, ", ".join("%s %d" % (k, v) for k, v in r.items()
                                                               if isinstance(v, int) and k != "port")))
        for p in (A, B, C):
            r = rows.get(p, {})
            self.check(r.get("armed") == r.get("closed", -1) + r.get("active", -1) + r.get("untracked", -1),
                       "port %d: armed = closed + active + untracked" % p, str(r))
            self.check((r.get("untracked"), r.get("errors"), r.get("events_lost"), r.get("reset"),
                        r.get("dead_retransmit")) == (0, 0, 0, 0, 0),
                       "port %d: nothing untracked, no errors, no events lost, no resets or "
                       "retransmission deaths" % p, str(r))
        # Exact to the connection: churn armed both ends; the phones only the PBX's.
        phones = len(self.live) + n_bh
        want = {A: (2 * made.get(A, 0), 0), B: (2 * made.get(B, 0), 0), C: (2 * made.get(C, 0) + phones, len(self.live))}
        for p, (armed, active) in want.items():
            r = rows.get(p, {})
            self.check((r.get("armed"), r.get("active")) == (armed, active),
                       "port %d: armed and active exactly as made" % p,
                       "armed %s active %s, wanted %d and %d" % (r.get("armed"), r.get("active"), armed, active))
        self.check(rows.get(C, {}).get("dead_keepalive") == n_bh,
                   "port %d: dead_keepalive = the %d phones black-holed" % (C, n_bh), str(rows.get(C)))

        # sipka connections: exactly the live phones, by their ports.
        listed = self.sipka("connections", "--port", str(C), "--peer", PHONE_ADDR, json_out=True)
        self.check(sorted(c["remote_port"] for c in listed) == sorted(self.live),
                   "connections lists exactly the %d live phones" % len(self.live),
                   "listed %d" % len(listed))

        # Events: one keepalive death for each black-holed phone, nothing else.
        ev_reader = self.readers[0]
        try:
            wait_until(lambda: len(ev_reader.lines) >= n_bh, 30, "the events of %d phones" % n_bh)
        except AssertionError as e:
            self.check(False, "the events reader has every death", str(e))
        maps_after = self.maps()

        self.ownership()
        watch = self.readers[1]
        self.check(watch.last_out and time.monotonic() - watch.last_out < 30,
                   "stats --watch still drawing at the end", "%d lines in all" % watch.out_count)
        rcs = [r.stop() for r in self.readers]
        self.check(rcs == [0, 0], "the readers ran throughout and stopped cleanly on SIGTERM",
                   "exit statuses %s" % rcs)
        events = [json.loads(l) for l in ev_reader.lines]
        by_phone = {}
        strays = []
        for e in events:
            if e.get("remote_addr") == PHONE_ADDR and e.get("remote_port") in self.holed:
                by_phone.setdefault(e["remote_port"], []).append(e)
            else:
                strays.append(e)
        bad = [(ph, [e["reason"] for e in by_phone.get(ph, [])]) for ph in self.holed
               if [(e["reason"], e["rule_port"]) for e in by_phone.get(ph, [])] != [("keepalive", C)]]
        self.check(not bad and not strays, "each black-holed phone has one event, keepalive on port %d; "
                   "no other event" % C, "wrong: %s; strays: %s" % (bad[:10], strays[:5]))
        lost = [l for r in self.readers for l in r.err if "lost" in l]
        self.check(not lost, "no events lost (nothing said on stderr)", "".join(lost)[:500])
        late = [e["lifetime_ms"] for e in events]
        self.figures.append("events: %d, all read" % len(events))

        # Readers flat.
        warm = max(30, ran / 5)
        for r in self.readers:
            before = [s for s in r.samples if s[0] <= warm]
            after = [s for s in r.samples if s[0] > warm]
            if not before or not after:
                self.check(False, "%s: RSS and fds sampled" % r.name, "%d samples" % len(r.samples))
                continue
            rss0, fd0 = max(s[1] for s in before), max(s[2] for s in before)
            rss1, fd1 = max(s[1] for s in after), max(s[2] for s in after)
            self.figures.append("%s: VmRSS %d kB at start, %d kB max in the warm-up (%.0f s), %d kB max after, "
                                "%d kB at the end; fds %d, max %d after; %d samples, %d lines out"
                                % (r.name, r.samples[0][1], rss0, warm, rss1, r.samples[-1][1], fd0, fd1,
                                   len(r.samples), r.out_count))
            self.check(rss1 - rss0 <= RSS_BOUND_KB and fd1 <= fd0,
                       "%s: RSS flat (grew %d kB after the warm-up, bound %d) and fds flat (%d -> %d)"
                       % (r.name, rss1 - rss0, RSS_BOUND_KB, fd0, fd1))

        # The maps' memory.
        mem = lambda m: {k: v[1:] for k, v in m.items()}
        total = sum(v[1] or 0 for v in maps_after.values())
        self.figures.append("maps' memlock: %d bytes before, %d after (%s)"
                            % (sum(v[1] or 0 for v in maps_before.values()), total,
                               ", ".join("%s %d" % (k, v[1]) for k, v in sorted(maps_after.items()))))
        self.check(mem(maps_before) == mem(maps_after), "the maps' memory unchanged",
                   "before %s, after %s" % (mem(maps_before), mem(maps_after)))
        kept = [k for k in maps_before if k != "config" and maps_before[k][0] == maps_after.get(k, (None,))[0]]
        self.check(len(kept) == len(maps_before) - 1, "the same maps after every upgrade (config: one rule "
                   "set replaced by the next)", "kept %s of %s" % (kept, sorted(maps_before)))

        # Detach: nothing left.
        ours = {v[0] for v in maps_after.values()}
        self.sipka("detach")
        self.check(not os.path.exists(self.pin_dir) and sorted(os.listdir(self.mnt)) == bpffs_before,
                   "nothing left in bpffs after detach", str(os.listdir(self.mnt)))
        self.check(cgroup_progs(self.cg) == [] and cgroup_progs(self.cg2) == [],
                   "no program attached to either cgroup after detach")

        def freed():
            ids = {m["id"] for m in json.loads(run("bpftool", "-j", "map", "show").stdout or "[]")}
            return not (ours & ids)
        try:
            wait_until(freed, 30, "sipka's maps freed", interval=0.5)
            self.check(True, "sipka's maps freed after detach")
        except AssertionError as e:
            self.check(False, "sipka's maps freed after detach", str(e))
        self.figures.append("work done: %s" % ", ".join("%s %s" % (k, round(v, 2) if isinstance(v, float) else v)
                                                       for k, v in self.counts.items()))
        self.figures.append("bpf() calls of a plain run, per kind: %s" % self.bpf_calls)
        self.figures.append("phones: %d held at the end, %d black-holed; %d lifetimes in events, "
                            "%.1f-%.1f s" % (len(self.live), n_bh, len(late),
                                             min(late) / 1e3 if late else 0, max(late) / 1e3 if late else 0))

    def ownership(self):
        """No program or link left that sipka does not own: every program using one of
        sipka's maps is the pinned one; every link on its cgroups is its own."""
        st = self.sipka("status", json_out=True)
        maps = {v[0] for v in self.maps().values()}
        progs = json.loads(run("bpftool", "-j", "prog", "show").stdout or "[]")
        using = sorted(p["id"] for p in progs if maps & set(p.get("map_ids", [])))
        self.check(using == [st["prog"]["id"]], "the only program using sipka's maps is the pinned one",
                   "programs %s, pinned %d" % (using, st["prog"]["id"]))
        cg_ids = {a["cgroup_id"] for a in st["attachments"]}
        links = json.loads(run("bpftool", "-j", "link", "show").stdout or "[]")
        on_ours = sorted(l["id"] for l in links if l.get("prog_id") in using or l.get("cgroup_id") in cg_ids)
        self.check(on_ours == sorted(a["link_id"] for a in st["attachments"]) and len(st["attachments"]) == 1,
                   "the only link is sipka's own, on the PBX's cgroup", "links %s, status %s"
                   % (on_ours, st["attachments"]))
        self.check([p["id"] for p in cgroup_progs(self.cg)] == [st["prog"]["id"]] and cgroup_progs(self.cg2) == [],
                   "the PBX's cgroup runs sipka's program only; the second cgroup none")


def main():
    seed = int(os.environ.get("SOAK_SEED") or time.time())
    random.seed(seed)       # SOAK_SEED=N repeats a run's choices (not its timing)
    print("sipka soak: %g minutes, kernel %s, %d cores, %s, seed %d"
          % (MINUTES, os.uname().release, os.cpu_count(), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), seed),
          flush=True)
    s = Soak()
    try:
        s.setUp()
        s.soak()
    except Exception:
        s.results = getattr(s, "results", [])
        s.check(False, "the soak ran to its end", traceback.format_exc())
    finally:
        try:
            s.tearDown()
        except Exception:
            s.check(False, "cleanup", traceback.format_exc())
    print("\nSummary:")
    for f in getattr(s, "figures", []):
        print("  " + f)
    passed = sum(1 for r in s.results if r[0])
    failed = len(s.results) - passed
    print("soak: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
