package log

import (
	"fmt"
	"log/slog"

	"go.starlark.net/starlark"
)

// Attrs converts a Starlark dict of attributes to slog attributes, in
// dict order. Keys must be strings (`attrs keys must be strings`).
func Attrs(d *starlark.Dict) ([]slog.Attr, error) {
	items := d.Items()
	out := make([]slog.Attr, len(items))
	for i, kv := range items {
		k, ok := kv[0].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("attrs keys must be strings")
		}
		out[i] = attr(string(k), kv[1])
	}
	return out, nil
}

func attr(key string, v starlark.Value) slog.Attr {
	switch v := v.(type) {
	case starlark.String:
		return slog.String(key, string(v))
	case starlark.Bool:
		return slog.Bool(key, bool(v))
	case starlark.Int:
		if i, ok := v.Int64(); ok {
			return slog.Int64(key, i)
		}
	case starlark.Float:
		return slog.Float64(key, float64(v))
	}
	return slog.Any(key, Value(v))
}

// maxDepth bounds the conversion of nested (possibly cyclic) containers;
// deeper values are rendered by str().
const maxDepth = 64

// Value converts a Starlark value the way fmt arguments are converted
// (builtins.md §3): None → nil, bool, int (int64, else *big.Int), float,
// str, bytes → []byte, list/tuple → []any, dict → map[string]any (non-str
// keys by str(), so JSON renders a real object), anything else → str().
func Value(v starlark.Value) any { return value(v, 0) }

func value(v starlark.Value, depth int) any {
	if depth > maxDepth {
		return v.String()
	}
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
			out[i] = value(v.Index(i), depth+1)
		}
		return out
	case starlark.Tuple:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = value(x, depth+1)
		}
		return out
	case *starlark.Dict:
		out := make(map[string]any, v.Len())
		for _, kv := range v.Items() {
			k, ok := kv[0].(starlark.String)
			key := string(k)
			if !ok {
				key = kv[0].String()
			}
			out[key] = value(kv[1], depth+1)
		}
		return out
	}
	return v.String()
}
