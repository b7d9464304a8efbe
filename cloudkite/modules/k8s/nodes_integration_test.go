package k8s

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// Node operations, top_* and describe (spec §10) against a real
// kube-apiserver. Nodes are cluster-scoped: each test makes its own,
// named with the test's suffix, and deletes them when it ends.

// nodes registers the deletion of the named nodes when t ends.
func (c *cluster) nodes(t *testing.T, names ...string) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, n := range names {
			_ = c.admin.dyn.Resource(gvrNodes).Delete(ctx, n, metav1.DeleteOptions{})
		}
	})
}

// nodePrelude makes nodes and pods from scripts.
const nodePrelude = `
def node(name):
    return k8s.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})

def pod(name, node, labels = {}, annotations = {}, owner = None, requests = [], phase = None):
    md = {"name": name, "labels": labels, "annotations": annotations}
    if owner:
        md["ownerReferences"] = [owner]
    cs = [{"name": "c%d" % i, "image": "img", "resources": {"requests": r}} for i, r in enumerate(requests or [{}])]
    p = k8s.create({"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": {"nodeName": node, "containers": cs}}, namespace=NS)
    if phase:
        p = k8s.status(p, {"phase": phase})
    return p

def terminating(name):
    r = k8s.try_get("pod", name, namespace=NS)
    return (not r.ok) or ("deletionTimestamp" in r.value["metadata"])
`

func TestIntegrationNodeDrain(t *testing.T) {
	c := newCluster(t)
	c.nodes(t, "kite-drain-"+c.suffix, "kite-other-"+c.suffix, "kite-dry-"+c.suffix)
	run(t, c.runtime(t, nil), nodePrelude+`
N = "kite-drain-" + SUFFIX
OTHER = "kite-other-" + SUFFIX
node(N)
node(OTHER)
pod("web", N)
pod("ds-pod", N, owner = {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent",
                          "uid": "00000000-0000-0000-0000-0000000000a1", "controller": True})
pod("static", N, annotations = {"kubernetes.io/config.mirror": "0123abcd"})
# a running pod guarded by a PodDisruptionBudget that allows no disruption
# (no disruption controller runs: the test writes the budget's status)
pod("guarded", N, labels = {"app": "guarded"}, phase = "Running")
pdb = k8s.create({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "guard"},
                  "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "guarded"}}}}, namespace=NS)
k8s.status(pdb, {"observedGeneration": pdb["metadata"]["generation"], "disruptionsAllowed": 0,
                 "currentHealthy": 0, "desiredHealthy": 1, "expectedPods": 1})
pod("elsewhere", OTHER)

r = k8s.drain(N)
eq(r["node"], N)
eq(r["evicted"], [NS + "/web"])
eq(len(r["errors"]), 2, "errors: %r" % r["errors"])
eq(r["errors"][0], NS + "/ds-pod: DaemonSet-managed pod not evicted (use ignore_daemonsets=True to skip DaemonSet pods)")
has(r["errors"][1], NS + "/guarded: Cannot evict pod as it would violate the pod's disruption budget.")
has(r["errors"][1], "The disruption budget guard needs 1 healthy pods and has 0 currently (TooManyRequests)")
eq(k8s.get("node", N)["spec"]["unschedulable"], True, "cordoned")
eq(k8s.get("node", OTHER)["spec"].get("unschedulable"), None)
eq([terminating(p) for p in ["web", "ds-pod", "static", "guarded", "elsewhere"]], [True, False, False, False, False])

# DaemonSet pods skipped; force deletes what the budget protects
r = k8s.drain(N, force=True, ignore_daemonsets=True, timeout="1m")
eq(r["errors"], [])
eq(sorted(r["evicted"]), [NS + "/guarded", NS + "/web"])
eq([terminating(p) for p in ["ds-pod", "static", "guarded", "elsewhere"]], [False, False, True, False])
`)
	// Global dry run: nothing is cordoned or evicted.
	run(t, c.runtime(t, nil), nodePrelude+`
node("kite-dry-" + SUFFIX)
pod("dry-web", "kite-dry-" + SUFFIX)
`)
	run(t, c.runtime(t, &libkite.Config{DryRun: true}), nodePrelude+`
D = "kite-dry-" + SUFFIX
eq(k8s.drain(D), {"errors": [], "evicted": [NS + "/dry-web"], "node": D})
eq(k8s.cordon(D)["spec"]["unschedulable"], True)
eq([t["key"] for t in k8s.taint(D, "dry", "x")["spec"]["taints"] if t["key"] == "dry"], ["dry"])
eq(k8s.get("node", D)["spec"].get("unschedulable"), None, "not cordoned")
eq("dry" in [t["key"] for t in k8s.get("node", D)["spec"].get("taints", [])], False, "not tainted")
eq(terminating("dry-web"), False)
`)
}

