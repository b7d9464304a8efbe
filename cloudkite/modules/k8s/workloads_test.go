package k8s

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/rest"
	clienttesting "k8s.io/client-go/testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// Unit tests of the workload helpers (spec §9) on fake clients: the
// requests they send (verbs, patch types, bodies, options). The real
// API server's answers to them are in workloads_integration_test.go.

var (
	gvrServices = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	gvrNodes    = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	gvrEvents   = schema.GroupVersionResource{Version: "v1", Resource: "events"}
	gvrHPA      = schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}
	gvrPodMet   = schema.GroupVersionResource{Group: "metrics.k8s.io", Version: "v1beta1", Resource: "pods"}
	gvrNodeMet  = schema.GroupVersionResource{Group: "metrics.k8s.io", Version: "v1beta1", Resource: "nodes"}
)

// newOpsFake is newFake (fake_test.go) with list kinds for every resource
// the workload and node operations list, and the same emulation of
// server-side apply (create-or-replace) and strategic merge (JSON merge).
func newOpsFake(t testing.TB, objs ...runtime.Object) *fakeEnv {
	t.Helper()
	base := newFake(t)
	listKinds := map[schema.GroupVersionResource]string{
		gvrPods: "PodList", gvrConfigMaps: "ConfigMapList", gvrNamespaces: "NamespaceList",
		gvrDeployments: "DeploymentList", gvrServices: "ServiceList", gvrNodes: "NodeList",
		gvrEvents: "EventList", gvrHPA: "HorizontalPodAutoscalerList",
		gvrPodMet: "PodMetricsList", gvrNodeMet: "NodeMetricsList",
	}
	dyn := dynfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, objs...)
	dyn.PrependReactor("patch", "*", func(a clienttesting.Action) (bool, runtime.Object, error) {
		pa := a.(clienttesting.PatchActionImpl)
		switch pa.GetPatchType() {
		case types.StrategicMergePatchType:
			pa.PatchType = types.MergePatchType
			return clienttesting.ObjectReaction(dyn.Tracker())(pa)
		case types.ApplyPatchType:
			u := &unstructured.Unstructured{}
			if err := json.Unmarshal(pa.GetPatch(), &u.Object); err != nil {
				return true, nil, err
			}
			tr := dyn.Tracker()
			if _, err := tr.Get(pa.GetResource(), pa.GetNamespace(), pa.GetName()); err == nil {
				return true, u, tr.Update(pa.GetResource(), u, pa.GetNamespace())
			}
			return true, u, tr.Create(pa.GetResource(), u, pa.GetNamespace())
		}
		return false, nil, nil
	})
	return &fakeEnv{dyn: dyn, disc: base.disc, client: NewClientFromInterfaces(dyn, base.disc, nil, "fake-ctx", "team-a", 0)}
}

// twoContainerDeployment is a Deployment "web" with containers web (env
// A=1 and B from a secret) and sidecar.
func twoContainerDeployment(ns string) *unstructured.Unstructured {
	return obj("apps/v1", "Deployment", ns, "web", map[string]any{"spec": map[string]any{
		"replicas": int64(2),
		"template": map[string]any{"spec": map[string]any{"containers": []any{
			map[string]any{"name": "web", "image": "nginx:1", "env": []any{
				map[string]any{"name": "A", "value": "1"},
				map[string]any{"name": "B", "valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": "s", "key": "b"}}},
			}},
			map[string]any{"name": "sidecar", "image": "envoy:1"},
		}, "initContainers": []any{map[string]any{"name": "init", "image": "busybox"}}}},
	}})
}

// patches are the recorded patch actions (type and body).
func (f *fakeEnv) patches() []clienttesting.PatchActionImpl {
	var out []clienttesting.PatchActionImpl
	for _, a := range f.dyn.Actions() {
		if pa, ok := a.(clienttesting.PatchActionImpl); ok {
			out = append(out, pa)
		}
	}
	return out
}

// onePatch runs expr and returns the one patch it sent.
func (f *fakeEnv) onePatch(t *testing.T, expr string) clienttesting.PatchActionImpl {
	t.Helper()
	f.dyn.ClearActions()
	if _, msg, _ := f.eval(t, nil, "", expr); msg != "" {
		t.Fatalf("%s: %s", expr, msg)
	}
	ps := f.patches()
	if len(ps) != 1 {
		t.Fatalf("%s: %d patches, want 1", expr, len(ps))
	}
	return ps[0]
}

