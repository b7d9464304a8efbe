package k8s

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// DefaultFieldManager is apply's default field manager: the reference
// implementation's literal, so objects applied by either tool share field
// ownership (spec §5).
const DefaultFieldManager = "starkite"

// ops is the operation table shared by the module (default client) and
// k8s.client values: each group of operations keeps its own table in its
// own file.
var ops = mergeOps(crudOps, streamOps, workloadOps, nodeOps)

// mergeOps joins operation tables; a name defined twice is a programming
// error.
func mergeOps(tables ...map[string]op) map[string]op {
	all := map[string]op{}
	for _, t := range tables {
		for name, o := range t {
			if _, dup := all[name]; dup {
				panic("k8s: operation " + name + " defined twice")
			}
			all[name] = o
		}
	}
	return all
}

// crudOps: CRUD (§5), watch and wait_for (§6, watch.go) and cluster info (§8).
var crudOps = map[string]op{
	"get":            {perm: permRead, run: opGet},
	"list":           {perm: permRead, run: opList},
	"create":         {perm: permWrite, run: opCreate},
	"apply":          {perm: permWrite, run: opApply},
	"delete":         {perm: permWrite, run: opDelete},
	"patch":          {perm: permWrite, run: opPatch},
	"label":          {perm: permWrite, run: metadataMapOp("labels", "label")},
	"annotate":       {perm: permWrite, run: metadataMapOp("annotations", "annotation")},
	"status":         {perm: permWrite, run: opStatus},
	"context":        {perm: permNone, run: clientString((*Client).Context)},
	"namespace_name": {perm: permNone, run: clientString((*Client).Namespace)},
	"version":        {perm: permRead, run: opVersion},
	"api_resources":  {perm: permRead, run: opAPIResources},
	"watch":          {perm: permRead, run: opWatch},
	"wait_for":       {perm: permRead, run: opWaitFor},
}

// get(kind, name, namespace="", timeout="") -> dict
func opGet(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	_, _, obj, err := x.getNamed(args, kwargs)
	if err != nil {
		return nil, err
	}
	return toStarlark(obj.Object)
}

// getNamed is the shape of get and describe: it binds (kind, name,
// namespace="", timeout=""), begins the call and reads the object; it
// returns the kind, the namespace used and the object.
func (x *call) getNamed(args starlark.Tuple, kwargs []starlark.Tuple) (*kindInfo, string, *unstructured.Unstructured, error) {
	var kind, name, ns, timeout string
	if err := x.bind(args, kwargs, "kind", &kind, "name", &name, "namespace?", &ns, "timeout?", &timeout); err != nil {
		return nil, "", nil, err
	}
	if err := x.begin(timeout); err != nil {
		return nil, "", nil, err
	}
	ki, err := x.c.resolveKind(x.ctx, kind)
	if err != nil {
		return nil, "", nil, err
	}
	ns = x.namespaceFor(ki, ns)
	obj, err := x.resource(ki, ns).Get(x.ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, "", nil, err
	}
	return ki, ns, obj, nil
}

