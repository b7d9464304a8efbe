package obj

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite/modules/yaml"
	"github.com/project-starkite/starkite/libkite/startype"
)

// Object is a value built by a k8s.obj constructor. It is immutable: its
// fields hold Go data (nested k8s.obj values kept as *Object), so it is
// safe to share between threads and Freeze has nothing to do.
//
// Type name: "k8s.obj." + lowercased Kind, which for every constructor is
// its name without underscores (k8s.obj.statefulset, k8s.obj.containerport).
type Object struct {
	schema *schema
	vals   map[string]any // set fields (after flattening and defaults), by field name
}

var (
	_ starlark.HasAttrs = (*Object)(nil)
	_ startype.Data     = (*Object)(nil)
)

// Type is "k8s.obj.<lowercased Kind>".
func (o *Object) Type() string { return "k8s.obj." + strings.ToLower(o.schema.kind) }

// String is a short summary: `<deployment name="web" replicas=3>` — the
// name, then other scalar fields in name order, four at most.
func (o *Object) String() string {
	var parts []string
	if n, ok := o.vals["name"].(string); ok {
		parts = append(parts, "name="+starlark.String(n).String())
	}
	names := make([]string, 0, len(o.vals))
	for k := range o.vals {
		if k != "name" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		if len(parts) >= 4 {
			break
		}
		switch v := o.vals[k].(type) {
		case string:
			parts = append(parts, k+"="+starlark.String(v).String())
		case int64:
			parts = append(parts, fmt.Sprintf("%s=%d", k, v))
		case bool:
			parts = append(parts, k+"="+starlark.Bool(v).String())
		}
	}
	return "<" + strings.Join(append([]string{strings.ToLower(o.schema.kind)}, parts...), " ") + ">"
}

func (o *Object) Freeze()              {}
func (o *Object) Truth() starlark.Bool { return starlark.True }
func (o *Object) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: %s", o.Type())
}

// Attr returns a field's value (None when unset) or the to_dict method.
func (o *Object) Attr(name string) (starlark.Value, error) {
	if name == "to_dict" {
		return starlark.NewBuiltin(o.Type()+".to_dict", o.toDict), nil
	}
	if o.schema.byName[name] == nil {
		return nil, nil
	}
	v, ok := o.vals[name]
	if !ok {
		return starlark.None, nil
	}
	return attrOpts.ToStarlark(v)
}

// AttrNames lists every field and to_dict, sorted.
func (o *Object) AttrNames() []string {
	names := make([]string, 0, len(o.schema.fields)+1)
	for _, f := range o.schema.fields {
		names = append(names, f.name)
	}
	names = append(names, "to_dict")
	sort.Strings(names)
	return names
}

func (o *Object) toDict(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	return attrOpts.ToStarlark(o.render())
}

// K8sObject returns the object as plain JSON-like Go data (package k8s's
// Manifester): what to_dict, k8s.yaml, apply and create see.
func (o *Object) K8sObject() (map[string]any, error) { return o.render(), nil }

// ToData is K8sObject for startype (json.encode, yaml.encode, ...).
func (o *Object) ToData() (any, error) { return o.render(), nil }

// render builds the output (§12.1 "Output"): fresh maps every time.
func (o *Object) render() map[string]any {
	s := o.schema
	root, meta, spec := map[string]any{}, map[string]any{}, map[string]any{}
	for i := range s.fields {
		f := &s.fields[i]
		v, ok := o.vals[f.name]
		if !ok {
			continue
		}
		switch f.at {
		case inTop:
			root[f.key] = plain(v)
		case inMeta:
			meta[f.key] = plain(v)
		case inSpec:
			spec[f.key] = plain(v)
		}
	}
	if s.finish != nil {
		s.finish(o.vals, root, spec)
	}
	switch {
	case s.apiVersion != "":
		root["apiVersion"], root["kind"], root["metadata"] = s.apiVersion, s.kind, meta
		if len(spec) > 0 {
			root["spec"] = spec
		}
	case s.wrapped:
		root["metadata"], root["spec"] = meta, spec
	}
	return root
}

// plain converts stored field data to output data: k8s.obj values become
// their dicts, bytes base64 text (as the API's JSON wants), maps and
// lists are copied.
func plain(v any) any {
	switch x := v.(type) {
	case *Object:
		return x.render()
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = plain(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = plain(e)
		}
		return l
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	}
	return v
}

