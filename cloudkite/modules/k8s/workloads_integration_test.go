package k8s

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/project-starkite/starkite/libkite"
)

// The workload helpers (spec §9) against a real kube-apiserver. No
// controllers run: Deployments never roll out and pods stay Pending unless
// a test writes their status.

func TestIntegrationWorkloadDeployExpose(t *testing.T) {
	c := newCluster(t)
	run(t, c.runtime(t, nil), `
k = k8s.config(kubeconfig=KC, namespace=NS)
LABELS = {"app": "web", "tier": "fe", "ver": "2"}
r = k.deploy("web", "nginx:1.27", replicas=2, port=8080, labels={"tier": "fe", "ver": 2}, env={"MODE": "prod", "N": 3})
eq(r, {"deployment": "web", "service": "web"})
d = k.get("deploy", "web")
eq(d["metadata"]["labels"], LABELS, "labels (non-strings str()'d)")
eq(d["spec"]["replicas"], 2)
eq(d["spec"]["selector"], {"matchLabels": LABELS})
eq(d["spec"]["template"]["metadata"]["labels"], LABELS)
cs = d["spec"]["template"]["spec"]["containers"]
eq([(c["name"], c["image"], [p["containerPort"] for p in c["ports"]]) for c in cs], [("web", "nginx:1.27", [8080])])
eq(cs[0]["env"], [{"name": "MODE", "value": "prod"}, {"name": "N", "value": "3"}])
mf = [(m["manager"], m["operation"]) for m in d["metadata"]["managedFields"]]
eq(mf, [("starkite", "Apply")], "server-side apply by the default field manager")
s = k.get("svc", "web")
eq(s["spec"]["selector"], LABELS)
eq(s["spec"]["ports"], [{"port": 8080, "protocol": "TCP", "targetPort": 8080}])
eq(s["spec"]["type"], "ClusterIP")

# idempotent: the same call changes nothing
eq(k.deploy("web", "nginx:1.27", replicas=2, port=8080, labels={"tier": "fe", "ver": 2}, env={"MODE": "prod", "N": 3}), r)
eq(k.get("deploy", "web")["metadata"]["resourceVersion"], d["metadata"]["resourceVersion"], "no-op redeploy")
eq(k.get("svc", "web")["metadata"]["resourceVersion"], s["metadata"]["resourceVersion"], "no-op service")
# forced: fields another manager took are taken back
k.patch("deploy", "web", {"spec": {"replicas": 9}})
k.deploy("web", "nginx:1.28", replicas=3, port=8080, labels={"tier": "fe", "ver": 2})
d = k.get("deploy", "web")
eq([d["spec"]["replicas"], d["spec"]["template"]["spec"]["containers"][0]["image"]], [3, "nginx:1.28"])
eq(d["spec"]["template"]["spec"]["containers"][0].get("env"), None, "env dropped from the applied config")

# no port: no service
eq(k.deploy("api", "img:1"), {"deployment": "api"})
eq(k.try_get("svc", "api").ok, False)

# expose copies the target's selector (not {"app": name})
k.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "odd"},
         "spec": {"selector": {"matchLabels": {"component": "odd-x"}},
                  "template": {"metadata": {"labels": {"component": "odd-x", "extra": "y"}},
                               "spec": {"containers": [{"name": "c", "image": "i"}]}}}})
e = k.expose("deploy", "odd", 80, target_port=8080, type="NodePort")
eq(e["kind"], "Service")
eq(e["spec"]["selector"], {"component": "odd-x"})
eq(e["spec"]["type"], "NodePort")
eq([(p["port"], p["targetPort"], p["protocol"]) for p in e["spec"]["ports"]], [(80, 8080, "TCP")])
eq(k.get("svc", "odd")["spec"]["selector"], {"component": "odd-x"})
# a pod's labels; a missing target falls back to app=<name>
k.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "lone", "labels": {"who": "lone"}},
          "spec": {"containers": [{"name": "c", "image": "i"}]}})
eq(k.expose("pod", "lone", 90)["spec"]["selector"], {"who": "lone"})
eq(k.expose("deploy", "ghost", 91)["spec"]["selector"], {"app": "ghost"})
has(k.try_expose("deploy", "odd", 80).error, "(AlreadyExists)")

# scale
eq(k.scale("deploy", "api", 4)["spec"]["replicas"], 4)
eq(k.get("deploy", "api")["spec"]["replicas"], 4)
has(k.try_scale("deploy", "nope", 1).error, 'k8s.scale: deployments.apps "nope" not found')

# autoscale: scaleTargetRef names the Kind
h = k.autoscale("deploy", "api", min=2, max=5, cpu_percent=70)
eq(h["metadata"]["name"], "api-hpa")
h = k.get("hpa", "api-hpa")
eq(h["apiVersion"], "autoscaling/v2")
eq(h["spec"]["scaleTargetRef"], {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"})
eq([h["spec"]["minReplicas"], h["spec"]["maxReplicas"]], [2, 5])
eq(h["spec"]["metrics"], [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}])
`)
}

