package obj

import (
	"fmt"
	"sort"
	"strings"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite/startype"
)

// CRD is the value of k8s.obj.crd (spec §12.4): a CustomResourceDefinition
// whose only attribute is to_dict().
type CRD struct {
	name string
	obj  map[string]any // built once, never mutated
}

var (
	_ starlark.HasAttrs = (*CRD)(nil)
	_ startype.Data     = (*CRD)(nil)
)

const crdType = "k8s.obj.crd"

func (c *CRD) Type() string          { return crdType }
func (c *CRD) String() string        { return "<crd name=" + starlark.String(c.name).String() + ">" }
func (c *CRD) Freeze()               {}
func (c *CRD) Truth() starlark.Bool  { return starlark.True }
func (c *CRD) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: %s", crdType) }
func (c *CRD) AttrNames() []string   { return []string{"to_dict"} }

func (c *CRD) Attr(name string) (starlark.Value, error) {
	if name != "to_dict" {
		return nil, nil
	}
	return starlark.NewBuiltin(crdType+".to_dict", func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		return attrOpts.ToStarlark(plain(c.obj))
	}), nil
}

// K8sObject returns a copy of the CRD as plain data (package k8s's Manifester).
func (c *CRD) K8sObject() (map[string]any, error) { return plain(c.obj).(map[string]any), nil }

// ToData is K8sObject for startype.
func (c *CRD) ToData() (any, error) { return plain(c.obj), nil }

// openAPITypes are the accepted values of a field definition's "type".
var openAPITypes = map[string]bool{"string": true, "integer": true, "number": true, "boolean": true, "array": true, "object": true}

// newCRD is k8s.obj.crd(group, version, kind, plural, scope="Namespaced", spec={}, status={}).
func newCRD(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var group, version, kind, plural string
	scope := "Namespaced"
	specDefs, statusDefs := new(starlark.Dict), new(starlark.Dict)
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs,
		"group", &group, "version", &version, "kind", &kind, "plural", &plural,
		"scope?", &scope, "spec?", &specDefs, "status?", &statusDefs); err != nil {
		return nil, err
	}
	for _, a := range [][2]string{{"group", group}, {"version", version}, {"kind", kind}, {"plural", plural}} {
		if a[1] == "" {
			return nil, fmt.Errorf("%s: %s must not be empty", fn.Name(), a[0])
		}
	}
	if scope != "Namespaced" && scope != "Cluster" {
		return nil, fmt.Errorf("%s: scope must be \"Namespaced\" or \"Cluster\", got %q", fn.Name(), scope)
	}
	specSchema, err := objectSchema(specDefs, "spec")
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn.Name(), err)
	}
	props := map[string]any{"spec": specSchema}
	version1 := map[string]any{"name": version, "served": true, "storage": true,
		"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "properties": props}}}
	if statusDefs.Len() > 0 {
		statusSchema, err := objectSchema(statusDefs, "status")
		if err != nil {
			return nil, fmt.Errorf("%s: %v", fn.Name(), err)
		}
		props["status"] = statusSchema
		version1["subresources"] = map[string]any{"status": map[string]any{}}
	}
	name := plural + "." + group
	return &CRD{name: name, obj: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": name},
		"spec": map[string]any{
			"group":    group,
			"names":    map[string]any{"kind": kind, "plural": plural, "singular": strings.ToLower(kind)},
			"scope":    scope,
			"versions": []any{version1},
		},
	}}, nil
}

// objectSchema is {type: object, properties?, required?} for a dict of
// field definitions; path names it in errors.
func objectSchema(defs *starlark.Dict, path string) (map[string]any, error) {
	out := map[string]any{"type": "object"}
	if defs.Len() == 0 {
		return out, nil
	}
	props := map[string]any{}
	var required []string
	for _, kv := range defs.Items() {
		name, ok := kv[0].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: field names must be strings, got %s", path, kv[0].Type())
		}
		p := path + "." + string(name)
		prop, req, err := fieldSchema(kv[1], p)
		if err != nil {
			return nil, err
		}
		props[string(name)] = prop
		if req {
			required = append(required, string(name))
		}
	}
	out["properties"] = props
	if len(required) > 0 {
		sort.Strings(required)
		l := make([]any, len(required))
		for i, r := range required {
			l[i] = r
		}
		out["required"] = l
	}
	return out, nil
}

// fieldSchema converts one field definition: type, required, default,
// description, properties (nested definitions) and items (one
// definition); any other key (enum, format, minimum,
// x-kubernetes-preserve-unknown-fields, ...) is copied through as data.
func fieldSchema(v starlark.Value, path string) (map[string]any, bool, error) {
	def, ok := v.(*starlark.Dict)
	if !ok {
		return nil, false, fmt.Errorf("%s: field definition must be a dict, got %s", path, v.Type())
	}
	out := map[string]any{}
	required := false
	for _, kv := range def.Items() {
		key, ok := kv[0].(starlark.String)
		if !ok {
			return nil, false, fmt.Errorf("%s: definition keys must be strings, got %s", path, kv[0].Type())
		}
		val := kv[1]
		switch key {
		case "type":
			t, ok := val.(starlark.String)
			if !ok || !openAPITypes[string(t)] {
				return nil, false, fmt.Errorf("%s: type must be one of string, integer, number, boolean, array, object; got %s", path, val.String())
			}
			out["type"] = string(t)
		case "required":
			b, ok := val.(starlark.Bool)
			if !ok {
				return nil, false, fmt.Errorf("%s: required must be a bool, got %s", path, val.Type())
			}
			required = bool(b)
		case "description":
			s, ok := val.(starlark.String)
			if !ok {
				return nil, false, fmt.Errorf("%s: description must be a string, got %s", path, val.Type())
			}
			out["description"] = string(s)
		case "properties":
			d, ok := val.(*starlark.Dict)
			if !ok {
				return nil, false, fmt.Errorf("%s: properties must be a dict, got %s", path, val.Type())
			}
			nested, err := objectSchema(d, path)
			if err != nil {
				return nil, false, err
			}
			for _, k := range []string{"properties", "required"} {
				if x, ok := nested[k]; ok {
					out[k] = x
				}
			}
		case "items":
			item, _, err := fieldSchema(val, path+"[]")
			if err != nil {
				return nil, false, err
			}
			out["items"] = item
		default:
			g, err := toGo(val, 0)
			if err != nil {
				return nil, false, fmt.Errorf("%s: %s: %v", path, string(key), err)
			}
			out[string(key)] = plain(g)
		}
	}
	return out, required, nil
}