func wantPatch(t *testing.T, pa clienttesting.PatchActionImpl, pt types.PatchType, body string) {
	t.Helper()
	if pa.GetPatchType() != pt || string(pa.GetPatch()) != body {
		t.Fatalf("patch = %s %s\nwant    %s %s", pa.GetPatchType(), pa.GetPatch(), pt, body)
	}
}

func TestWorkloadSetPatches(t *testing.T) {
	f := newOpsFake(t, twoContainerDeployment("team-a"))
	sm := types.StrategicMergePatchType
	// set_env with no container: every container of the template, by name;
	// B was from a secret: its valueFrom goes; None removes.
	wantPatch(t, f.onePatch(t, `k8s.set_env("deploy", "web", {"B": "2", "C": "x", "A": None})`), sm,
		`{"spec":{"template":{"spec":{"containers":[`+
			`{"env":[{"name":"B","value":"2","valueFrom":null},{"name":"C","value":"x"},{"$patch":"delete","name":"A"}],"name":"web"},`+
			`{"env":[{"name":"B","value":"2"},{"name":"C","value":"x"},{"$patch":"delete","name":"A"}],"name":"sidecar"}]}}}}`)
	f = newOpsFake(t, twoContainerDeployment("team-a"))
	wantPatch(t, f.onePatch(t, `k8s.set_env("deployment", "web", {"X": "1"}, container="sidecar")`), sm,
		`{"spec":{"template":{"spec":{"containers":[{"env":[{"name":"X","value":"1"}],"name":"sidecar"}]}}}}`)
	wantPatch(t, f.onePatch(t, `k8s.set_image("deploy", "web", "sidecar", "envoy:2")`), sm,
		`{"spec":{"template":{"spec":{"containers":[{"image":"envoy:2","name":"sidecar"}]}}}}`)
	wantPatch(t, f.onePatch(t, `k8s.set_image("deploy", "web", "init", "busybox:2")`), sm,
		`{"spec":{"template":{"spec":{"initContainers":[{"image":"busybox:2","name":"init"}]}}}}`)
	f = newOpsFake(t, twoContainerDeployment("team-a"))
	wantPatch(t, f.onePatch(t, `k8s.set_resources("deploy", "web", requests={"cpu": "100m", "memory": "64Mi"}, limits={"cpu": 1})`), sm,
		`{"spec":{"template":{"spec":{"containers":[`+
			`{"name":"web","resources":{"limits":{"cpu":"1"},"requests":{"cpu":"100m","memory":"64Mi"}}},`+
			`{"name":"sidecar","resources":{"limits":{"cpu":"1"},"requests":{"cpu":"100m","memory":"64Mi"}}}]}}}}`)
	// a Pod's containers are under spec
	f = newOpsFake(t, obj("v1", "Pod", "team-a", "p", map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "i"}}}}))
	wantPatch(t, f.onePatch(t, `k8s.set_image("pod", "p", "", "i:2")`), sm, `{"spec":{"containers":[{"image":"i:2","name":"c"}]}}`)

	// global dry run reaches the patch
	f = newOpsFake(t, twoContainerDeployment("team-a"))
	rt := f.runtime(t, &libkite.Config{DryRun: true})
	if _, msg, _ := kitetest.Eval(rt, "", `k8s.set_image("deploy", "web", "web", "nginx:2")`); msg != "" {
		t.Fatal(msg)
	}
	if ps := f.patches(); len(ps) != 1 || len(ps[0].PatchOptions.DryRun) != 1 || ps[0].PatchOptions.DryRun[0] != metav1.DryRunAll {
		t.Fatalf("dry-run patch = %+v", ps)
	}
}