func TestIntegrationRollout(t *testing.T) {
	c := newCluster(t)
	run(t, c.runtime(t, nil), `
k = k8s.config(kubeconfig=KC, namespace=NS)
k.deploy("web", "img:1", replicas=2)
# no controller: no status at all is not complete
eq(k.rollout("deploy", "web"), {"available": 0, "complete": False, "ready": 0, "replicas": 0, "updated": 0})
d = k.get("deploy", "web")
full = {"replicas": 2, "readyReplicas": 2, "updatedReplicas": 2, "availableReplicas": 2}
# matching counts but the controller has not seen this generation
k.status(d, full)
eq(k.rollout("deploy", "web", "status")["complete"], False, "observedGeneration missing")
st = dict(full, observedGeneration=d["metadata"]["generation"])
k.status(d, st)
eq(k.rollout("deploy", "web"), {"available": 2, "complete": True, "ready": 2, "replicas": 2, "updated": 2})
k.status(d, dict(st, availableReplicas=1))
eq(k.rollout("deploy", "web")["complete"], False, "one not available")
k.status(d, st)

# restart: a new template annotation, a new generation, so not complete
r = k.rollout("deploy", "web", "restart")
at = r["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
eq(len(at) >= 20 and at[4] == "-" and at[10] == "T", True, "RFC3339: " + at)
eq(r["metadata"]["generation"], d["metadata"]["generation"] + 1)
eq(k.rollout("deploy", "web")["complete"], False, "after restart")

eq(k.rollout("deploy", "web", "pause")["spec"]["paused"], True)
eq(k.get("deploy", "web")["spec"]["paused"], True)
eq(k.rollout("deploy", "web", "resume")["spec"].get("paused", False), False)
eq(k.get("deploy", "web")["spec"].get("paused", False), False)
eq(k.try_rollout("deploy", "web", "undo").error, 'k8s.rollout: unknown rollout action "undo" (want status, restart, pause or resume)')
eq(k.try_rollout("deploy", "nope").error, 'k8s.rollout: deployments.apps "nope" not found (NotFound)')
`)
}

func TestIntegrationWorkloadSetters(t *testing.T) {
	c := newCluster(t)
	run(t, c.runtime(t, nil), `
k = k8s.config(kubeconfig=KC, namespace=NS)
k.apply({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "multi"},
         "spec": {"selector": {"matchLabels": {"app": "multi"}},
                  "template": {"metadata": {"labels": {"app": "multi"}},
                               "spec": {"containers": [
                                   {"name": "web", "image": "nginx:1", "env": [
                                       {"name": "A", "value": "1"},
                                       {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "b"}}}]},
                                   {"name": "sidecar", "image": "envoy:1"}]}}}})

def containers(d):
    return {c["name"]: c for c in d["spec"]["template"]["spec"]["containers"]}

def env(c):
    return sorted([(e["name"], e.get("value"), "valueFrom" in e) for e in c.get("env", [])])

d = k.set_image("deploy", "multi", "sidecar", "envoy:2")
eq([containers(d)["web"]["image"], containers(d)["sidecar"]["image"]], ["nginx:1", "envoy:2"])
eq(k.try_set_image("deploy", "multi", "nope", "x").error, 'k8s.set_image: container "nope" not found in Deployment "multi"')
eq(len(containers(k.get("deploy", "multi"))), 2, "no container added")

# empty container: every container; B loses its valueFrom
d = k.set_env("deploy", "multi", {"B": "2", "C": "3"})
eq(env(containers(d)["web"]), [("A", "1", False), ("B", "2", False), ("C", "3", False)])
eq(env(containers(d)["sidecar"]), [("B", "2", False), ("C", "3", False)])
# one container; None removes
d = k.set_env("deploy", "multi", {"A": None, "D": "4"}, container="web")
eq(env(containers(d)["web"]), [("B", "2", False), ("C", "3", False), ("D", "4", False)])
eq(env(containers(d)["sidecar"]), [("B", "2", False), ("C", "3", False)])
eq(k.try_set_env("deploy", "multi", {"X": 1}).error, 'k8s.set_env: env values must be strings (or None to remove), got int for "X"')

d = k.set_resources("deploy", "multi", requests={"cpu": "100m", "memory": "64Mi"}, limits={"memory": "128Mi"})
for name in ["web", "sidecar"]:
    eq(containers(d)[name]["resources"], {"limits": {"memory": "128Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}}, name)
d = k.set_resources("deploy", "multi", limits={"cpu": "1"}, container="sidecar")
eq(containers(d)["sidecar"]["resources"]["limits"], {"cpu": "1", "memory": "128Mi"})
eq(containers(d)["web"]["resources"]["limits"], {"memory": "128Mi"})
has(k.try_set_resources("deploy", "multi", requests={"cpu": "-1"}).error, "(Invalid)")

# the live object has it all
live = containers(k.get("deploy", "multi"))
eq([live["web"]["image"], live["sidecar"]["image"], env(live["web"])[0][0]], ["nginx:1", "envoy:2", "B"])
`)
}

