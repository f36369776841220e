# SPDX-License-Identifier: GPL-2.0
"""Privileges: without root or the capabilities sipka needs it says which,
changes nothing, and a partial result is said and its exit status shows it."""
from harness import SIPKA, Env, need_root, port, run


def setUpModule():
    need_root()


class Capabilities(Env):
    def test_without_cap_sys_admin_the_partial_result_is_said(self):
        pbx, phone = self.pbx(), self.outsider()
        lid = pbx("listen", "127.0.0.1", port(5060))["id"]
        phone("connect", "127.0.0.1", port(5060))
        sip = pbx("accept", lid)["id"]
        p = run("capsh", "--drop=cap_sys_admin", "--", "-c",
                "exec %s --pin-dir %s attach --cgroup %s" % (SIPKA, self.pin_dir, self.cg), check=False)
        self.assertEqual(p.returncode, 4, p.stderr)
        self.assertIn("existing connections in 1 other network namespaces were not armed: entering them "
                      "needs CAP_SYS_ADMIN", p.stderr)
        self.assertEqual(pbx("opts", sip)["opts"]["keepalive"], 0, "as said: not armed")
        self.assertEqual(self.sipka("status", check=False).returncode, 0, "attached all the same")
        p = run("capsh", "--drop=cap_sys_admin,cap_perfmon", "--", "-c",
                "exec %s --pin-dir %s config show" % (SIPKA, self.pin_dir), check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("this process lacks CAP_PERFMON", p.stderr)

    def test_no_privileges(self):
        self.attach()
        before = self.kernel_state()
        for args in (["stats"], ["config", "set", str(port(5060))], ["attach", "--cgroup", self.cg], ["detach"]):
            p = run("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all",
                    SIPKA, "--pin-dir", self.pin_dir, *args, check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON", p.stderr)
        self.assertEqual(self.kernel_state(), before)
