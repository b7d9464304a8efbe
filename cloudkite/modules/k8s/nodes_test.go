package k8s

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	clienttesting "k8s.io/client-go/testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// Unit tests of the node operations, top_* and describe (spec §10) on
// fake clients; nodes_integration_test.go runs them on a real API server.

// podWith is a pod in ns bound to node with one container per request
// pair (cpu, memory; "" = none).
func podWith(ns, name, node, phase string, requests ...[2]string) *unstructured.Unstructured {
	var cs []any
	for i, r := range requests {
		req := map[string]any{}
		if r[0] != "" {
			req["cpu"] = r[0]
		}
		if r[1] != "" {
			req["memory"] = r[1]
		}
		cs = append(cs, map[string]any{"name": "c" + string(rune('0'+i)), "image": "img", "resources": map[string]any{"requests": req}})
	}
	return obj("v1", "Pod", ns, name, map[string]any{
		"spec":   map[string]any{"nodeName": node, "containers": cs},
		"status": map[string]any{"phase": phase},
	})
}

// serveMetrics makes the fake discovery serve metrics.k8s.io/v1beta1 and
// stores metrics objects in the fake tracker.
func (f *fakeEnv) serveMetrics(t *testing.T, podMetrics, nodeMetrics []*unstructured.Unstructured) {
	t.Helper()
	f.disc.Resources = append(f.disc.Resources, &metav1.APIResourceList{GroupVersion: "metrics.k8s.io/v1beta1", APIResources: []metav1.APIResource{
		{Name: "pods", Kind: "PodMetrics", Namespaced: true, Verbs: metav1.Verbs{"get", "list"}},
		{Name: "nodes", Kind: "NodeMetrics", Verbs: metav1.Verbs{"get", "list"}},
	}})
	for _, m := range podMetrics {
		if err := f.dyn.Tracker().Create(gvrPodMet, m, m.GetNamespace()); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range nodeMetrics {
		if err := f.dyn.Tracker().Create(gvrNodeMet, m, ""); err != nil {
			t.Fatal(err)
		}
	}
}

func podMetrics(ns, name string, usage ...[2]string) *unstructured.Unstructured {
	var cs []any
	for i, u := range usage {
		cs = append(cs, map[string]any{"name": "c" + string(rune('0'+i)), "usage": map[string]any{"cpu": u[0], "memory": u[1]}})
	}
	return obj("metrics.k8s.io/v1beta1", "PodMetrics", ns, name, map[string]any{"containers": cs})
}

func topPodsFixture() []runtime.Object {
	return []runtime.Object{
		podWith("team-a", "small", "n1", "Running", [2]string{"100m", "64Mi"}),
		podWith("team-a", "big", "n1", "Running", [2]string{"250m", "128Mi"}, [2]string{"250m", "128Mi"}),
		podWith("team-a", "none", "n1", "Pending", [2]string{"", ""}),
		podWith("team-b", "other", "n2", "Running", [2]string{"2", "1Gi"}),
	}
}

func TestTopPodsRequests(t *testing.T) {
	f := newOpsFake(t, topPodsFixture()...)
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Name: "requests summed, no usage keys", Expr: `k8s.top_pods()`,
			Want: `[{"cpu_request": "500m", "memory_request": "256Mi", "name": "big", "namespace": "team-a", "status": "Running"}, ` +
				`{"cpu_request": "0", "memory_request": "0", "name": "none", "namespace": "team-a", "status": "Pending"}, ` +
				`{"cpu_request": "100m", "memory_request": "64Mi", "name": "small", "namespace": "team-a", "status": "Running"}]`},
		{Name: "sort by cpu request", Expr: `[p["name"] for p in k8s.top_pods(namespace="*", sort_by="cpu")]`, Want: `["other", "big", "small", "none"]`},
		{Name: "sort by memory request", Expr: `[p["name"] for p in k8s.top_pods("team-a", "MEMORY")]`, Want: `["big", "small", "none"]`},
		{Name: "namespace", Expr: `[p["name"] for p in k8s.top_pods(namespace="team-b")]`, Want: `["other"]`},
		{Name: "unknown sort_by", Expr: `k8s.top_pods(sort_by="name")`, Err: `k8s.top_pods: unknown sort_by "name" (want cpu or memory)`},
	})
}

