package k8s

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	discfake "k8s.io/client-go/discovery/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

func TestKindResolution(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	cases := []struct {
		kind string
		want schema.GroupVersionResource
		ns   bool
	}{
		{"deploy", gvrDeployments, true},
		{"Deployments", gvrDeployments, true},
		{"  CM ", gvrConfigMaps, true},
		{"ns", gvrNamespaces, false},
		{"hpa", schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}, true},
		{"clusterrolebinding", schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}, false},
		{"apps/deployments", gvrDeployments, true},
		{"event", schema.GroupVersionResource{Version: "v1", Resource: "events"}, true},
		{"events.k8s.io/events", gvrEventsV1, true},
		{"Widget", gvrWidgets, true},
		{"widgets", gvrWidgets, true},
		{"widget", gvrWidgets, true},
		{"wg", gvrWidgets, true},
		{"example.io/widgets", gvrWidgets, true},
		{"cwg", schema.GroupVersionResource{Group: "example.io", Version: "v1", Resource: "clusterwidgets"}, false},
		{"limits", schema.GroupVersionResource{Version: "v1", Resource: "limitranges"}, true},
		{"LimitRange", schema.GroupVersionResource{Version: "v1", Resource: "limitranges"}, true},
	}
	for _, c := range cases {
		ki, err := f.client.resolveKind(ctx, c.kind)
		if err != nil {
			t.Fatalf("%q: %v", c.kind, err)
		}
		if ki.GVR != c.want || ki.Namespaced != c.ns {
			t.Fatalf("%q = %+v, want %v namespaced=%v", c.kind, ki, c.want, c.ns)
		}
	}
	for _, bad := range []string{"nope", "example.io/widget", "apps/nope", "pods/status"} {
		if _, err := f.client.resolveKind(ctx, bad); err == nil || err.Error() != fmt.Sprintf("unknown kind %q", bad) {
			t.Fatalf("%q: err = %v", bad, err)
		}
	}
}

func TestKindResolutionCaching(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	// A miss is not remembered: the kind resolves once discovery serves it.
	if _, err := f.client.resolveKind(ctx, "gadget"); err == nil {
		t.Fatal("gadget resolved before it exists")
	}
	f.disc.Resources = append(f.disc.Resources, &metav1.APIResourceList{GroupVersion: "toys.io/v1alpha1",
		APIResources: []metav1.APIResource{{Name: "gadgets", SingularName: "gadget", Kind: "Gadget", Namespaced: true}}})
	ki, err := f.client.resolveKind(ctx, "gadget")
	if err != nil || ki.GVR.Group != "toys.io" || ki.GVR.Version != "v1alpha1" {
		t.Fatalf("after CRD: %+v, %v", ki, err)
	}
	// A hit is remembered: it resolves without discovery.
	f.disc.Resources = nil
	if _, err := f.client.resolveKind(ctx, "gadget"); err != nil {
		t.Fatalf("memoised hit: %v", err)
	}
	if _, err := f.client.resolveKind(ctx, "widget"); err == nil {
		t.Fatal("widget resolved with discovery empty and no memo")
	}
}

// flakyDiscovery fails one group version, as an unavailable aggregated API does.
type flakyDiscovery struct {
	*discfake.FakeDiscovery
	fail string
}

func (d *flakyDiscovery) ServerResourcesForGroupVersion(gv string) (*metav1.APIResourceList, error) {
	if gv == d.fail {
		return nil, errors.New("service unavailable")
	}
	return d.FakeDiscovery.ServerResourcesForGroupVersion(gv)
}

func TestKindResolutionPartialDiscovery(t *testing.T) {
	f := newFake(t)
	f.client.disc = &flakyDiscovery{FakeDiscovery: f.disc, fail: "events.k8s.io/v1"}
	if _, err := discovery.ServerPreferredResources(f.client.disc); !discovery.IsGroupDiscoveryFailedError(err) {
		t.Fatalf("fixture: want a partial failure, got %v", err)
	}
	ki, err := f.client.resolveKind(context.Background(), "wg")
	if err != nil || ki.GVR != gvrWidgets {
		t.Fatalf("partial discovery: %+v, %v", ki, err)
	}
	// Total failure: the error says why.
	f.client.disc = &flakyDiscovery{FakeDiscovery: &discfake.FakeDiscovery{Fake: &clienttesting.Fake{}}}
	f.client.disc.(*flakyDiscovery).PrependReactor("get", "group", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	_, err = f.client.resolveKind(context.Background(), "gizmo")
	if err == nil || !strings.HasPrefix(err.Error(), `unknown kind "gizmo" (discovery: `) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("total failure: %v", err)
	}
}