func TestWorkloadMergePatches(t *testing.T) {
	f := newOpsFake(t, twoContainerDeployment("team-a"))
	mp := types.MergePatchType
	wantPatch(t, f.onePatch(t, `k8s.scale("deploy", "web", 5)`), mp, `{"spec":{"replicas":5}}`)
	wantPatch(t, f.onePatch(t, `k8s.rollout("deploy", "web", "pause")`), mp, `{"spec":{"paused":true}}`)
	wantPatch(t, f.onePatch(t, `k8s.rollout("deploy", "web", action="Resume")`), mp, `{"spec":{"paused":false}}`)
	before := time.Now().Truncate(time.Second)
	pa := f.onePatch(t, `k8s.rollout("deploy", "web", "restart")`)
	var body struct {
		Spec struct {
			Template struct {
				Metadata struct {
					Annotations map[string]string `json:"annotations"`
				} `json:"metadata"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(pa.GetPatch(), &body); err != nil || pa.GetPatchType() != mp {
		t.Fatalf("restart patch %s: %v", pa.GetPatch(), err)
	}
	at, err := time.Parse(time.RFC3339, body.Spec.Template.Metadata.Annotations["kubectl.kubernetes.io/restartedAt"])
	if err != nil || at.Before(before) || at.After(time.Now()) {
		t.Fatalf("restartedAt in %s: %v", pa.GetPatch(), err)
	}
}

func TestWorkloadDeployRequests(t *testing.T) {
	f := newOpsFake(t)
	got, msg, _ := f.eval(t, nil, "", `k8s.deploy("api", "img:1", replicas=2, port=8080, labels={"tier": "be", "v": 2}, env={"N": 3, "S": "s", "B": True})`)
	if msg != "" || got != `{"deployment": "api", "service": "api"}` {
		t.Fatalf("= %s (%s)", got, msg)
	}
	ps := f.patches()
	if len(ps) != 2 {
		t.Fatalf("%d patches", len(ps))
	}
	for _, pa := range ps {
		if pa.GetPatchType() != types.ApplyPatchType || pa.PatchOptions.FieldManager != DefaultFieldManager ||
			pa.PatchOptions.Force == nil || !*pa.PatchOptions.Force || pa.PatchOptions.DryRun != nil || pa.GetNamespace() != "team-a" || pa.GetName() != "api" {
			t.Fatalf("apply = %+v", pa)
		}
	}
	if r := ps[0].GetResource(); r != gvrDeployments {
		t.Fatalf("first apply to %v", r)
	}
	wantBody := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels":{"app":"api","tier":"be","v":"2"},"name":"api","namespace":"team-a"},` +
		`"spec":{"replicas":2,"selector":{"matchLabels":{"app":"api","tier":"be","v":"2"}},"template":{"metadata":{"labels":{"app":"api","tier":"be","v":"2"}},` +
		`"spec":{"containers":[{"env":[{"name":"N","value":"3"},{"name":"S","value":"s"},{"name":"B","value":"True"}],"image":"img:1","name":"api","ports":[{"containerPort":8080}]}]}}}}`
	if string(ps[0].GetPatch()) != wantBody {
		t.Fatalf("deployment body = %s", ps[0].GetPatch())
	}
	if r := ps[1].GetResource(); r != gvrServices || string(ps[1].GetPatch()) !=
		`{"apiVersion":"v1","kind":"Service","metadata":{"labels":{"app":"api","tier":"be","v":"2"},"name":"api","namespace":"team-a"},`+
			`"spec":{"ports":[{"port":8080,"protocol":"TCP","targetPort":8080}],"selector":{"app":"api","tier":"be","v":"2"}}}` {
		t.Fatalf("service apply %v = %s", r, ps[1].GetPatch())
	}
	// no port: no Service
	f.dyn.ClearActions()
	if got, msg, _ := f.eval(t, nil, "", `k8s.deploy("w", "img")`); msg != "" || got != `{"deployment": "w"}` || len(f.patches()) != 1 {
		t.Fatalf("= %s (%s), %d patches", got, msg, len(f.patches()))
	}
}

func TestWorkloadErrors(t *testing.T) {
	f := newOpsFake(t, twoContainerDeployment("team-a"))
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Name: "rollout unknown action", Expr: `k8s.rollout("deploy", "web", "undo")`, Err: `k8s.rollout: unknown rollout action "undo" (want status, restart, pause or resume)`},
		{Name: "rollout status", Expr: `k8s.rollout("deploy", "web")`, Want: `{"available": 0, "complete": False, "ready": 0, "replicas": 0, "updated": 0}`},
		{Name: "set_env int value", Expr: `k8s.set_env("deploy", "web", {"A": 1})`, Err: `k8s.set_env: env values must be strings (or None to remove), got int for "A"`},
		{Name: "set_env not dict", Expr: `k8s.set_env("deploy", "web", ["A"])`, Err: `k8s.set_env: env must be a dict, got list`},
		{Name: "set_env unknown container", Expr: `k8s.set_env("deploy", "web", {"A": "1"}, container="nope")`, Err: `k8s.set_env: container "nope" not found in Deployment "web"`},
		{Name: "set_image missing object", Expr: `k8s.set_image("deploy", "nope", "web", "x")`, Err: `k8s.set_image: deployments.apps "nope" not found (NotFound)`},
		{Name: "set_resources nothing", Expr: `k8s.set_resources("deploy", "web")`, Err: `k8s.set_resources: requests or limits is required`},
		{Name: "set_resources bad quantity", Expr: `k8s.set_resources("deploy", "web", limits={"cpu": "lots"})`, Err: `k8s.set_resources: limits["cpu"]: invalid quantity "lots"`},
		{Name: "run bad restart", Expr: `k8s.run("p", "img", restart="sometimes")`, Err: `k8s.run: invalid restart policy "sometimes" (want Never, OnFailure or Always)`},
		{Name: "run bad command", Expr: `k8s.run("p", "img", command=["a", 1])`, Err: `k8s.run: for parameter command: element 1 is int, want string`},
		{Name: "deploy bad labels", Expr: `k8s.deploy("d", "img", labels=["a"])`, Err: `k8s.deploy: labels must be a dict, got list`},
		{Name: "deploy bad port", Expr: `k8s.deploy("d", "img", port=70000)`, Err: `k8s.deploy: port must be between 0 and 65535, got 70000`},
		{Name: "scale negative", Expr: `k8s.scale("deploy", "web", -1)`, Err: `k8s.scale: replicas must be >= 0, got -1`},
		{Name: "autoscale min>max", Expr: `k8s.autoscale("deploy", "web", min=5, max=2)`, Err: `k8s.autoscale: max (2) must not be less than min (5)`},
		{Name: "expose unknown kind", Expr: `k8s.expose("gizmo", "web", 80)`, Err: `k8s.expose: unknown kind "gizmo"`},
		{Name: "binding", Expr: `k8s.scale("deploy", "web")`, Err: `k8s.scale: missing required argument: replicas`},
	})
}

