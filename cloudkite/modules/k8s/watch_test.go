package k8s

import (
	"fmt"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	clienttesting "k8s.io/client-go/testing"

	"github.com/project-starkite/starkite/libkite/kitetest"
)

// watchScript makes the fake's watches replay batches: the n-th watch
// gets the n-th batch and is closed after it (the server ending the
// stream); watches beyond the batches stay open and silent. It records
// the options of every watch.
type watchScript struct {
	mu      sync.Mutex
	batches [][]watch.Event
	opts    []metav1.ListOptions
}

func (f *fakeEnv) scriptWatches(batches ...[]watch.Event) *watchScript {
	ws := &watchScript{batches: batches}
	f.dyn.PrependWatchReactor("*", func(a clienttesting.Action) (bool, watch.Interface, error) {
		ws.mu.Lock()
		defer ws.mu.Unlock()
		ws.opts = append(ws.opts, a.(clienttesting.WatchActionImpl).ListOptions)
		if len(ws.batches) == 0 {
			return true, watch.NewFake(), nil
		}
		b := ws.batches[0]
		ws.batches = ws.batches[1:]
		w := watch.NewFakeWithChanSize(len(b), false)
		for _, ev := range b {
			w.Action(ev.Type, ev.Object)
		}
		w.Stop()
		return true, w, nil
	})
	return ws
}

func (ws *watchScript) watches() []metav1.ListOptions {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return append([]metav1.ListOptions(nil), ws.opts...)
}

func ev(t watch.EventType, o runtime.Object) watch.Event { return watch.Event{Type: t, Object: o} }

// cmv is a ConfigMap at a resourceVersion with data v=<v>.
func cmv(name, rv, v string) *unstructured.Unstructured {
	u := obj("v1", "ConfigMap", "team-a", name, map[string]any{"data": map[string]any{"v": v}})
	u.SetResourceVersion(rv)
	return u
}

// withStatus is a Widget in team-a with the given status.
func withStatus(name, rv string, status map[string]any) *unstructured.Unstructured {
	u := obj("example.io/v1", "Widget", "team-a", name, nil)
	if status != nil {
		u.Object["status"] = status
	}
	u.SetResourceVersion(rv)
	return u
}

func cond(typ, status, msg string) map[string]any {
	return map[string]any{"type": typ, "status": status, "message": msg}
}

func conds(cs ...map[string]any) map[string]any {
	l := make([]any, len(cs))
	for i, c := range cs {
		l[i] = c
	}
	return map[string]any{"conditions": l}
}

