// Package template is kite's template module (spec/template.md): Go
// text/template rendering with no extra function library and no HTML
// escaping. Templates parse once into an immutable template object.
package template

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the template module (try-enabled, no aliases).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "template",
		Doc: "Go text/template rendering of Starlark data",
		Try: true,
		Build: func() starlark.StringDict {
			return starlark.StringDict{
				"text":   starlark.NewBuiltin("template.text", text),
				"bytes":  starlark.NewBuiltin("template.bytes", fromBytes),
				"file":   starlark.NewBuiltin("template.file", file),
				"render": starlark.NewBuiltin("template.render", render),
			}
		},
	}
}

// text(src, /, *, delims=None) → template.
func text(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: takes exactly 1 argument (template string)", fn.Name())
	}
	src, ok := args[0].(starlark.String)
	if !ok {
		return nil, fmt.Errorf("%s: argument must be a string, got %s", fn.Name(), args[0].Type())
	}
	return parseWith(fn, string(src), kwargs)
}

// bytes(src, /, *, delims=None) → template; src bytes or str.
func fromBytes(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: takes exactly 1 argument (template bytes)", fn.Name())
	}
	src, ok := libkite.StringOrBytes(args[0])
	if !ok {
		return nil, fmt.Errorf("%s: argument must be bytes or string, got %s", fn.Name(), args[0].Type())
	}
	return parseWith(fn, src, kwargs)
}

// file(path, /, *, delims=None) → template from the file's text.
// perm fs.read:read_file(path). Read errors are the raw OS message.
// Reading is not a side effect: a dry run reads too.
func file(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: takes exactly 1 argument (path)", fn.Name())
	}
	path, ok := args[0].(starlark.String)
	if !ok {
		return nil, fmt.Errorf("%s: argument must be a string, got %s", fn.Name(), args[0].Type())
	}
	left, right, err := delims(fn, kwargs)
	if err != nil {
		return nil, err
	}
	data, err := libkite.ReadFile(thread, string(path))
	if err != nil {
		return nil, err
	}
	return Parse(string(data), left, right)
}

// render(src, data, /) → str: legacy one-shot rendering with the default
// delimiters and missing-key mode. Errors are the raw engine messages.
func render(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("render: expected 2 arguments (template, data)")
	}
	src, ok := args[0].(starlark.String)
	if !ok {
		return nil, fmt.Errorf("render: first argument must be a string, got %s", args[0].Type())
	}
	t, err := Parse(string(src), "", "")
	if err != nil {
		return nil, err
	}
	out, err := t.Render(libkite.Context(thread), args[1], "")
	if err != nil {
		return nil, err
	}
	return starlark.String(out), nil
}

func parseWith(fn *starlark.Builtin, src string, kwargs []starlark.Tuple) (starlark.Value, error) {
	left, right, err := delims(fn, kwargs)
	if err != nil {
		return nil, err
	}
	return Parse(src, left, right)
}

// delims reads the delims keyword (other keywords are ignored): None or
// a tuple of two str; ("", "") style empties keep the defaults.
func delims(fn *starlark.Builtin, kwargs []starlark.Tuple) (left, right string, err error) {
	for _, kv := range kwargs {
		if string(kv[0].(starlark.String)) != "delims" || kv[1] == starlark.None {
			continue
		}
		t, ok := kv[1].(starlark.Tuple)
		if !ok || len(t) != 2 {
			return "", "", fmt.Errorf(`%s: delims must be a tuple of (left, right), e.g. ("<%%", "%%>")`, fn.Name())
		}
		l, lok := t[0].(starlark.String)
		r, rok := t[1].(starlark.String)
		if !lok || !rok {
			return "", "", fmt.Errorf("%s: delims must be a tuple of two strings", fn.Name())
		}
		left, right = string(l), string(r)
	}
	return left, right, nil
}