// list(kind, namespace="", labels="", fields="", timeout="") -> list[dict];
// namespace="*" lists across all namespaces.
func opList(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var kind, ns, labels, fields, timeout string
	if err := x.bind(args, kwargs, "kind", &kind, "namespace?", &ns, "labels?", &labels, "fields?", &fields, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	ki, err := x.c.resolveKind(x.ctx, kind)
	if err != nil {
		return nil, err
	}
	if ns == "*" {
		ns = ""
	} else {
		ns = x.namespaceFor(ki, ns)
	}
	l, err := listItems(x.ctx, x.resource(ki, ns), metav1.ListOptions{LabelSelector: labels, FieldSelector: fields})
	if err != nil {
		return nil, err
	}
	items := make([]map[string]any, len(l))
	for i := range l {
		items[i] = l[i].Object
	}
	return objectList(items)
}

// listItems lists every object of res (following continue tokens).
func listItems(ctx context.Context, res dynamic.ResourceInterface, opts metav1.ListOptions) ([]unstructured.Unstructured, error) {
	var items []unstructured.Unstructured
	for {
		l, err := res.List(ctx, opts)
		if err != nil {
			return nil, err
		}
		items = append(items, l.Items...)
		if opts.Continue = l.GetContinue(); opts.Continue == "" {
			return items, nil
		}
	}
}

// target is one object of a create/apply manifest.
type target struct {
	obj  map[string]any
	kind string
	name string
	ns   string // from the manifest, else the namespace kwarg
}

// targets coerces a manifest into its objects; metadata.namespace in an
// object wins over ns.
func targets(manifest starlark.Value, ns string) ([]target, error) {
	objs, err := coerceManifest(manifest)
	if err != nil {
		return nil, err
	}
	out := make([]target, len(objs))
	for i, obj := range objs {
		kind, _, name, mns := objMeta(obj)
		if name == "" {
			name = str(nestedMap(obj, "metadata"), "generateName")
		}
		if mns == "" {
			mns = ns
		}
		out[i] = target{obj: obj, kind: kind, name: name, ns: mns}
	}
	return out, nil
}

// resolve resolves t's kind (when it is reached, so that objects before it
// have been sent: a CRD may precede its instances) and returns the
// resource client for it; a manifest without apiVersion gets the resolved
// one.
func (x *call) resolve(t target) (dynamic.ResourceInterface, error) {
	apiVersion := str(t.obj, "apiVersion")
	ki, err := x.c.resolveManifestKind(x.ctx, t.kind, apiVersion)
	if err != nil {
		return nil, err
	}
	if apiVersion == "" {
		t.obj["apiVersion"] = ki.GVR.GroupVersion().String()
	}
	return x.resource(ki, x.namespaceFor(ki, t.ns)), nil
}

// oneOrList is create/apply's result: the object, or a list when the
// manifest held more than one.
func oneOrList(objs []map[string]any) (starlark.Value, error) {
	if len(objs) == 1 {
		return toStarlark(objs[0])
	}
	return objectList(objs)
}

// create(manifest, namespace="", dry_run=False, timeout="") -> dict | list
func opCreate(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var manifest starlark.Value
	var ns, timeout string
	var dry bool
	if err := x.bind(args, kwargs, "manifest", &manifest, "namespace?", &ns, "dry_run?", &dry, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	ts, err := targets(manifest, ns)
	if err != nil {
		return nil, err
	}
	opts := metav1.CreateOptions{DryRun: x.dryRun(dry)}
	out := make([]map[string]any, 0, len(ts))
	for _, t := range ts {
		res, err := x.resolve(t)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", t.kind, t.name, err)
		}
		obj, err := res.Create(x.ctx, &unstructured.Unstructured{Object: t.obj}, opts)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", t.kind, t.name, err)
		}
		out = append(out, obj.Object)
	}
	return oneOrList(out)
}

// apply(manifest, namespace="", field_manager="starkite", dry_run=False,
// force=False, owner=None, timeout="") -> dict | list: server-side apply.
func opApply(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var manifest, owner starlark.Value
	var ns, fm, timeout string
	var dry, force bool
	if err := x.bind(args, kwargs, "manifest", &manifest, "namespace?", &ns, "field_manager?", &fm,
		"dry_run?", &dry, "force?", &force, "owner??", &owner, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if fm == "" {
		fm = DefaultFieldManager
	}
	var ownerRef map[string]any
	if owner != nil && owner != starlark.None {
		var err error
		if ownerRef, err = ownerReference(owner); err != nil {
			return nil, err
		}
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	ts, err := targets(manifest, ns)
	if err != nil {
		return nil, err
	}
	opts := metav1.PatchOptions{FieldManager: fm, Force: &force, DryRun: x.dryRun(dry)}
	out := make([]map[string]any, 0, len(ts))
	for _, t := range ts {
		if t.name == "" || str(nestedMap(t.obj, "metadata"), "name") == "" {
			return nil, fmt.Errorf("%s %q: metadata.name is required", t.kind, t.name)
		}
		res, err := x.resolve(t)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", t.kind, t.name, err)
		}
		if ownerRef != nil {
			addOwnerReference(t.obj, ownerRef)
		}
		obj, err := x.serverSideApply(res, t.name, t.obj, opts)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", t.kind, t.name, err)
		}
		out = append(out, obj)
	}
	return oneOrList(out)
}

// serverSideApply sends obj as an apply patch (application/apply-patch).
func (x *call) serverSideApply(res dynamic.ResourceInterface, name string, obj map[string]any, opts metav1.PatchOptions) (map[string]any, error) {
	body, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	u, err := res.Patch(x.ctx, name, types.ApplyPatchType, body, opts)
	if err != nil {
		return nil, err
	}
	return u.Object, nil
}

