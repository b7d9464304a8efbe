// Package test is kite's test module (spec/test.md part 1): assertions,
// skip and test.fail. Every function except fail is also a global alias,
// available in every script, not only under the test runner.
package test

import (
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the test module: a plain namespace (no try_ twins) whose
// members other than fail are global aliases (the global fail is the
// runtime's own).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "test",
		Doc: "assertions, skip and fail for test_* functions",
		Build: func() starlark.StringDict {
			return starlark.StringDict{
				"assert":           starlark.NewBuiltin("assert", assertFn),
				"assert_equal":     starlark.NewBuiltin("assert_equal", assertEqual),
				"assert_not_equal": starlark.NewBuiltin("assert_not_equal", assertNotEqual),
				"assert_contains":  starlark.NewBuiltin("assert_contains", assertContains),
				"assert_true":      starlark.NewBuiltin("assert_true", assertTrue),
				"assert_false":     starlark.NewBuiltin("assert_false", assertFalse),
				"skip":             starlark.NewBuiltin("skip", skip),
				"fail":             starlark.NewBuiltin("fail", testFail),
			}
		},
		GlobalAliases: func(m starlark.StringDict) starlark.StringDict {
			aliases := libkite.AliasAllMembers(m)
			delete(aliases, "fail")
			return aliases
		},
	}
}

// message formats the optional (msg, *args) tail of an assertion: ok is
// false when no message was given. With extra args msg is a Go format
// string (arguments converted as for sprintf); without, it is literal.
func message(name string, tail starlark.Tuple) (msg string, ok bool, err error) {
	if len(tail) == 0 || tail[0] == starlark.None {
		return "", false, nil
	}
	s, isStr := tail[0].(starlark.String)
	if !isStr {
		return "", false, fmt.Errorf("%s: message must be a string", name)
	}
	if len(tail) == 1 {
		return string(s), true, nil
	}
	text, err := libkite.Sprintf(string(s), tail[1:])
	return text, true, err
}

// failure builds an assertion's error: "<name>: <msg>" when a message was
// given, else "<name>: <detail>".
func failure(name string, tail starlark.Tuple, detail string) error {
	msg, ok, err := message(name, tail)
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("%s: %s", name, msg)
	}
	return fmt.Errorf("%s: %s", name, detail)
}

// assert(cond, msg=None, *args). Keywords are ignored.
func assertFn(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("assert: requires at least 1 argument (condition)")
	}
	if args[0].Truth() {
		return starlark.None, nil
	}
	msg, ok, err := message(fn.Name(), args[1:])
	switch {
	case err != nil:
		return nil, err
	case ok:
		return nil, fmt.Errorf("assertion failed: %s", msg)
	}
	return nil, fmt.Errorf("assertion failed")
}

func assertEqual(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("assert_equal: requires at least 2 arguments (actual, expected)")
	}
	eq, err := starlark.Equal(args[0], args[1])
	if err != nil {
		return nil, fmt.Errorf("assert_equal: comparison error: %v", err)
	}
	if eq {
		return starlark.None, nil
	}
	return nil, failure(fn.Name(), args[2:], fmt.Sprintf("got %s, want %s", args[0].String(), args[1].String()))
}

func assertNotEqual(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("assert_not_equal: requires at least 2 arguments (actual, unexpected)")
	}
	eq, err := starlark.Equal(args[0], args[1])
	if err != nil {
		return nil, fmt.Errorf("assert_not_equal: comparison error: %v", err)
	}
	if !eq {
		return starlark.None, nil
	}
	return nil, failure(fn.Name(), args[2:], "values are equal: "+args[0].String())
}

func assertContains(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("assert_contains: requires at least 2 arguments (haystack, needle)")
	}
	in, err := starlark.Binary(syntax.IN, args[1], args[0])
	if err != nil {
		return nil, fmt.Errorf("assert_contains: containment check error: %v", err)
	}
	if in.Truth() {
		return starlark.None, nil
	}
	return nil, failure(fn.Name(), args[2:], fmt.Sprintf("%s does not contain %s", args[0].String(), args[1].String()))
}

func assertTrue(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("assert_true: requires at least 1 argument (condition)")
	}
	if args[0].Truth() {
		return starlark.None, nil
	}
	return nil, failure(fn.Name(), args[1:], fmt.Sprintf("got %s (falsy)", args[0].String()))
}

func assertFalse(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	if len(args) < 1 {
		return nil, fmt.Errorf("assert_false: requires at least 1 argument (condition)")
	}
	if !args[0].Truth() {
		return starlark.None, nil
	}
	return nil, failure(fn.Name(), args[1:], fmt.Sprintf("got %s (truthy)", args[0].String()))
}

// skip(reason="") stops the current test and marks it skipped.
func skip(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	reason := ""
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "reason?", &reason); err != nil {
		return nil, err
	}
	return nil, &libkite.SkipError{Reason: reason}
}

// test.fail(msg) fails the current test with "test failed: <msg>".
func testFail(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var msg string
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "msg", &msg); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("test failed: %s", msg)
}
