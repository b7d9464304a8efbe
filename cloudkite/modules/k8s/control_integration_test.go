package k8s

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kitetime "github.com/project-starkite/starkite/libkite/modules/time"
)

// k8s.control against the real kube-apiserver: controllers run in the
// background (a script, or the builtin called directly), the test
// changes objects with the admin client and polls for the effects.

var gvrLeases = schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}

// controlRuntime is a runtime with k8s and time, KC/NS/SUFFIX and the
// recorder's record/count builtins.
func (c *cluster) controlRuntime(t *testing.T, cfg *libkite.Config, rec *recorder) *libkite.Runtime {
	t.Helper()
	conf := libkite.Config{}
	if cfg != nil {
		conf = *cfg
	}
	conf.Globals = map[string]any{"KC": c.kubeconfig, "NS": c.ns, "SUFFIX": c.suffix}
	for k, v := range rec.globals() {
		conf.Globals[k] = v
	}
	rt, _ := kitetest.New(t, &conf, New(), kitetime.New())
	return rt
}

func (c *cluster) configMaps() dynamic.ResourceInterface {
	return c.admin.dyn.Resource(gvrConfigMaps).Namespace(c.ns)
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// putCM creates or replaces ConfigMap name with labels and data.
func (c *cluster) putCM(t *testing.T, name string, labels map[string]any, data map[string]any, extraMeta map[string]any) *unstructured.Unstructured {
	t.Helper()
	ctx := testCtx(t)
	md := map[string]any{"name": name}
	if labels != nil {
		md["labels"] = labels
	}
	for k, v := range extraMeta {
		md[k] = v
	}
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": md}}
	if data != nil {
		u.Object["data"] = data
	}
	cur, err := c.configMaps().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		out, err := c.configMaps().Create(ctx, u, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	u.SetResourceVersion(cur.GetResourceVersion())
	out, err := c.configMaps().Update(ctx, u, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (c *cluster) deleteCM(t *testing.T, name string) {
	t.Helper()
	if err := c.configMaps().Delete(testCtx(t), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// cmData is the data of ConfigMap name (nil, false when absent).
func (c *cluster) cmData(t *testing.T, name string) (map[string]any, bool) {
	t.Helper()
	u, err := c.configMaps().Get(testCtx(t), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	d, _ := u.Object["data"].(map[string]any)
	return d, true
}

func (c *cluster) waitCMData(t *testing.T, name string, want map[string]any) {
	t.Helper()
	var got map[string]any
	var ok bool
	eventually(t, func() bool {
		got, ok = c.cmData(t, name)
		return ok && reflect.DeepEqual(got, want)
	}, func() string { return fmt.Sprintf("ConfigMap %s data %v (have %v, exists %v)", name, want, got, ok) })
}

func (c *cluster) waitCMGone(t *testing.T, name string) {
	t.Helper()
	eventually(t, func() bool { _, ok := c.cmData(t, name); return !ok }, func() string { return "ConfigMap " + name + " to be deleted" })
}

func labelsOf(kv ...string) map[string]any {
	m := map[string]any{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// (1) A controller copying labelled ConfigMaps: create, update and delete
// reach the copies; cancelling the run stops the controller promptly.
func TestIntegrationControlCopiesConfigMaps(t *testing.T) {
	c := newCluster(t)
	shortTimings(t)
	n := captureNotes(t)
	rec := &recorder{}
	rt := c.controlRuntime(t, nil, rec)
	c.putCM(t, "a", labelsOf("src", "true"), map[string]any{"v": "1"}, nil)
	c.putCM(t, "c", labelsOf("src", "false"), map[string]any{"v": "1"}, nil)
	r := startScript(t, rt, `
def reconcile(event, obj):
    record(event, obj.metadata.name)
    name = obj.metadata.name + "-copy"
    if event == "DELETED":
        k8s.delete("cm", name, namespace=obj.metadata.namespace)
        return
    k8s.apply({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": name, "namespace": obj.metadata.namespace, "labels": {"copy-of": obj.metadata.name}},
               "data": obj.data or {}})

k8s.control("configmap", reconcile=reconcile, namespace=NS, labels="src=true")
`)
	// an object that existed before the start arrives as ADDED
	c.waitCMData(t, "a-copy", map[string]any{"v": "1"})
	c.putCM(t, "b", labelsOf("src", "true"), map[string]any{"w": "2"}, nil)
	c.waitCMData(t, "b-copy", map[string]any{"w": "2"})
	c.putCM(t, "a", labelsOf("src", "true"), map[string]any{"v": "2", "x": "3"}, nil)
	c.waitCMData(t, "a-copy", map[string]any{"v": "2", "x": "3"})
	c.deleteCM(t, "b")
	c.waitCMGone(t, "b-copy")
	c.putCM(t, "d", labelsOf("src", "true"), nil, nil)
	c.waitCMData(t, "d-copy", nil)
	// the selector kept c (and the copies) out
	if _, ok := c.cmData(t, "c-copy"); ok {
		t.Fatal("c (src=false) was copied")
	}
	if want := []string{"ADDED a", "ADDED b", "MODIFIED a", "DELETED b", "ADDED d"}; !reflect.DeepEqual(rec.all(), want) {
		t.Fatalf("events %q, want %q", rec.all(), want)
	}
	start := time.Now()
	wantCancelled(t, r.stop(t))
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("stopping took %s", d)
	}
	if strings.Contains(n.String(), "retry") {
		t.Fatalf("unexpected failures:\n%s", n)
	}
}

// (2) on_create / on_update(old, new) / on_delete get AttrDicts with the
// right versions; k8s.control returns None when its context ends.
func TestIntegrationControlDispatch(t *testing.T) {
	c := newCluster(t)
	shortTimings(t)
	captureNotes(t)
	rec := &recorder{}
	rt := c.controlRuntime(t, nil, rec)
	c.putCM(t, "pre", nil, map[string]any{"v": "0"}, nil)
	r := startControl(t, rt, `
def on_create(obj):
    record("create", obj.metadata.name, obj.data.v, type(obj), obj.kind, obj["metadata"]["namespace"] == NS)
def on_update(old, new):
    record("update", new.metadata.name, old.data.v, new.data.v)
def on_delete(obj):
    record("delete", obj.metadata.name, obj.data.v)
`, "cm", map[string]any{"on_create": global("on_create"), "on_update": global("on_update"), "on_delete": global("on_delete"), "namespace": c.ns})
	rec.waitCount(t, "create pre 0 AttrDict ConfigMap True", 1)
	c.putCM(t, "x", nil, map[string]any{"v": "1"}, nil)
	rec.waitCount(t, "create x 1 AttrDict ConfigMap True", 1)
	c.putCM(t, "x", nil, map[string]any{"v": "2"}, nil)
	rec.waitCount(t, "update x 1 2", 1)
	c.putCM(t, "x", nil, map[string]any{"v": "3"}, nil)
	rec.waitCount(t, "update x 2 3", 1)
	c.deleteCM(t, "x")
	rec.waitCount(t, "delete x 3", 1)
	want := []string{"create pre 0 AttrDict ConfigMap True", "create x 1 AttrDict ConfigMap True", "update x 1 2", "update x 2 3", "delete x 3"}
	if !reflect.DeepEqual(rec.all(), want) {
		t.Fatalf("calls %q, want %q", rec.all(), want)
	}
	res := r.stop(t)
	if res.err != nil || res.v != starlark.None {
		t.Fatalf("k8s.control = %v, %v; want None", res.v, res.err)
	}
}

// (3) resync re-delivers unchanged objects as ADDED.
func TestIntegrationControlResync(t *testing.T) {
	c := newCluster(t)
	shortTimings(t)
	captureNotes(t)
	rec := &recorder{}
	rt := c.controlRuntime(t, nil, rec)
	c.putCM(t, "r1", nil, nil, nil)
	startScript(t, rt, `
def reconcile(event, obj):
    record(event, obj.metadata.name)
k8s.control("cm", reconcile=reconcile, namespace=NS, resync="300ms")
`)
	rec.waitCount(t, "ADDED r1", 4)
	for _, l := range rec.all() {
		if l != "ADDED r1" {
			t.Fatalf("unexpected call %q", l)
		}
	}
	if ts := rec.timesOf("ADDED r1"); ts[3].Sub(ts[1]) < 500*time.Millisecond {
		t.Fatalf("resyncs came faster than every 300ms: %v", ts)
	}
}

// (4) A failing handler is retried with exponential backoff starting at
// backoff, then dropped after max_retries with a note; the controller
// goes on.
func TestIntegrationControlRetries(t *testing.T) {
	c := newCluster(t)
	shortTimings(t)
	n := captureNotes(t)
	rec := &recorder{}
	rt := c.controlRuntime(t, nil, rec)
	startScript(t, rt, `
def reconcile(event, obj):
    record(event, obj.metadata.name)
    if obj.metadata.name == "bad":
        fail("boom " + obj.metadata.name)
k8s.control("cm", reconcile=reconcile, namespace=NS, max_retries=2, backoff="150ms")
`)
	c.putCM(t, "bad", nil, nil, nil)
	n.waitFor(t, "ADDED "+c.ns+"/bad: boom bad; dropped after 2 retries")
	for _, want := range []string{"ADDED " + c.ns + "/bad: boom bad (retry 1 of 2)", "ADDED " + c.ns + "/bad: boom bad (retry 2 of 2)"} {
		if !strings.Contains(n.String(), want) {
			t.Fatalf("notes lack %q:\n%s", want, n)
		}
	}
	ts := rec.timesOf("ADDED bad")
	if len(ts) != 3 {
		t.Fatalf("bad handled %d times, want 3 (1 + max_retries)", len(ts))
	}
	if g1, g2 := ts[1].Sub(ts[0]), ts[2].Sub(ts[1]); g1 < 150*time.Millisecond || g2 < 300*time.Millisecond {
		t.Fatalf("retry gaps %s, %s; want ≥150ms then ≥300ms", g1, g2)
	}
	// the controller survives: the next object is handled, bad is not retried
	c.putCM(t, "good", nil, nil, nil)
	rec.waitCount(t, "ADDED good", 1)
	time.Sleep(700 * time.Millisecond) // longer than the next backoff step would have been
	if got := rec.count("ADDED bad"); got != 3 {
		t.Fatalf("bad handled %d times after the drop", got)
	}
}

// (5) {"requeue_after": d} re-enqueues the key after d.
func TestIntegrationControlRequeueAfter(t *testing.T) {
	c := newCluster(t)
	shortTimings(t)
	captureNotes(t)
	rec := &recorder{}
	rt := c.controlRuntime(t, nil, rec)
	startScript(t, rt, `
def reconcile(event, obj):
    record(event, obj.metadata.name)
    if obj.metadata.name == "rq" and count("ADDED rq") < 3:
        return {"requeue_after": "250ms"}
    return {"requeue_after": None}
k8s.control("cm", reconcile=reconcile, namespace=NS)
`)
	c.putCM(t, "rq", nil, nil, nil)
	rec.waitCount(t, "ADDED rq", 3)
	ts := rec.timesOf("ADDED rq")
	for i := 1; i < len(ts); i++ {
		if g := ts[i].Sub(ts[i-1]); g < 250*time.Millisecond {
			t.Fatalf("requeued after %s, want ≥250ms", g)
		}
	}
	c.putCM(t, "other", nil, nil, nil)
	rec.waitCount(t, "ADDED other", 1)
	time.Sleep(500 * time.Millisecond)
	if got := rec.count("ADDED rq"); got != 3 {
		t.Fatalf("rq handled %d times, want 3", got)
	}
}

// (6) The predicate filters events (non-bool admits, an error drops with
// a note) and runs with the script's permissions, as handlers do: under
// a k8s.read-only policy reads pass and writes are denied in both.
func TestIntegrationControlPredicatePermissions(t *testing.T) {
	c := newCluster(t)
	shortTimings(t)
	n := captureNotes(t)
	rec := &recorder{}
	rt := c.controlRuntime(t, &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.read"}}}, rec)
	for _, name := range []string{"no", "boom"} {
		c.putCM(t, name, labelsOf("pass", "no"), nil, nil)
	}
	startScript(t, rt, `
def predicate(event, obj):
    name = obj.metadata.name
    live = k8s.get("cm", name, namespace=NS)
    record("pred", event, name, live["metadata"]["uid"] == obj.metadata.uid)
    r = k8s.try_apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pred-" + name, "namespace": NS}})
    record("pred-write", name, r.error)
    if name == "boom":
        fail("predicate boom")
    if name == "none":
        return None
    return obj.metadata.labels.get("pass") == "yes"

def reconcile(event, obj):
    record("rec", event, obj.metadata.name)
    k8s.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": obj.metadata.name + "-copy", "namespace": NS}})

k8s.control("cm", reconcile=reconcile, predicate=predicate, namespace=NS, max_retries=0)
`)
	c.putCM(t, "yes", labelsOf("pass", "yes"), nil, nil)
	c.putCM(t, "none", nil, nil, nil)
	rec.waitCount(t, "rec ADDED yes", 1)
	rec.waitCount(t, "rec ADDED none", 1)
	for _, name := range []string{"no", "boom", "yes", "none"} {
		if rec.count("pred ADDED "+name+" True") != 1 {
			t.Fatalf("predicate not called (or its k8s.get failed) for %s: %q", name, rec.all())
		}
	}
	for _, l := range rec.all() {
		if l == "rec ADDED no" || l == "rec ADDED boom" {
			t.Fatalf("predicate did not filter: %q", l)
		}
		if strings.HasPrefix(l, "pred-write ") && !strings.Contains(l, " "+denied("write")) {
			t.Fatalf("write from the predicate not denied: %q", l)
		}
	}
	n.waitFor(t, "ADDED "+c.ns+"/boom: predicate failed, event dropped: predicate boom")
	n.waitFor(t, "ADDED "+c.ns+"/yes: "+denied("write"))
	n.waitFor(t, "ADDED "+c.ns+"/none: "+denied("write"))
	if !strings.Contains(n.String(), "; dropped after 0 retries") {
		t.Fatalf("notes:\n%s", n)
	}
	for _, name := range []string{"pred-yes", "pred-none", "yes-copy", "none-copy"} {
		if _, ok := c.cmData(t, name); ok {
			t.Fatalf("%s was created despite the policy", name)
		}
	}
}

// (7) Without k8s.read, k8s.control fails at once with the denial.
func TestIntegrationControlDenied(t *testing.T) {
	c := newCluster(t)
	rec := &recorder{}
	for _, cfg := range []*libkite.Config{
		{Permissions: libkite.DenyAllPermissions()},
		{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.write", "k8s.config"}}},
	} {
		rt := c.controlRuntime(t, cfg, rec)
		start := time.Now()
		got, msg, err := kitetest.Eval(rt, "def f(e, o):\n    record(e)\n", `k8s.control("cm", reconcile=f, namespace=NS)`)
		if !libkite.IsPermissionError(err) || !strings.HasPrefix(msg, denied("read")) {
			t.Fatalf("= %q, %q, %v", got, msg, err)
		}
		got, msg, _ = kitetest.Eval(rt, "def f(e, o):\n    record(e)\n", `k8s.try_control("cm", reconcile=f, namespace=NS).error`)
		if msg != "" || !strings.HasPrefix(got, denied("read")) {
			t.Fatalf("try_control: %q (%s)", got, msg)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("denial took %s", d)
		}
	}
	if len(rec.all()) != 0 {
		t.Fatalf("handler ran: %q", rec.all())
	}
}

// (8) watch_owned: events on a child whose ownerReference names the
// controller's kind enqueue the owner as MODIFIED.
func TestIntegrationControlWatchOwned(t *testing.T) {
	c := newCluster(t)
	shortTimings(t)
	captureNotes(t)
	rec := &recorder{}
	rt := c.controlRuntime(t, nil, rec)
	startScript(t, rt, `
def reconcile(event, obj):
    record(event, obj.metadata.name)
k8s.control("configmap", reconcile=reconcile, namespace=NS, labels="role=parent", watch_owned=["configmaps"])
`)
	parent := c.putCM(t, "parent", labelsOf("role", "parent"), nil, nil)
	rec.waitCount(t, "ADDED parent", 1)
	owned := func(kind string) map[string]any {
		return map[string]any{"ownerReferences": []any{map[string]any{
			"apiVersion": "v1", "kind": kind, "name": "parent", "uid": string(parent.GetUID())}}}
	}
	c.putCM(t, "child", labelsOf("role", "child"), map[string]any{"v": "1"}, owned("configmap"))
	rec.waitCount(t, "MODIFIED parent", 1)
	c.putCM(t, "child", labelsOf("role", "child"), map[string]any{"v": "2"}, owned("configmap"))
	rec.waitCount(t, "MODIFIED parent", 2)
	c.deleteCM(t, "child")
	rec.waitCount(t, "MODIFIED parent", 3)
	// a child disowned by a change still reports to its former owner
	c.putCM(t, "child2", labelsOf("role", "child"), nil, owned("ConfigMap"))
	rec.waitCount(t, "MODIFIED parent", 4)
	c.putCM(t, "child2", labelsOf("role", "child"), map[string]any{"v": "1"}, nil)
	rec.waitCount(t, "MODIFIED parent", 5)
	// a child owned by another kind (named like parent2) enqueues
	// nothing: the owned watch and the single worker go in order, so
	// once child3's MODIFIED parent is handled, stranger's would have been
	c.putCM(t, "parent2", labelsOf("role", "parent"), nil, nil)
	rec.waitCount(t, "ADDED parent2", 1)
	c.putCM(t, "stranger", labelsOf("role", "child"), nil, map[string]any{"ownerReferences": []any{map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment", "name": "parent2", "uid": string(parent.GetUID())}}})
	c.putCM(t, "child3", labelsOf("role", "child"), nil, owned("configMap"))
	rec.waitCount(t, "MODIFIED parent", 6)
	want := []string{"ADDED parent", "MODIFIED parent", "MODIFIED parent", "MODIFIED parent", "MODIFIED parent", "MODIFIED parent",
		"ADDED parent2", "MODIFIED parent"}
	if !reflect.DeepEqual(rec.all(), want) {
		t.Fatalf("calls %q, want %q", rec.all(), want)
	}
}

// (9) Leader election: of two runtimes running the same controller only
// the Lease holder reconciles; when it stops, the other takes over; a
// leader that loses its Lease stops, and k8s.control returns None.
func TestIntegrationControlLeaderElection(t *testing.T) {
	c := newCluster(t)
	shortTimings(t)
	n := captureNotes(t)
	recA, recB := &recorder{}, &recorder{}
	rtA, rtB := c.controlRuntime(t, nil, recA), c.controlRuntime(t, nil, recB)
	leases := c.admin.dyn.Resource(gvrLeases).Namespace(c.ns)
	lease := func() (holder, renew string) {
		u, err := leases.Get(testCtx(t), "kite-le", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return "", ""
		}
		if err != nil {
			t.Fatal(err)
		}
		spec := nestedMap(u.Object, "spec")
		return str(spec, "holderIdentity"), str(spec, "renewTime")
	}
	const defs = `
def reconcile(event, obj):
    record(event, obj.metadata.name)
`
	kwargs := func() map[string]any {
		return map[string]any{"reconcile": global("reconcile"), "namespace": c.ns, "leader_election": true, "leader_election_id": "kite-le"}
	}
	c.putCM(t, "one", nil, nil, nil)
	a := startControl(t, rtA, defs, "cm", kwargs())
	recA.waitCount(t, "ADDED one", 1)
	holderA, _ := lease()
	if host, _ := os.Hostname(); !strings.HasPrefix(holderA, host+"_") {
		t.Fatalf("Lease holder %q, want %s_<suffix>", holderA, host)
	}

	b := startControl(t, rtB, defs, "cm", kwargs())
	c.putCM(t, "two", nil, nil, nil)
	recA.waitCount(t, "ADDED two", 1)
	// A keeps renewing while B stands by
	_, r0 := lease()
	renewals := 0
	eventually(t, func() bool {
		h, r := lease()
		if h != holderA {
			t.Fatalf("holder changed to %q while the leader ran", h)
		}
		if r != r0 {
			renewals++
			r0 = r
		}
		return renewals >= 4
	}, func() string { return "four lease renewals" })
	if got := recB.all(); len(got) != 0 {
		t.Fatalf("the standby reconciled: %q", got)
	}

	// the leader stops: it releases the Lease and B takes over, handling
	// what its warm watch queued
	if res := a.stop(t); res.err != nil || res.v != starlark.None {
		t.Fatalf("leader A = %v, %v", res.v, res.err)
	}
	recB.waitCount(t, "ADDED one", 1)
	recB.waitCount(t, "ADDED two", 1)
	holderB, _ := lease()
	if holderB == "" || holderB == holderA {
		t.Fatalf("holder after takeover %q (A was %q)", holderB, holderA)
	}
	countA := len(recA.all())
	c.putCM(t, "three", nil, nil, nil)
	recB.waitCount(t, "ADDED three", 1)
	if len(recA.all()) != countA {
		t.Fatalf("stopped leader reconciled: %q", recA.all())
	}

	// someone else takes the Lease: B cannot renew and stops, returning None
	steal := fmt.Sprintf(`{"spec": {"holderIdentity": "thief", "leaseDurationSeconds": 60, "renewTime": %q}}`,
		time.Now().UTC().Format("2006-01-02T15:04:05.000000Z07:00"))
	if _, err := leases.Patch(testCtx(t), "kite-le", types.MergePatchType, []byte(steal), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	var res result
	eventually(t, func() bool {
		var ok bool
		res, ok = b.ended()
		return ok
	}, func() string { return "B to stop after losing its Lease" })
	if res.err != nil || res.v != starlark.None {
		t.Fatalf("B = %v, %v", res.v, res.err)
	}
	n.waitFor(t, "lost the lease "+c.ns+"/kite-le; stopping")
	if h, _ := lease(); h != "thief" {
		t.Fatalf("holder %q after B stopped", h)
	}
}