func TestIntegrationNodeTaintCordon(t *testing.T) {
	c := newCluster(t)
	c.nodes(t, "kite-taint-"+c.suffix)
	run(t, c.runtime(t, nil), nodePrelude+`
N = "kite-taint-" + SUFFIX
node(N)

def mine(n):
    # the apiserver's admission adds its own not-ready taint to new nodes
    return [(t["key"], t.get("value", ""), t["effect"]) for t in n["spec"].get("taints", []) if t["key"].startswith("kite/")]

eq(mine(k8s.taint(N, "kite/a", "1")), [("kite/a", "1", "NoSchedule")])
# same key and effect: replaced, not duplicated
eq(mine(k8s.taint(N, "kite/a", "2")), [("kite/a", "2", "NoSchedule")])
eq(mine(k8s.taint(N, "kite/a", effect="NoExecute")), [("kite/a", "2", "NoSchedule"), ("kite/a", "", "NoExecute")])
eq(mine(k8s.taint(N, "kite/b", "x", "PreferNoSchedule")), [("kite/a", "2", "NoSchedule"), ("kite/a", "", "NoExecute"), ("kite/b", "x", "PreferNoSchedule")])
others = len(k8s.get("node", N)["spec"]["taints"]) - 3
# untaint removes every taint with the key, whatever its effect
eq(mine(k8s.untaint(N, "kite/a")), [("kite/b", "x", "PreferNoSchedule")])
eq(len(k8s.get("node", N)["spec"]["taints"]), others + 1, "other taints kept")
eq(mine(k8s.untaint(N, "kite/b")), [])
eq(mine(k8s.untaint(N, "kite/none")), [])
has(k8s.try_taint(N, "kite/c", effect="Sometimes").error, "unknown taint effect")
eq(k8s.try_taint("kite-missing-" + SUFFIX, "kite/a").error, 'k8s.taint: nodes "kite-missing-%s" not found (NotFound)' % SUFFIX)

eq(k8s.cordon(N)["spec"]["unschedulable"], True)
eq(k8s.get("node", N)["spec"]["unschedulable"], True)
eq(k8s.uncordon(N)["spec"].get("unschedulable", False), False)
eq(k8s.get("node", N)["spec"].get("unschedulable", False), False)
`)
}

