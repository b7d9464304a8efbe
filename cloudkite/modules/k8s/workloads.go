package k8s

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"go.starlark.net/starlark"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/project-starkite/starkite/libkite"
)

// workloadOps: the kubectl-style workload helpers (spec §9). All nine
// mutate (rollout status included) and need k8s.write; every request they
// send honours the global dry run.
var workloadOps = map[string]op{
	"deploy":        {perm: permWrite, run: opDeploy},
	"run":           {perm: permWrite, run: opRun},
	"expose":        {perm: permWrite, run: opExpose},
	"scale":         {perm: permWrite, run: opScale},
	"autoscale":     {perm: permWrite, run: opAutoscale},
	"rollout":       {perm: permWrite, run: opRollout},
	"set_image":     {perm: permWrite, run: opSetImage},
	"set_env":       {perm: permWrite, run: opSetEnv},
	"set_resources": {perm: permWrite, run: opSetResources},
}

// runPollInterval is how often run() looks at its pod's phase (spec: 2 s;
// tests shorten it).
var runPollInterval = 2 * time.Second

// runAfterTimeout bounds what run() does once its wait is over (reading
// the logs, deleting the pod): the wait may have used up the op's own
// deadline.
var runAfterTimeout = 30 * time.Second

// restartedAtAnnotation is the pod-template annotation rollout restart
// sets (kubectl's).
const restartedAtAnnotation = "kubectl.kubernetes.io/restartedAt"

// Small helpers shared by the workload and node operations.

// pyStr is Starlark's str(v): a string's text, else its repr.
func pyStr(v starlark.Value) string {
	if s, ok := v.(starlark.String); ok {
		return string(s)
	}
	return v.String()
}

// strPair is one entry of a string dict, in the dict's order.
type strPair struct{ k, v string }

// strDict reads a dict argument with string keys (None = empty); values
// are converted with str().
func strDict(v starlark.Value, what string) ([]strPair, error) {
	if v == nil || v == starlark.None {
		return nil, nil
	}
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("%s must be a dict, got %s", what, v.Type())
	}
	out := make([]strPair, 0, d.Len())
	for _, kv := range d.Items() {
		k, ok := kv[0].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s keys must be strings, got %s", what, kv[0].Type())
		}
		out = append(out, strPair{string(k), pyStr(kv[1])})
	}
	return out, nil
}

// intField reads an integer field of JSON-like data (missing = 0).
func intField(m map[string]any, key string) int64 {
	switch n := m[key].(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case int32:
		return int64(n)
	case float64:
		return int64(n)
	}
	return 0
}

// nested walks path through nested maps (nil when some step is missing).
func nested(obj map[string]any, path ...string) map[string]any {
	for _, k := range path {
		if obj = nestedMap(obj, k); obj == nil {
			return nil
		}
	}
	return obj
}

// nest wraps leaf in maps along path: nest({"x": 1}, "a", "b") is
// {"a": {"b": {"x": 1}}}.
func nest(leaf map[string]any, path ...string) map[string]any {
	for i := len(path) - 1; i >= 0; i-- {
		leaf = map[string]any{path[i]: leaf}
	}
	return leaf
}

// isDryRun reports whether the call's mutations are server-side dry runs.
func (x *call) isDryRun() bool { return len(x.dryRun(false)) > 0 }

// patchObject sends one patch (body is JSON-encoded) for ki/name in ns,
// after x.begin, honouring the global dry run, and returns the patched
// object.
func (x *call) patchObject(ki *kindInfo, ns, name string, pt types.PatchType, body any) (starlark.Value, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	obj, err := x.resource(ki, ns).Patch(x.ctx, name, pt, b, metav1.PatchOptions{DryRun: x.dryRun(false)})
	if err != nil {
		return nil, err
	}
	return toStarlark(obj.Object)
}

// patchJSON is x.patch (ops.go: begin, resolve, patch) with body
// JSON-encoded.
func (x *call) patchJSON(kind, name, ns string, pt types.PatchType, body any, timeout string) (starlark.Value, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return x.patch(kind, name, ns, pt, b, timeout)
}