func TestManifestKindResolution(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	cases := []struct {
		kind, apiVersion string
		want             schema.GroupVersionResource
	}{
		{"Deployment", "apps/v1", gvrDeployments},
		{"Event", "v1", schema.GroupVersionResource{Version: "v1", Resource: "events"}},
		{"Event", "events.k8s.io/v1", gvrEventsV1},
		{"HorizontalPodAutoscaler", "autoscaling/v1", schema.GroupVersionResource{Group: "autoscaling", Version: "v1", Resource: "horizontalpodautoscalers"}},
		{"Widget", "example.io/v1", gvrWidgets},
		{"ConfigMap", "", gvrConfigMaps},
	}
	for _, c := range cases {
		ki, err := f.client.resolveManifestKind(ctx, c.kind, c.apiVersion)
		if err != nil || ki.GVR != c.want {
			t.Fatalf("%s %s = %+v, %v; want %v", c.apiVersion, c.kind, ki, err, c.want)
		}
	}
	if ki := builtinKinds["hpa"]; ki.GVR.Version != "v2" {
		t.Fatal("resolving a manifest changed the built-in table")
	}
	if _, err := f.client.resolveManifestKind(ctx, "", "v1"); err == nil {
		t.Fatal("no kind accepted")
	}
}

func TestCoerceManifest(t *testing.T) {
	eval := func(src string) starlark.Value {
		v, err := starlark.Eval(&starlark.Thread{}, "x", src, nil)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	names := func(objs []map[string]any) string {
		var s []string
		for _, o := range objs {
			_, _, n, _ := objMeta(o)
			s = append(s, n)
		}
		return strings.Join(s, ",")
	}
	ok := []struct{ src, want string }{
		{`{"kind": "ConfigMap", "metadata": {"name": "a"}}`, "a"},
		{`"kind: ConfigMap\nmetadata: {name: a}\n---\n---\nkind: Secret\nmetadata: {name: b}\n"`, "a,b"},
		{`[{"metadata": {"name": "a"}}, [{"metadata": {"name": "b"}}, "metadata: {name: c}"], ({"metadata": {"name": "d"}},)]`, "a,b,c,d"},
	}
	for _, c := range ok {
		objs, err := coerceManifest(eval(c.src))
		if err != nil || names(objs) != c.want {
			t.Fatalf("%s = %s, %v", c.src, names(objs), err)
		}
	}
	bad := []struct{ src, want string }{
		{`1`, "expected k8s object, dict, YAML string, or list, got int"},
		{`"# nothing\n---\n"`, "no documents found in YAML"},
		{`[{}, 2]`, "list[1]: expected k8s object, dict, YAML string, or list, got int"},
		{`[[{}, [None]]]`, "list[0]: list[1]: list[0]: expected k8s object, dict, YAML string, or list, got NoneType"},
		{`"- a\n- b\n"`, "YAML document 0: expected a mapping, got list"},
		{`{1: 2}`, "manifest: dict key must be string, got int"},
	}
	for _, c := range bad {
		if _, err := coerceManifest(eval(c.src)); err == nil || err.Error() != c.want {
			t.Fatalf("%s: err = %v, want %s", c.src, err, c.want)
		}
	}
	// ints stay ints, floats stay floats, bytes become base64 text.
	objs, err := coerceManifest(eval(`{"spec": {"n": 3, "big": 9007199254740993, "f": 0.5, "b": b"hi", "l": [1, True, None]}}`))
	if err != nil {
		t.Fatal(err)
	}
	spec := objs[0]["spec"].(map[string]any)
	if spec["n"] != int64(3) || spec["big"] != int64(9007199254740993) || spec["f"] != 0.5 || spec["b"] != "aGk=" {
		t.Fatalf("spec = %#v", spec)
	}
	if l := spec["l"].([]any); l[0] != int64(1) || l[1] != true || l[2] != nil {
		t.Fatalf("list = %#v", l)
	}
}

func TestGetListAndConversion(t *testing.T) {
	w := obj("example.io/v1", "Widget", "team-a", "w1", map[string]any{
		"spec": map[string]any{"replicas": int64(3), "ratio": 0.5, "tags": []any{"a", "b"}, "on": true}})
	w.SetLabels(map[string]string{"app": "web"})
	other := obj("example.io/v1", "Widget", "team-b", "w2", nil)
	f := newFake(t, w, other, obj("v1", "ConfigMap", "team-a", "settings", map[string]any{"data": map[string]any{"k": "v"}}))
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Name: "get ints stay ints", Pre: `w = k8s.get("widget", "w1")`,
			Expr: `[type(w["spec"]["replicas"]), w["spec"]["replicas"], type(w["spec"]["ratio"]), w["spec"]["tags"], w["spec"]["on"], type(w)]`,
			Want: `["int", 3, "float", ["a", "b"], True, "dict"]`},
		{Name: "get default namespace", Expr: `k8s.get("cm", "settings")["data"]`, Want: `{"k": "v"}`},
		{Name: "get positional namespace", Expr: `k8s.get("wg", "w2", "team-b")["metadata"]["namespace"]`, Want: `team-b`},
		{Name: "list", Expr: `[o["metadata"]["name"] for o in k8s.list("widgets")]`, Want: `["w1"]`},
		{Name: "list all namespaces", Expr: `sorted([o["metadata"]["name"] for o in k8s.list("widgets", namespace="*")])`, Want: `["w1", "w2"]`},
		{Name: "list labels", Expr: `len(k8s.list("widgets", "*", "app=web")), len(k8s.list("widgets", "*", "app=db"))`, Want: `(1, 0)`},
		{Name: "client get", Pre: `c = k8s.config(namespace="team-b")`, Expr: `c.get("widget", "w2")["metadata"]["name"]`, Want: `w2`},
		{Name: "not found", Expr: `k8s.get("cm", "nope")`, Err: `k8s.get: configmaps "nope" not found (NotFound)`},
		{Name: "try not found", Expr: `k8s.try_get("cm", "nope")`, Want: `Result(ok=False, error="k8s.get: configmaps \"nope\" not found (NotFound)")`},
		{Name: "try ok", Pre: `r = k8s.try_get("cm", "settings")`, Expr: `bool(r), r.ok, r.error, r.value["data"]`, Want: `(True, True, "", {"k": "v"})`},
		{Name: "client try", Expr: `k8s.config().try_get("cm", "nope").error`, Want: `k8s.get: configmaps "nope" not found (NotFound)`},
		{Name: "unknown kind", Expr: `k8s.get("gizmo", "x")`, Err: `k8s.get: unknown kind "gizmo"`},
		{Name: "invalid timeout", Expr: `k8s.get("cm", "settings", timeout="soon")`, Err: `k8s.get: invalid timeout "soon"`},
		{Name: "timeout ok", Expr: `k8s.get("cm", "settings", timeout="5s")["metadata"]["name"]`, Want: `settings`},
		{Name: "missing arg", Expr: `k8s.get("cm")`, Err: `k8s.get: missing required argument: name`},
		{Name: "unknown kwarg", Expr: `k8s.list("cm", label="x")`, Err: `k8s.list: unknown keyword argument: label`},
		{Name: "wrong type", Expr: `k8s.get("cm", 1)`, Err: `k8s.get: for parameter name: got int, want string`},
		{Name: "context", Expr: `k8s.context(), k8s.namespace_name()`, Want: `("fake-ctx", "team-a")`},
		{Name: "config context", Expr: `k8s.config(context="other", namespace="ns1").context(), k8s.config(namespace="ns1").namespace_name()`, Want: `("other", "ns1")`},
		{Name: "version", Expr: `k8s.version()`, Want: `{"git_version": "v1.36.3", "major": "1", "minor": "36", "platform": "linux/amd64"}`},
		{Name: "api_resources", Pre: `rs = {r["group_version"] + "/" + r["name"]: r for r in k8s.api_resources()}`,
			Expr: `rs["example.io/v1/widgets"], "v1/pods/status" in rs`,
			Want: `({"group_version": "example.io/v1", "kind": "Widget", "name": "widgets", "namespaced": True, "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}, False)`},
	})
}

