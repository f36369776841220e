# SPDX-License-Identifier: GPL-2.0
"""sipka stats: the counters as a table that fits a terminal, redrawn by
--watch with the changes, and the same numbers under -j."""
import json
import os
import re
import signal
import time

from harness import NEXT, SIPKA, Env, Process, need_root, port, run, wait_until

FRAME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+  \(every 1s; Ctrl-C to stop\)$")
# The table's columns that are not the JSON field in lower case.
FIELD = {"DEAD_KA": "dead_keepalive", "DEAD_RTX": "dead_retransmit", "LOST": "events_lost"}


def setUpModule():
    need_root()


class Table(Env):
    """One armed connection on 5060."""

    def setUp(self):
        super().setUp()
        self.attach()
        self.phone_call(port(5060))

    def test_every_json_output_parses(self):
        """...and says what the table says."""
        rows = {r["port"]: r for r in self.sipka("stats", json_out=True)}
        tcp = rows[port(5060)]
        self.assertEqual((tcp["name"], tcp["armed"], tcp["active"]), ("tcp", 1, 1))
        head, *lines = self.sipka("stats").stdout.splitlines()
        keys = [FIELD.get(c, c.lower()) for c in head.split()]
        table = [dict(zip(keys, line.split())) for line in lines]
        self.assertEqual(table, [{k: str(rows[int(t["port"])][k]) for k in keys} for t in table])
        self.assertEqual(sorted(rows), [port(5060), port(5061)])
        rules = self.sipka("config", "show", json_out=True)
        self.assertEqual([(r["port"], r["name"], r["time"], r["intvl"], r["probes"]) for r in rules],
                         [(port(5060), "tcp", 60, 10, 3), (port(5061), "tls", 60, 10, 3)])
        st = self.sipka("status", json_out=True)
        self.assertEqual((st["loaded"], st["rules"], [a["cgroup"] for a in st["attachments"]]),
                         (True, 2, [self.cg]))

    def test_watch_redraws_with_changes_until_interrupted(self):
        w = Process([SIPKA, "--pin-dir", self.pin_dir, "stats", "--watch", "1"])
        out = [w.line()]        # the first frame is drawn
        self.phone_call(port(5061))
        while not re.match(fr"{port(5061)} +tls +1 \(\+1\) +1 \(\+1\)", out[-1]):      # a later frame shows it
            out.append(w.line(timeout=30))
        w.p.send_signal(signal.SIGINT)
        self.assertEqual(w.p.wait(5), 0, w.err_seen)
        out = "".join(out + w.rest())
        self.assertGreaterEqual(out.count("(every 1s; Ctrl-C to stop)"), 2, out)
        self.assertRegex(out, fr"\n{port(5061)} +tls +1 \(\+1\) +1 \(\+1\)")
        self.assertEqual(w.stop(), 0, w.err_seen)

    def test_watch_reads_what_is_live_and_holds_nothing(self):
        """A rule set after the watch began is drawn; after an upgrade the watch keeps
        no old program alive (it opens the pins for each frame); after a detach it stops."""
        w = Process([SIPKA, "--pin-dir", self.pin_dir, "stats", "--watch", "1"])
        w.line()
        self.sipka("config", "set", port(5070), "--name", "later")
        end = time.monotonic() + 20
        while not re.match(r"%d +later +0 " % port(5070), w.line(timeout=5)):
            self.assertLess(time.monotonic(), end, "the new rule was never drawn")
        run(NEXT, "--pin-dir", self.pin_dir, "attach", "--cgroup", self.cg)
        stats_map = json.loads(run("bpftool", "-j", "map", "show", "pinned",
                                   os.path.join(self.pin_dir, "stats")).stdout)["id"]
        pinned = self.sipka("status", json_out=True)["prog"]["id"]

        def users():
            progs = json.loads(run("bpftool", "-j", "prog", "show").stdout or "[]")
            return sorted(p["id"] for p in progs if stats_map in p.get("map_ids", []))
        wait_until(lambda: users() == [pinned], 10, lambda: "programs on sipka's maps: %s, pinned %d"
                   % (users(), pinned))
        self.sipka("detach")
        self.assertEqual(w.p.wait(10), 1, "the watch ends once sipka is detached")
        w.err_ended()
        self.assertIn("not loaded", "".join(w.err_seen))
        w.stop()

    def test_bad_monitoring_options(self):
        for args, words in ((["stats", "--watch", "0"], "1 to 3600"),
                            (["stats", "--output", "/tmp/x"], "add --prometheus"),
                            (["stats", "--prometheus", "--watch", "2"], "timer"),
                            (["events", "--bogus"], "unknown option")):
            p = self.sipka(*args, check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn(words, p.stderr)


class Terminal(Env):
    def setUp(self):
        super().setUp()
        self.attach()
        self.env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}

    def test_table_fits_100_columns_with_long_names(self):
        self.sipka("config", "set", str(port(5060)), "--name", "fifteen-chars-x")
        self.sipka("config", "set", "65535", "--name", "another-long-na")
        out = run(SIPKA, "--pin-dir", self.pin_dir, "stats", env=self.env).stdout
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["PORT", "NAME", "ARMED", "ACTIVE", "DEAD_KA", "DEAD_RTX", "RESET",
                                            "CLOSED", "ERRORS", "LOST", "UNTRACKED"])
        self.assertEqual(len(lines), 4)
        self.assertLessEqual(max(map(len, lines)), 100, out)

    def watch(self, columns, port):
        """Frames of 'stats --watch 1' at COLUMNS wide, while a connection
        to PORT is made."""
        env = dict(self.env, COLUMNS=str(columns))
        w = Process([SIPKA, "--pin-dir", self.pin_dir, "stats", "--watch", "1"], env=env)
        out = [w.line()]        # the first frame is drawn
        self.phone_call(port)
        while sum(bool(FRAME.match(l.rstrip("\n"))) for l in out) < 3:
            out.append(w.line(timeout=30))
        self.assertEqual(w.stop(), 0)
        out += w.rest()
        return [l.rstrip("\n") for l in out]

    def test_watch_frames_have_the_time_and_fit_the_width(self):
        lines = self.watch(100, port(5060))
        frames = [l for l in lines if FRAME.match(l)]
        self.assertGreaterEqual(len(frames), 3)
        self.assertTrue(any(re.match(fr"^{port(5060)} +tcp +1 \(\+1\) +1 \(\+1\) ", l) for l in lines), lines)
        self.assertLessEqual(max(map(len, lines)), 100)
        # Only as wide as the counts: the changes go on a line below them.
        width = len(run(SIPKA, "--pin-dir", self.pin_dir, "stats", env=self.env).stdout.splitlines()[0])
        narrow = self.watch(width, port(5061))
        self.assertLessEqual(max(map(len, narrow)), width, narrow)
        i = next(i for i, l in enumerate(narrow) if re.match(fr"^{port(5061)} +tls +1 +1 ", l))
        self.assertRegex(narrow[i + 1], r"^ +\+1 +\+1 *$")