// ownerReference builds the controller ownerReference of apply's owner=
// (a dict or Manifester with apiVersion, kind, metadata.name and
// metadata.uid, all required).
func ownerReference(owner starlark.Value) (map[string]any, error) {
	o, err := toObject(owner, "owner")
	if err != nil {
		return nil, err
	}
	kind, apiVersion, name, _ := objMeta(o)
	uid := str(nestedMap(o, "metadata"), "uid")
	var missing []string
	for _, f := range []struct{ name, v string }{{"apiVersion", apiVersion}, {"kind", kind}, {"metadata.name", name}, {"metadata.uid", uid}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("owner missing %s (apiVersion, kind, metadata.name and metadata.uid are required)", strings.Join(missing, ", "))
	}
	return map[string]any{
		"apiVersion": apiVersion, "kind": kind, "name": name, "uid": uid,
		"controller": true, "blockOwnerDeletion": true,
	}, nil
}

// addOwnerReference appends ref to obj's metadata.ownerReferences unless a
// reference to the same owner (uid) is there already.
func addOwnerReference(obj, ref map[string]any) {
	md := nestedMap(obj, "metadata")
	if md == nil {
		md = map[string]any{}
		obj["metadata"] = md
	}
	refs, _ := md["ownerReferences"].([]any)
	for _, r := range refs {
		if m, ok := r.(map[string]any); ok && m["uid"] == ref["uid"] {
			return
		}
	}
	cp := make(map[string]any, len(ref))
	for k, v := range ref {
		cp[k] = v
	}
	md["ownerReferences"] = append(refs, cp)
}

// delete(kind, name, namespace="", propagation="Background", timeout="") -> True
func opDelete(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var kind, name, ns, timeout string
	propagation := "Background"
	if err := x.bind(args, kwargs, "kind", &kind, "name", &name, "namespace?", &ns, "propagation?", &propagation, "timeout?", &timeout); err != nil {
		return nil, err
	}
	var policy metav1.DeletionPropagation
	switch strings.ToLower(propagation) {
	case "", "background":
		policy = metav1.DeletePropagationBackground
	case "foreground":
		policy = metav1.DeletePropagationForeground
	case "orphan":
		policy = metav1.DeletePropagationOrphan
	default:
		return nil, fmt.Errorf("unknown propagation policy %q (want background, foreground or orphan)", propagation)
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	ki, err := x.c.resolveKind(x.ctx, kind)
	if err != nil {
		return nil, err
	}
	opts := metav1.DeleteOptions{PropagationPolicy: &policy, DryRun: x.dryRun(false)}
	if err := x.resource(ki, x.namespaceFor(ki, ns)).Delete(x.ctx, name, opts); err != nil {
		return nil, err
	}
	return starlark.True, nil
}

// patchTypes maps patch's type= to the API's patch types.
var patchTypes = map[string]types.PatchType{
	"merge":     types.MergePatchType,
	"strategic": types.StrategicMergePatchType,
	"json":      types.JSONPatchType,
}

// patch(kind, name, patch, namespace="", type="merge", timeout="") -> dict
func opPatch(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var kind, name, ns, timeout string
	var patch starlark.Value
	typ := "merge"
	if err := x.bind(args, kwargs, "kind", &kind, "name", &name, "patch", &patch, "namespace?", &ns, "type?", &typ, "timeout?", &timeout); err != nil {
		return nil, err
	}
	pt, ok := patchTypes[strings.ToLower(typ)]
	if !ok {
		return nil, fmt.Errorf("unknown patch type %q (want merge, strategic or json)", typ)
	}
	var body []byte
	switch p := patch.(type) {
	case starlark.String:
		body = []byte(p)
	case starlark.Bytes:
		body = []byte(p)
	case *starlark.Dict, Manifester, *starlark.List, starlark.Tuple:
		switch p.(type) {
		case *starlark.List, starlark.Tuple:
			if pt != types.JSONPatchType {
				return nil, fmt.Errorf("a list patch needs type=\"json\"")
			}
		}
		g, err := toJSONData(p)
		if err != nil {
			return nil, fmt.Errorf("patch: %v", err)
		}
		if body, err = json.Marshal(g); err != nil {
			return nil, fmt.Errorf("patch: %v", err)
		}
	default:
		return nil, fmt.Errorf("patch must be a dict, list or JSON string, got %s", patch.Type())
	}
	return x.patch(kind, name, ns, pt, body, timeout)
}

// patch sends one patch (after the permission check) and returns the
// patched object.
func (x *call) patch(kind, name, ns string, pt types.PatchType, body []byte, timeout string) (starlark.Value, error) {
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	ki, err := x.c.resolveKind(x.ctx, kind)
	if err != nil {
		return nil, err
	}
	obj, err := x.resource(ki, x.namespaceFor(ki, ns)).Patch(x.ctx, name, pt, body, metav1.PatchOptions{DryRun: x.dryRun(false)})
	if err != nil {
		return nil, err
	}
	return toStarlark(obj.Object)
}

// metadataMapOp is label / annotate: (kind, name, <field>, namespace="",
// timeout="") merge-patches metadata.<field>; a None value removes the key.
func metadataMapOp(field, noun string) func(*call, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var kind, name, ns, timeout string
		var values starlark.Value
		if err := x.bind(args, kwargs, "kind", &kind, "name", &name, field, &values, "namespace?", &ns, "timeout?", &timeout); err != nil {
			return nil, err
		}
		d, ok := values.(*starlark.Dict)
		if !ok {
			return nil, fmt.Errorf("%s must be a dict, got %s", field, values.Type())
		}
		m := make(map[string]any, d.Len())
		for _, kv := range d.Items() {
			k, ok := kv[0].(starlark.String)
			if !ok {
				return nil, fmt.Errorf("%s keys and values must be strings, got key of type %s", noun, kv[0].Type())
			}
			switch v := kv[1].(type) {
			case starlark.String:
				m[string(k)] = string(v)
			case starlark.NoneType:
				m[string(k)] = nil
			default:
				return nil, fmt.Errorf("%s keys and values must be strings (or None to remove), got %s for %q", noun, v.Type(), string(k))
			}
		}
		body, err := json.Marshal(map[string]any{"metadata": map[string]any{field: m}})
		if err != nil {
			return nil, err
		}
		return x.patch(kind, name, ns, types.MergePatchType, body, timeout)
	}
}

