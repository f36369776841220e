# SPDX-License-Identifier: GPL-2.0
"""sipka connections: is phone X armed, with what, and when will it be
declared dead? Read from the kernel's own socket state."""
import json
import os
import socket
import subprocess
import tempfile
import time

from harness import SIPKA, Env, Peer, cgroup2_mount, defer, need_root, port, run, wait_until

# What -j says of a connection: every field, whatever the table shows.
FIELDS = {"state", "remote_addr", "remote_port", "local_addr", "local_port", "rule_port", "name", "armed",
          "tracked", "armed_s_ago", "keepalive", "idle_ms", "probes_out", "retransmits", "rtt_us",
          "cgroup_id", "cgroup", "pbx"}
# ... and of a phantom (--close-wait).
PHANTOM_FIELDS = {"state", "remote_addr", "remote_port", "local_addr", "local_port", "rule_port", "name",
                  "held_s", "held_exact", "cgroup_id", "cgroup", "pbx"}

# Runs "$@" in the mount namespace it is in (a private one) once neither
# kernel config file that libbpf reads for a __kconfig extern can be opened:
# an empty tmpfs on /boot, and over /proc/config.gz the socket file "$0"
# (opening a socket fails; an empty file would open, and read as a config
# without CONFIG_HZ).
HIDE_CONFIG = """
set -e
[ ! -e /proc/config.gz ] || mount --bind "$0" /proc/config.gz
[ ! -d /boot ] || mount -t tmpfs tmpfs /boot
for f in "/boot/config-$(uname -r)" /proc/config.gz; do
    if cat "$f" >/dev/null 2>&1; then echo "$f can still be read" >&2; exit 99; fi
done
exec "$@"
"""


def setUpModule():
    need_root()