func TestGoErrorsUnwrap(t *testing.T) {
	f := newFake(t)
	_, msg, err := f.eval(t, nil, "", `k8s.get("cm", "nope")`)
	if !apierrors.IsNotFound(err) {
		t.Fatalf("apierrors.IsNotFound(%v) = false", err)
	}
	var ke *Error
	if !errors.As(err, &ke) || ke.Op != "k8s.get" || Reason(err) != metav1.StatusReasonNotFound {
		t.Fatalf("errors.As *Error: %v (%s)", err, msg)
	}
}

func TestCreate(t *testing.T) {
	f := newFake(t)
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Name: "dict", Expr: `k8s.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "1"}})["metadata"]`,
			Want: `{"name": "a", "namespace": "team-a"}`},
		{Name: "yaml multi-doc returns list",
			Expr: `[o["metadata"]["namespace"] + "/" + o["metadata"]["name"] for o in k8s.create("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: pinned}\n", namespace="ns-kw")]`,
			Want: `["ns-kw/b", "pinned/c"]`},
		{Name: "apiVersion filled in", Expr: `k8s.create({"kind": "Widget", "metadata": {"name": "w"}})["apiVersion"]`, Want: `example.io/v1`},
		{Name: "cluster-scoped ignores namespace", Expr: `k8s.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n1"}}, namespace="x")["metadata"]`,
			Want: `{"name": "n1"}`},
		{Name: "already exists",
			Pre:  `m = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dup"}}; k8s.create(m)`,
			Expr: `k8s.try_create(m).error`, Want: `k8s.create: ConfigMap "dup": configmaps "dup" already exists (AlreadyExists)`},
		{Name: "unknown kind", Expr: `k8s.create({"kind": "Gizmo", "metadata": {"name": "g"}})`, Err: `k8s.create: Gizmo "g": unknown kind "Gizmo"`},
		{Name: "bad manifest", Expr: `k8s.create(3)`, Err: `k8s.create: expected k8s object, dict, YAML string, or list, got int`},
		{Name: "stops at first failure",
			Pre:  `r = k8s.try_create([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "s1"}}, {"kind": "Gizmo", "metadata": {"name": "g"}}, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "s3"}}])`,
			Expr: `r.error, k8s.try_get("cm", "s1").ok, k8s.try_get("cm", "s3").ok`, Want: `("k8s.create: Gizmo \"g\": unknown kind \"Gizmo\"", True, False)`},
	})
}

