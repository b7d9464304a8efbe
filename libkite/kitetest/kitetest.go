// Package kitetest is shared test support for kite modules: a runtime
// holding chosen modules with its print output captured, the runner for
// the Starlark conformance suites under tests/ (this file); evaluating
// snippets and tables of them (eval.go); file fixtures (files.go);
// directory snapshots (snapshot.go); and permission denials (permissions.go).
package kitetest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// Output collects what a script prints, one entry per print call.
type Output struct {
	mu    sync.Mutex
	lines []string
}

// Print is a libkite print hook.
func (o *Output) Print(_ *starlark.Thread, msg string) {
	o.mu.Lock()
	o.lines = append(o.lines, msg)
	o.mu.Unlock()
}

// Lines returns a copy of the printed lines.
func (o *Output) Lines() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.lines...)
}

// Reset forgets everything printed so far.
func (o *Output) Reset() {
	o.mu.Lock()
	o.lines = nil
	o.mu.Unlock()
}

// String joins the printed lines with newlines.
func (o *Output) String() string { return strings.Join(o.Lines(), "\n") }

// New builds a runtime from cfg (nil = zero Config) whose registry holds
// exactly modules (when any are given; else cfg.Registry is kept), whose
// print output is captured, and which ignores OS signals. It is closed
// when the test ends.
func New(t testing.TB, cfg *libkite.Config, modules ...libkite.Module) (*libkite.Runtime, *Output) {
	t.Helper()
	c := libkite.Config{}
	if cfg != nil {
		c = *cfg
	}
	if len(modules) > 0 {
		reg := libkite.NewRegistry(nil)
		for _, m := range modules {
			reg.Register(m)
		}
		c.Registry = reg
	}
	out := &Output{}
	c.Print, c.NoSignals = out.Print, true
	rt, err := libkite.New(&c)
	if err != nil {
		t.Fatalf("libkite.New: %v", err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt, out
}

// RunConformance runs the Starlark suite at path through rt.ExecuteTests
// and fails t for each test that did not pass (skips count as failures:
// a conformance suite must run whole). At least minTests must run.
func RunConformance(t testing.TB, rt *libkite.Runtime, path string, minTests int) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("conformance suite: %v", err)
	}
	results, err := rt.ExecuteTests(context.Background(), string(src))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(results) < minTests || len(results) == 0 {
		t.Fatalf("%s: ran %d tests, want at least %d", path, len(results), max(minTests, 1))
	}
	for _, r := range results {
		if !r.Passed || r.Skipped {
			t.Errorf("%s: passed=%v skipped=%v: %v", r.Name, r.Passed, r.Skipped, r.Error)
		}
	}
}

// RunSuite runs the conformance suite at path (a tests/*_test.star file,
// relative to the test's directory) twice, each time on a fresh runtime
// from newRuntime: "trusted", from here with no policy; then "allow-all
// from repo root", as `kitecmd test --permissions=allow-all tests/` does,
// from the parent of the suite's directory under an allow-all policy. At
// least minTests must run each time.
func RunSuite(t *testing.T, newRuntime func(testing.TB, *libkite.Config) *libkite.Runtime, path string, minTests int) {
	t.Helper()
	suite, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("trusted", func(t *testing.T) {
		rt := newRuntime(t, &libkite.Config{ScriptPath: suite})
		RunConformance(t, rt, suite, minTests)
	})
	t.Run("allow-all from repo root", func(t *testing.T) {
		dir := filepath.Dir(suite)
		t.Chdir(filepath.Dir(dir))
		rel := filepath.Join(filepath.Base(dir), filepath.Base(suite))
		rt := newRuntime(t, &libkite.Config{ScriptPath: rel, Permissions: libkite.AllowAllPermissions()})
		RunConformance(t, rt, rel, minTests)
	})
}
