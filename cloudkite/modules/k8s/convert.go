package k8s

import (
	"encoding/json"
	"fmt"

	"go.starlark.net/starlark"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"github.com/project-starkite/starkite/libkite/modules/yaml"
	"github.com/project-starkite/starkite/libkite/startype"
)

// Manifester is implemented by Starlark values that stand for a Kubernetes
// object without being a dict (k8s.obj values, controller AttrDicts): it
// returns the object as plain JSON-like data. Manifest coercion (spec §11),
// k8s.yaml, owner= and status() accept any Manifester.
type Manifester interface {
	starlark.Value
	K8sObject() (map[string]any, error)
}

// fromStarlarkOpts converts script data to Go: ints stay int64, dict keys
// must be strings, values with no data form are errors.
var fromStarlarkOpts = startype.Options{Data: true}

// toStarlarkOpts converts API data to Starlark: ints stay ints, floats
// stay floats, maps become dicts with sorted keys.
var toStarlarkOpts = startype.Options{Floats: startype.FloatsKeep}

// toStarlark converts an API object (or any JSON-like Go data) to Starlark.
func toStarlark(v any) (starlark.Value, error) { return toStarlarkOpts.ToStarlark(v) }

// objectList converts objects to a Starlark list of dicts.
func objectList(objs []map[string]any) (*starlark.List, error) {
	elems := make([]starlark.Value, len(objs))
	for i, o := range objs {
		v, err := toStarlark(o)
		if err != nil {
			return nil, err
		}
		elems[i] = v
	}
	return starlark.NewList(elems), nil
}

// toJSONData converts a Starlark value to the JSON-like data unstructured
// objects hold (map[string]any, []any, string, int64, float64, bool,
// nil): the value is converted, encoded as JSON and decoded again, so
// bytes become base64 strings (what Secret data wants) and integral
// numbers int64.
func toJSONData(v starlark.Value) (any, error) {
	if m, ok := v.(Manifester); ok {
		obj, err := m.K8sObject()
		if err != nil {
			return nil, err
		}
		return normalizeJSON(obj)
	}
	g, err := fromStarlarkOpts.FromStarlark(v)
	if err != nil {
		return nil, err
	}
	return normalizeJSON(g)
}

// normalizeJSON round-trips Go data through JSON.
func normalizeJSON(g any) (any, error) {
	b, err := json.Marshal(g)
	if err != nil {
		return nil, err
	}
	var out any
	if err := utiljson.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// toObject converts a dict (or Manifester) to an object map; what names
// the argument in errors.
func toObject(v starlark.Value, what string) (map[string]any, error) {
	switch v.(type) {
	case *starlark.Dict, Manifester:
	default:
		return nil, fmt.Errorf("%s must be a dict, got %s", what, v.Type())
	}
	g, err := toJSONData(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	m, _ := g.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// coerceManifest expands a manifest argument into objects (spec §11):
// a Manifester, a dict, a YAML string (every non-empty document), or a
// list of those (nested lists flattened, errors prefixed `list[<i>]: `).
func coerceManifest(v starlark.Value) ([]map[string]any, error) {
	switch x := v.(type) {
	case Manifester, *starlark.Dict:
		m, err := toObject(x, "manifest")
		if err != nil {
			return nil, err
		}
		return []map[string]any{m}, nil
	case starlark.String:
		docs, err := yaml.DecodeAll([]byte(x))
		if err != nil {
			return nil, err
		}
		var out []map[string]any
		for i, d := range docs {
			if d == starlark.None {
				continue
			}
			if _, ok := d.(*starlark.Dict); !ok {
				return nil, fmt.Errorf("YAML document %d: expected a mapping, got %s", i, d.Type())
			}
			m, err := toObject(d, fmt.Sprintf("YAML document %d", i))
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("no documents found in YAML")
		}
		return out, nil
	case *starlark.List:
		return coerceSeq(x.Len(), x.Index)
	case starlark.Tuple:
		return coerceSeq(len(x), func(i int) starlark.Value { return x[i] })
	}
	return nil, fmt.Errorf("expected k8s object, dict, YAML string, or list, got %s", v.Type())
}

func coerceSeq(n int, at func(int) starlark.Value) ([]map[string]any, error) {
	var out []map[string]any
	for i := 0; i < n; i++ {
		objs, err := coerceManifest(at(i))
		if err != nil {
			return nil, fmt.Errorf("list[%d]: %w", i, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// Helpers reading JSON-like object maps.

func nestedMap(obj map[string]any, key string) map[string]any {
	m, _ := obj[key].(map[string]any)
	return m
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// objMeta returns an object's kind, apiVersion, metadata.name and
// metadata.namespace.
func objMeta(obj map[string]any) (kind, apiVersion, name, namespace string) {
	md := nestedMap(obj, "metadata")
	return str(obj, "kind"), str(obj, "apiVersion"), str(md, "name"), str(md, "namespace")
}