class Connections(Env):
    def test_armed_connections_with_their_keepalive_and_live_state(self):
        phone_ns = self.phone_link()
        pbx, phone = self.pbx(), self.outsider(phone_ns)
        lid = pbx("listen", "0.0.0.0", port(5060))["id"]
        before = phone("connect", "198.18.0.1", port(5060))["id"]
        old = pbx("accept", lid)
        self.attach("--new-only")
        self.sipka("config", "set", str(port(5060)), "--time", "2", "--intvl", "1", "--probes", "3", "--new-only")
        phone("connect", "198.18.0.1", port(5060))
        new = pbx("accept", lid)
        rows = self.sipka("connections", json_out=True)
        self.assertEqual(len(rows), 1, "the one sipka armed; not the one from before the attach")
        r = rows[0]
        self.assertEqual((r["remote_addr"], r["remote_port"], r["local_addr"], r["local_port"]),
                         ("198.18.0.2", new["peer"][1], "198.18.0.1", port(5060)))
        self.assertEqual((r["rule_port"], r["name"], r["armed"], r["tracked"]), (port(5060), "tcp", True, True))
        self.assertEqual(r["keepalive"], {"on": True, "time": 2, "intvl": 1, "probes": 3,
                                          "user_timeout_ms": 5000})
        self.assertLess(r["armed_s_ago"], 5)
        # --all: the one from before, with the kernel's keepalive (off, 7200 s).
        every = self.sipka("connections", "--all", json_out=True)
        unarmed = [x for x in every if not x["armed"]]
        self.assertEqual([(x["remote_port"], x["keepalive"]["on"], x["keepalive"]["time"]) for x in unarmed],
                         [(old["peer"][1], False, 7200)])
        # Filters.
        self.assertEqual(self.sipka("connections", "--port", str(port(5061)), json_out=True), [])
        self.assertEqual(len(self.sipka("connections", "--peer", "198.18.0.2", json_out=True)), 1)
        self.assertEqual(self.sipka("connections", "--peer", "198.18.0.9", json_out=True), [])
        # -j writes as it goes, and a stdout it cannot write is said: exit 1.
        with open("/dev/full", "w") as full:
            p = subprocess.run([SIPKA, "--pin-dir", self.pin_dir, "-j", "connections"], stdout=full,
                               stderr=subprocess.PIPE, text=True, timeout=30)
        self.assertEqual((p.returncode, p.stderr.strip()),
                         (1, "Error: cannot write the output: No space left on device"))
        # The phone goes silent: the kernel's idle time and probes show it.
        self.black_hole(phone_ns)
        r = wait_until(lambda: (lambda r: r["probes_out"] >= 1 and r)(self.sipka("connections", json_out=True)[0]),
                       6, "a keepalive probe out", interval=0.1)
        self.assertGreaterEqual(r["probes_out"], 1)
        self.assertGreaterEqual(r["idle_ms"], 2000)
        table = self.sipka("connections").stdout.splitlines()
        self.assertEqual(table[0].split()[:5], ["PEER", "LOCAL", "RULE", "NAME", "ARMED"])
        self.assertIn("198.18.0.2:%d" % new["peer"][1], table[1])
        self.assertIn("2/1x3", table[1])
        phone("close", before)

    def test_two_pbx_cgroups_each_connection_names_its_own(self):
        p5060, p5062 = port(5060), port(5062)
        kam, ast = self.child_cgroup("kamailio.service"), self.child_cgroup("asterisk.service")
        for cg in (kam, ast):
            self.sipka("attach", "--cgroup", cg)
        self.sipka("config", "set", p5062, "--name", "tcp")
        self.sipka("config", "set", p5060, "--name", "tcp")
        phone = self.outsider()
        self.peers = []
        for cg, p in ((kam, p5060), (ast, p5062)):
            pbx = Peer(cgroup=cg, netns=self.ns)
            lid = pbx("listen", "127.0.0.1", p)["id"]
            phone("connect", "127.0.0.1", p)
            pbx("accept", lid)
            self.peers.append(pbx)
        rows = self.sipka("connections", json_out=True)
        self.assertEqual(sorted((r["local_port"], r["cgroup_id"], r["cgroup"], r["pbx"]) for r in rows),
                         sorted([(p5060, os.stat(kam).st_ino, "/" + os.path.relpath(kam, cgroup2_mount()),
                                  "kamailio.service"),
                                 (p5062, os.stat(ast).st_ino, "/" + os.path.relpath(ast, cgroup2_mount()),
                                  "asterisk.service")]))
        wide = dict(os.environ, COLUMNS="200")
        table = run(SIPKA, "--pin-dir", self.pin_dir, "connections", env=wide).stdout.splitlines()
        self.assertEqual(table[0].split()[-1], "PBX", "two cgroups: the PBX column")
        self.assertEqual(sorted((line.split()[1], line.split()[-1]) for line in table[1:]),
                         [("127.0.0.1:%d" % p5060, "kamailio.service"), ("127.0.0.1:%d" % p5062, "asterisk.service")])
        # In 100 columns the PBX gives way first, elided in the middle.
        narrow = self.sipka("connections").stdout.splitlines()
        self.assertLessEqual(max(map(len, narrow)), 100, narrow)
        self.assertTrue(all(line.split()[-1][-3:] == "ice" for line in narrow[1:]), narrow)
        # One PBX: no column (sipka status names it).
        head = self.sipka("connections", "--port", p5060).stdout.splitlines()[0]
        self.assertEqual(head.split()[-1], "RTT")

    def test_close_wait_phantoms_listed_with_how_long_held(self):
        p5060 = port(5060)
        kam = self.child_cgroup("kamailio.service")
        self.sipka("attach", "--cgroup", kam)
        self.sipka("config", "set", p5060, "--name", "tcp")
        pbx = self.phantoms(kam, p5060, 3)
        rows = self.sipka("connections", "--close-wait", json_out=True)
        self.assertEqual(len(rows), 3, rows)
        for r in rows:
            self.assertEqual(set(r), PHANTOM_FIELDS)
            self.assertEqual((r["state"], r["local_port"], r["rule_port"], r["name"], r["held_exact"], r["pbx"],
                              r["cgroup_id"]), ("close_wait", p5060, p5060, "tcp", True, "kamailio.service",
                                                os.stat(kam).st_ino), r)
            self.assertLess(r["held_s"], 30)
        self.assertEqual([r for r in self.sipka("connections", json_out=True) if r["local_port"] == p5060], [],
                         "not among the established ones")
        # Held grows with time, never closed by sipka: the same connections later.
        later = wait_until(lambda: (lambda rs: all(r["held_s"] >= 2 for r in rs) and rs)(
            self.sipka("connections", "--close-wait", json_out=True)), 10, "held 2 s")
        self.assertEqual(sorted(r["remote_port"] for r in later), sorted(r["remote_port"] for r in rows))
        table = self.sipka("connections", "--close-wait").stdout.splitlines()
        self.assertEqual(table[0].split(), ["PEER", "LOCAL", "RULE", "NAME", "HELD", "IDLE", "PBX"])
        self.assertEqual(len(table), 4, table)
        self.assertRegex(table[1], r" [0-9.]+s +[0-9.]+s +kamailio\.service$")
        # Still open: active until the PBX closes its end, then closed, and no death.
        row = self.stats(p5060)
        self.assertEqual((row["armed"], row["active"], row["closed"]), (3, 3, 0), row)
        pbx.close()
        row, _ = self.wait_stats(p5060, 10, active=0, closed=3)
        self.assertEqual((row["dead_keepalive"], row["dead_retransmit"], row["reset"]), (0, 0, 0))
        self.assertEqual(self.sipka("connections", "--close-wait", json_out=True), [])

    def test_close_wait_of_a_connection_sipka_did_not_see_close_is_at_least_its_idle_time(self):
        p5060 = port(5060)
        pbx, phone = self.pbx(), self.outsider()
        pbx("hold", pbx("listen", "127.0.0.1", p5060)["id"])
        pid = phone("connect", "127.0.0.1", p5060)["id"]
        wait_until(lambda: pbx("held")["n"] == 1, 10, "the PBX accepted")
        phone("close", pid)     # before sipka: its FIN unseen
        self.attach()
        self.sipka("config", "set", p5060, "--name", "tcp")
        rows = self.sipka("connections", "--close-wait", json_out=True)
        self.assertEqual([(r["held_exact"], r["rule_port"]) for r in rows], [(False, p5060)], rows)
        self.assertRegex(self.sipka("connections", "--close-wait").stdout.splitlines()[1], r" >=[0-9.]+s ")

    def without_kernel_config(self, *args, json_out=False):
        """sipka ARGS as in a container without the host's /boot, on a kernel
        without /proc/config.gz (Debian's): neither config file can be read."""
        if not hasattr(self, "_socket_file"):
            d = tempfile.mkdtemp(prefix="sipka-noconfig-")
            defer(lambda: os.rmdir(d), "socket file dir")
            self._socket_file = os.path.join(d, "not-a-config")
            with socket.socket(socket.AF_UNIX) as s:
                s.bind(self._socket_file)
            defer(lambda: os.unlink(self._socket_file), "socket file")
        p = run("unshare", "--mount", "--propagation", "private", "sh", "-c", HIDE_CONFIG,
                self._socket_file, SIPKA, "--pin-dir", self.pin_dir, *(["-j"] if json_out else []), *args)
        return json.loads(p.stdout) if json_out else p

    def test_without_the_kernel_config_file(self):
        """HZ is the kernel's, measured: the keepalive in force and the idle time are right."""
        phone_ns = self.phone_link()
        pbx, phone = self.pbx(), self.outsider(phone_ns)
        lid = pbx("listen", "0.0.0.0", port(5060))["id"]
        self.without_kernel_config("attach", "--cgroup", self.cg)
        self.without_kernel_config("config", "set", str(port(5060)), "--time", "45", "--intvl", "7", "--probes", "3")
        connecting = time.monotonic()
        phone("connect", "198.18.0.1", port(5060))
        new = pbx("accept", lid)
        accepted = time.monotonic()
        # The last packet from the phone (the handshake's) came between the two;
        # idle_ms is the kernel's jiffies since then, turned into time with HZ.

        def idle():
            before = time.monotonic()
            rows = self.without_kernel_config("connections", json_out=True)
            return rows and rows[0]["idle_ms"] >= 1500 and (rows, before, time.monotonic())
        rows, before, after = wait_until(idle, 10, "the connection idle 1.5 s", interval=0.1)
        self.assertEqual(len(rows), 1)
        r = rows[0]
        self.assertEqual((r["remote_addr"], r["remote_port"], r["armed"]), ("198.18.0.2", new["peer"][1], True))
        self.assertEqual(r["keepalive"], {"on": True, "time": 45, "intvl": 7, "probes": 3,
                                          "user_timeout_ms": 66000})
        tick_ms = 25    # a jiffy or two (10 ms at HZ 100) and the rounding down to ms
        self.assertGreaterEqual(r["idle_ms"], (before - accepted) * 1000 - tick_ms)
        self.assertLessEqual(r["idle_ms"], (after - connecting) * 1000 + tick_ms)
        table = self.without_kernel_config("connections").stdout.splitlines()
        self.assertIn("45/7x3", table[1])


