# SPDX-License-Identifier: GPL-2.0
"""The Kubernetes DaemonSet's commands (examples/kubernetes/), run as its
containers run them, on a pod-shaped cgroup tree under the test's cgroup:
kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/
cri-containerd-<id>.scope, the systemd driver's. The init container's attach,
with the manifest's own arguments and ConfigMap, arms a PBX pod's connection
that existed before it, one made after it, and one of the pod's next
container (a restart: a new cgroup) without attaching again; the metrics
container's stats --listen counts them. No kubelet runs here: the tree is
made by hand, the path given relative to the cgroup v2 mount as in the
manifest."""
import http.client
import os
import re
import uuid

import yaml

from harness import (ROOT, SIPKA, Env, Peer, Process, cgroup2_mount, cgroup_progs, defer, need_root,
                     port, remove_cgroup)

EXAMPLES = os.path.join(ROOT, "examples", "kubernetes")


def setUpModule():
    need_root()


def manifest(name):
    with open(os.path.join(EXAMPLES, name)) as f:
        return yaml.safe_load(f)


class DaemonSet(Env):
    def setUp(self):
        super().setUp()
        pod = manifest("daemonset.yaml")["spec"]["template"]["spec"]
        self.containers = {c["name"]: c for c in pod["initContainers"] + pod["containers"]}

    def cgroup(self, *parts):
        path = os.path.join(self.cg, *parts)
        top = os.path.join(self.cg, parts[0])
        if not os.path.exists(top):     # the tree, removed leaves first (before self.cg)
            defer(lambda: [remove_cgroup(d) for d, _, _ in list(os.walk(top))[::-1]], "cgroup tree")
        os.makedirs(path)
        return path

    def pod(self, qos="burstable"):
        """A pod's container cgroup, as the kubelet (systemd driver) names it."""
        uid = str(uuid.uuid4()).replace("-", "_")
        return self.cgroup("kubepods.slice", "kubepods-%s.slice" % qos,
                           "kubepods-%s-pod%s.slice" % (qos, uid),
                           "cri-containerd-%s.scope" % uuid.uuid4().hex)

    def config(self):
        """The ConfigMap's sipka.conf, its ports moved as the suite's are (port())."""
        text = manifest("configmap.yaml")["data"]["sipka.conf"]
        return self.conf(re.sub(r"(?m)^port = (\d+)$", lambda m: "port = %d" % port(int(m.group(1))), text))

    def args(self, name, **replace):
        """The container's arguments, with REPLACE's values in place of the manifest's."""
        return [replace.get(a, a) for a in self.containers[name]["args"]]

    def test_the_pod_slice_arms_every_pods_connections(self):
        first = self.pod()
        pbx = Peer(cgroup=first, netns=self.ns)
        phone = self.outsider()
        lid = pbx("listen", "127.0.0.1", port(5060))["id"]
        phone("connect", "127.0.0.1", port(5060))
        sip = pbx("accept", lid)["id"]
        self.assertEqual(pbx("opts", sip)["opts"]["keepalive"], 0)

        slice_ = os.path.relpath(os.path.join(self.cg, "kubepods.slice"), cgroup2_mount())
        args = self.args("attach", **{"kubepods.slice": slice_, "/etc/sipka/sipka.conf": self.config()})
        self.assertEqual(args[:3], ["attach", "--cgroup", slice_], "the manifest's attach changed")
        p = self.sipka(*args)
        self.assertIn("attached to %s/kubepods.slice; 3 rules from" % self.cg, p.stdout)
        self.assertEqual(self.stats(port(5060))["armed"], 1, "the connection that existed")
        self.assertEqual(pbx("opts", sip)["opts"]["time"], 60, "the ConfigMap's rule")
        self.assertEqual(len(cgroup_progs(os.path.join(self.cg, "kubepods.slice"))), 1)
        # A pod start attaches again: one attachment still.
        self.sipka(*args)
        self.assertEqual(len(self.sipka("status", json_out=True)["attachments"]), 1)

        phone("connect", "127.0.0.1", port(5060))
        self.assertEqual(pbx("opts", pbx("accept", lid)["id"])["opts"]["time"], 60)
        # The container restarts: a new cgroup in the same pod, and a Guaranteed
        # pod's right under kubepods.slice; no attach in between.
        pbx.close()
        for cg in (self.pod(), self.cgroup("kubepods.slice", "kubepods-pod%s.slice" % uuid.uuid4().hex,
                                           "cri-containerd-%s.scope" % uuid.uuid4().hex)):
            again = Peer(cgroup=cg, netns=self.ns)
            lid = again("listen", "127.0.0.1", port(5060))["id"]
            phone("connect", "127.0.0.1", port(5060))
            self.assertEqual(again("opts", again("accept", lid)["id"])["opts"]["time"], 60)
            again.close()
        self.assertEqual(self.stats(port(5060))["armed"], 4)

        # The metrics container, on loopback here.
        args = self.args("metrics", **{"0.0.0.0:9560": "127.0.0.1:0"})
        self.assertEqual(args, ["stats", "--listen", "127.0.0.1:0"], "the manifest's metrics changed")
        srv = Process([SIPKA, "--pin-dir", self.pin_dir] + args)
        host, hport = re.search(r"http://(\S+):(\d+)/metrics",
                                srv.err_line("serving the metrics on http://")).groups()
        c = http.client.HTTPConnection(host, int(hport), timeout=30)
        c.request("GET", self.containers["metrics"]["readinessProbe"]["httpGet"]["path"])
        r = c.getresponse()
        text = r.read().decode()
        c.close()
        self.assertEqual(r.status, 200)
        self.assertIn('sipka_connections_armed_total{port="%d",transport="tcp"} 4\n' % port(5060), text)
        self.assertIn("sipka_up 1\n", text)
        srv.stop()
        phone.close()
