package test_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/test"
)

var kit = kitetest.Modules{test.New}

func TestAssertions(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		// assert / test.assert
		{Expr: `assert(True)`, Want: "None"},
		{Expr: `test.assert("hello") or assert([1, 2]) or assert({"a": 1}) or assert(42) or assert(Result(ok=True, value=1))`, Want: "None"},
		{Expr: `assert(False)`, Err: "assertion failed"},
		{Expr: `assert(0, "x=%d", 1)`, Err: "assertion failed: x=1"},
		{Expr: `assert(0, "100%")`, Err: "assertion failed: 100%"},
		{Expr: `assert(0, "{} and {}".format("a", "b"))`, Err: "assertion failed: a and b"},
		{Expr: `assert(False, msg="ignored")`, Err: "assertion failed"},
		{Expr: `assert()`, Err: "assert: requires at least 1 argument (condition)"},
		{Expr: `assert(False, 3)`, Err: "assert: message must be a string"},
		{Expr: `test.assert(Result(ok=False, error="e"))`, Err: "assertion failed"},
		// assert_equal
		{Expr: `assert_equal(1, 1.0)`, Want: "None"},
		{Expr: `assert_equal([1, {"a": 2}], [1, {"a": 2}])`, Want: "None"},
		{Expr: `assert_equal("a", "b")`, Err: `assert_equal: got "a", want "b"`},
		{Expr: `test.assert_equal(1, "1")`, Err: `assert_equal: got 1, want "1"`},
		{Expr: `assert_equal(1, 2, "values for %s: %.1f", "x", 2.25)`, Err: "assert_equal: values for x: 2.2"},
		{Expr: `assert_equal(1)`, Err: "assert_equal: requires at least 2 arguments (actual, expected)"},
		{Expr: `assert_equal(1, 2, [])`, Err: "assert_equal: message must be a string"},
		// assert_not_equal
		{Expr: `assert_not_equal(1, 2)`, Want: "None"},
		{Expr: `test.assert_not_equal("a", "a")`, Err: `assert_not_equal: values are equal: "a"`},
		{Expr: `assert_not_equal(1, 1, "same")`, Err: "assert_not_equal: same"},
		{Expr: `assert_not_equal(1)`, Err: "assert_not_equal: requires at least 2 arguments (actual, unexpected)"},
		// assert_contains
		{Expr: `assert_contains("hello", "ell") or assert_contains([1, 2], 2) or assert_contains({"k": 1}, "k") or assert_contains((1, 2), 1)`, Want: "None"},
		{Expr: `assert_contains([1], 2)`, Err: "assert_contains: [1] does not contain 2"},
		{Expr: `assert_contains("abc", "z", "need %s", "z")`, Err: "assert_contains: need z"},
		{Expr: `assert_contains("abc", 1)`, Err: "assert_contains: containment check error: 'in <string>' requires string as left operand, not int"},
		{Expr: `assert_contains("abc")`, Err: "assert_contains: requires at least 2 arguments (haystack, needle)"},
		// assert_true / assert_false
		{Expr: `assert_true(True) or assert_true("x") or assert_true([0])`, Want: "None"},
		{Expr: `assert_true("")`, Err: `assert_true: got "" (falsy)`},
		{Expr: `assert_true(0, "flag")`, Err: "assert_true: flag"},
		{Expr: `assert_true()`, Err: "assert_true: requires at least 1 argument (condition)"},
		{Expr: `assert_false(False) or assert_false(0) or assert_false("") or assert_false([]) or assert_false(None)`, Want: "None"},
		{Expr: `assert_false([1])`, Err: "assert_false: got [1] (truthy)"},
		{Expr: `assert_false()`, Err: "assert_false: requires at least 1 argument (condition)"},
		// skip and fail
		{Expr: `skip("because")`, Err: "test skipped: because"},
		{Expr: `test.skip()`, Err: "test skipped"},
		{Expr: `skip(1)`, Err: "skip: for parameter reason: got int, want string"},
		{Expr: `test.fail("nope")`, Err: "test failed: nope"},
		{Expr: `test.fail()`, Err: "fail: missing argument for msg"},
		{Expr: `fail("plain")`, Err: "plain"},
		// shape
		{Expr: `dir(test)`, Want: `["assert", "assert_contains", "assert_equal", "assert_false", "assert_not_equal", "assert_true", "fail", "skip"]`},
		{Expr: `(type(test), type(assert_true), str(assert_true))`, Want: `("module", "builtin_function_or_method", "<built-in function assert_true>")`},
		{Expr: `hasattr(test, "try_assert")`, Want: "False"},
	})
}

func TestSkipIsASkipError(t *testing.T) {
	rt := kit.Runtime(t, nil)
	err := rt.Execute(context.Background(), `skip("later")`)
	var se *libkite.SkipError
	if !libkite.IsSkipError(err) || !strings.Contains(err.Error(), "test skipped: later") {
		t.Fatalf("err = %v (%T), want a *SkipError %v", err, err, se)
	}
}

func TestConformance(t *testing.T) {
	path := filepath.Join("..", "..", "..", "tests", "test_test.star")
	rt, _ := kit.New(t, &libkite.Config{ScriptPath: path})
	results, err := rt.ExecuteTests(context.Background(), kitetest.ReadFile(t, path))
	if err != nil {
		t.Fatal(err)
	}
	passed, skipped := 0, 0
	for _, r := range results {
		switch {
		case r.Skipped:
			skipped++
		case r.Passed:
			passed++
		default:
			t.Errorf("%s: %v", r.Name, r.Error)
		}
	}
	// the suite skips exactly one test on purpose (skip() is under test)
	if skipped != 1 || passed < 10 {
		t.Fatalf("passed %d, skipped %d", passed, skipped)
	}
}