func TestApply(t *testing.T) {
	f := newFake(t)
	rt := f.runtime(t, nil)
	got, msg, _ := kitetest.Eval(rt, `owner = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "uid": "u-1"}}`,
		`k8s.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}}, owner=owner, force=True)["metadata"]["ownerReferences"]`)
	if msg != "" || got != `[{"apiVersion": "apps/v1", "blockOwnerDeletion": True, "controller": True, "kind": "Deployment", "name": "d", "uid": "u-1"}]` {
		t.Fatalf("= %s (%s)", got, msg)
	}
	pa := f.mutations()[0].(clienttesting.PatchActionImpl)
	if pa.GetPatchType() != types.ApplyPatchType || pa.PatchOptions.FieldManager != "starkite" || pa.PatchOptions.Force == nil || !*pa.PatchOptions.Force ||
		pa.GetNamespace() != "team-a" || pa.GetName() != "a" || pa.PatchOptions.DryRun != nil {
		t.Fatalf("apply action = %+v", pa)
	}
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Name: "list of two", Expr: `len(k8s.apply([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}]))`, Want: `2`},
		{Name: "owner missing uid", Expr: `k8s.apply({"kind": "ConfigMap", "metadata": {"name": "a"}}, owner={"apiVersion": "v1", "kind": "X", "metadata": {"name": "o"}})`,
			Err: `k8s.apply: owner missing metadata.uid (apiVersion, kind, metadata.name and metadata.uid are required)`},
		{Name: "owner not dict", Expr: `k8s.apply({"kind": "ConfigMap", "metadata": {"name": "a"}}, owner="x")`, Err: `k8s.apply: owner must be a dict, got string`},
		{Name: "name required", Expr: `k8s.apply({"kind": "ConfigMap", "metadata": {"generateName": "a-"}})`, Err: `k8s.apply: ConfigMap "a-": metadata.name is required`},
	})
	f.dyn.ClearActions()
	if _, msg, _ := kitetest.Eval(rt, "", `k8s.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "fm"}}, field_manager="me", dry_run=True)`); msg != "" {
		t.Fatal(msg)
	}
	pa = f.mutations()[0].(clienttesting.PatchActionImpl)
	if pa.PatchOptions.FieldManager != "me" || pa.PatchOptions.Force == nil || *pa.PatchOptions.Force || len(pa.PatchOptions.DryRun) != 1 {
		t.Fatalf("apply options = %+v", pa.PatchOptions)
	}
}