func TestWaitConditionEvaluate(t *testing.T) {
	phase := func(p string) map[string]any { return map[string]any{"phase": p} }
	withPhase := func(s map[string]any, p string) map[string]any { s["phase"] = p; return s }
	type row struct {
		cond   string
		status map[string]any
		met    bool
		msg    string
	}
	rows := []row{
		{"ready", conds(cond("Ready", "True", "all good")), true, "all good"},
		{"READY", conds(cond("Ready", "True", "")), true, ""},
		{"ready", conds(cond("Ready", "False", "not yet")), false, "not yet"},
		// conditions first: a Ready entry decides even when the phase would meet it
		{"ready", withPhase(conds(cond("Ready", "False", "containers not ready")), "Running"), false, "containers not ready"},
		// phase fallback without a Ready entry, and without any conditions (Kite fix)
		{"ready", withPhase(conds(cond("PodScheduled", "True", "")), "Running"), true, "phase: Running"},
		{"ready", phase("Running"), true, "phase: Running"},
		{"ready", phase("Succeeded"), true, "phase: Succeeded"},
		{"ready", phase("Pending"), false, "phase: Pending"},
		{"ready", nil, false, ""},
		{"available", conds(cond("Progressing", "True", ""), cond("Available", "True", "min replicas")), true, "min replicas"},
		{"available", conds(cond("Available", "False", "no")), false, "no"},
		{"available", phase("Running"), false, "phase: Running"},
		{"progressing", conds(cond("Progressing", "True", "p")), true, "p"},
		{"initialized", conds(cond("Initialized", "True", "i")), true, "i"},
		{"podscheduled", conds(cond("PodScheduled", "True", "s")), true, "s"},
		{"complete", conds(cond("Complete", "True", "done")), true, "done"},
		{"completed", phase("Succeeded"), true, "phase: Succeeded"},
		{"complete", withPhase(conds(cond("Complete", "False", "failed")), "Succeeded"), false, "failed"},
		{"complete", phase("Running"), false, "phase: Running"},
		{"running", phase("Running"), true, "phase: Running"},
		{"running", withPhase(conds(cond("Ready", "False", "")), "Succeeded"), true, "phase: Succeeded"},
		{"running", phase("Pending"), false, "phase: Pending"},
		{"succeeded", phase("Succeeded"), true, "phase: Succeeded"},
		{"succeeded", phase("Running"), false, "phase: Running"},
		{"deleted", phase("Running"), false, ""},
		{"delete", nil, false, ""},
		{"Established", conds(cond("established", "True", "crd ok")), true, "crd ok"},
		{"synced", conds(cond("Synced", "Unknown", "")), false, ""},
		{"synced", phase("Running"), false, "phase: Running"},
	}
	for _, r := range rows {
		t.Run(fmt.Sprintf("%s/%v", r.cond, r.status), func(t *testing.T) {
			o := map[string]any{}
			if r.status != nil {
				o["status"] = r.status
			}
			met, msg := parseCondition(r.cond).evaluate(o)
			if met != r.met || msg != r.msg {
				t.Fatalf("evaluate = (%v, %q), want (%v, %q)", met, msg, r.met, r.msg)
			}
		})
	}
}

func TestWatch(t *testing.T) {
	status := &metav1.Status{Status: "Failure", Reason: metav1.StatusReasonExpired, Code: 410}
	events := func() []watch.Event {
		return []watch.Event{
			ev(watch.Added, cmv("a", "1", "x")),
			ev(watch.Error, status),
			ev(watch.Modified, cmv("a", "2", "y")),
			ev(watch.Deleted, cmv("a", "3", "y")),
			ev(watch.Added, cmv("b", "4", "z")),
		}
	}
	const collect = `
seen = []
def h(t, o):
    seen.append((t, o["metadata"]["name"], o["data"]["v"]))
`
	cases := []struct {
		kitetest.Case
		check func(t *testing.T, ws *watchScript)
	}{
		{Case: kitetest.Case{Name: "handler until stream end", Pre: collect + `n = k8s.watch("cm", handler = h)`, Expr: `n, seen`,
			Want: `(4, [("ADDED", "a", "x"), ("MODIFIED", "a", "y"), ("DELETED", "a", "y"), ("ADDED", "b", "z")])`},
			check: func(t *testing.T, ws *watchScript) {
				o := ws.watches()
				if len(o) != 1 || o[0].ResourceVersion != "" || o[0].LabelSelector != "" {
					t.Fatalf("watch options = %+v", o)
				}
			}},
		{Case: kitetest.Case{Name: "handler returns False", Pre: `
seen = []
def h(t, o):
    seen.append(t)
    if t == "DELETED":
        return False
    return None  # None and other falsy values do not stop
n = k8s.watch("cm", handler = h)`, Expr: `n, seen`, Want: `(3, ["ADDED", "MODIFIED", "DELETED"])`}},
		{Case: kitetest.Case{Name: "handler error", Pre: `
def h(t, o):
    if t == "MODIFIED":
        fail("boom")`, Expr: `k8s.watch("cm", handler = h)`, Err: `k8s.watch: handler: boom`}},
		{Case: kitetest.Case{Name: "try handler error", Pre: `
def h(t, o):
    return 1 // 0`, Expr: `k8s.try_watch("cm", handler = h).error`, Want: `k8s.watch: handler: floored division by zero`}},
		{Case: kitetest.Case{Name: "no handler collects", Pre: `evs = k8s.watch("cm", labels = "app=web", fields = "metadata.name=a")`,
			Expr: `[(e["type"], e["object"]["metadata"]["resourceVersion"]) for e in evs]`,
			Want: `[("ADDED", "1"), ("MODIFIED", "2"), ("DELETED", "3"), ("ADDED", "4")]`},
			check: func(t *testing.T, ws *watchScript) {
				o := ws.watches()
				if len(o) != 1 || o[0].LabelSelector != "app=web" || o[0].FieldSelector != "metadata.name=a" {
					t.Fatalf("watch options = %+v", o)
				}
			}},
		{Case: kitetest.Case{Name: "positional and client", Pre: `c = k8s.config(namespace = "team-a")`,
			Expr: `len(c.watch("cm", "team-a", "", "5s"))`, Want: `4`}},
		{Case: kitetest.Case{Name: "handler not callable", Expr: `k8s.watch("cm", handler = 1)`, Err: `k8s.watch: for parameter handler: got int, want callable`}},
		{Case: kitetest.Case{Name: "invalid timeout", Expr: `k8s.watch("cm", timeout = "soon")`, Err: `k8s.watch: invalid timeout "soon"`}},
		{Case: kitetest.Case{Name: "unknown kind", Expr: `k8s.watch("gizmo")`, Err: `k8s.watch: unknown kind "gizmo"`}},
	}
	for _, c := range cases {
		t.Run(c.TestName(), func(t *testing.T) {
			f := newFake(t)
			ws := f.scriptWatches(events())
			got, msg, _ := kitetest.Eval(f.runtime(t, nil), c.Pre, c.Expr)
			c.Check(t, got, msg)
			if c.check != nil {
				c.check(t, ws)
			}
		})
	}
}

