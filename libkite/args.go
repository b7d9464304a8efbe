package libkite

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
)

// UnpackArgs binds a builtin's arguments with kite's strict rules. pairs
// are name/pointer pairs as for starlark.UnpackArgs ("path", &path,
// "mode?", &mode, "x??", &x); a name ending in "?" is optional ("??" also
// treats None as absent), and a lone "*" name
// (with a nil pointer) makes every later parameter keyword-only.
//
// Errors use the spec's wording: `unexpected positional argument at index
// N`, `unknown keyword argument: NAME`, `missing required argument: NAME`;
// type errors come from starlark.UnpackArgs. All are prefixed by fnname.
func UnpackArgs(fnname string, args starlark.Tuple, kwargs []starlark.Tuple, pairs ...any) error {
	if len(pairs)%2 != 0 {
		panic("libkite.UnpackArgs: odd number of pairs")
	}
	type param struct {
		name     string
		optional bool
		kwOnly   bool
	}
	params := make([]param, 0, len(pairs)/2)
	plain := make([]any, 0, len(pairs))
	kwOnly := false
	positional := 0
	for i := 0; i < len(pairs); i += 2 {
		name := pairs[i].(string)
		if name == "*" {
			kwOnly = true
			continue
		}
		p := param{name: strings.TrimRight(name, "?"), optional: strings.HasSuffix(name, "?"), kwOnly: kwOnly}
		if !kwOnly {
			positional++
		}
		params = append(params, p)
		plain = append(plain, pairs[i], pairs[i+1])
	}
	if len(args) > positional {
		return fmt.Errorf("%s: unexpected positional argument at index %d", fnname, positional)
	}
	bound := make(map[string]bool, len(params))
	for i := range args {
		bound[params[i].name] = true
	}
	for _, kv := range kwargs {
		k := string(kv[0].(starlark.String))
		known := false
		for _, p := range params {
			if p.name == k {
				known = true
				break
			}
		}
		if !known {
			return fmt.Errorf("%s: unknown keyword argument: %s", fnname, k)
		}
		bound[k] = true
	}
	for _, p := range params {
		if !p.optional && !bound[p.name] {
			return fmt.Errorf("%s: missing required argument: %s", fnname, p.name)
		}
	}
	return starlark.UnpackArgs(fnname, args, kwargs, plain...)
}

// NoArgs fails when a no-argument builtin received any argument.
func NoArgs(fnname string, args starlark.Tuple, kwargs []starlark.Tuple) error {
	if len(args) > 0 || len(kwargs) > 0 {
		return fmt.Errorf("%s takes no arguments", fnname)
	}
	return nil
}

// StringOrBytes returns the text of a str or bytes value; ok is false for
// any other type (the caller names the argument in its error).
func StringOrBytes(v starlark.Value) (s string, ok bool) {
	switch v := v.(type) {
	case starlark.String:
		return string(v), true
	case starlark.Bytes:
		return string(v), true
	}
	return "", false
}

// OnePositional returns the single positional argument of a loose builtin
// (keywords ignored, the count checked): `<fn>: expected 1 argument<what>,
// got N`, where what is e.g. " (path)".
func OnePositional(fn *starlark.Builtin, args starlark.Tuple, what string) (starlark.Value, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: expected 1 argument%s, got %d", fn.Name(), what, len(args))
	}
	return args[0], nil
}

// UnpackArgsKeywordWins is UnpackArgs with the "keyword wins" binding of
// the strings and regexp specs (binding S): a keyword naming a parameter
// also given positionally replaces that positional instead of being an
// error.
func UnpackArgsKeywordWins(fnname string, args starlark.Tuple, kwargs []starlark.Tuple, pairs ...any) error {
	if len(kwargs) == 0 || len(args) == 0 {
		return UnpackArgs(fnname, args, kwargs, pairs...)
	}
	var names []string // positional parameter names, in order
	for i := 0; i < len(pairs); i += 2 {
		name := pairs[i].(string)
		if name == "*" {
			break
		}
		names = append(names, strings.TrimRight(name, "?"))
	}
	if len(args) > len(names) {
		return UnpackArgs(fnname, args, kwargs, pairs...) // reports the surplus positional
	}
	collides := false
	for i := range args {
		collides = collides || hasKeyword(kwargs, names[i])
	}
	if !collides {
		return UnpackArgs(fnname, args, kwargs, pairs...)
	}
	merged := make([]starlark.Tuple, 0, len(args)+len(kwargs))
	for i, a := range args {
		if !hasKeyword(kwargs, names[i]) {
			merged = append(merged, starlark.Tuple{starlark.String(names[i]), a})
		}
	}
	merged = append(merged, kwargs...)
	return UnpackArgs(fnname, nil, merged, pairs...)
}

func hasKeyword(kwargs []starlark.Tuple, name string) bool {
	for _, kv := range kwargs {
		if string(kv[0].(starlark.String)) == name {
			return true
		}
	}
	return false
}
