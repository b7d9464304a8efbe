package k8s

import (
	"context"
	"testing"
	"time"

	"go.starlark.net/starlark"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kitetime "github.com/project-starkite/starkite/libkite/modules/time"
)

// runtimeWith is c.runtime with extra globals (Go builtins the script
// calls to coordinate with the test's goroutines).
func (c *cluster) runtimeWith(t *testing.T, extra map[string]any) *libkite.Runtime {
	t.Helper()
	g := map[string]any{"KC": c.kubeconfig, "NS": c.ns, "SUFFIX": c.suffix}
	for k, v := range extra {
		g[k] = v
	}
	rt, _ := kitetest.New(t, &libkite.Config{Globals: g}, New(), kitetime.New())
	return rt
}

// signal is a builtin signal(name) sending name on ch (without blocking
// the script when nobody listens any more).
func signal(ch chan<- string) *starlark.Builtin {
	return starlark.NewBuiltin("signal", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		s, _ := starlark.AsString(args[0])
		select {
		case ch <- s:
		default:
		}
		return starlark.None, nil
	})
}

// later runs f on a goroutine after d; the test waits for it and fails
// on its error.
func later(t *testing.T, d time.Duration, f func(ctx context.Context) error) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		time.Sleep(d)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		done <- f(ctx)
	}()
	t.Cleanup(func() {
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

var gvrDeploy = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}

func TestIntegrationWatch(t *testing.T) {
	c := newCluster(t)
	cms := c.admin.dyn.Resource(gvrConfigMaps).Namespace(c.ns)
	ch := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		// Change the ConfigMap once the script's watch has delivered it.
		select {
		case <-ch:
		case <-time.After(time.Minute):
			done <- nil
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		u, err := cms.Get(ctx, "watched", metav1.GetOptions{})
		if err == nil {
			u.Object["data"] = map[string]any{"v": "2"}
			_, err = cms.Update(ctx, u, metav1.UpdateOptions{})
		}
		if err == nil {
			err = cms.Delete(ctx, "watched", metav1.DeleteOptions{})
		}
		done <- err
	}()
	run(t, c.runtimeWith(t, map[string]any{"signal": signal(ch)}), `
k = k8s.config(kubeconfig=KC, context="kite-testenv", namespace=NS)
k.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "watched", "labels": {"app": "web"}}, "data": {"v": "1"}})
k.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other", "labels": {"app": "db"}}})

seen = []
def h(t, o):
    name = o["metadata"]["name"]
    if name != "watched":
        return
    seen.append((t, o.get("data", {}).get("v")))
    if t == "ADDED":
        signal("go")
    if t == "DELETED":
        return False

n = k.watch("configmaps", labels="app=web", timeout="60s", handler=h)
eq(seen, [("ADDED", "1"), ("MODIFIED", "2"), ("DELETED", "2")])
eq(n, 3)

# without a handler: the existing objects (label-filtered) until the timeout
evs = k.watch("cm", labels="app=db", timeout="2s")
eq([(e["type"], e["object"]["metadata"]["name"]) for e in evs], [("ADDED", "other")])
eq(len(k8s.watch("cm", NS, "app=none", "1s")), 0)
evs = k.watch("cm", fields="metadata.name=other", timeout="1s")
eq([e["object"]["metadata"]["name"] for e in evs], ["other"])
`)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestIntegrationWaitFor(t *testing.T) {
	c := newCluster(t)
	deploys := c.admin.dyn.Resource(gvrDeploy).Namespace(c.ns)
	cms := c.admin.dyn.Resource(gvrConfigMaps).Namespace(c.ns)
	rt := c.runtime(t, nil)
	run(t, rt, `
k = k8s.config(kubeconfig=KC, context="kite-testenv", namespace=NS)
k.create({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
          "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                   "template": {"metadata": {"labels": {"app": "web"}},
                                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}})
k.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "doomed"}})

# no controllers run: the condition stays unmet and the timeout is no error
r = k.wait_for("deploy", "web", "available", timeout="1s")
eq([r["ready"], r["message"], r["resource"]["metadata"]["name"]], [False, "timeout waiting for condition", "web"])

# NotFound is an error for other conditions, not for deleted
has(k.try_wait_for("deploy", "nope", "available").error, 'k8s.wait_for: deployments.apps "nope" not found (NotFound)')
eq(k.wait_for("cm", "nope", "deleted"), {"ready": True, "resource": None, "message": "resource deleted"})
`)

	// Available=True through the status subresource after a delay.
	later(t, time.Second, func(ctx context.Context) error {
		u, err := deploys.Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return err
		}
		u.Object["status"] = map[string]any{"conditions": []any{
			map[string]any{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "progressing",
				"lastUpdateTime": "2024-01-01T00:00:00Z", "lastTransitionTime": "2024-01-01T00:00:00Z"},
			map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability.",
				"lastUpdateTime": "2024-01-01T00:00:00Z", "lastTransitionTime": "2024-01-01T00:00:00Z"},
		}}
		_, err = deploys.UpdateStatus(ctx, u, metav1.UpdateOptions{})
		return err
	})
	run(t, rt, `
r = k8s.wait_for("deploy", "web", "available", namespace=NS, timeout="60s")
eq([r["ready"], r["message"]], [True, "Deployment has minimum availability."])
eq(r["resource"]["status"]["conditions"][1]["type"], "Available")
`)

	// deleted: ready once a concurrent delete lands
	later(t, time.Second, func(ctx context.Context) error {
		return cms.Delete(ctx, "doomed", metav1.DeleteOptions{})
	})
	run(t, rt, `
k = k8s.config(kubeconfig=KC, context="kite-testenv", namespace=NS)
r = k.wait_for("cm", "doomed", "deleted", timeout="60s")
eq([r["ready"], r["message"]], [True, "resource deleted"])
eq(r["resource"]["metadata"]["name"], "doomed")
eq(k.wait_for("cm", "doomed", "deleted")["ready"], True, "already absent")
`)

	// status set by the status op from another runtime; the waiter sees
	// Ready through a condition of the script's own choosing
	other := c.runtime(t, nil)
	later(t, time.Second, func(ctx context.Context) error {
		_, err := cms.Create(ctx, &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "marker"}}}, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		return other.Execute(ctx, `
k = k8s.config(kubeconfig=KC, context="kite-testenv", namespace=NS)
k.status(k.get("deploy", "web"), {"conditions": [{"type": "Rolled", "status": "True", "message": "rolled",
    "lastUpdateTime": "2024-01-01T00:00:00Z", "lastTransitionTime": "2024-01-01T00:00:00Z"}]})
`)
	})
	run(t, rt, `
k = k8s.config(kubeconfig=KC, context="kite-testenv", namespace=NS)
r = k.wait_for("deploy", "web", "rolled", timeout="60s")
eq([r["ready"], r["message"]], [True, "rolled"])
`)
}