var (
	// attrOpts turns stored data into Starlark: maps become dicts with
	// sorted keys, k8s.obj values pass through, floats stay floats.
	attrOpts = startype.Options{Floats: startype.FloatsKeep}
	// dataOpts converts script data to Go (data-codec rules).
	dataOpts = startype.Options{Data: true}
)

const maxDepth = 100

var errDepth = errors.New("value nested too deeply")

// toGo converts a Starlark value to field data: dicts (string keys) to
// maps, lists and tuples to slices, k8s.obj values kept as they are
// (immutable), anything else by the data-codec rules (so other object
// values such as AttrDicts become their plain data).
func toGo(v starlark.Value, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errDepth
	}
	switch x := v.(type) {
	case *Object:
		return x, nil
	case *starlark.Dict:
		m := make(map[string]any, x.Len())
		for _, kv := range x.Items() {
			k, ok := kv[0].(starlark.String)
			if !ok {
				return nil, fmt.Errorf("dict key must be string, got %s", kv[0].Type())
			}
			e, err := toGo(kv[1], depth+1)
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", string(k), err)
			}
			m[string(k)] = e
		}
		return m, nil
	case *starlark.List:
		return seqToGo(x, x.Len(), depth)
	case starlark.Tuple:
		return seqToGo(x, len(x), depth)
	}
	return dataOpts.FromStarlark(v)
}

func seqToGo(x starlark.Indexable, n, depth int) (any, error) {
	l := make([]any, n)
	for i := range l {
		e, err := toGo(x.Index(i), depth+1)
		if err != nil {
			return nil, fmt.Errorf("index %d: %w", i, err)
		}
		l[i] = e
	}
	return l, nil
}

// typeName names the kind of a field datum the way scripts see it.
func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case string:
		return "string"
	case int64, uint64:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	case []byte:
		return "bytes"
	case map[string]any:
		return "dict"
	case []any:
		return "list"
	case *Object:
		return x.Type()
	}
	return fmt.Sprintf("%T", v)
}

// objType is the value type name of the constructor ctor.
func objType(ctor string) string { return "k8s.obj." + strings.ReplaceAll(ctor, "_", "") }

// check reports whether v suits f.
func (f *field) check(v any) error {
	ok := false
	switch f.typ {
	case tString:
		_, ok = v.(string)
	case tInt:
		_, ok = v.(int64)
	case tBool:
		_, ok = v.(bool)
	case tDict:
		_, ok = v.(map[string]any)
	case tIntOrString:
		switch v.(type) {
		case int64, string:
			ok = true
		}
	case tList:
		l, isList := v.([]any)
		if !isList {
			break
		}
		for i, e := range l {
			if o, isObj := e.(*Object); isObj && f.of != "" && o.schema.ctor != f.of {
				return fmt.Errorf("item %d: expected %s or dict, got %s", i, objType(f.of), o.Type())
			}
		}
		return nil
	case tObject:
		switch x := v.(type) {
		case map[string]any:
			ok = true
		case *Object:
			ok = f.of == "" || x.schema.ctor == f.of
		}
	}
	if !ok {
		return fmt.Errorf("expected %s, got %s", f.typ.describe(f.of), typeName(v))
	}
	return nil
}

func (t fieldType) describe(of string) string {
	switch t {
	case tString:
		return "string"
	case tInt:
		return "int"
	case tBool:
		return "bool"
	case tDict:
		return "dict"
	case tList:
		return "list"
	case tIntOrString:
		return "int or string"
	}
	if of == "" {
		return "k8s.obj value or dict"
	}
	return objType(of) + " or dict"
}

