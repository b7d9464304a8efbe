package k8s

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.starlark.net/starlark"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// nodeOps: node operations, metrics and describe (spec §10).
var nodeOps = map[string]op{
	"cordon":    {perm: permWrite, run: cordonOp(true)},
	"uncordon":  {perm: permWrite, run: cordonOp(false)},
	"drain":     {perm: permWrite, run: opDrain},
	"taint":     {perm: permWrite, run: opTaint},
	"untaint":   {perm: permWrite, run: opUntaint},
	"top_nodes": {perm: permRead, run: opTopNodes},
	"top_pods":  {perm: permRead, run: opTopPods},
	"describe":  {perm: permRead, run: opDescribe},
}

const (
	// mirrorPodAnnotation marks the API mirror of a kubelet static pod.
	mirrorPodAnnotation = "kubernetes.io/config.mirror"
	// metricsGroupVersion is metrics-server's API.
	metricsGroupVersion = "metrics.k8s.io/v1beta1"
	// taintRetries bounds taint/untaint's read-modify-write on conflicts.
	taintRetries = 5
)

// apiErrText is an error's text for a result entry (drain's errors): with
// an API status, its causes' messages and its reason are added, as the
// ops' own errors show the reason (errors.go).
func apiErrText(err error) string {
	msg := err.Error()
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return msg
	}
	s := st.Status()
	if s.Details != nil {
		for _, c := range s.Details.Causes {
			if c.Message != "" && !strings.Contains(msg, c.Message) {
				msg += " " + c.Message
			}
		}
	}
	if s.Reason != "" {
		msg += " (" + string(s.Reason) + ")"
	}
	return msg
}

// cordon(node, timeout="") / uncordon(node, timeout="") -> Node dict
func cordonOp(unschedulable bool) func(*call, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var node, timeout string
		if err := x.bind(args, kwargs, "node", &node, "timeout?", &timeout); err != nil {
			return nil, err
		}
		return x.patchJSON("nodes", node, "", types.MergePatchType,
			map[string]any{"spec": map[string]any{"unschedulable": unschedulable}}, timeout)
	}
}

// controllerKind is the kind of the object's controller ("" if none).
func controllerKind(obj map[string]any) string {
	refs, _ := nestedMap(obj, "metadata")["ownerReferences"].([]any)
	for _, r := range refs {
		if m, ok := r.(map[string]any); ok && m["controller"] == true {
			return str(m, "kind")
		}
	}
	return ""
}

// drain(node, force=False, ignore_daemonsets=False, timeout="3m") ->
// {"node", "evicted": ["ns/name"], "errors": ["ns/name: err"]}
//
// Cordons the node, then evicts (Eviction API, so PodDisruptionBudgets
// hold) every pod bound to it, in namespace/name order. Mirror pods of
// static pods are skipped (the kubelet owns them). DaemonSet pods are
// skipped with ignore_daemonsets=True; without it each is an error entry
// and is left alone (kubectl refuses the whole drain instead; kite drains
// the rest). force=True deletes a pod whose eviction was refused.
// Per-pod failures are collected, not raised.
func opDrain(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var node string
	timeout := "3m"
	var force, ignoreDS bool
	if err := x.bind(args, kwargs, "node", &node, "force?", &force, "ignore_daemonsets?", &ignoreDS, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if timeout == "" {
		timeout = "3m"
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	dry := x.dryRun(false)
	nodes, pods := builtinKinds["node"], builtinKinds["pod"]
	if _, err := x.resource(nodes, "").Patch(x.ctx, node, types.MergePatchType, []byte(`{"spec":{"unschedulable":true}}`),
		metav1.PatchOptions{DryRun: dry}); err != nil {
		return nil, fmt.Errorf("cordon: %w", err)
	}
	items, err := listItems(x.ctx, x.resource(pods, ""), metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("spec.nodeName", node).String()})
	if err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].GetNamespace() != items[j].GetNamespace() {
			return items[i].GetNamespace() < items[j].GetNamespace()
		}
		return items[i].GetName() < items[j].GetName()
	})
	evicted, errs := []any{}, []any{}
	for i := range items {
		p := &items[i]
		key := p.GetNamespace() + "/" + p.GetName()
		if _, mirror := p.GetAnnotations()[mirrorPodAnnotation]; mirror {
			continue
		}
		if controllerKind(p.Object) == "DaemonSet" {
			if !ignoreDS {
				errs = append(errs, key+": DaemonSet-managed pod not evicted (use ignore_daemonsets=True to skip DaemonSet pods)")
			}
			continue
		}
		if err := x.evictPod(x.resource(pods, p.GetNamespace()), p.GetName(), force, dry); err != nil {
			if err := x.endErr(); err != nil {
				return nil, err
			}
			errs = append(errs, key+": "+apiErrText(err))
			continue
		}
		evicted = append(evicted, key)
	}
	return toStarlark(map[string]any{"node": node, "evicted": evicted, "errors": errs})
}

