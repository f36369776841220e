# SPDX-License-Identifier: GPL-2.0
"""sipka check: is it loaded, do the rule ports have listeners, does another
program override sipka's settings; each finding with its fix."""
import json
import os

import re

from harness import Env, defer, need_root, port, undo, wait_until


def setUpModule():
    need_root()


class Check(Env):
    def lines(self, *args):
        p = self.sipka("-j", "check", *args, check=False)
        out = json.loads(p.stdout)
        return p.returncode, out["result"], [(c["check"], c["level"], c["text"]) for c in out["checks"]]

    def test_not_loaded_fails_with_the_fix(self):
        rc, result, lines = self.lines()
        self.assertEqual((rc, result), (1, "fail"))
        self.assertIn(("loaded", "fail", "not loaded: %s does not exist. Run: sipka attach --cgroup PBX_CGROUP"
                       % self.pin_dir), lines)

    def test_phantoms_warned_naming_the_pbx(self):
        p5060 = port(5060)
        kam = self.child_cgroup("kamailio.service")
        self.sipka("attach", "--cgroup", kam)
        self.sipka("config", "set", p5060, "--name", "tcp")
        ok = [t for c, lvl, t in self.lines()[2] if c == "phantoms"]
        self.assertEqual(ok, ["no connection the peer closed is held longer than 60 s by the PBX (CLOSE_WAIT)"])
        self.phantoms(kam, p5060, 2)

        def warned():
            rc, result, lines = self.lines("--close-wait-after", "1")
            found = [(lvl, t) for c, lvl, t in lines if c == "phantoms"]
            return found[0][0] == "warn" and (rc, result, found)
        rc, result, found = wait_until(warned, 10, "held over 1 s")
        self.assertEqual((rc, result), (5, "warn"), found)
        self.assertEqual(len(found), 1, found)
        self.assertRegex(found[0][1], r"^kamailio\.service holds 2 connections on port %d that the peer closed, "
                                      r"for more than 1 s \(the longest [0-9.]+s\): .* "
                                      r"sipka connections --close-wait --port %d;" % (p5060, p5060))
        # Under the threshold: not a phantom yet (a PBX closes within milliseconds).
        self.assertEqual([lvl for c, lvl, t in self.lines("--close-wait-after", "3600")[2] if c == "phantoms"],
                         ["ok"])
        p = self.sipka("check", "--close-wait-after", "0", check=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--close-wait-after", p.stderr)
        self.assertTrue(re.search(r"from 1 to 86400", p.stderr), p.stderr)

    def test_rule_ports_against_listeners_and_programs_that_win(self):
        self.attach()
        pbx = self.pbx()
        pbx("listen", "127.0.0.1", port(5060))
        pbx("listen", "127.0.0.1", 5070, any_port=True)     # check knows 5060-5099 as SIP ports
        rc, result, lines = self.lines()
        self.assertEqual((rc, result), (5, "warn"), lines)
        levels = {(c, t.split(":")[0]): lvl for c, lvl, t in lines}
        self.assertEqual(levels[("rules", f"port {port(5060)} (tcp)")], "ok")
        self.assertEqual(levels[("rules", f"port {port(5061)} (tls)")], "warn")
        self.assertEqual(levels[("rules", "port 5070")], "warn")
        self.assertEqual(levels[("attached", self.cg + " (link)")], "ok")
        # Another sipka on the parent runs after this one: its values win.
        other = os.path.join(self.mnt, "other")
        child = os.path.join(self.cg, "pbx")
        os.mkdir(child)
        entry = defer(lambda: os.rmdir(child), "cgroup pbx")
        self.sipka("attach", "--cgroup", self.cg, pin_dir=other)
        defer(lambda: self.sipka("detach", pin_dir=other, check=False), "other sipka")
        self.sipka("attach", "--cgroup", child)
        rc, result, lines = self.lines()
        self.assertTrue([t for c, lvl, t in lines if c == "others" and lvl == "warn" and "its keepalive settings win"
                         in t and "runs after sipka" in t], lines)
        self.assertIn(("others", "warn"), [(c, lvl) for c, lvl, t in lines
                                           if "on %s runs after sipka on the sockets of %s:" % (self.cg, child) in t],
                      "it names where the other runs and where it wins")
        self.sipka("detach", pin_dir=other)
        self.sipka("detach")
        undo(entry)