// applyForced server-side applies obj (a complete manifest of ki named
// name in ns) the way apply(force=True) does: the default field manager,
// conflicts forced, the global dry run honoured.
func (x *call) applyForced(ki *kindInfo, ns, name string, obj map[string]any) (map[string]any, error) {
	force := true
	return x.serverSideApply(x.resource(ki, ns), name, obj,
		metav1.PatchOptions{FieldManager: DefaultFieldManager, Force: &force, DryRun: x.dryRun(false)})
}

// deploy(name, image, replicas=1, port=0, namespace="", labels=None,
// env=None, timeout="") -> {"deployment": name[, "service": name]}
func opDeploy(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, image, ns, timeout string
	replicas, port := 1, 0
	var labelsV, envV starlark.Value = starlark.None, starlark.None
	if err := x.bind(args, kwargs, "name", &name, "image", &image, "replicas?", &replicas, "port?", &port,
		"namespace?", &ns, "labels?", &labelsV, "env?", &envV, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if name == "" || image == "" {
		return nil, fmt.Errorf("name and image are required")
	}
	if port < 0 || port > 65535 {
		return nil, fmt.Errorf("port must be between 0 and 65535, got %d", port)
	}
	extra, err := strDict(labelsV, "labels")
	if err != nil {
		return nil, err
	}
	env, err := strDict(envV, "env")
	if err != nil {
		return nil, err
	}
	labels := map[string]any{"app": name}
	for _, p := range extra {
		labels[p.k] = p.v
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	depKind, svcKind := builtinKinds["deployment"], builtinKinds["service"]
	ns = x.namespaceFor(depKind, ns)

	container := map[string]any{"name": name, "image": image}
	if port > 0 {
		container["ports"] = []any{map[string]any{"containerPort": port}}
	}
	if len(env) > 0 {
		vars := make([]any, len(env))
		for i, p := range env {
			vars[i] = map[string]any{"name": p.k, "value": p.v}
		}
		container["env"] = vars
	}
	dep := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": labels},
		"spec": map[string]any{
			"replicas": replicas,
			"selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels},
				"spec":     map[string]any{"containers": []any{container}},
			},
		},
	}
	if _, err := x.applyForced(depKind, ns, name, dep); err != nil {
		return nil, fmt.Errorf("Deployment %q: %w", name, err)
	}
	out := map[string]any{"deployment": name}
	if port > 0 {
		svc := map[string]any{
			"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": name, "namespace": ns, "labels": labels},
			"spec": map[string]any{
				"selector": labels,
				"ports":    []any{map[string]any{"port": port, "targetPort": port, "protocol": "TCP"}},
			},
		}
		if _, err := x.applyForced(svcKind, ns, name, svc); err != nil {
			return nil, fmt.Errorf("Service %q: %w", name, err)
		}
		out["service"] = name
	}
	return toStarlark(out)
}

// restartPolicies maps run's restart= (case-insensitive) to the API's.
var restartPolicies = map[string]string{"": "Never", "never": "Never", "always": "Always", "onfailure": "OnFailure"}

// runArgv is run's command=: None → none (the image's entrypoint), else
// exec's rule (commandArgv).
func runArgv(fn string, v starlark.Value) ([]any, error) {
	if v == starlark.None {
		return nil, nil
	}
	argv, err := commandArgv(fn, v)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(argv))
	for i, a := range argv {
		out[i] = a
	}
	return out, nil
}

// podPhase is a pod's status.phase.
func podPhase(obj map[string]any) string { return str(nestedMap(obj, "status"), "phase") }