func TestPatchLabelAnnotateDelete(t *testing.T) {
	cm := obj("v1", "ConfigMap", "team-a", "cm1", map[string]any{"data": map[string]any{"a": "1"}})
	cm.SetLabels(map[string]string{"keep": "y", "drop": "y"})
	f := newFake(t, cm, obj("apps/v1", "Deployment", "team-a", "d1", map[string]any{"spec": map[string]any{"replicas": int64(1)}}))
	rt := f.runtime(t, nil)
	for _, c := range []kitetest.Case{
		{Name: "merge", Expr: `k8s.patch("cm", "cm1", {"data": {"b": "2"}})["data"]`, Want: `{"a": "1", "b": "2"}`},
		{Name: "merge string", Expr: `k8s.patch("cm", "cm1", '{"data": {"c": "3"}}', type="merge")["data"]["c"]`, Want: `3`},
		{Name: "strategic", Expr: `k8s.patch("deploy", "d1", {"spec": {"replicas": 4}}, type="strategic")["spec"]["replicas"]`, Want: `4`},
		{Name: "json list", Expr: `k8s.patch("cm", "cm1", [{"op": "remove", "path": "/data/a"}], type="JSON")["data"]`, Want: `{"b": "2", "c": "3"}`},
		{Name: "list needs json", Expr: `k8s.patch("cm", "cm1", [])`, Err: `k8s.patch: a list patch needs type="json"`},
		{Name: "bad type", Expr: `k8s.patch("cm", "cm1", {}, type="apply")`, Err: `k8s.patch: unknown patch type "apply" (want merge, strategic or json)`},
		{Name: "bad patch", Expr: `k8s.patch("cm", "cm1", 3)`, Err: `k8s.patch: patch must be a dict, list or JSON string, got int`},
		{Name: "label", Expr: `k8s.label("cm", "cm1", {"new": "1", "drop": None})["metadata"]["labels"]`, Want: `{"keep": "y", "new": "1"}`},
		{Name: "label bad value", Expr: `k8s.label("cm", "cm1", {"n": 1})`, Err: `k8s.label: label keys and values must be strings (or None to remove), got int for "n"`},
		{Name: "labels not dict", Expr: `k8s.label("cm", "cm1", ["a"])`, Err: `k8s.label: labels must be a dict, got list`},
		{Name: "annotate", Expr: `k8s.annotate("cm", "cm1", {"note": "hi"})["metadata"]["annotations"]`, Want: `{"note": "hi"}`},
		{Name: "delete bad propagation", Expr: `k8s.delete("cm", "cm1", propagation="sideways")`, Err: `k8s.delete: unknown propagation policy "sideways" (want background, foreground or orphan)`},
		{Name: "delete", Expr: `k8s.delete("cm", "cm1", propagation="Foreground")`, Want: `True`},
		{Name: "delete missing", Expr: `k8s.try_delete("cm", "cm1").error`, Want: `k8s.delete: configmaps "cm1" not found (NotFound)`},
	} {
		t.Run(c.Name, func(t *testing.T) {
			got, msg, _ := kitetest.Eval(rt, c.Pre, c.Expr)
			c.Check(t, got, msg)
		})
	}
	var kinds []string
	deletes := 0
	for _, a := range f.mutations() {
		switch a := a.(type) {
		case clienttesting.PatchActionImpl:
			kinds = append(kinds, string(a.GetPatchType()))
			if a.GetPatchType() == types.MergePatchType && strings.Contains(string(a.GetPatch()), "drop") &&
				string(a.GetPatch()) != `{"metadata":{"labels":{"drop":null,"new":"1"}}}` {
				t.Fatalf("label patch = %s", a.GetPatch())
			}
		case clienttesting.DeleteActionImpl:
			deletes++
			want := map[int]metav1.DeletionPropagation{1: metav1.DeletePropagationForeground, 2: metav1.DeletePropagationBackground}[deletes]
			if p := a.DeleteOptions.PropagationPolicy; p == nil || *p != want {
				t.Fatalf("delete options = %+v", a.DeleteOptions)
			}
		}
	}
	want := "application/merge-patch+json application/merge-patch+json application/strategic-merge-patch+json application/json-patch+json application/merge-patch+json application/merge-patch+json"
	if strings.Join(kinds, " ") != want {
		t.Fatalf("patch types = %s", strings.Join(kinds, " "))
	}
}

func TestStatus(t *testing.T) {
	w := obj("example.io/v1", "Widget", "team-b", "w1", map[string]any{"status": map[string]any{"phase": "Pending", "keep": "x"}})
	cw := obj("example.io/v1", "ClusterWidget", "", "cw", nil)
	f := newFake(t, w, cw)
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Name: "namespace from obj, shallow merge", Pre: `w = {"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "w1", "namespace": "team-b"}}`,
			Expr: `k8s.status(w, {"phase": "Ready", "count": 2})["status"]`, Want: `{"count": 2, "keep": "x", "phase": "Ready"}`},
		{Name: "cluster scoped", Expr: `k8s.status({"apiVersion": "example.io/v1", "kind": "ClusterWidget", "metadata": {"name": "cw"}}, {"ok": True})["status"]`, Want: `{"ok": True}`},
		{Name: "no args", Expr: `k8s.status()`, Err: `k8s.status: requires obj and status arguments`},
		{Name: "None status", Expr: `k8s.status({"kind": "Widget"}, None)`, Err: `k8s.status: requires obj and status arguments`},
		{Name: "obj missing name", Expr: `k8s.status({"kind": "Widget"}, {})`, Err: `k8s.status: obj missing kind or metadata.name`},
		{Name: "status not dict", Expr: `k8s.status({"kind": "Widget", "metadata": {"name": "w1"}}, [1])`, Err: `k8s.status: status must be a dict`},
		{Name: "kwarg namespace wins", Expr: `k8s.try_status({"kind": "Widget", "metadata": {"name": "w1", "namespace": "team-b"}}, {}, namespace="team-a").error`,
			Want: `k8s.status: widgets.example.io "w1" not found (NotFound)`},
	})
	var subs []string
	for _, a := range f.mutations() {
		subs = append(subs, a.GetVerb()+":"+a.GetSubresource()+":"+a.GetNamespace())
	}
	if strings.Join(subs, " ") != "update:status:team-b update:status:" {
		t.Fatalf("status actions = %v", subs)
	}
}

