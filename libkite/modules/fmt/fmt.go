// Package fmt is kite's "fmt" module (spec: fmt.md): Go-fmt formatting of
// Starlark values. printf, println and sprintf are also global aliases.
//
// Formatting is libkite.Sprintf / libkite.GoFormatArgs (builtins.md §3),
// the runtime's one conversion. Output of printf and println goes through
// libkite.WriteText: straight to stdout when the host set no print hook,
// else line-buffered into it (kite: hosts that capture print also capture
// printf/println).
package fmt

import (
	"errors"
	stdfmt "fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the fmt module: try-enabled; printf, println and sprintf
// are also globals (the try_ forms are not).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:            "fmt",
		Doc:           "Go fmt-style formatting: printf, println, sprintf",
		Try:           true,
		Build:         members,
		GlobalAliases: libkite.AliasAllMembers,
	}
}

func members() starlark.StringDict {
	return starlark.StringDict{
		"printf":  starlark.NewBuiltin("printf", printf),
		"println": starlark.NewBuiltin("println", println),
		"sprintf": starlark.NewBuiltin("sprintf", sprintf),
	}
}

var errFormat = errors.New("format must be a string")

// Format is sprintf's result for args = (format, *values): "" with no
// args, the format verbatim (no % processing) with no values, else Go
// formatting of the converted values. A non-string format fails with
// `format must be a string`; values Go cannot format without crashing
// (cyclic containers, tuple-keyed dicts) fail too.
func Format(args starlark.Tuple) (string, error) {
	if len(args) == 0 {
		return "", nil
	}
	format, ok := args[0].(starlark.String)
	if !ok {
		return "", errFormat
	}
	return libkite.Sprintf(string(format), args[1:])
}

// sprintf(format, *args) → str. Keyword arguments are ignored.
func sprintf(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	s, err := Format(args)
	if err != nil {
		return nil, err
	}
	return starlark.String(s), nil
}

// printf(format, *args) → None; writes sprintf's text, no newline added.
func printf(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	s, err := Format(args)
	if err != nil {
		return nil, err
	}
	if s != "" {
		libkite.WriteText(thread, s)
	}
	return starlark.None, nil
}

// println(*args) → None; writes the converted values separated by single
// spaces, then a newline (Go Println).
func println(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	vals, err := libkite.GoFormatArgs(args)
	if err != nil {
		return nil, err
	}
	libkite.WriteText(thread, stdfmt.Sprintln(vals...))
	return starlark.None, nil
}
