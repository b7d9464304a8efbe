package k8s

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.starlark.net/starlark"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	clienttesting "k8s.io/client-go/testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// k8s.control on fake clients: argument handling, the denial, relist and
// resume of the primary watch, scope, and stopping.

// controlRuntime is a runtime over the fakes with the recorder's
// builtins.
func (f *fakeEnv) controlRuntime(t testing.TB, cfg *libkite.Config, rec *recorder) *libkite.Runtime {
	t.Helper()
	conf := libkite.Config{}
	if cfg != nil {
		conf = *cfg
	}
	conf.Globals = rec.globals()
	rt, _ := kitetest.New(t, &conf, NewWithClientFactory(f.factory))
	return rt
}

func TestControlArguments(t *testing.T) {
	f := newFake(t)
	rec := &recorder{}
	const pre = "def f(e, o):\n    pass\n"
	kitetest.RunCases(t, func(t testing.TB) *libkite.Runtime { return f.controlRuntime(t, nil, rec) }, []kitetest.Case{
		{Name: "no handler", Expr: `k8s.control("cm")`, Err: `k8s.control: at least one handler is required (reconcile, on_create, on_update or on_delete)`},
		{Name: "None handlers", Expr: `k8s.control("cm", reconcile=None, on_create=None, on_update=None, on_delete=None)`, Err: `k8s.control: at least one handler is required (reconcile, on_create, on_update or on_delete)`},
		{Name: "try twin", Expr: `k8s.try_control("cm")`, Want: `Result(ok=False, error="k8s.control: at least one handler is required (reconcile, on_create, on_update or on_delete)")`},
		{Name: "handler not callable", Expr: `k8s.control("cm", reconcile=1)`, Err: `k8s.control: for parameter "reconcile": got int, want callable`},
		{Name: "predicate not callable", Pre: pre, Expr: `k8s.control("cm", reconcile=f, predicate="x")`, Err: `k8s.control: for parameter "predicate": got string, want callable`},
		{Name: "unknown kwarg", Pre: pre, Expr: `k8s.control("cm", reconcile=f, nope=1)`, Err: `k8s.control: unknown keyword argument: nope`},
		{Name: "bad backoff", Pre: pre, Expr: `k8s.control("cm", reconcile=f, backoff="soon")`, Err: `k8s.control: invalid backoff "soon"`},
		{Name: "bad resync", Pre: pre, Expr: `k8s.control("cm", reconcile=f, resync="-1s")`, Err: `k8s.control: invalid resync "-1s"`},
		{Name: "workers", Pre: pre, Expr: `k8s.control("cm", reconcile=f, workers=0)`, Err: `k8s.control: workers must be at least 1, got 0`},
		{Name: "max_retries", Pre: pre, Expr: `k8s.control("cm", reconcile=f, max_retries=-1)`, Err: `k8s.control: max_retries must not be negative, got -1`},
		{Name: "labels", Pre: pre, Expr: `k8s.control("cm", reconcile=f, labels="a in (")`, Err: `k8s.control: invalid labels "a in ("`, ErrContains: true},
		{Name: "watch_owned type", Pre: pre, Expr: `k8s.control("cm", reconcile=f, watch_owned=1)`, Err: `k8s.control: watch_owned must be a list of kind strings, got int`},
		{Name: "watch_owned item", Pre: pre, Expr: `k8s.control("cm", reconcile=f, watch_owned=["pods", 2])`, Err: `k8s.control: watch_owned[1]: want a kind string, got int`},
		{Name: "unknown kind", Pre: pre, Expr: `k8s.control("nope", reconcile=f)`, Err: `k8s.control: unknown kind "nope"`},
		{Name: "unknown owned kind", Pre: pre, Expr: `k8s.control("cm", reconcile=f, watch_owned=["pods", "nope"])`, Err: `k8s.control: watch_owned: unknown kind "nope"`},
		{Name: "leader election needs REST", Pre: pre, Expr: `k8s.control("cm", reconcile=f, leader_election=True)`,
			Err: `k8s.control: leader_election needs a client built from a kubeconfig or the in-cluster config (this client has no REST config)`},
		// every parameter is positional-or-keyword in the order of spec §13
		{Name: "positional order", Pre: pre, Expr: `k8s.control("cm", f, None, None, None, "ns", "", "", "", 1, -2)`, Err: `k8s.control: max_retries must not be negative, got -2`},
		{Name: "positional order 2", Pre: pre, Expr: `k8s.control("cm", f, None, None, None, "", "", "", "", 1, 5, "5s", ["pods"], None, True)`,
			Err: "leader_election needs a client", ErrContains: true},
	})
	if got := rec.all(); len(got) != 0 {
		t.Fatalf("handlers ran: %q", got)
	}
	if a := f.dyn.Actions(); len(a) != 0 {
		t.Fatalf("failed calls reached the API: %v", a)
	}
}

