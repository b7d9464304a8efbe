package strings

import (
	stdstrings "strings"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// unpack is libkite.UnpackArgs with the spec's "keyword wins" rule
// (strings.md, binding S): a keyword naming a parameter also given
// positionally replaces that positional instead of being an error.
func unpack(fnname string, args starlark.Tuple, kwargs []starlark.Tuple, pairs ...any) error {
	if len(kwargs) == 0 || len(args) == 0 {
		return libkite.UnpackArgs(fnname, args, kwargs, pairs...)
	}
	var names []string // positional parameter names, in order
	for i := 0; i < len(pairs); i += 2 {
		name := pairs[i].(string)
		if name == "*" {
			break
		}
		names = append(names, stdstrings.TrimRight(name, "?"))
	}
	if len(args) > len(names) {
		return libkite.UnpackArgs(fnname, args, kwargs, pairs...) // reports the surplus positional
	}
	collides := false
	for i := range args {
		collides = collides || hasKeyword(kwargs, names[i])
	}
	if !collides {
		return libkite.UnpackArgs(fnname, args, kwargs, pairs...)
	}
	merged := make([]starlark.Tuple, 0, len(args)+len(kwargs))
	for i, a := range args {
		if !hasKeyword(kwargs, names[i]) {
			merged = append(merged, starlark.Tuple{starlark.String(names[i]), a})
		}
	}
	merged = append(merged, kwargs...)
	return libkite.UnpackArgs(fnname, nil, merged, pairs...)
}

func hasKeyword(kwargs []starlark.Tuple, name string) bool {
	for _, kv := range kwargs {
		if string(kv[0].(starlark.String)) == name {
			return true
		}
	}
	return false
}