func TestDryRun(t *testing.T) {
	cm := obj("v1", "ConfigMap", "team-a", "cm1", nil)
	f := newFake(t, cm, obj("example.io/v1", "Widget", "team-a", "w1", nil))
	script := `
m = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "new"}}
k8s.create(m)
k8s.apply(m)
k8s.patch("cm", "cm1", {"data": {"a": "b"}})
k8s.label("cm", "cm1", {"a": "b"})
k8s.annotate("cm", "cm1", {"a": "b"})
k8s.status({"kind": "Widget", "metadata": {"name": "w1"}}, {"a": "b"})
k8s.delete("cm", "cm1")
`
	check := func(t *testing.T, wantDry bool) {
		t.Helper()
		n := 0
		for _, a := range f.mutations() {
			var dry []string
			switch a := a.(type) {
			case clienttesting.CreateActionImpl:
				dry = a.CreateOptions.DryRun
			case clienttesting.PatchActionImpl:
				dry = a.PatchOptions.DryRun
			case clienttesting.UpdateActionImpl:
				dry = a.UpdateOptions.DryRun
			case clienttesting.DeleteActionImpl:
				dry = a.DeleteOptions.DryRun
			default:
				t.Fatalf("unexpected action %T", a)
			}
			if got := len(dry) == 1 && dry[0] == metav1.DryRunAll; got != wantDry {
				t.Fatalf("%s %s: dryRun = %v", a.GetVerb(), a.GetResource().Resource, dry)
			}
			n++
		}
		if n != 7 {
			t.Fatalf("%d mutations, want 7", n)
		}
	}
	t.Run("global dry run", func(t *testing.T) {
		f.dyn.ClearActions()
		rt := f.runtime(t, &libkite.Config{DryRun: true})
		if err := rt.Execute(context.Background(), script); err != nil && !strings.Contains(err.Error(), "not found") {
			t.Fatal(err)
		}
		check(t, true)
	})
	t.Run("dry_run kwarg", func(t *testing.T) {
		f.dyn.ClearActions()
		rt := f.runtime(t, nil)
		if _, msg, _ := kitetest.Eval(rt, "", `k8s.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}, dry_run=True)`); msg != "" {
			t.Fatal(msg)
		}
		a := f.mutations()[0].(clienttesting.CreateActionImpl)
		if len(a.CreateOptions.DryRun) != 1 {
			t.Fatalf("create options = %+v", a.CreateOptions)
		}
	})
	t.Run("not dry", func(t *testing.T) {
		f2 := newFake(t, cm.DeepCopy(), obj("example.io/v1", "Widget", "team-a", "w1", nil))
		*f = *f2
		if err := f.runtime(t, nil).Execute(context.Background(), script); err != nil {
			t.Fatal(err)
		}
		check(t, false)
	})
}

func TestPermissions(t *testing.T) {
	f := newFake(t, obj("v1", "ConfigMap", "team-a", "cm1", nil))
	denyAll := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	calls := map[string][]string{
		"read": {`get("cm", "cm1")`, `list("cm")`, `version()`, `api_resources()`, `watch("cm", timeout="50ms")`,
			`wait_for("cm", "cm1", timeout="50ms")`},
		"write": {`create({"kind": "ConfigMap", "metadata": {"name": "x"}})`, `apply({"kind": "ConfigMap", "metadata": {"name": "x"}})`,
			`delete("cm", "cm1")`, `patch("cm", "cm1", {})`, `label("cm", "cm1", {})`, `annotate("cm", "cm1", {})`,
			`status({"kind": "ConfigMap", "metadata": {"name": "cm1"}}, {})`},
	}
	var cases []kitetest.PermCase
	for perm, exprs := range calls {
		denial := denied(perm)
		for _, e := range exprs {
			name := e[:strings.IndexByte(e, '(')]
			cases = append(cases,
				kitetest.PermCase{Name: perm + "/" + name, Cfg: denyAll, Expr: "k8s." + e, ErrPrefix: denial},
				kitetest.PermCase{Name: perm + "/try_" + name, Cfg: denyAll, Expr: "k8s.try_" + e, Want: `Result(ok=False, error="permission denied: k8s.` + perm},
				kitetest.PermCase{Name: perm + "/read-only rules/" + name, Cfg: &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.read"}}},
					Expr: "k8s.try_" + e + ".ok", Want: map[string]string{"read": "True", "write": "False"}[perm]},
			)
		}
	}
	cases = append(cases,
		kitetest.PermCase{Name: "config denied", Cfg: denyAll, Expr: `k8s.config()`, ErrPrefix: denied("config")},
		kitetest.PermCase{Name: "client method denied", Cfg: &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.config"}}},
			Expr: `k8s.config().get("cm", "cm1")`, ErrPrefix: denied("read")},
		kitetest.PermCase{Name: "unchecked under deny-all", Cfg: denyAll, Expr: `k8s.context(), k8s.namespace_name(), k8s.yaml({"a": 1})`, Want: `("fake-ctx", "team-a", "a: 1\n")`},
		kitetest.PermCase{Name: "allow-local", Cfg: &libkite.Config{Permissions: libkite.AllowLocalPermissions()},
			Expr: `k8s.get("cm", "cm1")["metadata"]["name"], k8s.config(namespace="x").namespace_name(), k8s.label("cm", "cm1", {"a": "b"})["metadata"]["labels"]`,
			Want: `("cm1", "x", {"a": "b"})`},
		kitetest.PermCase{Name: "allow-net denies", Cfg: &libkite.Config{Permissions: libkite.AllowNetPermissions()}, Expr: `k8s.get("cm", "cm1")`,
			ErrPrefix: denied("read")},
	)
	f.dyn.ClearActions()
	kitetest.RunPermCases(t, func(t testing.TB, cfg *libkite.Config) *libkite.Runtime { return f.runtime(t, cfg) }, cases, nil)
	// Denied calls reached nothing: the only mutations are allow-local's label.
	for _, a := range f.mutations() {
		if a.GetVerb() != "patch" {
			t.Fatalf("denied call had a side effect: %v", a)
		}
	}
}

