// Package time is kite's time module (spec/time.md): time instants and
// durations with Go time semantics, parsing and formatting, arithmetic
// and comparison operators, and a cancellable sleep.
package time

import (
	"fmt"
	stdtime "time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// Layout constants exported as module members (Go layout strings).
var layouts = map[string]string{
	"RFC3339":     stdtime.RFC3339,
	"RFC3339Nano": stdtime.RFC3339Nano,
	"RFC1123":     stdtime.RFC1123,
	"RFC1123Z":    stdtime.RFC1123Z,
	"RFC822":      stdtime.RFC822,
	"RFC822Z":     stdtime.RFC822Z,
	"RFC850":      stdtime.RFC850,
	"Kitchen":     stdtime.Kitchen,
	"Stamp":       stdtime.Stamp,
	"DateTime":    stdtime.DateTime,
	"DateOnly":    stdtime.DateOnly,
	"TimeOnly":    stdtime.TimeOnly,
}

// New returns the time module. It is try-enabled: the reference has no
// time.try_* functions, kite provides them as a compatible superset.
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "time",
		Doc: "Time instants, durations, parsing, formatting and arithmetic",
		Try: true,
		Build: func() starlark.StringDict {
			m := starlark.StringDict{
				"now":      starlark.NewBuiltin("time.now", now),
				"sleep":    starlark.NewBuiltin("time.sleep", sleep),
				"parse":    starlark.NewBuiltin("time.parse", parse),
				"format":   starlark.NewBuiltin("time.format", format),
				"duration": starlark.NewBuiltin("time.duration", duration),
				"since":    starlark.NewBuiltin("time.since", since),
				"until":    starlark.NewBuiltin("time.until", until),
			}
			for k, v := range layouts {
				m[k] = starlark.String(v)
			}
			return m
		},
	}
}

// clock is the source of the current time (tests may replace it).
var clock = stdtime.Now

// now() → time in the local zone. No arguments allowed.
func now(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs("now", args, kwargs); err != nil {
		return nil, err
	}
	return MakeTime(clock()), nil
}

// sleep(duration) → None after sleeping; returns early with an error when
// the thread's context is cancelled. A duration ≤ 0 returns at once.
func sleep(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "duration", &s); err != nil {
		return nil, err
	}
	d, err := stdtime.ParseDuration(s)
	if err != nil {
		return nil, err
	}
	if d <= 0 {
		return starlark.None, nil
	}
	ctx := libkite.Context(thread)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	timer := stdtime.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return starlark.None, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", fn.Name(), ctx.Err())
	}
}

// parse(layout, value) → time. Zone-less values are UTC; an explicit
// offset is kept. Errors are Go's parse errors verbatim.
func parse(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var layout, value string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "layout", &layout, "value", &value); err != nil {
		return nil, err
	}
	t, err := stdtime.Parse(layout, value)
	if err != nil {
		return nil, err
	}
	return MakeTime(t), nil
}

// format(t, layout, ...) → str: t formatted with the Go layout verbatim
// (no presets, no strftime). Extra positionals and keywords are ignored.
func format(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("format: expected 2 arguments (time, layout), got %d", len(args))
	}
	t, ok := args[0].(Time)
	if !ok {
		return nil, fmt.Errorf("format: first argument must be a time value, got %s", args[0].Type())
	}
	layout, ok := args[1].(starlark.String)
	if !ok {
		return nil, fmt.Errorf("format: second argument must be a string, got %s", args[1].Type())
	}
	return starlark.String(t.t.Format(string(layout))), nil
}

// duration(value) → duration parsed with Go ParseDuration syntax.
func duration(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "value", &s); err != nil {
		return nil, err
	}
	d, err := stdtime.ParseDuration(s)
	if err != nil {
		return nil, err
	}
	return Duration(d), nil
}

// since(t) → now − t.
func since(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	t, err := oneTime("since", args)
	if err != nil {
		return nil, err
	}
	return Duration(clock().Sub(t.t)), nil
}

// until(t) → t − now (negative for past times).
func until(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	t, err := oneTime("until", args)
	if err != nil {
		return nil, err
	}
	return Duration(t.t.Sub(clock())), nil
}

// oneTime is the single positional time argument of since/until/sub.
func oneTime(name string, args starlark.Tuple) (Time, error) {
	if len(args) != 1 {
		return Time{}, fmt.Errorf("%s: expected 1 argument (time), got %d", name, len(args))
	}
	t, ok := args[0].(Time)
	if !ok {
		return Time{}, fmt.Errorf("%s: argument must be a time value, got %s", name, args[0].Type())
	}
	return t, nil
}
