package libkite

import (
	"fmt"

	"go.starlark.net/starlark"
)

// Sprintf formats Starlark values with Go fmt verbs (builtins.md §3):
// int→int64, float→float64, str→string, bool→bool, None→nil,
// list/tuple→[]any, dict→map[any]any, bytes→[]byte, anything else → its
// str() form. With no args the format is returned unchanged.
func Sprintf(format string, args starlark.Tuple) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, GoFormatArgs(args)...)
}

// GoFormatArgs converts args for Go's fmt functions.
func GoFormatArgs(args starlark.Tuple) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = goFormatValue(a)
	}
	return out
}

func goFormatValue(v starlark.Value) any {
	switch v := v.(type) {
	case starlark.NoneType:
		return nil
	case starlark.Bool:
		return bool(v)
	case starlark.Int:
		if i, ok := v.Int64(); ok {
			return i
		}
		return v.BigInt()
	case starlark.Float:
		return float64(v)
	case starlark.String:
		return string(v)
	case starlark.Bytes:
		return []byte(v)
	case *starlark.List:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = goFormatValue(v.Index(i))
		}
		return out
	case starlark.Tuple:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = goFormatValue(x)
		}
		return out
	case *starlark.Dict:
		out := make(map[any]any, v.Len())
		for _, kv := range v.Items() {
			out[goFormatValue(kv[0])] = goFormatValue(kv[1])
		}
		return out
	}
	return v.String()
}

// formatArgs unpacks (format, *args) for printf-style builtins.
func formatArgs(fnname string, args starlark.Tuple, kwargs []starlark.Tuple) (string, starlark.Tuple, error) {
	if len(kwargs) > 0 {
		return "", nil, fmt.Errorf("%s: unknown keyword argument: %s", fnname, kwargs[0][0].(starlark.String))
	}
	if len(args) == 0 {
		return "", nil, nil
	}
	f, ok := args[0].(starlark.String)
	if !ok {
		return "", nil, fmt.Errorf("format must be a string")
	}
	return string(f), args[1:], nil
}