// evictPod evicts one pod through its policy/v1 eviction subresource. A
// pod that is gone already counts as evicted. With force, a refused
// eviction (PodDisruptionBudget, eviction unsupported) falls back to a
// plain delete.
func (x *call) evictPod(res dynamic.ResourceInterface, name string, force bool, dry []string) error {
	ev := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "policy/v1", "kind": "Eviction",
		"metadata": map[string]any{"name": name},
	}}
	if dry != nil {
		ev.Object["deleteOptions"] = map[string]any{"dryRun": []any{metav1.DryRunAll}}
	}
	_, err := res.Create(x.ctx, ev, metav1.CreateOptions{DryRun: dry}, "eviction")
	if err == nil {
		return nil
	}
	if apierrors.IsNotFound(err) {
		// The pod is gone, or the server has no eviction subresource.
		if _, gerr := res.Get(x.ctx, name, metav1.GetOptions{}); apierrors.IsNotFound(gerr) {
			return nil
		}
	}
	if !force || x.ctx.Err() != nil {
		return err
	}
	if derr := res.Delete(x.ctx, name, metav1.DeleteOptions{DryRun: dry}); derr != nil && !apierrors.IsNotFound(derr) {
		return fmt.Errorf("eviction: %s; delete: %w", apiErrText(err), derr)
	}
	return nil
}

// taintEffects maps taint's effect= (case-insensitive) to the API's.
var taintEffects = map[string]string{"noschedule": "NoSchedule", "prefernoschedule": "PreferNoSchedule", "noexecute": "NoExecute"}