func TestWorkloadAutoscaleExpose(t *testing.T) {
	d := twoContainerDeployment("team-a")
	d.Object["spec"].(map[string]any)["selector"] = map[string]any{"matchLabels": map[string]any{"app": "web", "tier": "fe"}}
	f := newOpsFake(t, d, obj("v1", "Pod", "team-a", "solo", map[string]any{"metadata": map[string]any{"name": "solo", "namespace": "team-a", "labels": map[string]any{"run": "solo"}}}))
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Name: "autoscale", Pre: `h = k8s.autoscale("deploy", "web", max=4, cpu_percent=60)`,
			Expr: `h["metadata"]["name"], h["spec"]["scaleTargetRef"], h["spec"]["minReplicas"], h["spec"]["maxReplicas"], h["spec"]["metrics"][0]["resource"]`,
			Want: `("web-hpa", {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, 1, 4, {"name": "cpu", "target": {"averageUtilization": 60, "type": "Utilization"}})`},
		{Name: "expose deployment", Pre: `s = k8s.expose("deployments", "web", 80, target_port=8080, type="nodeport")`,
			Expr: `s["spec"]["selector"], s["spec"]["type"], s["spec"]["ports"]`,
			Want: `({"app": "web", "tier": "fe"}, "NodePort", [{"port": 80, "protocol": "TCP", "targetPort": 8080}])`},
		{Name: "expose pod", Expr: `k8s.expose("pod", "solo", 80)["spec"]["selector"]`, Want: `{"run": "solo"}`},
		{Name: "expose missing target", Expr: `k8s.expose("deploy", "ghost", 80)["spec"]["selector"]`, Want: `{"app": "ghost"}`},
	})
}

// TestWorkloadRunLogs runs a pod to completion on fakes, with the pod log
// served by an HTTP server behind a real discovery client: run waits for
// the phase, reads the log and deletes the pod.
func TestWorkloadRunLogs(t *testing.T) {
	defer func(d time.Duration) { runPollInterval = d }(runPollInterval)
	runPollInterval = 10 * time.Millisecond
	var logQuery string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/namespaces/team-a/pods/job/log" {
			http.NotFound(w, r)
			return
		}
		logQuery = r.URL.RawQuery
		_, _ = w.Write([]byte("hello\nworld\n"))
	}))
	defer srv.Close()
	f := newOpsFake(t)
	f.client.rest = &rest.Config{Host: srv.URL}
	gets := 0
	// The pod finishes on the second look.
	f.dyn.PrependReactor("get", "pods", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if gets++; gets < 2 {
			return false, nil, nil
		}
		u, err := f.dyn.Tracker().Get(gvrPods, "team-a", "job")
		if err != nil {
			return true, nil, err
		}
		p := u.(*unstructured.Unstructured).DeepCopy()
		p.Object["status"] = map[string]any{"phase": "Succeeded"}
		return true, p, nil
	})
	got, msg, _ := f.eval(t, nil, "", `k8s.run("job", "busybox", command="echo hello; echo world", rm=True)`)
	if msg != "" || got != `{"logs": "hello\nworld\n", "name": "job", "phase": "Succeeded"}` {
		t.Fatalf("= %s (%s)", got, msg)
	}
	if !strings.Contains("&"+logQuery+"&", "&container=job&") || gets != 2 {
		t.Fatalf("log query %q, %d gets", logQuery, gets)
	}
	var verbs []string
	for _, a := range f.mutations() {
		verbs = append(verbs, a.GetVerb())
		if c, ok := a.(clienttesting.CreateActionImpl); ok {
			spec := c.GetObject().(*unstructured.Unstructured).Object["spec"].(map[string]any)
			b, _ := json.Marshal(spec)
			if string(b) != `{"containers":[{"command":["/bin/sh","-c","echo hello; echo world"],"image":"busybox","name":"job"}],"restartPolicy":"Never"}` {
				t.Fatalf("pod spec = %s", b)
			}
		}
	}
	if strings.Join(verbs, " ") != "create delete" {
		t.Fatalf("mutations = %v", verbs)
	}
	if _, err := f.dyn.Tracker().Get(gvrPods, "team-a", "job"); err == nil {
		t.Fatal("rm=True left the pod")
	}
	// A log the server does not serve is left out; restart other than
	// Never does not wait.
	gets = 0
	got, msg, _ = f.eval(t, nil, "", `k8s.run("job2", "busybox", restart="OnFailure")`)
	if msg != "" || got != `{"name": "job2", "phase": ""}` || gets != 0 {
		t.Fatalf("= %s (%s), %d gets", got, msg, gets)
	}
}

