package k8s

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/project-starkite/starkite/cloudkite/internal/testenv"
	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kitetime "github.com/project-starkite/starkite/libkite/modules/time"
)

// Integration tests against a real kube-apiserver + etcd (no controllers,
// no kubelet): see internal/testenv.

// prelude defines the assertion helpers the scripts use.
const prelude = `
def eq(got, want, what = ""):
    if got != want:
        fail("%s: got %r, want %r" % (what, got, want))

def has(s, sub, what = ""):
    if sub not in s:
        fail("%s: %r does not contain %r" % (what, s, sub))

def names(objs):
    return sorted([o["metadata"]["name"] for o in objs])
`

// cluster is one test's view of the test cluster: the kubeconfig, a
// fresh namespace (deleted when the test ends) and an admin client.
type cluster struct {
	kubeconfig string
	ns         string
	suffix     string
	admin      *Client
}

func randomSuffix() string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 6)
	for i := range b {
		b[i] = letters[rand.IntN(len(letters))]
	}
	return string(b)
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test (real kube-apiserver) skipped in -short mode")
	}
	kc := testenv.Kubeconfig(t)
	admin, err := NewClient(ClientOptions{Kubeconfig: kc, Context: "kite-testenv"})
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{kubeconfig: kc, suffix: randomSuffix(), admin: admin}
	c.ns = "kite-" + strings.ToLower(strings.ReplaceAll(t.Name(), "_", "-")) + "-" + c.suffix
	c.ns = strings.ReplaceAll(c.ns, "/", "-")
	nsRes := admin.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = nsRes.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": c.ns}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = nsRes.Delete(ctx, c.ns, metav1.DeleteOptions{})
	})
	// The default client reads $KUBECONFIG (current context kite-testenv).
	t.Setenv("KUBECONFIG", kc)
	return c
}

// runtime is a kite runtime holding k8s (real clients) and time, with
// KC, NS and SUFFIX set.
func (c *cluster) runtime(t *testing.T, cfg *libkite.Config) *libkite.Runtime {
	t.Helper()
	conf := libkite.Config{}
	if cfg != nil {
		conf = *cfg
	}
	conf.Globals = map[string]any{"KC": c.kubeconfig, "NS": c.ns, "SUFFIX": c.suffix}
	rt, _ := kitetest.New(t, &conf, New(), kitetime.New())
	return rt
}

// run executes src (after the prelude) on rt and fails the test on error.
func run(t *testing.T, rt *libkite.Runtime, src string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := rt.Execute(ctx, prelude+src); err != nil {
		var ee *starlark.EvalError
		if ok := asEvalError(err, &ee); ok {
			t.Fatalf("%s\n%s", ee.Msg, ee.Backtrace())
		}
		t.Fatal(err)
	}
}

