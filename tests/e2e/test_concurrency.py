# SPDX-License-Identifier: GPL-2.0
"""One writer at a time: commands run at once each leave a whole state,
readers see whole rule sets, and a writer that waits names the holder."""
import json
import os
import signal
import subprocess
import threading

from harness import (CONF_A, CONF_B, NEXT, SIPKA, Env, cgroup_progs, defer, need_root, port, rules_of, run,
                     undo)

ROUNDS = int(os.environ.get("SIPKA_ROUNDS", "8"))


def setUpModule():
    need_root()


class Concurrency(Env):
    def together(self, *cmds):
        procs = [subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for cmd in cmds]
        return [(p.wait(60), p.communicate()) for p in procs]

    def test_two_first_attaches_at_once(self):
        for _ in range(ROUNDS):
            out = self.together(*[[SIPKA, "--pin-dir", self.pin_dir, "attach", "--cgroup", self.cg]] * 2)
            self.assertEqual([rc for rc, _ in out], [0, 0], out)
            st = self.assert_whole(rules_ok=[[(5060, 60), (5061, 60)]])     # the embedded default
            self.assertEqual(len(st["attachments"]), 1, "one attachment")
            self.sipka("detach")

    def test_attach_during_detach_leaves_a_whole_state(self):
        child = os.path.join(self.cg, "b")
        os.mkdir(child)
        entry = defer(lambda: os.rmdir(child), "cgroup b")
        for _ in range(ROUNDS):
            self.attach()
            out = self.together([SIPKA, "--pin-dir", self.pin_dir, "attach", "--cgroup", child],
                                [SIPKA, "--pin-dir", self.pin_dir, "detach"])
            self.assertEqual([rc for rc, _ in out], [0, 0], out)
            st = self.assert_whole()
            if st:      # the attach came last: loaded and attached to b
                self.assertEqual([a["cgroup"] for a in st["attachments"]], [child])
            else:
                self.assertEqual(cgroup_progs(child), [])
            self.sipka("detach")
        undo(entry)

    def test_two_builds_attach_at_once(self):
        for _ in range(ROUNDS):
            self.attach()
            out = self.together([NEXT, "--pin-dir", self.pin_dir, "attach", "--cgroup", self.cg],
                                [SIPKA, "--pin-dir", self.pin_dir, "attach", "--cgroup", self.cg])
            self.assertEqual([rc for rc, _ in out], [0, 0], out)
            self.assert_whole()
            self.sipka("detach")

    def test_config_loads_at_once_and_readers_see_whole_sets(self):
        self.attach()
        a, b = self.conf(CONF_A), self.conf(CONF_B)
        sets = [rules_of(CONF_A), rules_of(CONF_B)]
        seen, stop = [], threading.Event()

        def read():
            while not stop.is_set():
                p = run(SIPKA, "--pin-dir", self.pin_dir, "-j", "config", "show", check=False)
                if not p.returncode:
                    seen.append(sorted((r["port"], r["time"]) for r in json.loads(p.stdout)))
        reader = threading.Thread(target=read)
        reader.start()
        try:
            # ROUNDS at least, and on until the reader has read while they ran
            # (it may be slow to start on a busy machine): not hoped for.
            rounds = 0
            while rounds < ROUNDS or len(seen) < 2:
                out = self.together([SIPKA, "--pin-dir", self.pin_dir, "config", "load", a],
                                    [SIPKA, "--pin-dir", self.pin_dir, "config", "load", b])
                self.assertEqual([rc for rc, _ in out], [0, 0], out)
                self.assertIn(self.rule_times(), sets)
                rounds += 1
                self.assertLess(rounds, 50 * ROUNDS, "the reader read %d times" % len(seen))
        finally:
            stop.set()
            reader.join()
        self.assertTrue(seen)
        bad = [s for s in seen if s not in sets + [[(port(5060), 60), (port(5061), 60)]]]
        self.assertEqual(bad, [], "a reader saw a mix or a port twice")

    def test_a_writer_waits_then_names_the_holder(self):
        self.attach()
        # In a session of its own: flock's child (the sleep) holds the lock too,
        # and goes with it, or the cleanup's detach would wait for the lock.
        holder = subprocess.Popen(["flock", self.pin_dir, "sh", "-c", "echo locked; exec sleep 30"],
                                  stdout=subprocess.PIPE, text=True, start_new_session=True)
        defer(lambda: (os.killpg(holder.pid, signal.SIGKILL), holder.wait()), "lock holder")
        self.assertEqual(holder.stdout.readline(), "locked\n")
        p = run(SIPKA, "--pin-dir", self.pin_dir, "config", "set", str(port(5060)), "--time", "5", check=False,
                env=dict(os.environ, SIPKA_LOCK_WAIT="1"))
        self.assertEqual(p.returncode, 1)
        self.assertIn("process %d (flock %s sh -c echo locked; exec sleep 30) is changing sipka's state"
                      % (holder.pid, self.pin_dir), p.stderr)
        self.assertIn("waited 1 s", p.stderr)
        self.assertEqual(self.rule_times(), [(port(5060), 60), (port(5061), 60)], "nothing changed")