// writeOps are the §9/§10 operations that need k8s.write, called with
// valid arguments.
var writeOps = []string{
	`deploy("d", "img")`, `run("p", "img")`, `expose("deploy", "web", 80)`, `scale("deploy", "web", 1)`,
	`autoscale("deploy", "web")`, `rollout("deploy", "web")`, `rollout("deploy", "web", "restart")`,
	`set_image("deploy", "web", "web", "x")`, `set_env("deploy", "web", {"A": "1"})`,
	`set_resources("deploy", "web", requests={"cpu": "1"})`,
	`cordon("n1")`, `uncordon("n1")`, `drain("n1")`, `taint("n1", "k")`, `untaint("n1", "k")`,
}

// readOps are the §10 operations that need only k8s.read.
var readOps = []string{`top_nodes()`, `top_pods()`, `describe("deploy", "web")`}

func TestWorkloadNodePermissions(t *testing.T) {
	f := newOpsFake(t, twoContainerDeployment("team-a"), obj("v1", "Node", "", "n1", nil))
	readOnly := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.read"}}}
	var cases []kitetest.PermCase
	for _, e := range writeOps {
		cases = append(cases,
			kitetest.PermCase{Name: "denied/" + e, Cfg: readOnly, Expr: "k8s." + e, ErrPrefix: denied("write")},
			kitetest.PermCase{Name: "try denied/" + e, Cfg: readOnly, Expr: "k8s.try_" + e, Want: `Result(ok=False, error="` + strings.ReplaceAll(denied("write"), `"`, `\"`)},
			kitetest.PermCase{Name: "client denied/" + e, Cfg: &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.read", "k8s.config"}}},
				Expr: "k8s.config()." + e, ErrPrefix: denied("write")},
		)
	}
	for _, e := range readOps {
		cases = append(cases, kitetest.PermCase{Name: "allowed/" + e, Cfg: readOnly, Expr: "type(k8s." + e + ")", Want: map[bool]string{true: "dict", false: "list"}[strings.HasPrefix(e, "describe")]},
			kitetest.PermCase{Name: "write-only denied/" + e, Cfg: &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.write"}}},
				Expr: "k8s." + e, ErrPrefix: denied("read")})
	}
	f.dyn.ClearActions()
	kitetest.RunPermCases(t, func(t testing.TB, cfg *libkite.Config) *libkite.Runtime { return f.runtime(t, cfg) }, cases, nil)
	for _, a := range f.dyn.Actions() {
		if a.GetVerb() != "list" && a.GetVerb() != "get" {
			t.Fatalf("a denied call reached the API: %v", a)
		}
	}
	// Under allow-local all of them run (write and read granted).
	for _, e := range append(append([]string{}, writeOps...), readOps...) {
		if strings.HasPrefix(e, "run(") {
			continue // waits for the pod
		}
		if got, msg, _ := f.eval(t, &libkite.Config{Permissions: libkite.AllowLocalPermissions()}, "", "k8s.try_"+e+".error"); msg != "" || strings.Contains(got, "permission denied") {
			t.Fatalf("%s under allow-local: %s (%s)", e, got, msg)
		}
	}
}