// status(obj, status, namespace="", timeout="") -> dict: GET the live
// object, shallow-merge status into its .status, PUT the status
// subresource.
func opStatus(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var objV, statusV starlark.Value
	var ns, timeout string
	if err := x.bind(args, kwargs, "obj??", &objV, "status??", &statusV, "namespace?", &ns, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if objV == nil || objV == starlark.None || statusV == nil || statusV == starlark.None {
		return nil, fmt.Errorf("requires obj and status arguments")
	}
	obj, err := toObject(objV, "obj")
	if err != nil {
		return nil, err
	}
	kind, apiVersion, name, ons := objMeta(obj)
	if kind == "" || name == "" {
		return nil, fmt.Errorf("obj missing kind or metadata.name")
	}
	switch statusV.(type) {
	case *starlark.Dict, Manifester:
	default:
		return nil, fmt.Errorf("status must be a dict")
	}
	status, err := toObject(statusV, "status")
	if err != nil {
		return nil, err
	}
	if ns == "" {
		ns = ons
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	ki, err := x.c.resolveManifestKind(x.ctx, kind, apiVersion)
	if err != nil {
		return nil, err
	}
	res := x.resource(ki, x.namespaceFor(ki, ns))
	live, err := res.Get(x.ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	merged := nestedMap(live.Object, "status")
	if merged == nil {
		merged = map[string]any{}
	}
	for k, v := range status {
		merged[k] = v
	}
	live.Object["status"] = merged
	updated, err := res.UpdateStatus(x.ctx, live, metav1.UpdateOptions{DryRun: x.dryRun(false)})
	if err != nil {
		return nil, err
	}
	return toStarlark(updated.Object)
}

// clientString is an op with no arguments and no permission returning a
// property of the client: context() (the kubeconfig context, "" in-cluster)
// and namespace_name() (the default namespace).
func clientString(get func(*Client) string) func(*call, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := x.bind(args, kwargs); err != nil {
			return nil, err
		}
		if err := x.begin(""); err != nil {
			return nil, err
		}
		return starlark.String(get(x.c)), nil
	}
}

// version(timeout="") -> {"major", "minor", "git_version", "platform"}
func opVersion(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var timeout string
	if err := x.bind(args, kwargs, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	info, err := x.c.serverVersion(x.ctx)
	if err != nil {
		return nil, err
	}
	return toStarlark(map[string]any{
		"major": info.Major, "minor": info.Minor, "git_version": info.GitVersion, "platform": info.Platform,
	})
}

// api_resources(timeout="") -> list of {"name", "kind", "group_version",
// "namespaced", "verbs"} from the server's preferred resources.
func opAPIResources(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var timeout string
	if err := x.bind(args, kwargs, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	lists, err := x.c.preferredResources(x.ctx)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for _, l := range lists {
		if l == nil {
			continue
		}
		for _, r := range l.APIResources {
			verbs := make([]any, len(r.Verbs))
			for i, v := range r.Verbs {
				verbs[i] = v
			}
			out = append(out, map[string]any{
				"name": r.Name, "kind": r.Kind, "group_version": l.GroupVersion,
				"namespaced": r.Namespaced, "verbs": verbs,
			})
		}
	}
	return objectList(out)
}