// denied is the denial of a k8s call under category (empty resource).
func denied(category string) string {
	return "permission denied: k8s." + category + " " + category + " - no matching allow rule"
}

// specOps are the 37 operations of spec §5–§10, offered by the module
// and by every k8s.client.
const specOps = `OPS = ["get", "list", "create", "apply", "delete", "patch", "label", "annotate", "status",
    "watch", "wait_for", "logs", "logs_follow", "exec", "port_forward", "cp",
    "context", "namespace_name", "version", "api_resources",
    "deploy", "run", "expose", "scale", "autoscale", "rollout", "set_image", "set_env", "set_resources",
    "cordon", "uncordon", "drain", "taint", "untaint", "top_nodes", "top_pods", "describe"]
`

func TestClientValue(t *testing.T) {
	f := newFake(t)
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Name: "str", Expr: `str(k8s.config(context="dev", namespace="apps"))`, Want: `<k8s.client context="dev" namespace="apps">`},
		{Name: "type truthy", Expr: `type(k8s.config()), bool(k8s.config())`, Want: `("k8s.client", True)`},
		{Name: "unhashable", Expr: `{k8s.config(): 1}`, Err: `unhashable type: k8s.client`},
		{Name: "dir", Pre: specOps, Expr: `dir(k8s.config()) == sorted(OPS + ["try_" + n for n in OPS])`, Want: `True`},
		{Name: "37 ops", Pre: specOps, Expr: `len(OPS)`, Want: `37`},
		{Name: "no module-only attrs", Expr: `[hasattr(k8s.config(), a) for a in ["config", "yaml", "control", "webhook", "obj"]]`, Want: `[False, False, False, False, False]`},
		{Name: "module dir", Pre: specOps, Expr: `[n for n in dir(k8s) if not n.startswith("try_")] == sorted(OPS + ["config", "control", "obj", "webhook", "yaml"])`, Want: `True`},
		{Name: "module try twins exist", Pre: specOps, Expr: `[n for n in dir(k8s) if n.startswith("try_")] == sorted(["try_" + n for n in OPS + ["config", "control", "webhook", "yaml"]])`, Want: `True`},
		{Name: "module try twins", Expr: `k8s.try_config(namespace="q").value.namespace_name(), k8s.try_yaml([1]).value`, Want: `("q", "1\n")`},
		{Name: "config invalid timeout", Expr: `k8s.config(timeout="x")`, Err: `k8s.config: invalid timeout "x"`},
		{Name: "config positional", Expr: `k8s.config("c1", "n1").context()`, Want: `c1`},
		{Name: "context takes no args", Expr: `k8s.context(1)`, Err: `k8s.context: unexpected positional argument at index 0`},
	})
}

func TestClientTimeout(t *testing.T) {
	f := newFake(t, obj("v1", "ConfigMap", "team-a", "cm1", nil))
	// The per-call timeout wins over the client's; both bound the request.
	x := &call{thread: &starlark.Thread{}, client: func() (*Client, error) {
		return NewClientFromInterfaces(f.dyn, f.disc, nil, "", "", 10*time.Second), nil
	}}
	if err := x.begin(""); err != nil {
		t.Fatal(err)
	}
	if dl, ok := x.ctx.Deadline(); !ok || time.Until(dl) > 10*time.Second || time.Until(dl) < 9*time.Second {
		t.Fatalf("client default timeout not applied: %v %v", dl, ok)
	}
	x.cancel()
	x = &call{thread: &starlark.Thread{}, client: x.client}
	if err := x.begin("1m"); err != nil {
		t.Fatal(err)
	}
	if dl, _ := x.ctx.Deadline(); time.Until(dl) < 50*time.Second {
		t.Fatal("per-call timeout did not win")
	}
	x.cancel()
	x = &call{thread: &starlark.Thread{}, client: x.client}
	if err := x.begin("0s"); err != nil || x.cancel != nil {
		t.Fatal("timeout 0s should disable the deadline")
	}
}