func asEvalError(err error, target **starlark.EvalError) bool {
	for e := err; e != nil; {
		if ee, ok := e.(*starlark.EvalError); ok {
			*target = ee
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

func TestIntegrationConfigMapCRUD(t *testing.T) {
	c := newCluster(t)
	run(t, c.runtime(t, nil), `
k = k8s.config(kubeconfig=KC, context="kite-testenv", namespace=NS, timeout="30s")
eq(str(k), '<k8s.client context="kite-testenv" namespace="%s">' % NS)
eq(k.context(), "kite-testenv")
eq(k8s.context(), "kite-testenv", "default client context")
eq(k8s.namespace_name(), "default", "default client namespace")

cm = {"apiVersion": "v1", "kind": "ConfigMap",
      "metadata": {"name": "settings", "labels": {"app": "web", "suite": SUFFIX}},
      "data": {"beta": "on"}}
live = k.create(cm)
eq(live["metadata"]["namespace"], NS)
eq(type(live["metadata"]["uid"]), "string")

# AlreadyExists
r = k.try_create(cm)
eq(r.ok, False)
eq(r.error, 'k8s.create: ConfigMap "settings": configmaps "settings" already exists (AlreadyExists)')

# get through the default client, kwarg namespace; by alias and plural
eq(k8s.get("cm", "settings", namespace=NS)["data"], {"beta": "on"})
eq(k8s.get("configmaps", "settings", NS)["data"], {"beta": "on"})

# server-side apply (own field manager takes over fields it sets, force as they were created by create)
a = k.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"beta": "off", "new": "x"}}, force=True)
eq(a["data"], {"beta": "off", "new": "x"})
has([m["manager"] for m in a["metadata"]["managedFields"]], "starkite", "field managers")

# SSA conflict with another manager, then forced
other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"beta": "theirs"}}
r = k.try_apply(other, field_manager="other-tool")
eq(r.ok, False)
has(r.error, "k8s.apply: ConfigMap \"settings\": ")
has(r.error, "(Conflict)")
eq(k.apply(other, field_manager="other-tool", force=True)["data"]["beta"], "theirs")

# patch: merge dict, raw JSON string, strategic, json list
eq(k.patch("cm", "settings", {"data": {"p": "merge"}})["data"]["p"], "merge")
eq(k.patch("cm", "settings", '{"data": {"q": "raw"}}')["data"]["q"], "raw")
eq(k.patch("cm", "settings", {"data": {"s": "strategic"}}, type="strategic")["data"]["s"], "strategic")
j = k.patch("cm", "settings", [{"op": "add", "path": "/data/j", "value": "json"}, {"op": "remove", "path": "/data/p"}], type="json")
eq(j["data"].get("j"), "json")
eq("p" in j["data"], False)
r = k.try_patch("cm", "settings", [{"op": "test", "path": "/data/j", "value": "nope"}], type="json")
eq(r.ok, False)

# Conflict: stale resourceVersion
r = k.try_patch("cm", "settings", {"metadata": {"resourceVersion": live["metadata"]["resourceVersion"]}, "data": {"x": "y"}})
eq(r.ok, False)
has(r.error, "k8s.patch: ")
has(r.error, "(Conflict)")

# label / annotate (None removes)
l = k.label("cm", "settings", {"tier": "fe", "app": None})
eq(l["metadata"]["labels"], {"suite": SUFFIX, "tier": "fe"})
an = k.annotate("cm", "settings", {"note": "hello", "gone": None})
eq(an["metadata"]["annotations"], {"note": "hello"})
eq(k.annotate("cm", "settings", {"note": None})["metadata"].get("annotations", {}), {})

# list: label selector, field selector, all namespaces
k.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other", "labels": {"tier": "db", "suite": SUFFIX}}})
eq(names(k.list("cm", labels="tier=fe")), ["settings"])
eq(names(k.list("cm", labels="tier in (fe,db)")), ["other", "settings"])
eq(names(k.list("cm", fields="metadata.name=other")), ["other"])
everywhere = k8s.list("configmaps", namespace="*", labels="suite=" + SUFFIX)
eq(names(everywhere), ["other", "settings"])
eq(sorted([o["metadata"]["namespace"] for o in everywhere]), [NS, NS])
eq(len(k8s.list("cm", labels="suite=" + SUFFIX)), 0, "default namespace has none")

# server-side dry run leaves nothing
eq(k.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ghost"}}, dry_run=True)["metadata"]["name"], "ghost")
eq(k.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ghost2"}}, dry_run=True)["metadata"]["name"], "ghost2")
eq(k.try_get("cm", "ghost").error, 'k8s.get: configmaps "ghost" not found (NotFound)')
eq(k.try_get("cm", "ghost2").ok, False)

# delete, then NotFound
eq(k.delete("cm", "other"), True)
eq(k.try_get("cm", "other").error, 'k8s.get: configmaps "other" not found (NotFound)')
eq(k.try_delete("cm", "other").error, 'k8s.delete: configmaps "other" not found (NotFound)')

# a multi-document YAML manifest; metadata.namespace wins over the kwarg
made = k8s.create("""
apiVersion: v1
kind: ConfigMap
metadata: {name: y1}
data: {n: "1"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: y2, namespace: %s}
""" % NS, namespace=NS)
eq(names(made), ["y1", "y2"])

# invalid timeout
eq(k.try_get("cm", "settings", timeout="fast").error, 'k8s.get: invalid timeout "fast"')
`)
}

func TestIntegrationDeployment(t *testing.T) {
	c := newCluster(t)
	run(t, c.runtime(t, nil), `
k = k8s.config(kubeconfig=KC, context="kite-testenv", namespace=NS)

def deployment(name, replicas):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "web", "image": "nginx:1.27",
                                                           "ports": [{"containerPort": 80}]}]}}}}

d = k.apply(deployment("web", 2))
eq(d["spec"]["replicas"], 2)
eq(type(d["spec"]["replicas"]), "int")
eq(d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"], 80)
d2 = k.create(deployment("api", 1))
eq(d2["kind"], "Deployment")
eq(names(k.list("deploy")), ["api", "web"])

# re-apply with another replica count (same manager: no conflict)
eq(k.apply(deployment("web", 3))["spec"]["replicas"], 3)
eq(k.patch("deployments", "web", {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}}}, type="strategic")["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.28")

# status subresource of a namespaced built-in
s = k.status(d, {"collisionCount": 1})
eq(s["status"]["collisionCount"], 1)
eq(k.get("deploy", "web")["spec"]["replicas"], 3, "status leaves spec")

# owner: a ConfigMap controlled by the deployment
cm = k.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web-config"}, "data": {"a": "b"}}, owner=d)
ref = cm["metadata"]["ownerReferences"][0]
eq([ref["kind"], ref["name"], ref["uid"], ref["controller"], ref["blockOwnerDeletion"]], ["Deployment", "web", d["metadata"]["uid"], True, True])

# propagation: no garbage collector runs here, so foreground/orphan
# deletes stay pending with their finalizer; background deletes at once
eq(k.delete("deploy", "web", propagation="foreground"), True)
eq(k.get("deploy", "web")["metadata"]["finalizers"], ["foregroundDeletion"])
eq(k.delete("deploy", "api", propagation="Orphan"), True)
eq(k.get("deploy", "api")["metadata"]["finalizers"], ["orphan"])
eq(k.delete("cm", "web-config", propagation="background"), True)
eq(k.try_get("cm", "web-config").ok, False)
has(k.try_delete("cm", "x", propagation="sideways").error, "unknown propagation policy")
`)
}

func TestIntegrationCRD(t *testing.T) {
	c := newCluster(t)
	kind := "Gadget" + c.suffix
	group := "kite-" + c.suffix + ".example.io"
	plural := strings.ToLower(kind) + "s"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.admin.dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).
			Delete(ctx, plural+"."+group, metav1.DeleteOptions{})
	})
	run(t, c.runtime(t, nil), `
KIND = "Gadget" + SUFFIX
SINGULAR = KIND.lower()
PLURAL = SINGULAR + "s"
SHORT = "gd" + SUFFIX
GROUP = "kite-" + SUFFIX + ".example.io"
APIV = GROUP + "/v1"

# not served yet: unknown (and the miss must not be remembered)
eq(k8s.try_get(SINGULAR, "g1", namespace=NS).error, 'k8s.get: unknown kind "%s"' % SINGULAR)
eq(k8s.try_list(PLURAL, namespace=NS).ok, False)

crd = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": PLURAL + "." + GROUP},
    "spec": {
        "group": GROUP, "scope": "Namespaced",
        "names": {"kind": KIND, "plural": PLURAL, "singular": SINGULAR, "shortNames": [SHORT], "listKind": KIND + "List"},
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            }}},
        }],
    },
}
k8s.apply(crd)

def established():
    c = k8s.get("customresourcedefinitions", crd["metadata"]["name"])
    for cond in (c.get("status") or {}).get("conditions") or []:
        if cond["type"] == "Established" and cond["status"] == "True":
            return True
    return False

ok = False
for i in range(600):
    if established():
        ok = True
        break
    time.sleep("100ms")
eq(ok, True, "CRD established")

# discovery can trail Established a little
for i in range(600):
    if k8s.try_list(PLURAL, namespace=NS).ok:
        break
    time.sleep("100ms")

g = k8s.create({"apiVersion": APIV, "kind": KIND, "metadata": {"name": "g1"}, "spec": {"size": 3, "ratio": 0.5, "tags": ["a"]}}, namespace=NS)
eq(g["spec"], {"ratio": 0.5, "size": 3, "tags": ["a"]})
eq(type(g["spec"]["size"]), "int")
eq(type(g["spec"]["ratio"]), "float")

# resolved by kind, plural, singular, short name and group/plural
for name in [KIND, PLURAL, SINGULAR, SHORT, SHORT.upper(), GROUP + "/" + PLURAL]:
    eq(k8s.get(name, "g1", namespace=NS)["metadata"]["name"], "g1", name)

a = k8s.apply({"apiVersion": APIV, "kind": KIND, "metadata": {"name": "g2", "namespace": NS}, "spec": {"size": 5}})
eq(a["spec"]["size"], 5)
eq(k8s.apply({"apiVersion": APIV, "kind": KIND, "metadata": {"name": "g2", "namespace": NS}, "spec": {"size": 6}})["spec"]["size"], 6)
eq(names(k8s.list(SHORT, namespace=NS)), ["g1", "g2"])
eq(names(k8s.list(KIND, namespace="*")), ["g1", "g2"])

# status: shallow merge into the live status
s = k8s.status(a, {"phase": "Ready", "count": 2})
eq(s["status"], {"count": 2, "phase": "Ready"})
s = k8s.status({"kind": KIND, "apiVersion": APIV, "metadata": {"name": "g2"}}, {"phase": "Done"}, namespace=NS)
eq(s["status"], {"count": 2, "phase": "Done"})
eq(k8s.get(KIND, "g2", namespace=NS)["spec"]["size"], 6)

# label / annotate / patch work on custom resources (strategic merge does not)
eq(k8s.label(SHORT, "g1", {"x": "y"}, namespace=NS)["metadata"]["labels"], {"x": "y"})
eq(k8s.patch(SHORT, "g1", {"spec": {"size": 4}}, namespace=NS)["spec"]["size"], 4)
has(k8s.try_patch(SHORT, "g1", {"spec": {"size": 4}}, namespace=NS, type="strategic").error, "(UnsupportedMediaType)")

eq(k8s.delete(SHORT, "g1", namespace=NS), True)
eq(k8s.try_get(KIND, "g1", namespace=NS).error, 'k8s.get: %s.%s "g1" not found (NotFound)' % (PLURAL, GROUP))
eq(k8s.delete(PLURAL, "g2", namespace=NS), True)
eq(k8s.list(KIND, namespace=NS), [])
`)
}

