package libkite

import (
	"fmt"

	"go.starlark.net/starlark"
)

// Sprintf formats Starlark values with Go fmt verbs (builtins.md §3):
// int→int64, float→float64, str→string, bool→bool, None→nil,
// list/tuple→[]any, dict→map[any]any, bytes→[]byte, anything else → its
// str() form. With no args the format is returned unchanged. Values Go
// cannot format fail (see GoFormatArgs).
func Sprintf(format string, args starlark.Tuple) (string, error) {
	if len(args) == 0 {
		return format, nil
	}
	vals, err := GoFormatArgs(args)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(format, vals...), nil
}

// GoFormatArgs converts args for Go's fmt functions. A list or dict that
// contains itself fails (`cannot format a list that contains itself`), as
// does a dict key that converts to something Go cannot use as a map key
// (a tuple: `cannot format a dict with a tuple key ((1, 2))`).
func GoFormatArgs(args starlark.Tuple) ([]any, error) {
	out := make([]any, len(args))
	var c formatConverter
	for i, a := range args {
		v, err := c.convert(a)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// formatConverter holds the mutable containers being converted, the only
// values that can form a cycle.
type formatConverter struct{ path []starlark.Value }

func (c *formatConverter) enter(v starlark.Value, kind string) error {
	for _, p := range c.path {
		if p == v {
			return fmt.Errorf("cannot format a %s that contains itself", kind)
		}
	}
	c.path = append(c.path, v)
	return nil
}

func (c *formatConverter) leave() { c.path = c.path[:len(c.path)-1] }

func (c *formatConverter) convert(v starlark.Value) (any, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.Bool:
		return bool(v), nil
	case starlark.Int:
		if i, ok := v.Int64(); ok {
			return i, nil
		}
		return v.BigInt(), nil
	case starlark.Float:
		return float64(v), nil
	case starlark.String:
		return string(v), nil
	case starlark.Bytes:
		return []byte(v), nil
	case *starlark.List:
		if err := c.enter(v, "list"); err != nil {
			return nil, err
		}
		defer c.leave()
		out := make([]any, v.Len())
		for i := range out {
			x, err := c.convert(v.Index(i))
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	case starlark.Tuple:
		out := make([]any, len(v))
		for i, x := range v {
			y, err := c.convert(x)
			if err != nil {
				return nil, err
			}
			out[i] = y
		}
		return out, nil
	case *starlark.Dict:
		if err := c.enter(v, "dict"); err != nil {
			return nil, err
		}
		defer c.leave()
		out := make(map[any]any, v.Len())
		for _, kv := range v.Items() {
			if _, isTuple := kv[0].(starlark.Tuple); isTuple {
				return nil, fmt.Errorf("cannot format a dict with a tuple key (%s)", kv[0])
			}
			k, err := c.convert(kv[0])
			if err != nil {
				return nil, err
			}
			x, err := c.convert(kv[1])
			if err != nil {
				return nil, err
			}
			out[k] = x
		}
		return out, nil
	}
	return v.String(), nil
}