func TestControlDenied(t *testing.T) {
	f := newFake(t, obj("v1", "ConfigMap", "team-a", "cm1", nil))
	f.dyn.ClearActions()
	rec := &recorder{}
	for _, cfg := range []*libkite.Config{
		{Permissions: libkite.DenyAllPermissions()},
		{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.write", "k8s.config", "k8s.exec"}}},
		{Permissions: libkite.AllowNetPermissions()},
	} {
		rt := f.controlRuntime(t, cfg, rec)
		got, msg, err := kitetest.Eval(rt, "def f(e, o):\n    record(e)\n", `k8s.control("cm", reconcile=f)`)
		if !libkite.IsPermissionError(err) || len(msg) < len(denied("read")) || msg[:len(denied("read"))] != denied("read") {
			t.Fatalf("= %q, %q, %v", got, msg, err)
		}
	}
	if a := f.dyn.Actions(); len(a) != 0 {
		t.Fatalf("denied controller reached the API: %v", a)
	}
}

// listScript makes the fake's configmap lists return the given lists in
// turn (the last one from then on), each list waiting for its gate.
type listScript struct {
	mu    sync.Mutex
	lists []*unstructured.UnstructuredList
	gates []chan struct{}
	n     int
}

func (f *fakeEnv) scriptLists(lists ...*unstructured.UnstructuredList) *listScript {
	ls := &listScript{lists: lists}
	for range lists {
		ls.gates = append(ls.gates, make(chan struct{}))
	}
	close(ls.gates[0])
	f.dyn.PrependReactor("list", "configmaps", func(clienttesting.Action) (bool, runtime.Object, error) {
		ls.mu.Lock()
		i := min(ls.n, len(ls.lists)-1)
		ls.n++
		ls.mu.Unlock()
		<-ls.gates[i]
		return true, ls.lists[i].DeepCopy(), nil
	})
	return ls
}

func cmList(rv string, items ...*unstructured.Unstructured) *unstructured.UnstructuredList {
	l := &unstructured.UnstructuredList{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMapList"}}
	l.SetResourceVersion(rv)
	for _, u := range items {
		l.Items = append(l.Items, *u)
	}
	return l
}

// The primary watch resumes from the last resourceVersion when the
// stream ends, retries failed watches, and on 410 relists: the relist is
// diffed into MODIFIED / ADDED / DELETED events.
func TestControlResumeAndRelist(t *testing.T) {
	shortTimings(t)
	n := captureNotes(t)
	f := newFake(t)
	ls := f.scriptLists(
		cmList("10", cmv("a", "1", "1"), cmv("b", "1", "1")),
		cmList("20", cmv("a", "12", "3"), cmv("c", "13", "1")),
	)
	ws := f.scriptWatches(
		[]watch.Event{ev(watch.Modified, cmv("a", "11", "2")), ev(watch.Bookmark, bookmark("15"))},
		[]watch.Event{{Type: watch.Error, Object: &metav1.Status{Status: metav1.StatusFailure, Code: 410,
			Reason: metav1.StatusReasonExpired, Message: "too old resource version: 15 (16)"}}},
	)
	var watchCalls atomic.Int32
	f.dyn.PrependWatchReactor("configmaps", func(clienttesting.Action) (bool, watch.Interface, error) {
		if watchCalls.Add(1) == 1 {
			return true, nil, errors.New("connection reset")
		}
		return false, nil, nil
	})
	rec := &recorder{}
	rt := f.controlRuntime(t, nil, rec)
	r := startControl(t, rt, `
def on_create(obj):
    record("create", obj.metadata.name, obj.data.v)
def on_update(old, new):
    record("update", new.metadata.name, old.data.v, new.data.v)
def on_delete(obj):
    record("delete", obj.metadata.name, obj.data.v)
`, "configmaps", map[string]any{"on_create": global("on_create"), "on_update": global("on_update"), "on_delete": global("on_delete")})
	rec.waitCount(t, "update a 1 2", 1)
	close(ls.gates[1]) // let the relist happen
	rec.waitCount(t, "delete b 1", 1)
	rec.waitCount(t, "create c 1", 1)
	rec.waitCount(t, "update a 2 3", 1)
	got := rec.all()
	if want := []string{"create a 1", "create b 1", "update a 1 2"}; !reflect.DeepEqual(got[:3], want) {
		t.Fatalf("calls %q, want %q first", got, want)
	}
	if len(got) != 6 {
		t.Fatalf("calls %q", got)
	}
	var rvs []string
	for _, o := range ws.watches() {
		rvs = append(rvs, o.ResourceVersion)
		if !o.AllowWatchBookmarks {
			t.Fatalf("watch without bookmarks: %+v", o)
		}
	}
	// after the failed first watch: from the list's RV, resumed from the
	// bookmark's, then from the relist's
	if want := []string{"10", "15", "20"}; !reflect.DeepEqual(rvs, want) {
		t.Fatalf("watched from %q, want %q", rvs, want)
	}
	n.waitFor(t, `watch configmaps in "team-a": connection reset; retrying in 20ms`)
	if res := r.stop(t); res.err != nil || res.v != starlark.None {
		t.Fatalf("= %v, %v", res.v, res.err)
	}
}

// waitWatching waits until the fake has been asked for n watches (the
// fake tracker only tells watches that exist about changes).
func waitWatching(t *testing.T, f *fakeEnv, n int) {
	t.Helper()
	count := func() int {
		c := 0
		for _, a := range f.dyn.Actions() {
			if a.GetVerb() == "watch" {
				c++
			}
		}
		return c
	}
	eventually(t, func() bool { return count() >= n }, func() string { return itoa(n) + " watches" })
}

func bookmark(rv string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}}
	u.SetResourceVersion(rv)
	return u
}