func TestIntegrationWorkloadRun(t *testing.T) {
	c := newCluster(t)
	defer func(d time.Duration) { runPollInterval = d }(runPollInterval)
	runPollInterval = 100 * time.Millisecond

	// No kubelet: the test plays it, marking pod "job" Succeeded.
	pods := c.admin.dyn.Resource(gvrPods).Namespace(c.ns)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			u, err := pods.Get(ctx, "job", metav1.GetOptions{})
			if err == nil {
				u.Object["status"] = map[string]any{"phase": "Succeeded"}
				if _, err = pods.UpdateStatus(ctx, u, metav1.UpdateOptions{}); err == nil {
					done <- nil
					return
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		done <- ctx.Err()
	}()
	run(t, c.runtime(t, nil), `
r = k8s.run("job", "busybox", command=["echo", "hi"], namespace=NS, rm=True)
# the pod was never bound to a node: the server serves it an empty log
eq(r, {"logs": "", "name": "job", "phase": "Succeeded"})
eq(k8s.try_get("pod", "job", namespace=NS).ok, False, "rm deleted the pod")
`)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	run(t, c.runtime(t, nil), `
k = k8s.config(kubeconfig=KC, namespace=NS)
# nobody finishes it: the timeout ends the wait (not an error)
r = k.run("slow", "busybox", command="sleep 1; echo done", timeout="1s")
eq(r, {"logs": "", "name": "slow", "phase": "Pending"})
p = k.get("pod", "slow")
eq(p["spec"]["restartPolicy"], "Never")
eq(p["metadata"]["labels"], {"run": "slow"})
eq(p["spec"]["containers"][0]["command"], ["/bin/sh", "-c", "sleep 1; echo done"])
eq(p["spec"]["containers"][0]["name"], "slow")
# rm after a timeout deletes too
eq(k.run("slow2", "busybox", timeout="300ms", rm=True)["phase"], "Pending")
eq(k.try_get("pod", "slow2").ok, False)
# restart other than Never: no wait
r = k.run("svc", "busybox", restart="always", timeout="1m")
eq(r["phase"], "Pending")
eq(k.get("pod", "svc")["spec"]["restartPolicy"], "Always")
has(k.try_run("svc", "busybox", timeout="1s").error, "(AlreadyExists)")
`)
}

func TestIntegrationWorkloadDryRun(t *testing.T) {
	c := newCluster(t)
	run(t, c.runtime(t, nil), `
k = k8s.config(kubeconfig=KC, namespace=NS)
k.deploy("web", "img:1", port=80)
`)
	run(t, c.runtime(t, &libkite.Config{DryRun: true}), `
k = k8s.config(kubeconfig=KC, namespace=NS)
# the server answers each call as if it were made
eq(k.deploy("web", "img:2", replicas=5, port=81, env={"E": "1"}), {"deployment": "web", "service": "web"})
eq(k.deploy("ghost", "img"), {"deployment": "ghost"})
eq(k.run("dryjob", "img", rm=True), {"name": "dryjob", "phase": "Pending"})
eq(k.expose("pod", "nobody", 80)["spec"]["selector"], {"app": "nobody"})
eq(k.scale("deploy", "web", 7)["spec"]["replicas"], 7)
eq(k.autoscale("deploy", "web")["metadata"]["name"], "web-hpa")
has(k.rollout("deploy", "web", "restart")["spec"]["template"]["metadata"]["annotations"], "kubectl.kubernetes.io/restartedAt")
eq(k.rollout("deploy", "web", "pause")["spec"]["paused"], True)
eq(k.set_image("deploy", "web", "web", "img:3")["spec"]["template"]["spec"]["containers"][0]["image"], "img:3")
eq(k.set_env("deploy", "web", {"X": "y"})["spec"]["template"]["spec"]["containers"][0]["env"], [{"name": "X", "value": "y"}])
eq(k.set_resources("deploy", "web", requests={"cpu": "1"})["spec"]["template"]["spec"]["containers"][0]["resources"], {"requests": {"cpu": "1"}})
`)
	run(t, c.runtime(t, nil), `
k = k8s.config(kubeconfig=KC, namespace=NS)
d = k.get("deploy", "web")
eq(d["metadata"]["generation"], 1, "deployment unchanged")
eq(d["spec"]["replicas"], 1)
eq(d["spec"].get("paused"), None)
eq(d["spec"]["template"]["metadata"].get("annotations"), None)
c = d["spec"]["template"]["spec"]["containers"][0]
eq([c["image"], c.get("env"), c["resources"], [p["containerPort"] for p in c["ports"]]], ["img:1", None, {}, [80]])
eq(k.get("svc", "web")["spec"]["ports"][0]["port"], 80)
for kind, name in [("deploy", "ghost"), ("pod", "dryjob"), ("svc", "nobody"), ("hpa", "web-hpa")]:
    eq(k.try_get(kind, name).ok, False, kind + "/" + name)
`)
}