// construct is the generic constructor (§12.1): ctor(seed=None, **fields).
func (s *schema) construct(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	name := fn.Name()
	if len(args) > 1 {
		return nil, fmt.Errorf("%s: got %d positional arguments, want at most 1 (seed)", name, len(args))
	}
	vals := map[string]any{}
	if len(args) == 1 && args[0] != starlark.None {
		if err := s.readSeed(args[0], vals); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	given := map[string]bool{} // set by keyword
	for _, kv := range kwargs {
		k := string(kv[0].(starlark.String))
		f := s.byName[k]
		if f == nil {
			return nil, fmt.Errorf("%s: unknown field %q", name, k)
		}
		if kv[1] == starlark.None {
			delete(vals, k) // None = unset
			continue
		}
		v, err := toGo(kv[1], 0)
		if err == nil {
			err = f.check(v)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: field %q: %v", name, k, err)
		}
		vals[k], given[k] = v, true
	}
	if s.workload {
		if err := s.flatten(vals, given); err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	for _, r := range s.required {
		if _, ok := vals[r]; !ok {
			return nil, fmt.Errorf("%s: missing required field %q", name, r)
		}
	}
	for k, d := range s.defaults {
		if _, ok := vals[k]; !ok {
			vals[k] = d
		}
	}
	return &Object{schema: s, vals: vals}, nil
}

// readSeed fills vals from a seed: a YAML string or a dict in the shape
// the object renders as — metadata fields from metadata.<key>, spec
// fields from spec.<key>, root fields (data, rules, a sub-object's
// fields, ...) from the top level. Keys the schema does not know, and
// null values, are ignored.
func (s *schema) readSeed(seed starlark.Value, vals map[string]any) error {
	switch x := seed.(type) {
	case starlark.String:
		v, err := yaml.Decode([]byte(x))
		if err != nil {
			return fmt.Errorf("seed: %v", err)
		}
		seed = v
	case *starlark.Dict:
	default:
		return fmt.Errorf("seed must be a YAML string or dict, got %s", seed.Type())
	}
	g, err := toGo(seed, 0)
	if err != nil {
		return fmt.Errorf("seed: %v", err)
	}
	m, ok := g.(map[string]any)
	if !ok {
		return fmt.Errorf("seed must be a mapping, got %s", typeName(g))
	}
	meta, _ := m["metadata"].(map[string]any)
	spec, _ := m["spec"].(map[string]any)
	for i := range s.fields {
		f := &s.fields[i]
		var src map[string]any
		switch f.at {
		case inTop:
			src = m
		case inMeta:
			src = meta
		case inSpec:
			src = spec
		}
		v, ok := src[f.key]
		if !ok || v == nil {
			continue
		}
		if err := f.check(v); err != nil {
			return fmt.Errorf("seed field %q: %v", f.name, err)
		}
		vals[f.name] = v
	}
	return nil
}

// flatten applies workload flattening (§12.1): with `containers`, the
// pod fields become spec.template (cron_job: spec.jobTemplate.spec.template)
// and, when the kind has a selector and none was given, the template
// labels become spec.selector.matchLabels. The pod fields stay readable
// as attributes. A template from the seed gives way to keyword containers.
func (s *schema) flatten(vals map[string]any, given map[string]bool) error {
	tmplField := "template"
	if s.byName[tmplField] == nil {
		tmplField = "job_template"
	}
	if _, ok := vals["containers"]; !ok {
		for _, f := range s.fields {
			if _, set := vals[f.name]; set && f.at == inPod {
				return fmt.Errorf("field %q needs \"containers\" (pod fields build the pod template)", f.name)
			}
		}
		return nil
	}
	if _, ok := vals[tmplField]; ok {
		if given[tmplField] {
			return fmt.Errorf("cannot specify both \"containers\" and %q", tmplField)
		}
		delete(vals, tmplField)
	}
	labels, ok := vals["template_labels"]
	if !ok {
		labels, ok = vals["labels"]
	}
	meta := map[string]any{}
	if ok {
		meta["labels"] = labels
	}
	if a, ok := vals["template_annotations"]; ok {
		meta["annotations"] = a
	}
	podSpec := map[string]any{}
	for _, f := range podFields {
		if v, ok := vals[f.name]; ok {
			podSpec[f.key] = v
		}
	}
	tmpl := map[string]any{"metadata": meta, "spec": podSpec}
	if tmplField == "job_template" {
		vals[tmplField] = map[string]any{"spec": map[string]any{"template": tmpl}}
	} else {
		vals[tmplField] = tmpl
	}
	if _, has := vals["selector"]; !has && labels != nil && s.byName["selector"] != nil {
		vals["selector"] = map[string]any{"matchLabels": labels}
	}
	return nil
}