// Scope: the client's default namespace by default, "*" for all; keys
// are namespace/name.
func TestControlNamespaces(t *testing.T) {
	shortTimings(t)
	captureNotes(t)
	for _, tc := range []struct {
		ns   any
		want []string
	}{
		{nil, []string{"ADDED team-a/w1"}},
		{"*", []string{"ADDED team-a/w1", "ADDED team-b/w2"}},
		{"team-b", []string{"ADDED team-b/w2"}},
	} {
		f := newFake(t, obj("example.io/v1", "Widget", "team-a", "w1", nil), obj("example.io/v1", "Widget", "team-b", "w2", nil))
		rec := &recorder{}
		kwargs := map[string]any{"reconcile": global("reconcile")}
		if tc.ns != nil {
			kwargs["namespace"] = tc.ns
		}
		r := startControl(t, f.controlRuntime(t, nil, rec), `
def reconcile(event, obj):
    record(event, obj.metadata.namespace + "/" + obj.metadata.name)
`, "widgets", kwargs)
		for _, w := range tc.want {
			rec.waitCount(t, w, 1)
		}
		waitWatching(t, f, 1)
		// a later object in the scope arrives too; then nothing else came
		_, err := f.dyn.Resource(gvrWidgets).Namespace("team-b").Create(context.Background(), obj("example.io/v1", "Widget", "team-b", "w3", nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if tc.ns != nil {
			rec.waitCount(t, "ADDED team-b/w3", 1)
		}
		_, err = f.dyn.Resource(gvrWidgets).Namespace("team-a").Create(context.Background(), obj("example.io/v1", "Widget", "team-a", "w4", nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if tc.ns != "team-b" {
			rec.waitCount(t, "ADDED team-a/w4", 1)
		}
		r.stop(t)
		want := len(tc.want) + 1
		if tc.ns == "*" {
			want++
		}
		if got := rec.all(); len(got) != want {
			t.Fatalf("namespace %v: calls %q", tc.ns, got)
		}
	}
}

// Closing the runtime (as SIGINT/SIGTERM do after the signal handler)
// stops the controller gracefully: the watch stops, the handler in
// flight finishes, then k8s.control returns None.
func TestControlDrainsOnClose(t *testing.T) {
	shortTimings(t)
	captureNotes(t)
	f := newFake(t, obj("v1", "ConfigMap", "team-a", "slow", nil))
	rec := &recorder{}
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	conf := libkite.Config{Globals: rec.globals()}
	conf.Globals["block"] = starlark.NewBuiltin("block", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		entered <- struct{}{}
		<-release
		return starlark.None, nil
	})
	rt, _ := kitetest.New(t, &conf, NewWithClientFactory(f.factory))
	r := startControl(t, rt, `
def reconcile(event, obj):
    record("start", obj.metadata.name)
    block()
    record("end", obj.metadata.name)
`, "cm", map[string]any{"reconcile": global("reconcile")})
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the handler did not start")
	}
	if !rt.HasSignalHandler("SIGINT") || !rt.HasSignalHandler("SIGTERM") {
		t.Fatal("no default SIGINT/SIGTERM handler while the controller runs")
	}
	closed := make(chan struct{})
	go func() { rt.Close(); close(closed) }()
	time.Sleep(100 * time.Millisecond)
	if _, ended := r.ended(); ended {
		t.Fatal("k8s.control returned with a handler in flight")
	}
	close(release)
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	res, ended := r.ended()
	if !ended {
		select {
		case res = <-r.done:
		case <-time.After(10 * time.Second):
			t.Fatal("k8s.control did not return")
		}
	}
	if res.err != nil || res.v != starlark.None {
		t.Fatalf("= %v, %v", res.v, res.err)
	}
	if got, want := rec.all(), []string{"start slow", "end slow"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %q, want %q", got, want)
	}
	if rt.HasSignalHandler("SIGINT") || rt.HasSignalHandler("SIGTERM") {
		t.Fatal("the controller's signal handlers outlived it")
	}
}

func TestControlHelpers(t *testing.T) {
	for kind, want := range map[string]string{"deployments": "deployments-controller", "ConfigMap": "configmap-controller",
		"apps/deployments": "apps-deployments-controller", " Widget.example.io ": "widget.example.io-controller"} {
		if got := defaultLeaderID(kind); got != want {
			t.Errorf("defaultLeaderID(%q) = %q, want %q", kind, got, want)
		}
	}
	d := func(kv ...starlark.Value) starlark.Value {
		m := starlark.NewDict(1)
		_ = m.SetKey(kv[0], kv[1])
		return m
	}
	ra := starlark.String("requeue_after")
	for _, tc := range []struct {
		v    starlark.Value
		want time.Duration
		err  string
	}{
		{starlark.None, 0, ""},
		{starlark.True, 0, ""},
		{d(ra, starlark.String("30s")), 30 * time.Second, ""},
		{d(ra, starlark.MakeInt(2)), 2 * time.Second, ""},
		{d(ra, starlark.Float(0.5)), 500 * time.Millisecond, ""},
		{d(ra, starlark.None), 0, ""},
		{d(starlark.String("requeue"), starlark.True), 0, ""},
		{handlerObject(map[string]any{"requeue_after": "1m"}), time.Minute, ""},
		{d(ra, starlark.String("soon")), 0, `invalid requeue_after "soon"`},
		{d(ra, starlark.NewList(nil)), 0, `invalid requeue_after: got list, want a duration string`},
	} {
		got, err := requeueAfter(tc.v)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("requeueAfter(%v) = %v, %v; want %v, %q", tc.v, got, err, tc.want, tc.err)
		}
	}
}

// Leader election defaults, on a fake clientset's Leases: the Lease is
// `<kind>-controller` in leader_election_namespace, else the controller's
// namespace, else the client's; the holder is hostname_<suffix>; the
// Lease is released when the controller stops.
func TestControlLeaseDefaults(t *testing.T) {
	shortTimings(t)
	captureNotes(t)
	cs := k8sfake.NewClientset()
	saved := controlLeases
	controlLeases = func(*Client) (coordinationv1.LeasesGetter, error) { return cs.CoordinationV1(), nil }
	t.Cleanup(func() { controlLeases = saved })
	host, _ := os.Hostname()
	for _, tc := range []struct {
		kind     string
		kwargs   map[string]any
		ns, id   string
		reconcil string
	}{
		{"configmaps", map[string]any{"namespace": "*"}, "team-a", "configmaps-controller", "ADDED team-b/b1"},
		{"cm", map[string]any{"namespace": "team-b"}, "team-b", "cm-controller", "ADDED team-b/b1"},
		{"ConfigMap", map[string]any{"leader_election_namespace": "ops", "leader_election_id": "x"}, "ops", "x", "ADDED team-a/a1"},
	} {
		f := newFake(t, obj("v1", "ConfigMap", "team-a", "a1", nil), obj("v1", "ConfigMap", "team-b", "b1", nil))
		rec := &recorder{}
		tc.kwargs["reconcile"] = global("reconcile")
		tc.kwargs["leader_election"] = true
		r := startControl(t, f.controlRuntime(t, nil, rec), `
def reconcile(event, obj):
    record(event, obj.metadata.namespace + "/" + obj.metadata.name)
`, tc.kind, tc.kwargs)
		rec.waitCount(t, tc.reconcil, 1)
		l, err := cs.CoordinationV1().Leases(tc.ns).Get(context.Background(), tc.id, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tc.kind, err)
		}
		if h := *l.Spec.HolderIdentity; !strings.HasPrefix(h, host+"_") || len(h) != len(host)+9 {
			t.Fatalf("holder %q", h)
		}
		if res := r.stop(t); res.err != nil || res.v != starlark.None {
			t.Fatalf("= %v, %v", res.v, res.err)
		}
		l, err = cs.CoordinationV1().Leases(tc.ns).Get(context.Background(), tc.id, metav1.GetOptions{})
		if err != nil || (l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "") {
			t.Fatalf("after stop: %v, %v (want the Lease released)", l.Spec.HolderIdentity, err)
		}
	}
}