func TestTopPodsUsage(t *testing.T) {
	f := newOpsFake(t, topPodsFixture()...)
	f.serveMetrics(t, []*unstructured.Unstructured{
		podMetrics("team-a", "small", [2]string{"300m", "200Mi"}),
		podMetrics("team-a", "big", [2]string{"5m", "10Mi"}, [2]string{"1000000n", "1048576"}),
		podMetrics("team-b", "other", [2]string{"1", "1Gi"}),
	}, nil)
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Name: "usage summed over containers", Expr: `{p["name"]: (p.get("cpu"), p.get("memory")) for p in k8s.top_pods()}`,
			Want: `{"big": ("6m", "11Mi"), "none": (None, None), "small": ("300m", "200Mi")}`},
		// by usage, not by request (big requests more, small uses more)
		{Name: "sort by cpu usage", Expr: `[p["name"] for p in k8s.top_pods(sort_by="cpu")]`, Want: `["small", "big", "none"]`},
		{Name: "sort by memory usage all namespaces", Expr: `[p["name"] for p in k8s.top_pods(namespace="*", sort_by="memory")]`, Want: `["other", "small", "big", "none"]`},
		{Name: "requests kept", Expr: `[p["cpu_request"] for p in k8s.top_pods(sort_by="cpu")]`, Want: `["100m", "500m", "0"]`},
	})
}

func TestTopNodes(t *testing.T) {
	n1 := obj("v1", "Node", "", "n1", map[string]any{"status": map[string]any{
		"capacity":    map[string]any{"cpu": "4", "memory": "8Gi", "pods": "110"},
		"allocatable": map[string]any{"cpu": "3800m", "memory": "7Gi", "pods": "110"},
	}})
	f := newOpsFake(t, n1, obj("v1", "Node", "", "n2", nil))
	want := `[{"allocatable": {"cpu": "3800m", "memory": "7Gi", "pods": "110"}, "capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}, "name": "n1"}, ` +
		`{"allocatable": {}, "capacity": {}, "name": "n2"}]`
	if got, msg, _ := f.eval(t, nil, "", `k8s.top_nodes()`); msg != "" || got != want {
		t.Fatalf("without metrics = %s (%s)", got, msg)
	}
	f.serveMetrics(t, nil, []*unstructured.Unstructured{
		obj("metrics.k8s.io/v1beta1", "NodeMetrics", "", "n1", map[string]any{"usage": map[string]any{"cpu": "1234567890n", "memory": "3Gi"}}),
	})
	got, msg, _ := f.eval(t, nil, "", `[(n["name"], n.get("cpu"), n.get("memory"), n["capacity"].get("cpu")) for n in k8s.top_nodes()]`)
	if msg != "" || got != `[("n1", "1235m", "3072Mi", "4"), ("n2", None, None, None)]` {
		t.Fatalf("with metrics = %s (%s)", got, msg)
	}
}

func TestTaintRequests(t *testing.T) {
	node := obj("v1", "Node", "", "n1", map[string]any{"spec": map[string]any{"taints": []any{
		map[string]any{"key": "a", "value": "1", "effect": "NoSchedule"},
		map[string]any{"key": "a", "effect": "NoExecute"},
		map[string]any{"key": "b", "effect": "NoSchedule"},
	}}})
	node.SetResourceVersion("7")
	f := newOpsFake(t, node)
	mp := types.MergePatchType
	// same key+effect replaced in place; resourceVersion guards the write
	wantPatch(t, f.onePatch(t, `k8s.taint("n1", "a", "2")`), mp,
		`{"metadata":{"resourceVersion":"7"},"spec":{"taints":[{"effect":"NoSchedule","key":"a","value":"2"},{"effect":"NoExecute","key":"a"},{"effect":"NoSchedule","key":"b"}]}}`)
	f = newOpsFake(t, node.DeepCopy())
	wantPatch(t, f.onePatch(t, `k8s.taint("n1", "c", effect="prefernoschedule")`), mp,
		`{"metadata":{"resourceVersion":"7"},"spec":{"taints":[{"effect":"NoSchedule","key":"a","value":"1"},{"effect":"NoExecute","key":"a"},{"effect":"NoSchedule","key":"b"},{"effect":"PreferNoSchedule","key":"c"}]}}`)
	f = newOpsFake(t, node.DeepCopy())
	wantPatch(t, f.onePatch(t, `k8s.untaint("n1", "a")`), mp,
		`{"metadata":{"resourceVersion":"7"},"spec":{"taints":[{"effect":"NoSchedule","key":"b"}]}}`)
	f = newOpsFake(t, node.DeepCopy())
	wantPatch(t, f.onePatch(t, `k8s.cordon("n1")`), mp, `{"spec":{"unschedulable":true}}`)
	wantPatch(t, f.onePatch(t, `k8s.uncordon("n1")`), mp, `{"spec":{"unschedulable":false}}`)
	// nothing to remove: no write
	f.dyn.ClearActions()
	if got, msg, _ := f.eval(t, nil, "", `len(k8s.untaint("n1", "zzz")["spec"]["taints"])`); msg != "" || got != "3" || len(f.patches()) != 0 {
		t.Fatalf("untaint of a missing key = %s (%s), %d patches", got, msg, len(f.patches()))
	}
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Name: "bad effect", Expr: `k8s.taint("n1", "k", effect="Never")`, Err: `k8s.taint: unknown taint effect "Never" (want NoSchedule, PreferNoSchedule or NoExecute)`},
		{Name: "no key", Expr: `k8s.untaint("n1", "")`, Err: `k8s.untaint: taint key is required`},
		{Name: "missing node", Expr: `k8s.taint("nope", "k")`, Err: `k8s.taint: nodes "nope" not found (NotFound)`},
	})
}