func TestDefaultClientError(t *testing.T) {
	rt, _ := kitetest.New(t, nil, NewWithClientFactory(func(ClientOptions) (*Client, error) { return nil, errors.New("boom") }))
	_, msg, _ := kitetest.Eval(rt, "", `k8s.get("cm", "x")`)
	if msg != "k8s: failed to create default client: boom" {
		t.Fatalf("error = %q", msg)
	}
	// No client is needed for k8s.yaml.
	if got, msg, _ := kitetest.Eval(rt, "", `k8s.yaml({"b": [1, 2], "a": {"c": "x"}})`); msg != "" || got != "a:\n    c: x\nb:\n    - 1\n    - 2\n" {
		t.Fatalf("yaml = %q (%s)", got, msg)
	}
}

func TestYAML(t *testing.T) {
	f := newFake(t)
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Name: "dict", Expr: `k8s.yaml({"kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"x": "1"}})`, Want: "data:\n    x: \"1\"\nkind: ConfigMap\nmetadata:\n    name: a\n"},
		{Name: "list", Expr: `k8s.yaml([{"a": 1}, {"b": 2}])`, Want: "a: 1\n---\nb: 2\n"},
		{Name: "empty list", Expr: `k8s.yaml([])`, Want: ""},
		{Name: "item error", Expr: `k8s.yaml([{"a": 1}, {"b": k8s.yaml}])`, Err: `k8s.yaml[1]: unsupported type: builtin_function_or_method`},
		{Name: "error", Expr: `k8s.yaml(k8s.yaml)`, Err: `k8s.yaml: unsupported type: builtin_function_or_method`},
		{Name: "arity", Expr: `k8s.yaml()`, Err: `k8s.yaml: got 0 arguments, want 1`},
	})
}

func TestNewClientFromKubeconfig(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	dir := t.TempDir()
	kc := filepath.Join(dir, "config")
	// The server is unreachable: construction must not touch it.
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
current-context: one
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user: {token: t}
contexts:
- name: one
  context: {cluster: c, user: u, namespace: ns-one}
- name: two
  context: {cluster: c, user: u}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		o           ClientOptions
		ctx, ns, to string
	}{
		{ClientOptions{Kubeconfig: kc}, "one", "ns-one", "0s"},
		{ClientOptions{Kubeconfig: kc, Context: "two"}, "two", "default", "0s"},
		{ClientOptions{Kubeconfig: kc, Context: "two", Namespace: "x", Timeout: time.Minute}, "two", "x", "1m0s"},
	}
	for _, c := range cases {
		cl, err := NewClient(c.o)
		if err != nil {
			t.Fatal(err)
		}
		if cl.Context() != c.ctx || cl.Namespace() != c.ns || cl.timeout.String() != c.to || cl.rest.Host != "https://127.0.0.1:1" {
			t.Fatalf("%+v: context %q namespace %q timeout %v", c.o, cl.Context(), cl.Namespace(), cl.timeout)
		}
	}
	t.Setenv("KUBECONFIG", kc)
	if cl, err := NewClient(ClientOptions{}); err != nil || cl.Context() != "one" {
		t.Fatalf("$KUBECONFIG: %v %v", cl, err)
	}
	for _, o := range []ClientOptions{{Kubeconfig: filepath.Join(dir, "missing")}, {Kubeconfig: kc, Context: "three"}} {
		_, err := NewClient(o)
		if err == nil || !strings.HasPrefix(err.Error(), "failed to build config (tried kubeconfig and in-cluster): ") {
			t.Fatalf("%+v: err = %v", o, err)
		}
	}
	rt, _ := kitetest.New(t, nil, New())
	_, msg, _ := kitetest.Eval(rt, "", `k8s.config(kubeconfig=`+kitetest.Lit(filepath.Join(dir, "missing"))+`)`)
	if !strings.HasPrefix(msg, "k8s.config: failed to build config (tried kubeconfig and in-cluster): ") {
		t.Fatalf("k8s.config error = %q", msg)
	}
	got, msg, _ := kitetest.Eval(rt, "", `str(k8s.config(kubeconfig=`+kitetest.Lit(kc)+`, context="two"))`)
	if msg != "" || got != `<k8s.client context="two" namespace="default">` {
		t.Fatalf("= %s (%s)", got, msg)
	}
}