func TestIntegrationClusterScopedStatus(t *testing.T) {
	c := newCluster(t)
	node := "kite-node-" + c.suffix
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.admin.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "nodes"}).Delete(ctx, node, metav1.DeleteOptions{})
	})
	run(t, c.runtime(t, nil), `
NODE = "kite-node-" + SUFFIX
n = k8s.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": NODE}}, namespace="ignored")
eq("namespace" in n["metadata"], False)
s = k8s.status(n, {"capacity": {"cpu": "4", "pods": "110"}})
eq(s["status"]["capacity"], {"cpu": "4", "pods": "110"})
eq(k8s.get("node", NODE, namespace="ignored")["status"]["capacity"]["cpu"], "4")
eq(k8s.label("nodes", NODE, {"role": "test"})["metadata"]["labels"]["role"], "test")
eq(k8s.delete("node", NODE), True)
`)
}

func TestIntegrationGlobalDryRun(t *testing.T) {
	c := newCluster(t)
	run(t, c.runtime(t, nil), `
k8s.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "real"}, "data": {"v": "1"}}, namespace=NS)
`)
	run(t, c.runtime(t, &libkite.Config{DryRun: true}), `
k = k8s.config(kubeconfig=KC, namespace=NS)
eq(k.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry"}})["metadata"]["name"], "dry")
eq(k.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dry2"}})["metadata"]["name"], "dry2")
eq(k.patch("cm", "real", {"data": {"v": "2"}})["data"]["v"], "2")
eq(k.label("cm", "real", {"l": "x"})["metadata"]["labels"], {"l": "x"})
eq(k.annotate("cm", "real", {"a": "x"})["metadata"]["annotations"], {"a": "x"})
eq(k.delete("cm", "real"), True)
# reads are real: nothing changed
r = k.get("cm", "real")
eq(r["data"], {"v": "1"})
eq(r["metadata"].get("labels"), None)
eq(r["metadata"].get("annotations"), None)
eq(k.try_get("cm", "dry").ok, False)
eq(k.try_get("cm", "dry2").ok, False)
`)
}

