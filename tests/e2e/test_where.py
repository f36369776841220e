# SPDX-License-Identifier: GPL-2.0
"""Where sipka stands: run inside a private cgroup namespace, a private PID
namespace or a private mount namespace (what a container gives it), sipka
refuses what would silently go wrong, with the fix, and changes nothing; it
does the right thing where it can, and check says which.

Every namespace is made from the test's own cgroup, so "the root" a
container would see is the test's cgroup: an attach that went wrong lands
there, never on the host's root. A script that cannot set up its namespace
exits 99 before sipka runs."""
import json
import os
import shlex
import subprocess

from harness import SIPKA, TIMEOUT, Env, Peer, cgroup2_mount, cgroup_progs, defer, need_root

SETUP_FAILED = 99


def setUpModule():
    need_root()


class Where(Env):
    def inside(self, unshare, script, cgroup=None):
        """SCRIPT (sh -e) under unshare UNSHARE, started in CGROUP (the test's by
        default, so that a new cgroup namespace's root is it)."""
        cgroup = cgroup or self.cg

        def join():
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        p = subprocess.run(["unshare"] + unshare + ["sh", "-ec", script], preexec_fn=join,
                           capture_output=True, text=True, timeout=TIMEOUT)
        self.assertNotEqual(p.returncode, SETUP_FAILED, "the namespace was not set up: %s" % p.stderr)
        return p

    def sipka_cmd(self, *args):
        return " ".join(shlex.quote(a) for a in [SIPKA, "--pin-dir", self.pin_dir] + list(args))

    def remounted_cgroup2(self):
        """Shell lines that mount cgroup v2 afresh in the new mount namespace, as
        a container's runtime does: it then shows the namespace's root, the
        test's cgroup. Exits SETUP_FAILED unless it does."""
        mnt = shlex.quote(cgroup2_mount())
        return ("umount -l {m} && mount -t cgroup2 none {m} || exit {f}\n"
                "test -e {m}/cgroup.type || exit {f}\n"
                "test \"$(cat /proc/self/cgroup | grep '^0::')\" = 0::/ || exit {f}\n").format(
                    m=mnt, f=SETUP_FAILED)

    def check_lines(self, out):
        got = json.loads(out)
        return {c["check"] + ":" + c["level"]: c["text"] for c in got["checks"]}

    def assert_nothing_loaded(self):
        self.assertFalse(os.path.exists(self.pin_dir), "the pin dir was made")
        self.assertEqual(cgroup_progs(self.cg), [])

    def test_private_cgroup_namespace_refuses_the_root_that_is_not_the_hosts(self):
        p = self.inside(["--cgroup", "--mount", "--propagation", "private"],
                        self.remounted_cgroup2() + "{a} || echo attach=$?\n{d} || echo detach=$?\n".format(
                            a=self.sipka_cmd("attach"), d=self.sipka_cmd("detach")))
        self.assertIn("attach=1\n", p.stdout)
        self.assertIn("detach=1\n", p.stdout)
        self.assertIn("is not the host's root cgroup: this process is in a private cgroup namespace", p.stderr)
        self.assertIn("--cgroupns=host", p.stderr)
        self.assertIn("shows a part of the tree only (a private cgroup namespace)", p.stderr)
        self.assert_nothing_loaded()

        p = self.inside(["--cgroup", "--mount", "--propagation", "private"],
                        self.remounted_cgroup2() + self.sipka_cmd("-j", "check") + " || true\n")
        lines = self.check_lines(p.stdout)
        self.assertIn("--cgroupns=host", lines.get("cgroupns:warn", ""), lines)

    def test_private_cgroup_namespace_finds_its_own_cgroup_and_keeps_the_links_it_cannot_see(self):
        inner, outer = os.path.join(self.cg, "inner"), os.path.join(self.cg, "outer")
        for cg in (inner, outer):
            os.mkdir(cg)
            defer(lambda cg=cg: os.rmdir(cg), "cgroup")     # before the test's cgroup
        self.sipka("attach", "--cgroup", outer)
        # Inside, the namespace's root is INNER: --cgroup-of self is it, seen
        # through the fresh mount; OUTER is out of sight, not gone.
        p = self.inside(["--cgroup", "--mount", "--propagation", "private"],
                        self.remounted_cgroup2() + self.sipka_cmd("-j", "attach", "--cgroup-of", "self") + "\n",
                        cgroup=inner)
        self.assertEqual(json.loads(p.stdout)["cgroup"], cgroup2_mount(), p.stderr)
        st = self.sipka("status", json_out=True)
        self.assertEqual(sorted(a["cgroup"] for a in st["attachments"]), sorted([inner, outer]))
        self.assertEqual(len(cgroup_progs(inner)), 1)
        self.assertEqual(len(cgroup_progs(outer)), 1, "the link of a cgroup out of sight was removed")
        self.sipka("detach", "--cgroup", inner)
        self.sipka("detach", "--cgroup", outer)

    def test_cgroup_namespace_without_its_own_mount(self):
        """The host's mount seen from a private cgroup namespace: its root is
        "/.." from here. /proc/self/cgroup says "/", which is not the mount's
        "/": --cgroup-of is refused. The mount is the host's root cgroup, so
        check says it is used (no attach without --cgroup is tried here: it
        would be the host's root)."""
        p = self.inside(["--cgroup"], self.sipka_cmd("attach", "--cgroup-of", "self") + " || echo attach=$?\n"
                        + self.sipka_cmd("-j", "check") + " || true\n")
        self.assertIn("attach=1\n", p.stdout)
        self.assertIn("process self is in cgroup /, which the cgroup v2 mount at %s (root /..) does not show"
                      % cgroup2_mount(), p.stderr)
        self.assertIn("--cgroupns=host", p.stderr)
        lines = self.check_lines(p.stdout[p.stdout.index("{"):])
        self.assertIn("a private cgroup namespace, but %s is the host's root cgroup" % cgroup2_mount(),
                      lines.get("cgroupns:ok", ""), lines)
        self.assert_nothing_loaded()

    def test_private_pid_namespace_refuses_cgroup_of_a_pid(self):
        pbx = Peer(cgroup=self.cg)
        p = self.inside(["--pid", "--fork", "--mount-proc"],
                        self.sipka_cmd("attach", "--cgroup-of", str(pbx.p.pid)) + " || echo attach=$?\n"
                        + self.sipka_cmd("-j", "check") + " || true\n")
        self.assertIn("attach=1\n", p.stdout)
        self.assertIn("--cgroup-of %d: /proc here numbers the processes of a private PID namespace"
                      % pbx.p.pid, p.stderr)
        self.assertIn("--pid=host", p.stderr)
        lines = self.check_lines(p.stdout[p.stdout.index("{"):])
        self.assertIn("--pid=host", lines.get("pidns:warn", ""), lines)
        self.assert_nothing_loaded()
        # Its own cgroup needs no process id: --cgroup-of self is the test's cgroup.
        p = self.inside(["--pid", "--fork", "--mount-proc"],
                        self.sipka_cmd("-j", "attach", "--cgroup-of", "self") + "\n")
        self.assertEqual(json.loads(p.stdout)["cgroup"], self.cg)
        # The control: from the host's PID namespace the same id is the PBX.
        self.assertEqual(self.sipka("-j", "attach", "--cgroup-of", str(pbx.p.pid)).returncode, 0)

    def test_a_bpffs_of_the_containers_own_is_refused(self):
        mnt = shlex.quote(self.mnt)
        p = self.inside(["--mount", "--propagation", "private"],
                        "mount -t bpf bpf {m} || exit {f}\n{a} || echo attach=$?\n{c} || true\n"
                        "ls -A {m} | grep -qx sipka && echo made || true\n".format(
                            m=mnt, f=SETUP_FAILED, a=self.sipka_cmd("attach", "--cgroup", self.cg),
                            c=self.sipka_cmd("-j", "check")))
        self.assertIn("attach=1\n", p.stdout)
        self.assertNotIn("made", p.stdout, "a pin dir was made in the private bpffs")
        self.assertIn("is on a bpffs of this mount namespace only, not the host's", p.stderr)
        self.assertIn("-v /sys/fs/bpf:/sys/fs/bpf", p.stderr)
        lines = self.check_lines(p.stdout[p.stdout.index("{"):p.stdout.rindex("}") + 1])
        self.assertIn("-v /sys/fs/bpf:/sys/fs/bpf", lines.get("bpffs:fail", ""), lines)
        self.assert_nothing_loaded()

        # No bpffs at all: the container's hint too.
        p = self.inside(["--mount", "--propagation", "private"],
                        "mount -t tmpfs tmpfs {m} || exit {f}\n{a} || echo attach=$?\n".format(
                            m=mnt, f=SETUP_FAILED, a=self.sipka_cmd("attach", "--cgroup", self.cg)))
        self.assertIn("attach=1\n", p.stdout)
        self.assertIn("not on a BPF filesystem", p.stderr)
        self.assertIn("in a container, mount the host's bpffs", p.stderr)
        self.assert_nothing_loaded()

        # The control: the host's bpffs, seen from a private mount namespace, is used.
        p = self.inside(["--mount", "--propagation", "private"],
                        self.sipka_cmd("attach", "--cgroup", self.cg) + "\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(cgroup_progs(self.cg)), 1)
        self.assertEqual(self.sipka("status", json_out=True)["attachments"][0]["cgroup"], self.cg)
