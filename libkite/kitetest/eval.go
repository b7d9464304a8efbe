package kitetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// Eval runs pre (statements) on rt, then `out = expr`. got is the text of
// a str result and the repr of anything else; on failure got is "",
// errMsg is the message a script sees (the *starlark.EvalError's Msg, else
// err.Error()) and err the raw error.
func Eval(rt *libkite.Runtime, pre, expr string) (got, errMsg string, err error) {
	err = rt.Execute(context.Background(), pre+"\nout = "+expr+"\n")
	if err != nil {
		return "", ErrMsg(err), err
	}
	v, _ := rt.GetGlobalVal("out")
	if s, ok := v.(starlark.String); ok {
		return string(s), "", nil
	}
	return v.String(), "", nil
}

// ErrMsg is the message a script sees for err: a *starlark.EvalError's
// Msg (without the backtrace), else err.Error(); "" for nil.
func ErrMsg(err error) string {
	var ee *starlark.EvalError
	switch {
	case errors.As(err, &ee):
		return ee.Msg
	case err != nil:
		return err.Error()
	}
	return ""
}

// Case is one row of an Eval table: Pre runs, then Expr is evaluated.
// Want is the exact result (as Eval renders it) and Err the exact error
// message ("" = must succeed). With ErrContains set the call must fail
// with a message containing Err (which must not be empty) and the result
// is not looked at. Name defaults to Expr.
type Case struct {
	Name, Pre, Expr string
	Want, Err       string
	ErrContains     bool
}

// Check fails t unless got and errMsg (as Eval returns them) are what c
// wants.
func (c Case) Check(t testing.TB, got, errMsg string) {
	t.Helper()
	if c.ErrContains {
		if c.Err == "" || !strings.Contains(errMsg, c.Err) {
			t.Fatalf("error = %q\nwant it to contain %q", errMsg, c.Err)
		}
		return
	}
	if errMsg != c.Err {
		t.Fatalf("error = %q\nwant    %q", errMsg, c.Err)
	}
	if got != c.Want {
		t.Fatalf("=\n%s\nwant\n%s", got, c.Want)
	}
}

// TestName is the case's subtest name: Name, else Expr.
func (c Case) TestName() string {
	if c.Name != "" {
		return c.Name
	}
	return c.Expr
}

// RunCases runs each case as a subtest on a fresh runtime from newRuntime
// and checks it (see Case).
func RunCases(t *testing.T, newRuntime func(testing.TB) *libkite.Runtime, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.TestName(), func(t *testing.T) {
			got, msg, _ := Eval(newRuntime(t), c.Pre, c.Expr)
			c.Check(t, got, msg)
		})
	}
}

// EvalConcurrently evaluates n scripts at once, each in its own goroutine
// on its own fresh runtime from newRuntime: script(i) gives the i-th's pre
// and expr, which must evaluate to True.
func EvalConcurrently(t *testing.T, n int, newRuntime func(testing.TB) *libkite.Runtime, script func(i int) (pre, expr string)) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pre, expr := script(i)
			got, msg, _ := Eval(newRuntime(t), pre, expr)
			if msg != "" || got != "True" {
				t.Errorf("goroutine %d: %s (%s)", i, got, msg)
			}
		}()
	}
	wg.Wait()
}

// Lit renders s as a Starlark string literal.
func Lit(s string) string { return starlark.String(s).String() }

// Modules are the constructors of the modules a test package's runtimes
// hold; every runtime gets fresh instances. A package declares its set
// once (var kit = kitetest.Modules{base64.New, kiteos.New}) and runs its
// scripts through the methods.
type Modules []func() libkite.Module

// New is New(t, cfg, fresh instances of m...).
func (m Modules) New(t testing.TB, cfg *libkite.Config) (*libkite.Runtime, *Output) {
	t.Helper()
	mods := make([]libkite.Module, len(m))
	for i, newModule := range m {
		mods[i] = newModule()
	}
	return New(t, cfg, mods...)
}

// Runtime is New without the captured output.
func (m Modules) Runtime(t testing.TB, cfg *libkite.Config) *libkite.Runtime {
	t.Helper()
	rt, _ := m.New(t, cfg)
	return rt
}

// Eval is Eval on a fresh runtime under cfg.
func (m Modules) Eval(t testing.TB, cfg *libkite.Config, pre, expr string) (got, errMsg string, err error) {
	t.Helper()
	return Eval(m.Runtime(t, cfg), pre, expr)
}

// With is the maker of fresh runtimes under cfg that RunCases and
// EvalConcurrently take.
func (m Modules) With(cfg *libkite.Config) func(testing.TB) *libkite.Runtime {
	return func(t testing.TB) *libkite.Runtime { return m.Runtime(t, cfg) }
}

// RunCases is RunCases with fresh runtimes under cfg.
func (m Modules) RunCases(t *testing.T, cfg *libkite.Config, cases []Case) {
	t.Helper()
	RunCases(t, m.With(cfg), cases)
}

// Run executes src on a fresh runtime under cfg and returns what it
// printed (lines joined with "\n") and the error it raised.
func (m Modules) Run(t testing.TB, cfg *libkite.Config, src string) (string, error) {
	t.Helper()
	rt, out := m.New(t, cfg)
	err := rt.Execute(context.Background(), src)
	return out.String(), err
}

// CheckOutput fails t unless a script's printed output and error are what
// a script-table row wants: with wantErr set, an error whose message
// contains it; otherwise no error and exactly want.
func CheckOutput(t testing.TB, got string, err error, want, wantErr string) {
	t.Helper()
	if wantErr != "" {
		if err == nil {
			t.Fatalf("want error containing %q, got success with output %q", wantErr, got)
		}
		if msg := ErrMsg(err); !strings.Contains(msg, wantErr) {
			t.Fatalf("error = %q\nwant it to contain %q", msg, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v\noutput: %s", err, got)
	}
	if got != want {
		t.Fatalf("output = %q\nwant     %q", got, want)
	}
}