// run(name, image, command=None, namespace="", restart="Never", rm=False,
// timeout="3m") -> {"name", "phase"[, "logs"]}
func opRun(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, image, ns string
	restart, timeout := "Never", "3m"
	var command starlark.Value = starlark.None
	var rm bool
	if err := x.bind(args, kwargs, "name", &name, "image", &image, "command?", &command, "namespace?", &ns,
		"restart?", &restart, "rm?", &rm, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if timeout == "" {
		timeout = "3m"
	}
	if name == "" || image == "" {
		return nil, fmt.Errorf("name and image are required")
	}
	policy, ok := restartPolicies[strings.ToLower(restart)]
	if !ok {
		return nil, fmt.Errorf("invalid restart policy %q (want Never, OnFailure or Always)", restart)
	}
	argv, err := runArgv(x.fn, command)
	if err != nil {
		return nil, err
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	podKind := builtinKinds["pod"]
	ns = x.namespaceFor(podKind, ns)
	res := x.resource(podKind, ns)
	container := map[string]any{"name": name, "image": image}
	if argv != nil {
		container["command"] = argv
	}
	pod := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": map[string]any{"run": name}},
		"spec":     map[string]any{"restartPolicy": policy, "containers": []any{container}},
	}}
	created, err := res.Create(x.ctx, pod, metav1.CreateOptions{DryRun: x.dryRun(false)})
	if err != nil {
		return nil, err
	}
	phase := podPhase(created.Object)
	out := map[string]any{"name": name, "phase": phase}
	if x.isDryRun() {
		// Nothing was created: there is nothing to wait for, read or delete.
		return toStarlark(out)
	}
	if policy == "Never" {
		if phase, err = x.waitPodDone(res, name, phase); err != nil {
			return nil, err
		}
		out["phase"] = phase
	}
	// The wait may have used the op's deadline up: what follows gets its
	// own bound.
	ctx, cancel := context.WithTimeout(libkite.Context(x.thread), runAfterTimeout)
	defer cancel()
	if logs, err := podLogText(ctx, x.c, ns, name, name); err == nil {
		out["logs"] = logs
	}
	if rm {
		if err := res.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("delete pod %q: %w", name, err)
		}
	}
	return toStarlark(out)
}

// waitPodDone polls the pod every runPollInterval until its phase is
// Succeeded or Failed or the op's deadline passes (not an error: the last
// phase seen is returned).
func (x *call) waitPodDone(res dynamic.ResourceInterface, name, phase string) (string, error) {
	for phase != "Succeeded" && phase != "Failed" {
		select {
		case <-x.ctx.Done():
			return phase, x.endErr()
		case <-time.After(runPollInterval):
		}
		u, err := res.Get(x.ctx, name, metav1.GetOptions{})
		if err != nil {
			if x.ctx.Err() != nil {
				return phase, x.endErr()
			}
			return "", err
		}
		phase = podPhase(u.Object)
	}
	return phase, nil
}

// podLogText reads a container's whole log (the logs op's streamer).
func podLogText(ctx context.Context, c *Client, ns, pod, container string) (string, error) {
	s, err := newStreamer(c)
	if err != nil {
		return "", err
	}
	rc, err := s.logs(ctx, ns, pod, logOptions{container: container})
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return string(b), err
}

// serviceTypes maps expose's type= (case-insensitive) to the API's.
var serviceTypes = map[string]string{"clusterip": "ClusterIP", "nodeport": "NodePort", "loadbalancer": "LoadBalancer", "externalname": "ExternalName"}

// expose(kind, name, port, target_port=0, type="ClusterIP", namespace="",
// timeout="") -> Service dict. The selector is copied from the target
// (spec.selector.matchLabels; a Service's or ReplicationController's
// spec.selector; a Pod's labels), falling back to {"app": name} when the
// target has none or does not exist.
func opExpose(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var kind, name, ns, timeout string
	var port, targetPort int
	typ := "ClusterIP"
	if err := x.bind(args, kwargs, "kind", &kind, "name", &name, "port", &port, "target_port?", &targetPort,
		"type?", &typ, "namespace?", &ns, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("port must be between 1 and 65535, got %d", port)
	}
	if targetPort == 0 {
		targetPort = port
	}
	if t, ok := serviceTypes[strings.ToLower(typ)]; ok {
		typ = t
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	ki, err := x.c.resolveKind(x.ctx, kind)
	if err != nil {
		return nil, err
	}
	svcKind := builtinKinds["service"]
	svcNS := x.namespaceFor(svcKind, ns)
	selector := map[string]any{"app": name}
	target, err := x.resource(ki, x.namespaceFor(ki, ns)).Get(x.ctx, name, metav1.GetOptions{})
	switch {
	case err == nil:
		if sel := targetSelector(ki, target.Object); len(sel) > 0 {
			selector = sel
		}
	case !apierrors.IsNotFound(err):
		return nil, err
	}
	svc := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": name, "namespace": svcNS},
		"spec": map[string]any{
			"type":     typ,
			"selector": selector,
			"ports":    []any{map[string]any{"port": int64(port), "targetPort": int64(targetPort), "protocol": "TCP"}},
		},
	}}
	created, err := x.resource(svcKind, svcNS).Create(x.ctx, svc, metav1.CreateOptions{DryRun: x.dryRun(false)})
	if err != nil {
		return nil, err
	}
	return toStarlark(created.Object)
}