func TestTaintConflictRetry(t *testing.T) {
	f := newOpsFake(t, obj("v1", "Node", "", "n1", nil))
	conflicts := 0
	f.dyn.PrependReactor("patch", "nodes", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if conflicts++; conflicts <= 2 {
			return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "nodes"}, "n1", nil)
		}
		return false, nil, nil
	})
	if got, msg, _ := f.eval(t, nil, "", `k8s.taint("n1", "k", "v")["spec"]["taints"]`); msg != "" || got != `[{"effect": "NoSchedule", "key": "k", "value": "v"}]` || conflicts != 3 {
		t.Fatalf("= %s (%s) after %d tries", got, msg, conflicts)
	}
}

func TestDrainRequests(t *testing.T) {
	ds := podWith("team-a", "ds-pod", "n1", "Running")
	ds.SetOwnerReferences([]metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "ds", UID: "u1", Controller: boolPtr(true)}})
	mirror := podWith("kube-system", "static", "n1", "Running")
	mirror.SetAnnotations(map[string]string{"kubernetes.io/config.mirror": "abc"})
	objs := []runtime.Object{obj("v1", "Node", "", "n1", nil), podWith("team-a", "web", "n1", "Running"), podWith("team-b", "db", "n1", "Running"), ds, mirror}
	setup := func(t *testing.T) (*fakeEnv, *[]string) {
		f := newOpsFake(t, objs...)
		var evictions []string
		f.dyn.PrependReactor("create", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
			c := a.(clienttesting.CreateActionImpl)
			if c.GetSubresource() != "eviction" {
				return false, nil, nil
			}
			ev := c.GetObject().(*unstructured.Unstructured)
			evictions = append(evictions, c.GetNamespace()+"/"+ev.GetName()+":"+ev.GetAPIVersion()+"/"+ev.GetKind())
			if ev.GetName() == "db" {
				return true, nil, apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
			}
			return true, &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Status", "status": "Success"}}, nil
		})
		return f, &evictions
	}
	f, evictions := setup(t)
	got, msg, _ := f.eval(t, nil, "", `k8s.drain("n1")`)
	if msg != "" || got != `{"errors": ["team-a/ds-pod: DaemonSet-managed pod not evicted (use ignore_daemonsets=True to skip DaemonSet pods)", `+
		`"team-b/db: Cannot evict pod as it would violate the pod's disruption budget. (TooManyRequests)"], "evicted": ["team-a/web"], "node": "n1"}` {
		t.Fatalf("drain = %s (%s)", got, msg)
	}
	if strings.Join(*evictions, " ") != "team-a/web:policy/v1/Eviction team-b/db:policy/v1/Eviction" {
		t.Fatalf("evictions = %v", *evictions)
	}
	var deletes []string
	for _, a := range f.mutations() {
		if a.GetVerb() == "delete" {
			deletes = append(deletes, a.GetNamespace())
		}
	}
	if len(deletes) != 0 {
		t.Fatalf("drain without force deleted pods: %v", deletes)
	}

	// force: the refused eviction falls back to a delete; DaemonSet pods skipped
	f, _ = setup(t)
	got, msg, _ = f.eval(t, nil, "", `k8s.drain("n1", force=True, ignore_daemonsets=True)`)
	if msg != "" || got != `{"errors": [], "evicted": ["team-a/web", "team-b/db"], "node": "n1"}` {
		t.Fatalf("forced drain = %s (%s)", got, msg)
	}
	var verbs []string
	for _, a := range f.mutations() {
		verbs = append(verbs, a.GetVerb()+":"+a.GetSubresource()+":"+a.GetNamespace())
	}
	if strings.Join(verbs, " ") != "patch:: create:eviction:team-a create:eviction:team-b delete::team-b" {
		t.Fatalf("forced drain actions = %v", verbs)
	}

	// global dry run: every request is a dry run, the eviction's own delete options too
	f, _ = setup(t)
	if _, msg, _ := kitetest.Eval(f.runtime(t, &libkite.Config{DryRun: true}), "", `k8s.drain("n1", force=True, ignore_daemonsets=True)`); msg != "" {
		t.Fatal(msg)
	}
	for _, a := range f.mutations() {
		var dry []string
		switch a := a.(type) {
		case clienttesting.PatchActionImpl:
			dry = a.PatchOptions.DryRun
		case clienttesting.CreateActionImpl:
			dry = a.CreateOptions.DryRun
			do, _, _ := unstructured.NestedStringSlice(a.GetObject().(*unstructured.Unstructured).Object, "deleteOptions", "dryRun")
			if len(do) != 1 || do[0] != metav1.DryRunAll {
				t.Fatalf("eviction deleteOptions.dryRun = %v", do)
			}
		case clienttesting.DeleteActionImpl:
			dry = a.DeleteOptions.DryRun
		}
		if len(dry) != 1 || dry[0] != metav1.DryRunAll {
			t.Fatalf("%s %s: dryRun = %v", a.GetVerb(), a.GetSubresource(), dry)
		}
	}
}

