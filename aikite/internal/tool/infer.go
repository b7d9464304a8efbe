package tool

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite/startype"
)

// Infer derives a def-function's argument schema and description (ai spec
// §5.2): one property per parameter in declaration order (keyword-only
// included), typed by its default; parameters without a default are
// required; the description is the whole docstring. *args / **kwargs
// cannot be described and are an error.
func Infer(fn *starlark.Function) (schema map[string]any, description string, err error) {
	if fn.HasVarargs() || fn.HasKwargs() {
		return nil, "", fmt.Errorf("function %s uses *args/**kwargs, which cannot be described as tool parameters; pass params= explicitly", fn.Name())
	}
	props := map[string]any{}
	var required []any
	for i := 0; i < fn.NumParams(); i++ {
		name, _ := fn.Param(i)
		def := fn.ParamDefault(i)
		props[name] = fragment(def)
		if def == nil {
			required = append(required, name)
		}
	}
	schema = map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		schema["required"] = required
	}
	return schema, fn.Doc(), nil
}

// fragment is the §5.2 schema fragment for a parameter's default (nil =
// no default).
func fragment(def starlark.Value) map[string]any {
	switch d := def.(type) {
	case nil, starlark.NoneType:
		return map[string]any{"type": "string"}
	case starlark.String:
		f := map[string]any{"type": "string"}
		if d != "" {
			f["default"] = string(d)
		}
		return f
	case starlark.Bool:
		return map[string]any{"type": "boolean", "default": bool(d)}
	case starlark.Int:
		if n, ok := d.Int64(); ok {
			return map[string]any{"type": "integer", "default": n}
		}
		return map[string]any{"type": "integer"}
	case starlark.Float:
		return map[string]any{"type": "number", "default": float64(d)}
	case *starlark.List, starlark.Tuple:
		return map[string]any{"type": "array"}
	case *starlark.Dict:
		return map[string]any{"type": "object"}
	}
	return map[string]any{"type": "string"}
}

// Params returns the names and required flags of a def-function's
// parameters in order (for prompt arguments and resource arity).
func Params(fn *starlark.Function) (names []string, required []bool) {
	n := fn.NumParams()
	if fn.HasVarargs() {
		n--
	}
	if fn.HasKwargs() {
		n--
	}
	for i := 0; i < n; i++ {
		name, _ := fn.Param(i)
		names = append(names, name)
		required = append(required, fn.ParamDefault(i) == nil)
	}
	return names, required
}

// New is ai.tool(fn, description=<unset>, params=None) (ai spec §5.1).
// description is nil when not passed; params is nil or None when not
// passed. The name is always the callable's own.
func New(fn starlark.Value, description *string, params starlark.Value) (*Tool, error) {
	c, ok := fn.(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("expected a callable, got %s", fn.Type())
	}
	if params == starlark.None {
		params = nil
	}
	t := &Tool{Name: c.Name(), Fn: c}
	if params != nil {
		d, ok := params.(*starlark.Dict)
		if !ok {
			return nil, fmt.Errorf("params must be a dict (JSON Schema), got %s", params.Type())
		}
		schema, err := SchemaFromDict(d)
		if err != nil {
			return nil, fmt.Errorf("params: %v", err)
		}
		t.Schema = schema
	}
	def, isDef := c.(*starlark.Function)
	if !isDef {
		if description == nil || params == nil {
			return nil, fmt.Errorf("%s is a %s, which cannot be introspected: pass both description= and params=", c.Name(), c.Type())
		}
		t.Description = *description
		return t, nil
	}
	if params == nil {
		schema, doc, err := Infer(def)
		if err != nil {
			return nil, err
		}
		t.Schema, t.Description = schema, doc
	} else {
		t.Description = def.Doc()
	}
	if description != nil {
		t.Description = *description
	}
	return t, nil
}

// SchemaFromDict converts a Starlark JSON Schema dict to plain data.
func SchemaFromDict(d *starlark.Dict) (map[string]any, error) {
	v, err := (startype.Options{Data: true}).FromStarlark(d)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected a dict with string keys")
	}
	return m, nil
}

// Coerce converts a tools= value (ai spec §5.3): any iterable of ai.Tool,
// def-functions (inferred) and Sources (mcp.Tool). Errors name the index:
// "tools[i]: ...". None yields no tools.
func Coerce(v starlark.Value) ([]*Tool, error) {
	if v == nil || v == starlark.None {
		return nil, nil
	}
	it, ok := v.(starlark.Iterable)
	if !ok {
		return nil, fmt.Errorf("tools must be a list of functions or ai.Tool values, got %s", v.Type())
	}
	iter := it.Iterate()
	defer iter.Done()
	var out []*Tool
	var x starlark.Value
	for i := 0; iter.Next(&x); i++ {
		t, err := coerceOne(x)
		if err != nil {
			return nil, fmt.Errorf("tools[%d]: %v", i, err)
		}
		out = append(out, t)
	}
	return out, nil
}

func coerceOne(x starlark.Value) (*Tool, error) {
	switch t := x.(type) {
	case *Value:
		return t.Tool, nil
	case Source:
		return t.KiteTool(), nil
	case *starlark.Function:
		schema, doc, err := Infer(t)
		if err != nil {
			return nil, err
		}
		return &Tool{Name: t.Name(), Description: doc, Schema: schema, Fn: t}, nil
	case starlark.Callable:
		return nil, fmt.Errorf("%s (%s) cannot be auto-inferred; wrap it with ai.tool(fn, description=, params=)", t.Name(), t.Type())
	}
	return nil, fmt.Errorf("expected function or ai.Tool, got %s", x.Type())
}

// Value is the Starlark ai.Tool value.
type Value struct{ Tool *Tool }

var _ starlark.HasAttrs = (*Value)(nil)

func (v *Value) String() string       { return fmt.Sprintf("<ai.Tool name=%q>", v.Tool.Name) }
func (*Value) Type() string           { return "ai.Tool" }
func (*Value) Freeze()                {}
func (v *Value) Truth() starlark.Bool { return v.Tool.Fn != nil }
func (*Value) Hash() (uint32, error)  { return 0, fmt.Errorf("unhashable type: ai.Tool") }
func (*Value) AttrNames() []string    { return []string{"description", "name"} }
func (v *Value) KiteTool() *Tool      { return v.Tool }
func (v *Value) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(v.Tool.Name), nil
	case "description":
		return starlark.String(v.Tool.Description), nil
	}
	return nil, nil
}