func TestIntegrationForbiddenAndInfo(t *testing.T) {
	c := newCluster(t)
	run(t, c.runtime(t, nil), `
nobody = k8s.config(kubeconfig=KC, context="kite-nobody", namespace=NS)
eq(nobody.context(), "kite-nobody")
r = nobody.try_get("cm", "anything")
eq(r.ok, False)
has(r.error, 'k8s.get: configmaps "anything" is forbidden: User "kite-nobody" cannot get resource "configmaps"')
has(r.error, "(Forbidden)")
has(nobody.try_list("deploy").error, "(Forbidden)")
has(nobody.try_create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}).error, "(Forbidden)")
has(nobody.try_delete("cm", "x").error, "(Forbidden)")

v = k8s.version()
eq(sorted(v.keys()), ["git_version", "major", "minor", "platform"])
eq(v["major"], "1")
# (the test apiserver is built without git version stamping)
eq([type(v[k]) for k in sorted(v.keys())], ["string", "string", "string", "string"])
eq(v["git_version"] != "", True)
eq(v["platform"] != "", True)

res = k8s.api_resources()
byname = {r["group_version"] + "/" + r["name"]: r for r in res}
d = byname["apps/v1/deployments"]
eq([d["kind"], d["namespaced"]], ["Deployment", True])
has(d["verbs"], "get")
eq(byname["v1/namespaces"]["namespaced"], False)
eq(len([r for r in res if "/" in r["name"]]), 0, "no subresources")
eq(k8s.version(timeout="10s"), v)
`)
	// The request context reaches client-go: a per-call deadline, and the
	// script's own context when it is cancelled mid-run.
	run(t, c.runtime(t, nil), `
has(k8s.try_get("cm", "x", namespace=NS, timeout="1ns").error, "context deadline exceeded")
has(k8s.config(kubeconfig=KC, timeout="1ns").try_list("cm").error, "context deadline exceeded")
`)
	rt := c.runtime(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	err := rt.Execute(ctx, "for i in range(1000000):\n    k8s.try_list(\"configmaps\", namespace=\"*\")\n")
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("cancelled run: %v", err)
	}
}

func TestIntegrationPermissions(t *testing.T) {
	c := newCluster(t)
	rt := c.runtime(t, &libkite.Config{Permissions: libkite.DenyAllPermissions()})
	got, msg, _ := kitetest.Eval(rt, "", `k8s.try_create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "denied"}}, namespace=`+kitetest.Lit(c.ns)+`).error`)
	if msg != "" || !strings.HasPrefix(got, denied("write")) {
		t.Fatalf("= %q (%s)", got, msg)
	}
	run(t, c.runtime(t, &libkite.Config{Permissions: libkite.AllowLocalPermissions()}), `
eq(k8s.try_get("cm", "denied", namespace=NS).error, 'k8s.get: configmaps "denied" not found (NotFound)')
eq(k8s.config(kubeconfig=KC, namespace=NS).apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "allowed"}})["metadata"]["namespace"], NS)
`)
}