func boolPtr(b bool) *bool { return &b }

func TestDescribeUnit(t *testing.T) {
	d := obj("apps/v1", "Deployment", "team-a", "web", map[string]any{"status": map[string]any{"conditions": []any{
		map[string]any{"type": "Available", "status": "True", "observedGeneration": int64(3), "message": "ok"},
	}}})
	ev := func(ns, name, kind, target string, count int64, last string) *unstructured.Unstructured {
		return obj("v1", "Event", ns, name, map[string]any{"involvedObject": map[string]any{"kind": kind, "name": target, "namespace": ns},
			"type": "Normal", "reason": "R-" + name, "message": "m", "count": count, "lastTimestamp": last})
	}
	f := newOpsFake(t, d, obj("v1", "ConfigMap", "team-a", "plain", nil),
		ev("team-a", "e2", "Deployment", "web", 0, "2024-01-01T00:00:02Z"), ev("team-a", "e1", "Deployment", "web", 4, "2024-01-01T00:00:01Z"))
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Name: "describe", Pre: `d = k8s.describe("deploy", "web")`,
			Expr: `d["resource"]["metadata"]["name"], d["conditions"], d["events"]`,
			Want: `("web", [{"message": "ok", "observedGeneration": "3", "status": "True", "type": "Available"}], ` +
				`[{"count": "4", "message": "m", "reason": "R-e1", "type": "Normal"}, {"count": "1", "message": "m", "reason": "R-e2", "type": "Normal"}])`},
		{Name: "no conditions key", Expr: `sorted(k8s.describe("cm", "plain").keys())`, Want: `["events", "resource"]`},
		{Name: "missing", Expr: `k8s.describe("cm", "nope")`, Err: `k8s.describe: configmaps "nope" not found (NotFound)`},
	})
	// the events list is asked for the object's events only
	var sel []string
	for _, a := range f.dyn.Actions() {
		if l, ok := a.(clienttesting.ListActionImpl); ok && l.GetResource() == gvrEvents {
			sel = append(sel, l.GetNamespace()+"?"+l.GetListRestrictions().Fields.String())
		}
	}
	if len(sel) == 0 || sel[0] != "team-a?involvedObject.kind=Deployment,involvedObject.name=web,involvedObject.namespace=team-a" {
		t.Fatalf("event lists = %v", sel)
	}
	// events that cannot be listed are left out
	f.dyn.PrependReactor("list", "events", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "events"}, "", nil)
	})
	if got, msg, _ := f.eval(t, nil, "", `sorted(k8s.describe("deploy", "web").keys())`); msg != "" || got != `["conditions", "resource"]` {
		t.Fatalf("= %s (%s)", got, msg)
	}
}