func TestWatchTimeout(t *testing.T) {
	f := newFake(t)
	f.scriptWatches() // every watch stays open
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Name: "no handler", Expr: `k8s.watch("cm", timeout = "200ms")`, Want: `[]`},
		{Name: "handler", Pre: "def h(t, o):\n    pass", Expr: `k8s.watch("cm", handler = h, timeout = "200ms")`, Want: `0`},
	})
}

func TestWaitFor(t *testing.T) {
	pending := func(rv string) *unstructured.Unstructured {
		return withStatus("w1", rv, conds(cond("Ready", "False", "starting")))
	}
	ready := func(rv string) *unstructured.Unstructured {
		return withStatus("w1", rv, conds(cond("Ready", "True", "up")))
	}
	type wcase struct {
		kitetest.Case
		objs    []runtime.Object
		batches [][]watch.Event
		check   func(t *testing.T, ws *watchScript)
	}
	cases := []wcase{
		{Case: kitetest.Case{Name: "met at once", Expr: `k8s.wait_for("widget", "w1")`,
			Want: `{"ready": True, "resource": {"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "w1", "namespace": "team-a", "resourceVersion": "7"}, "status": {"conditions": [{"message": "up", "status": "True", "type": "Ready"}]}}, "message": "up"}`},
			objs: []runtime.Object{ready("7")},
			check: func(t *testing.T, ws *watchScript) {
				if n := len(ws.watches()); n != 0 {
					t.Fatalf("%d watches, want none", n)
				}
			}},
		{Case: kitetest.Case{Name: "met on event", Pre: `r = k8s.wait_for("widget", "w1", timeout = "10s")`,
			Expr: `r["ready"], r["message"], r["resource"]["metadata"]["resourceVersion"]`, Want: `(True, "up", "9")`},
			objs: []runtime.Object{pending("7")},
			batches: [][]watch.Event{{
				ev(watch.Added, withStatus("other", "8", conds(cond("Ready", "True", "wrong object")))),
				ev(watch.Modified, pending("8")),
				ev(watch.Modified, ready("9")),
			}},
			check: func(t *testing.T, ws *watchScript) {
				o := ws.watches()
				if len(o) != 1 || o[0].FieldSelector != "metadata.name=w1" || o[0].ResourceVersion != "7" {
					t.Fatalf("watch options = %+v", o)
				}
			}},
		{Case: kitetest.Case{Name: "resume after stream end", Pre: `r = k8s.wait_for("widget", "w1", "ready", "team-a", "10s")`,
			Expr: `r["ready"], r["message"]`, Want: `(True, "up")`},
			objs: []runtime.Object{pending("7")},
			batches: [][]watch.Event{
				{ev(watch.Modified, pending("8")), ev(watch.Bookmark, withStatus("w1", "12", nil))},
				{ev(watch.Modified, ready("13"))},
			},
			check: func(t *testing.T, ws *watchScript) {
				o := ws.watches()
				if len(o) != 2 || o[0].ResourceVersion != "7" || o[1].ResourceVersion != "12" {
					t.Fatalf("watch options = %+v", o)
				}
			}},
		{Case: kitetest.Case{Name: "phase fallback without conditions", Pre: `r = k8s.wait_for("widget", "w1", "running", timeout = "10s")`,
			Expr: `r["ready"], r["message"]`, Want: `(True, "phase: Running")`},
			objs:    []runtime.Object{withStatus("w1", "1", nil)},
			batches: [][]watch.Event{{ev(watch.Modified, withStatus("w1", "2", map[string]any{"phase": "Running"}))}}},
		{Case: kitetest.Case{Name: "deleted while waiting", Pre: `r = k8s.wait_for("widget", "w1", timeout = "10s")`,
			Expr: `r["ready"], r["message"], r["resource"]["metadata"]["name"]`, Want: `(False, "resource was deleted", "w1")`},
			objs:    []runtime.Object{pending("7")},
			batches: [][]watch.Event{{ev(watch.Deleted, pending("8"))}}},
		{Case: kitetest.Case{Name: "deleted condition", Pre: `r = k8s.wait_for("widget", "w1", "Deleted", timeout = "10s")`,
			Expr: `r["ready"], r["message"]`, Want: `(True, "resource deleted")`},
			objs:    []runtime.Object{ready("7")},
			batches: [][]watch.Event{{ev(watch.Modified, ready("8")), ev(watch.Deleted, ready("9"))}}},
		{Case: kitetest.Case{Name: "deleted when absent", Expr: `k8s.wait_for("widget", "w1", "delete")`,
			Want: `{"ready": True, "resource": None, "message": "resource deleted"}`}},
		{Case: kitetest.Case{Name: "not found", Expr: `k8s.wait_for("widget", "w1")`,
			Err: `k8s.wait_for: widgets.example.io "w1" not found (NotFound)`}},
		{Case: kitetest.Case{Name: "timeout is not an error", Pre: `r = k8s.wait_for("widget", "w1", "available", timeout = "300ms")`,
			Expr: `r["ready"], r["message"], r["resource"]["metadata"]["resourceVersion"]`, Want: `(False, "timeout waiting for condition", "8")`},
			objs:    []runtime.Object{pending("7")},
			batches: [][]watch.Event{{ev(watch.Modified, pending("8"))}}},
		{Case: kitetest.Case{Name: "watch channel closed", Pre: `r = k8s.wait_for("widget", "w1", timeout = "30s")`,
			Expr: `r["ready"], r["message"]`, Want: `(False, "watch channel closed")`},
			objs:    []runtime.Object{pending("7")},
			batches: [][]watch.Event{{}, {}, {}, {}, {}, {}, {}}},
		{Case: kitetest.Case{Name: "try", Expr: `k8s.try_wait_for("widget", "w1", "deleted").value["ready"]`, Want: `True`}},
		{Case: kitetest.Case{Name: "invalid timeout", Expr: `k8s.wait_for("widget", "w1", timeout = "x")`, Err: `k8s.wait_for: invalid timeout "x"`}},
	}
	for _, c := range cases {
		t.Run(c.TestName(), func(t *testing.T) {
			f := newFake(t, c.objs...)
			ws := f.scriptWatches(c.batches...)
			got, msg, _ := kitetest.Eval(f.runtime(t, nil), c.Pre, c.Expr)
			c.Check(t, got, msg)
			if c.check != nil {
				c.check(t, ws)
			}
		})
	}
}
