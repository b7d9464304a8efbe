package libkite

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.starlark.net/starlark"
)

// TestResult is the outcome of one test_* function. A skipped test has
// Passed and Skipped set and Error holding the *SkipError.
type TestResult struct {
	Name     string
	Passed   bool
	Skipped  bool
	Duration time.Duration
	Error    error
}

// TestConfig selects and reports tests. Filter keeps tests whose name
// contains it; Verbose is advisory for the caller's printing.
type TestConfig struct {
	Filter  string
	Verbose bool
	// Report, if set, is called with each result as soon as its test
	// (with setup and teardown) has finished, so output can stream.
	Report func(TestResult)
}

// ExecuteTests runs src's top level, then every test_* function.
func (rt *Runtime) ExecuteTests(ctx context.Context, src string) ([]TestResult, error) {
	return rt.ExecuteTestsWithConfig(ctx, src, TestConfig{})
}

// ExecuteTestsWithConfig runs src's top level, then each global callable
// named test_<x> (sorted, filtered by cfg.Filter) on its own thread, with
// setup() before and teardown() after each. A top-level exit(0) runs no
// tests and returns (nil, nil); a top-level exit(n) returns *ExitError.
// exit(n) inside a test fails that test with an error wrapping *ExitError.
//
// The whole file is one run: Config.Limits cap the top level, every test
// and every hook together.
func (rt *Runtime) ExecuteTestsWithConfig(ctx context.Context, src string, cfg TestConfig) ([]TestResult, error) {
	if rt.closed.Load() {
		return nil, errClosed
	}
	ctx, r := rt.beginRun(ctx)
	results, err := rt.executeTests(ctx, src, cfg)
	return results, rt.endRun(r, err)
}

func (rt *Runtime) executeTests(ctx context.Context, src string, cfg TestConfig) ([]TestResult, error) {
	thread := rt.thread
	b := bind(ctx, thread)
	globals, err := func() (g starlark.StringDict, err error) {
		defer recoverPanic(&err, rt.cfg.Debug)
		env := rt.env()
		_, prog, err := starlark.SourceProgramOptions(fileOptions, rt.filename("<test>"), src, env.Has)
		if err != nil {
			return nil, err
		}
		g, err = prog.Init(thread, env)
		// frozen like any module's globals (test.md 2.1): tests, hooks and
		// concur workers share them, so none may mutate them
		g.Freeze()
		rt.retain(g)
		return g, err
	}()
	rt.flushPrintf(thread)
	if err != nil {
		b.release()
		rt.runDefers(ctx)
		return nil, mapError(ctx, err)
	}
	var names []string
	for name, v := range globals {
		if _, ok := v.(starlark.Callable); ok && len(name) > len("test_") && strings.HasPrefix(name, "test_") &&
			strings.Contains(name, cfg.Filter) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	setup, _ := globals["setup"].(starlark.Callable)
	teardown, _ := globals["teardown"].(starlark.Callable)

	results := make([]TestResult, 0, len(names))
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			// tests due after the deadline fail at once, so every
			// selected test has a result
			res := TestResult{Name: name, Error: fmt.Errorf("test not started: %w", err)}
			results = append(results, res)
			if cfg.Report != nil {
				cfg.Report(res)
			}
			continue
		}
		res := rt.runTest(ctx, thread, name, globals[name].(starlark.Callable), setup, teardown)
		results = append(results, res)
		if cfg.Report != nil {
			cfg.Report(res)
		}
	}
	b.release()
	rt.runDefers(ctx)
	if err := ctx.Err(); err != nil {
		return results, err
	}
	return results, nil
}

func (rt *Runtime) runTest(ctx context.Context, main *starlark.Thread, name string, fn, setup, teardown starlark.Callable) TestResult {
	start := time.Now()
	res := TestResult{Name: name}
	if setup != nil {
		if _, err := rt.callOn(main, setup); err != nil {
			res.Error = fmt.Errorf("setup failed: %w", testCause(err))
			res.Duration = time.Since(start)
			return res
		}
	}
	thread := rt.NewThread("test:" + name)
	tb := bind(ctx, thread)
	_, err := rt.callOn(thread, fn)
	tb.release()
	rt.flushPrintf(thread)
	var teardownErr error
	if teardown != nil {
		_, teardownErr = rt.callOn(main, teardown) // always runs; counts only after a pass
	}
	res.Duration = time.Since(start)
	code, exited := exitCode(err)
	switch {
	case err == nil:
		res.Passed = true
	case exited:
		// the text test.md specifies; ExitError (empty message) carries the code
		res.Error = fmt.Errorf("test called exit(%d): %w", code, &ExitError{Code: code})
	case isSkip(err):
		res.Passed, res.Skipped = true, true
		var se *SkipError
		if !errors.As(err, &se) {
			se = &SkipError{Reason: skipReason(err)}
		}
		res.Error = se
	default:
		res.Error = testCause(err)
	}
	if res.Passed && !res.Skipped && teardownErr != nil {
		res.Passed = false
		res.Error = fmt.Errorf("teardown failed: %w", testCause(teardownErr))
	}
	return res
}

func (rt *Runtime) callOn(thread *starlark.Thread, fn starlark.Callable) (v starlark.Value, err error) {
	defer recoverPanic(&err, rt.cfg.Debug)
	return starlark.Call(thread, fn, nil, nil)
}

// testCause keeps the Starlark error (message plus backtrace via errors.As).
func testCause(err error) error { return err }

func isSkip(err error) bool {
	return IsSkipError(err) || strings.Contains(err.Error(), "test skipped")
}

func skipReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "test skipped: "); i >= 0 {
		return msg[i+len("test skipped: "):]
	}
	return ""
}
