package k8s

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite/modules/yaml"
)

// yamlBuiltin is k8s.yaml(value) -> str (spec §11): one YAML document for
// a dict, object or any plain-data value; for a list, each item rendered
// and joined with "---\n" lines between documents. Rendering is the yaml
// module's (yaml.v3 layout: keys sorted, 4-space indentation).
func yamlBuiltin(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	if l, ok := v.(*starlark.List); ok {
		docs := make([]starlark.Value, l.Len())
		for i := range docs {
			d, err := plainValue(l.Index(i))
			if err != nil {
				return nil, fmt.Errorf("k8s.yaml[%d]: %v", i, err)
			}
			docs[i] = d
		}
		text, err := yaml.EncodeAll(docs)
		if err != nil {
			return nil, fmt.Errorf("k8s.yaml%v", err) // `[<i>]: <msg>`
		}
		return starlark.String(text), nil
	}
	d, err := plainValue(v)
	if err != nil {
		return nil, fmt.Errorf("k8s.yaml: %v", err)
	}
	text, err := yaml.Encode(d)
	if err != nil {
		return nil, fmt.Errorf("k8s.yaml: %v", err)
	}
	return starlark.String(text), nil
}

// plainValue turns an object value into its dict; plain data passes.
func plainValue(v starlark.Value) (starlark.Value, error) {
	m, ok := v.(Manifester)
	if !ok {
		return v, nil
	}
	obj, err := m.K8sObject()
	if err != nil {
		return nil, err
	}
	return toStarlark(obj)
}