func TestIntegrationTopAndDescribe(t *testing.T) {
	c := newCluster(t)
	c.nodes(t, "kite-top-"+c.suffix)
	run(t, c.runtime(t, nil), nodePrelude+`
N = "kite-top-" + SUFFIX
n = node(N)
k8s.status(n, {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}, "allocatable": {"cpu": "3800m", "memory": "7Gi", "pods": "100"}})
top = {e["name"]: e for e in k8s.top_nodes()}
# no metrics-server: requests and capacity only, no usage keys
eq(top[N], {"name": N, "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}, "allocatable": {"cpu": "3800m", "memory": "7Gi", "pods": "100"}})

pod("small", N, requests = [{"cpu": "100m", "memory": "64Mi"}])
pod("big", N, requests = [{"cpu": "250m", "memory": "128Mi"}, {"cpu": "250m", "memory": "128Mi"}], phase = "Running")
pod("none", N)
rows = k8s.top_pods(namespace=NS, sort_by="cpu")
eq(rows, [
    {"name": "big", "namespace": NS, "status": "Running", "cpu_request": "500m", "memory_request": "256Mi"},
    {"name": "small", "namespace": NS, "status": "Pending", "cpu_request": "100m", "memory_request": "64Mi"},
    {"name": "none", "namespace": NS, "status": "Pending", "cpu_request": "0", "memory_request": "0"},
])
eq([r["name"] for r in k8s.config(kubeconfig=KC, namespace=NS).top_pods(sort_by="memory")], ["big", "small", "none"])
eq(k8s.try_top_pods(namespace=NS, sort_by="age").error, 'k8s.top_pods: unknown sort_by "age" (want cpu or memory)')

# describe: the resource, its conditions stringified, its events
k8s.deploy("web", "img", namespace=NS)
d = k8s.get("deploy", "web", namespace=NS)
k8s.status(d, {"observedGeneration": 1, "conditions": [
    {"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable", "message": "no pods",
     "lastUpdateTime": "2024-05-01T10:00:00Z", "lastTransitionTime": "2024-05-01T10:00:00Z"}]})
def event(name, kind, target, reason, count, last):
    k8s.create({"apiVersion": "v1", "kind": "Event", "metadata": {"name": name},
                "involvedObject": {"apiVersion": "apps/v1", "kind": kind, "name": target, "namespace": NS},
                "type": "Warning", "reason": reason, "message": reason + " happened", "count": count,
                "firstTimestamp": last, "lastTimestamp": last, "source": {"component": "kite-test"}}, namespace=NS)
event("web.2", "Deployment", "web", "Second", 1, "2024-05-01T10:00:02Z")
event("web.1", "Deployment", "web", "First", 3, "2024-05-01T10:00:01Z")
event("cm.1", "ConfigMap", "web", "NotMine", 1, "2024-05-01T10:00:00Z")
event("other.1", "Deployment", "other", "NotMineEither", 1, "2024-05-01T10:00:00Z")
r = k8s.describe("deployment", "web", namespace=NS)
eq(sorted(r.keys()), ["conditions", "events", "resource"])
eq(r["resource"]["metadata"]["uid"], d["metadata"]["uid"])
eq(r["conditions"], [{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable", "message": "no pods",
                      "lastUpdateTime": "2024-05-01T10:00:00Z", "lastTransitionTime": "2024-05-01T10:00:00Z"}])
eq(r["events"], [{"type": "Warning", "reason": "First", "message": "First happened", "count": "3"},
                 {"type": "Warning", "reason": "Second", "message": "Second happened", "count": "1"}])
# no conditions: the key is left out; no events: an empty list
k8s.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "plain"}}, namespace=NS)
eq(sorted(k8s.describe("cm", "plain", namespace=NS).keys()), ["events", "resource"])
eq(k8s.describe("cm", "plain", namespace=NS)["events"], [])
# a cluster-scoped object
eq(k8s.describe("node", N)["resource"]["metadata"]["name"], N)
eq(k8s.try_describe("cm", "nope", namespace=NS).error, 'k8s.describe: configmaps "nope" not found (NotFound)')
`)
}

// TestIntegrationNodePermissions: with only k8s.read, every §9/§10 write
// operation is refused before it reaches the server; top_* and describe
// run.
func TestIntegrationNodePermissions(t *testing.T) {
	c := newCluster(t)
	c.nodes(t, "kite-perm-"+c.suffix)
	run(t, c.runtime(t, nil), nodePrelude+`
node("kite-perm-" + SUFFIX)
k8s.deploy("web", "img", namespace=NS)
`)
	rt := c.runtime(t, &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.read", "k8s.config"}}})
	pre := `k = k8s.config(kubeconfig=KC, namespace=NS)` + "\n"
	for _, e := range writeOps {
		e = strings.ReplaceAll(e, `"n1"`, `"kite-perm-`+c.suffix+`"`)
		got, msg, _ := kitetest.Eval(rt, pre, "k.try_"+e+".error")
		if msg != "" || !strings.HasPrefix(got, denied("write")) {
			t.Fatalf("%s: %q (%s)", e, got, msg)
		}
	}
	run(t, rt, `
k = k8s.config(kubeconfig=KC, namespace=NS)
eq(k.get("node", "kite-perm-" + SUFFIX).get("spec", {}).get("unschedulable"), None, "denied cordon/drain did nothing")
eq(k.get("deploy", "web")["spec"]["replicas"], 1)
eq(type(k.top_nodes()), "list")
eq(k.top_pods(), [])
eq(k.describe("deploy", "web")["resource"]["metadata"]["name"], "web")
`)
}
