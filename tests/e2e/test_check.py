# SPDX-License-Identifier: GPL-2.0
"""sipka check: is it loaded, do the rule ports have listeners, does another
program override sipka's settings; each finding with its fix."""
import json
import os

from harness import Env, defer, need_root, port, undo


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