// targetSelector is the label selector that picks a workload's pods, when
// it is a plain label map.
func targetSelector(ki *kindInfo, obj map[string]any) map[string]any {
	strs := func(m map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			if s, ok := v.(string); ok {
				out[k] = s
			}
		}
		return out
	}
	switch ki.Kind {
	case "Pod":
		return strs(nested(obj, "metadata", "labels"))
	case "Service", "ReplicationController":
		return strs(nested(obj, "spec", "selector"))
	}
	return strs(nested(obj, "spec", "selector", "matchLabels"))
}

// scale(kind, name, replicas, namespace="", timeout="") -> patched object
func opScale(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var kind, name, ns, timeout string
	var replicas int
	if err := x.bind(args, kwargs, "kind", &kind, "name", &name, "replicas", &replicas, "namespace?", &ns, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if replicas < 0 {
		return nil, fmt.Errorf("replicas must be >= 0, got %d", replicas)
	}
	return x.patchJSON(kind, name, ns, types.MergePatchType, map[string]any{"spec": map[string]any{"replicas": replicas}}, timeout)
}

// autoscale(kind, name, min=1, max=10, cpu_percent=80, namespace="",
// timeout="") -> HPA dict: an autoscaling/v2 HPA "<name>-hpa" whose
// scaleTargetRef names the target's Kind and apiVersion.
func opAutoscale(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var kind, name, ns, timeout string
	minR, maxR, cpu := 1, 10, 80
	if err := x.bind(args, kwargs, "kind", &kind, "name", &name, "min?", &minR, "max?", &maxR, "cpu_percent?", &cpu,
		"namespace?", &ns, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if maxR < minR {
		return nil, fmt.Errorf("max (%d) must not be less than min (%d)", maxR, minR)
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	ki, err := x.c.resolveKind(x.ctx, kind)
	if err != nil {
		return nil, err
	}
	hpaKind := builtinKinds["hpa"]
	hns := x.namespaceFor(hpaKind, ns)
	hpa := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
		"metadata": map[string]any{"name": name + "-hpa", "namespace": hns},
		"spec": map[string]any{
			"scaleTargetRef": map[string]any{"apiVersion": ki.GVR.GroupVersion().String(), "kind": ki.Kind, "name": name},
			"minReplicas":    int64(minR),
			"maxReplicas":    int64(maxR),
			"metrics": []any{map[string]any{
				"type": "Resource",
				"resource": map[string]any{"name": "cpu",
					"target": map[string]any{"type": "Utilization", "averageUtilization": int64(cpu)}},
			}},
		},
	}}
	created, err := x.resource(hpaKind, hns).Create(x.ctx, hpa, metav1.CreateOptions{DryRun: x.dryRun(false)})
	if err != nil {
		return nil, err
	}
	return toStarlark(created.Object)
}

// rollout(kind, name, action="status", namespace="", revision=0,
// timeout="") -> status dict | patched object
func opRollout(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var kind, name, ns, timeout string
	action := "status"
	var revision int
	if err := x.bind(args, kwargs, "kind", &kind, "name", &name, "action?", &action, "namespace?", &ns,
		"revision?", &revision, "timeout?", &timeout); err != nil {
		return nil, err
	}
	act := strings.ToLower(action)
	switch act {
	case "status", "restart", "pause", "resume":
	default:
		return nil, fmt.Errorf("unknown rollout action %q (want status, restart, pause or resume)", action)
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	ki, err := x.c.resolveKind(x.ctx, kind)
	if err != nil {
		return nil, err
	}
	ns = x.namespaceFor(ki, ns)
	switch act {
	case "restart":
		ann := map[string]any{restartedAtAnnotation: time.Now().Format(time.RFC3339)}
		return x.patchObject(ki, ns, name, types.MergePatchType,
			nest(map[string]any{"annotations": ann}, "spec", "template", "metadata"))
	case "pause", "resume":
		return x.patchObject(ki, ns, name, types.MergePatchType, map[string]any{"spec": map[string]any{"paused": act == "pause"}})
	}
	u, err := x.resource(ki, ns).Get(x.ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return toStarlark(rolloutStatus(ki, u.Object))
}

// rolloutStatus is rollout status's result. complete needs every count
// equal, the controller to have seen the latest spec
// (status.observedGeneration >= metadata.generation) and, when the object
// asks for a replica count, that many updated replicas.
func rolloutStatus(ki *kindInfo, obj map[string]any) map[string]any {
	st := nestedMap(obj, "status")
	var replicas, ready, updated, available int64
	if ki.Kind == "DaemonSet" {
		replicas, ready = intField(st, "desiredNumberScheduled"), intField(st, "numberReady")
		updated, available = intField(st, "updatedNumberScheduled"), intField(st, "numberAvailable")
	} else {
		replicas, ready = intField(st, "replicas"), intField(st, "readyReplicas")
		updated, available = intField(st, "updatedReplicas"), intField(st, "availableReplicas")
	}
	complete := updated == ready && ready == available && available == replicas &&
		intField(st, "observedGeneration") >= intField(nestedMap(obj, "metadata"), "generation")
	if spec := nestedMap(obj, "spec"); spec != nil {
		if _, ok := spec["replicas"]; ok && intField(spec, "replicas") != updated {
			complete = false
		}
	}
	return map[string]any{"replicas": replicas, "ready": ready, "updated": updated, "available": available, "complete": complete}
}

// podSpecPath is where a workload kind keeps its pod spec.
func podSpecPath(kind string) []string {
	switch kind {
	case "Pod":
		return []string{"spec"}
	case "CronJob":
		return []string{"spec", "jobTemplate", "spec", "template", "spec"}
	}
	return []string{"spec", "template", "spec"}
}

// containerTarget is one container a set_* helper patches: its list
// (containers or initContainers) and its live entry.
type containerTarget struct {
	list string
	name string
	live map[string]any
}

// liveContainers reads the live object and picks the containers a set_*
// helper targets: the named one (containers, then initContainers), or
// every container of the pod spec when container is empty.
func (x *call) liveContainers(ki *kindInfo, ns, name, container string) ([]containerTarget, error) {
	u, err := x.resource(ki, ns).Get(x.ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	spec := nested(u.Object, podSpecPath(ki.Kind)...)
	var targets []containerTarget
	for _, list := range []string{"containers", "initContainers"} {
		items, _ := spec[list].([]any)
		for _, it := range items {
			c, _ := it.(map[string]any)
			cn := str(c, "name")
			if c == nil || cn == "" {
				continue
			}
			if (container == "" && list == "containers") || cn == container {
				targets = append(targets, containerTarget{list: list, name: cn, live: c})
			}
		}
		if container != "" && len(targets) > 0 {
			break
		}
	}
	if len(targets) == 0 {
		if container != "" {
			return nil, fmt.Errorf("container %q not found in %s %q", container, ki.Kind, name)
		}
		return nil, fmt.Errorf("%s %q has no containers", ki.Kind, name)
	}
	return targets, nil
}

// setContainers resolves the kind, reads the live object and sends the
// strategic-merge patch that sets, in every targeted container, the fields
// fill returns for it.
func (x *call) setContainers(kind, name, ns, container, timeout string, fill func(containerTarget) map[string]any) (starlark.Value, error) {
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	ki, err := x.c.resolveKind(x.ctx, kind)
	if err != nil {
		return nil, err
	}
	ns = x.namespaceFor(ki, ns)
	targets, err := x.liveContainers(ki, ns, name, container)
	if err != nil {
		return nil, err
	}
	lists := map[string]any{}
	for _, t := range targets {
		entry := fill(t)
		entry["name"] = t.name
		l, _ := lists[t.list].([]any)
		lists[t.list] = append(l, entry)
	}
	return x.patchObject(ki, ns, name, types.StrategicMergePatchType, nest(lists, podSpecPath(ki.Kind)...))
}

// set_image(kind, name, container, image, namespace="", timeout="") ->
// patched object. An empty container sets every container's image.
func opSetImage(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var kind, name, container, image, ns, timeout string
	if err := x.bind(args, kwargs, "kind", &kind, "name", &name, "container", &container, "image", &image,
		"namespace?", &ns, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if image == "" {
		return nil, fmt.Errorf("image is required")
	}
	return x.setContainers(kind, name, ns, container, timeout, func(containerTarget) map[string]any {
		return map[string]any{"image": image}
	})
}

// set_env(kind, name, env, namespace="", container="", timeout="") ->
// patched object. Values must be strings; None removes the variable. An
// entry replacing a valueFrom variable drops its valueFrom.
func opSetEnv(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var kind, name, ns, container, timeout string
	var envV starlark.Value
	if err := x.bind(args, kwargs, "kind", &kind, "name", &name, "env", &envV, "namespace?", &ns,
		"container?", &container, "timeout?", &timeout); err != nil {
		return nil, err
	}
	d, ok := envV.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("env must be a dict, got %s", envV.Type())
	}
	type envVar struct {
		name  string
		value *string // nil = remove
	}
	vars := make([]envVar, 0, d.Len())
	for _, kv := range d.Items() {
		k, ok := kv[0].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("env names must be strings, got %s", kv[0].Type())
		}
		switch v := kv[1].(type) {
		case starlark.String:
			s := string(v)
			vars = append(vars, envVar{string(k), &s})
		case starlark.NoneType:
			vars = append(vars, envVar{string(k), nil})
		default:
			return nil, fmt.Errorf("env values must be strings (or None to remove), got %s for %q", v.Type(), string(k))
		}
	}
	return x.setContainers(kind, name, ns, container, timeout, func(t containerTarget) map[string]any {
		fromLive := map[string]bool{}
		live, _ := t.live["env"].([]any)
		for _, e := range live {
			if m, ok := e.(map[string]any); ok && m["valueFrom"] != nil {
				fromLive[str(m, "name")] = true
			}
		}
		entries := make([]any, 0, len(vars))
		for _, v := range vars {
			e := map[string]any{"name": v.name}
			if v.value == nil {
				e["$patch"] = "delete"
			} else {
				e["value"] = *v.value
				if fromLive[v.name] {
					e["valueFrom"] = nil
				}
			}
			entries = append(entries, e)
		}
		return map[string]any{"env": entries}
	})
}

// quantities reads a requests/limits dict: resource name → quantity
// (string or int; None removes the entry).
func quantities(v starlark.Value, what string) (map[string]any, error) {
	if v == nil || v == starlark.None {
		return nil, nil
	}
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("%s must be a dict, got %s", what, v.Type())
	}
	out := make(map[string]any, d.Len())
	for _, kv := range d.Items() {
		k, ok := kv[0].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s keys must be strings, got %s", what, kv[0].Type())
		}
		var s string
		switch q := kv[1].(type) {
		case starlark.NoneType:
			out[string(k)] = nil
			continue
		case starlark.String:
			s = string(q)
		case starlark.Int:
			s = q.String()
		default:
			return nil, fmt.Errorf("%s[%q] must be a quantity string, got %s", what, string(k), q.Type())
		}
		if _, err := resource.ParseQuantity(s); err != nil {
			return nil, fmt.Errorf("%s[%q]: invalid quantity %q", what, string(k), s)
		}
		out[string(k)] = s
	}
	return out, nil
}

// set_resources(kind, name, requests=None, limits=None, namespace="",
// container="", timeout="") -> patched object
func opSetResources(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var kind, name, ns, container, timeout string
	var reqV, limV starlark.Value = starlark.None, starlark.None
	if err := x.bind(args, kwargs, "kind", &kind, "name", &name, "requests?", &reqV, "limits?", &limV,
		"namespace?", &ns, "container?", &container, "timeout?", &timeout); err != nil {
		return nil, err
	}
	requests, err := quantities(reqV, "requests")
	if err != nil {
		return nil, err
	}
	limits, err := quantities(limV, "limits")
	if err != nil {
		return nil, err
	}
	if len(requests) == 0 && len(limits) == 0 {
		return nil, fmt.Errorf("requests or limits is required")
	}
	res := map[string]any{}
	if len(requests) > 0 {
		res["requests"] = requests
	}
	if len(limits) > 0 {
		res["limits"] = limits
	}
	return x.setContainers(kind, name, ns, container, timeout, func(containerTarget) map[string]any {
		return map[string]any{"resources": res}
	})
}