PEER_MIN = len("255.255.255.255:65535")


class Width(Env):
    """The table fits 100 columns (or $COLUMNS) with the longest addresses;
    -j carries every field whole."""

    def connection(self, pbx_addr, phone_addr):
        """PBX_ADDR and PHONE_ADDR on lo, the phone connected to the PBX on
        5060 from port 65432 (the widest a port is): the PBX's side is armed."""
        for a in (pbx_addr, phone_addr):
            self.ns_run(self.ns, "ip", "addr", "add", a, "dev", "lo", *(["nodad"] if ":" in a else []))
        self.attach()
        self.sipka("config", "set", str(port(5060)), "--name", "fifteen-chars-x", "--time", "3600",
                   "--intvl", "600", "--probes", "20")
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", pbx_addr, port(5060))["id"]
        phone("connect", pbx_addr, port(5060), phone_addr, 65432)
        pbx("accept", lid)
        self.peers = (pbx, phone)       # held open until the test ends
        rows = self.sipka("connections", json_out=True)
        self.assertEqual(len(rows), 1, rows)
        r = rows[0]
        self.assertEqual(set(r), FIELDS)
        self.assertEqual((r["remote_addr"], r["remote_port"], r["local_addr"], r["local_port"]),
                         (phone_addr, 65432, pbx_addr, port(5060)), "whole in -j")
        self.assertEqual((r["rule_port"], r["name"], r["armed"], r["tracked"]),
                         (port(5060), "fifteen-chars-x", True, True))
        self.assertEqual(r["keepalive"], {"on": True, "time": 3600, "intvl": 600, "probes": 20,
                                          "user_timeout_ms": 15600000})

    def table(self, columns=None):
        env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
        if columns:
            env["COLUMNS"] = str(columns)
        lines = run(SIPKA, "--pin-dir", self.pin_dir, "connections", env=env).stdout.splitlines()
        self.assertEqual(lines[0].split(), ["PEER", "LOCAL", "RULE", "NAME", "ARMED", "KEEPALIVE",
                                            "BOUND", "IDLE", "DEAD_IN", "PRB", "RTX", "RTT"], "one PBX: no PBX column")
        self.assertEqual(len(lines), 2, lines)
        return lines

    def test_ipv4_fits_100_columns_the_peer_whole(self):
        self.connection("127.255.255.201", "127.255.255.202")
        lines = self.table()
        self.assertLessEqual(max(map(len, lines)), 100, lines)
        # The local address gives way first, then the name; the peer stays whole. (How much the
        # name gives depends on the ports' digits: port(5060) may have five.)
        self.assertRegex(lines[1], fr"^127\.255\.255\.202:65432 [0-9.]*\.\.\.[0-9.]*:{port(5060)} +{port(5060)} "
                                   r"f[a-z-]*\.\.\.[a-z-]*-x +[0-9.]+s +3600/600x20 +4h20m ")
        wide = self.table(120)
        self.assertLessEqual(max(map(len, wide)), 120, wide)
        self.assertEqual(wide[1].split()[:4], ["127.255.255.202:65432", "127.255.255.201:%d" % port(5060),
                                               str(port(5060)), "fifteen-chars-x"])

    def test_long_ipv6_fits_100_columns_elided_in_the_middle(self):
        phone, pbx = "fd00:1234:5678:9abc:def0:1234:5678:9abd", "fd00:1234:5678:9abc:def0:1234:5678:9abc"
        self.connection(pbx, phone)
        lines = self.table()
        self.assertLessEqual(max(map(len, lines)), 100, lines)
        peer, local = lines[1].split()[:2]
        self.assertRegex(peer, r"^\[fd00:[0-9a-f:]*\.\.\.[0-9a-f:]*9abd\]:65432$")
        self.assertGreaterEqual(len(peer), PEER_MIN, "the peer gives way last")
        self.assertRegex(local, fr"^\[?[0-9a-f:]*\.\.\.[0-9a-f:]*\]:{port(5060)}$")
        self.assertRegex(lines[1], fr" {port(5060)} f[a-z-]*\.\.\.[a-z-]*-x ")
        # Wide enough, both whole; narrower, the table still fits (down to 95 here, 96 with
        # five-digit ports: the peer at 21 columns, the name at 6, the local end at 10).
        wide = self.table(200)
        self.assertEqual(wide[1].split()[:2], ["[%s]:65432" % phone, f"[%s]:{port(5060)}" % pbx])
        self.assertLessEqual(max(map(len, self.table(96))), 96)