// updateTaints rewrites a node's spec.taints with edit (read, edit,
// merge-patch guarded by the resourceVersion, retried on conflicts). When
// edit reports no change the live node is returned untouched.
func (x *call) updateTaints(node string, edit func([]any) ([]any, bool)) (starlark.Value, error) {
	res := x.resource(builtinKinds["node"], "")
	for attempt := 1; ; attempt++ {
		live, err := res.Get(x.ctx, node, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		taints, _ := nestedMap(live.Object, "spec")["taints"].([]any)
		out, changed := edit(taints)
		if !changed {
			return toStarlark(live.Object)
		}
		var list any = out
		if len(out) == 0 {
			list = nil
		}
		v, err := x.patchObject(builtinKinds["node"], "", node, types.MergePatchType, map[string]any{
			"metadata": map[string]any{"resourceVersion": live.GetResourceVersion()},
			"spec":     map[string]any{"taints": list},
		})
		if apierrors.IsConflict(err) && attempt < taintRetries {
			continue
		}
		return v, err
	}
}

// taint(node, key, value="", effect="NoSchedule", timeout="") -> Node
// dict. A taint with the same key and effect is replaced.
func opTaint(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var node, key, value, timeout string
	effect := "NoSchedule"
	if err := x.bind(args, kwargs, "node", &node, "key", &key, "value?", &value, "effect?", &effect, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if key == "" {
		return nil, fmt.Errorf("taint key is required")
	}
	eff, ok := taintEffects[strings.ToLower(effect)]
	if !ok {
		return nil, fmt.Errorf("unknown taint effect %q (want NoSchedule, PreferNoSchedule or NoExecute)", effect)
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	t := map[string]any{"key": key, "effect": eff}
	if value != "" {
		t["value"] = value
	}
	return x.updateTaints(node, func(taints []any) ([]any, bool) {
		out := make([]any, 0, len(taints)+1)
		placed := false
		for _, old := range taints {
			m, _ := old.(map[string]any)
			if str(m, "key") == key && str(m, "effect") == eff {
				if !placed {
					out = append(out, t)
					placed = true
				}
				continue
			}
			out = append(out, old)
		}
		if !placed {
			out = append(out, t)
		}
		return out, true
	})
}

// untaint(node, key, timeout="") -> Node dict: removes every taint with
// that key (whatever its effect).
func opUntaint(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var node, key, timeout string
	if err := x.bind(args, kwargs, "node", &node, "key", &key, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if key == "" {
		return nil, fmt.Errorf("taint key is required")
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	return x.updateTaints(node, func(taints []any) ([]any, bool) {
		out := make([]any, 0, len(taints))
		for _, old := range taints {
			if m, _ := old.(map[string]any); str(m, "key") != key {
				out = append(out, old)
			}
		}
		return out, len(out) != len(taints)
	})
}

// usage is a metrics.k8s.io usage sample.
type usage struct{ cpu, memory resource.Quantity }

func (u *usage) add(m map[string]any) {
	if q, err := resource.ParseQuantity(str(m, "cpu")); err == nil {
		u.cpu.Add(q)
	}
	if q, err := resource.ParseQuantity(str(m, "memory")); err == nil {
		u.memory.Add(q)
	}
}

// set adds usage to a top entry the way kubectl top shows it: CPU in
// millicores, memory in mebibytes.
func (u usage) set(entry map[string]any) {
	entry["cpu"] = fmt.Sprintf("%dm", u.cpu.MilliValue())
	entry["memory"] = fmt.Sprintf("%dMi", u.memory.Value()/(1<<20))
}

// metrics lists metrics.k8s.io/v1beta1 <resource> (nodes or pods) in ns
// and returns usage by "name" (nodes) or "namespace/name" (pods). ok is
// false when the API is not served or cannot be read: top_* then report
// no usage.
func (x *call) metrics(resourceName, ns string) (byName map[string]usage, ok bool) {
	l, err := runAside(x.ctx, func() (*metav1.APIResourceList, error) {
		return x.c.disc.ServerResourcesForGroupVersion(metricsGroupVersion)
	})
	if err != nil || l == nil {
		return nil, false
	}
	served := false
	for _, r := range l.APIResources {
		served = served || r.Name == resourceName
	}
	if !served {
		return nil, false
	}
	gvr := schema.GroupVersionResource{Group: "metrics.k8s.io", Version: "v1beta1", Resource: resourceName}
	var res dynamic.ResourceInterface = x.c.dyn.Resource(gvr)
	if ns != "" && resourceName == "pods" {
		res = x.c.dyn.Resource(gvr).Namespace(ns)
	}
	items, err := listItems(x.ctx, res, metav1.ListOptions{})
	if err != nil {
		return nil, false
	}
	byName = map[string]usage{}
	for _, it := range items {
		var u usage
		if resourceName == "pods" {
			cs, _ := it.Object["containers"].([]any)
			for _, c := range cs {
				cm, _ := c.(map[string]any)
				u.add(nestedMap(cm, "usage"))
			}
			byName[it.GetNamespace()+"/"+it.GetName()] = u
		} else {
			u.add(nestedMap(it.Object, "usage"))
			byName[it.GetName()] = u
		}
	}
	return byName, true
}

// top_nodes(timeout="") -> list of {"name", "capacity", "allocatable"[,
// "cpu", "memory"]}; usage when metrics.k8s.io is served.
func opTopNodes(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var timeout string
	if err := x.bind(args, kwargs, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	items, err := listItems(x.ctx, x.resource(builtinKinds["node"], ""), metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	use, _ := x.metrics("nodes", "")
	out := make([]map[string]any, 0, len(items))
	for _, n := range items {
		st := nestedMap(n.Object, "status")
		e := map[string]any{"name": n.GetName(), "capacity": stringValues(nestedMap(st, "capacity")),
			"allocatable": stringValues(nestedMap(st, "allocatable"))}
		if u, ok := use[n.GetName()]; ok {
			u.set(e)
		}
		out = append(out, e)
	}
	return objectList(out)
}

// stringValues copies a map, values stringified (never nil).
func stringValues(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = stringify(v)
	}
	return out
}

// stringify renders a JSON-like value as text: strings as they are,
// numbers and booleans as Go prints them, anything else as JSON.
func stringify(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case map[string]any, []any:
		if b, err := json.Marshal(v); err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v)
}

// top_pods(namespace="", sort_by="", timeout="") -> list of {"name",
// "namespace", "status", "cpu_request", "memory_request"[, "cpu",
// "memory"]}: requests summed over the containers, usage when
// metrics.k8s.io is served. sort_by "cpu"/"memory" sorts descending by
// usage when metrics were read, else by request. namespace="*" covers
// every namespace.
func opTopPods(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ns, sortBy, timeout string
	if err := x.bind(args, kwargs, "namespace?", &ns, "sort_by?", &sortBy, "timeout?", &timeout); err != nil {
		return nil, err
	}
	sortKey := strings.ToLower(sortBy)
	switch sortKey {
	case "", "cpu", "memory":
	default:
		return nil, fmt.Errorf("unknown sort_by %q (want cpu or memory)", sortBy)
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	podKind := builtinKinds["pod"]
	if ns == "*" {
		ns = ""
	} else {
		ns = x.namespaceFor(podKind, ns)
	}
	items, err := listItems(x.ctx, x.resource(podKind, ns), metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	use, haveMetrics := x.metrics("pods", ns)
	type row struct {
		entry      map[string]any
		req, usage usage
	}
	rows := make([]row, 0, len(items))
	for _, p := range items {
		var r row
		cs, _ := nestedMap(p.Object, "spec")["containers"].([]any)
		for _, c := range cs {
			cm, _ := c.(map[string]any)
			r.req.add(nested(cm, "resources", "requests"))
		}
		r.entry = map[string]any{"name": p.GetName(), "namespace": p.GetNamespace(), "status": podPhase(p.Object),
			"cpu_request": r.req.cpu.String(), "memory_request": r.req.memory.String()}
		if u, ok := use[p.GetNamespace()+"/"+p.GetName()]; ok {
			r.usage = u
			u.set(r.entry)
		}
		rows = append(rows, r)
	}
	if sortKey != "" {
		key := func(r row) *resource.Quantity {
			u := &r.req
			if haveMetrics {
				u = &r.usage
			}
			if sortKey == "cpu" {
				return &u.cpu
			}
			return &u.memory
		}
		sort.SliceStable(rows, func(i, j int) bool { return key(rows[i]).Cmp(*key(rows[j])) > 0 })
	}
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		out[i] = r.entry
	}
	return objectList(out)
}

// describe(kind, name, namespace="", timeout="") -> {"resource",
// "conditions"?, "events"?}. conditions: status.conditions with values
// stringified (omitted when the object has none); events: the core
// events about the object (involvedObject name, namespace and kind),
// oldest first, as {"type", "reason", "message", "count"} (omitted when
// they cannot be listed).
func opDescribe(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ki, ns, u, err := x.getNamed(args, kwargs)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"resource": u.Object}
	if conds, ok := nestedMap(u.Object, "status")["conditions"].([]any); ok {
		list := make([]any, 0, len(conds))
		for _, c := range conds {
			if m, ok := c.(map[string]any); ok {
				list = append(list, stringValues(m))
			}
		}
		out["conditions"] = list
	}
	if events, err := x.objectEvents(ki, ns, u.GetName(), u.GetKind()); err == nil {
		out["events"] = events
	}
	return toStarlark(out)
}

// objectEvents lists the core v1 events about one object, oldest first.
func (x *call) objectEvents(ki *kindInfo, ns, name, kind string) ([]any, error) {
	sel := fields.Set{"involvedObject.name": name}
	if kind == "" {
		kind = ki.Kind
	}
	if kind != "" {
		sel["involvedObject.kind"] = kind
	}
	evKind := builtinKinds["event"]
	evNS := ""
	if ki.Namespaced {
		sel["involvedObject.namespace"] = ns
		evNS = ns
	}
	items, err := listItems(x.ctx, x.resource(evKind, evNS), metav1.ListOptions{FieldSelector: sel.AsSelector().String()})
	if err != nil {
		return nil, err
	}
	when := func(e map[string]any) time.Time {
		for _, s := range []string{str(e, "lastTimestamp"), str(e, "eventTime"), str(e, "firstTimestamp"), str(nestedMap(e, "metadata"), "creationTimestamp")} {
			if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
				return t
			}
		}
		return time.Time{}
	}
	sort.SliceStable(items, func(i, j int) bool { return when(items[i].Object).Before(when(items[j].Object)) })
	out := make([]any, 0, len(items))
	for _, it := range items {
		e := it.Object
		count := intField(e, "count")
		if count == 0 {
			count = intField(nestedMap(e, "series"), "count")
		}
		if count == 0 {
			count = 1
		}
		out = append(out, map[string]any{"type": str(e, "type"), "reason": str(e, "reason"),
			"message": str(e, "message"), "count": fmt.Sprint(count)})
	}
	return out, nil
}
