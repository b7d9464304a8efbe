// Package concur is kite's concur module (spec/concur.md): run Starlark
// callables in parallel — concur.map, concur.each and concur.exec, each
// with a try_ twin. Every call of a user function runs on a worker thread
// of the runtime (its permission checker, dry-run flag, print routing and
// cancellation apply there); results come back in input order.
package concur

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the concur module (try-enabled, no aliases).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "concur",
		Doc: "Run Starlark callables in parallel (map, each, exec)",
		Try: true,
		Build: func() starlark.StringDict {
			return starlark.StringDict{
				"map":  starlark.NewBuiltin("concur.map", mapBuiltin),
				"each": starlark.NewBuiltin("concur.each", eachBuiltin),
				"exec": starlark.NewBuiltin("concur.exec", execBuiltin),
			}
		},
	}
}

const (
	onErrorAbort    = "abort"
	onErrorContinue = "continue"
)

// errTimeout is the failure of an item the start deadline passed before.
var errTimeout = errors.New("timeout exceeded")

// options are the validated keyword settings of one call.
type options struct {
	workers int           // 0 = one concurrent call per item
	timeout time.Duration // 0 = no start deadline
	perItem bool          // on_error="continue": per-item Results, never raise for items
}

// mapBuiltin: concur.map(items, func, *, workers=0, timeout="", on_error="abort").
func mapBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return mapOrEach(thread, fn.Name(), true, args, kwargs)
}

// eachBuiltin: concur.each(items, func, *, workers=0, timeout="", on_error="abort").
func eachBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return mapOrEach(thread, fn.Name(), false, args, kwargs)
}

func mapOrEach(thread *starlark.Thread, name string, isMap bool, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var itemsV, fnV, workersV, timeoutV, onErrorV starlark.Value
	if err := libkite.UnpackArgs(name, args, kwargs,
		"items", &itemsV, "func", &fnV, "*", nil,
		"workers?", &workersV, "timeout?", &timeoutV, "on_error?", &onErrorV); err != nil {
		return nil, err
	}
	// conversions (binding), in parameter order
	fn, ok := fnV.(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("%s: %s: value is not callable: got %s", name, argLabel(args, 1, "func"), fnV.Type())
	}
	workers, err := intArg(name, "workers", workersV)
	if err != nil {
		return nil, err
	}
	timeout, err := stringArg(name, "timeout", timeoutV)
	if err != nil {
		return nil, err
	}
	onError, err := stringArg(name, "on_error", onErrorV)
	if err != nil {
		return nil, err
	}
	// validation, in the spec's order
	var opts options
	if opts.perItem, err = parseOnError(name, onError); err != nil {
		return nil, err
	}
	if workers < 0 {
		return nil, fmt.Errorf("%s: workers must be non-negative, got %d", name, workers)
	}
	opts.workers = workers
	items, err := collect(name, itemsV)
	if err != nil {
		return nil, err
	}
	if opts.timeout, err = parseTimeout(name, timeout); err != nil {
		return nil, err
	}

	res, err := run(thread, name, "item", len(items), opts, func(i int) (starlark.Callable, starlark.Tuple) {
		return fn, starlark.Tuple{items[i]}
	})
	if err != nil {
		return nil, err
	}
	switch {
	case opts.perItem:
		return starlark.NewList(res.results(isMap)), nil
	case isMap:
		return starlark.NewList(res.vals), nil
	default:
		return starlark.None, nil
	}
}

// execBuiltin: concur.exec(*fns, timeout="", on_error="abort") → tuple.
func execBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	name := b.Name()
	var timeout, onError string
	for _, kv := range kwargs {
		k := string(kv[0].(starlark.String))
		var dst *string
		switch k {
		case "timeout":
			dst = &timeout
		case "on_error":
			dst = &onError
		default:
			return nil, fmt.Errorf("%s: unexpected keyword argument %q", name, k)
		}
		s, ok := kv[1].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: keyword arg '%s': got %s, want string", name, k, kv[1].Type())
		}
		*dst = string(s)
	}
	var opts options
	var err error
	if opts.perItem, err = parseOnError(name, onError); err != nil {
		return nil, err
	}
	fns := make([]starlark.Callable, len(args))
	for i, a := range args {
		c, ok := a.(starlark.Callable)
		if !ok {
			return nil, fmt.Errorf("%s: argument %d is not callable, got %s", name, i, a.Type())
		}
		fns[i] = c
	}
	if opts.timeout, err = parseTimeout(name, timeout); err != nil {
		return nil, err
	}
	res, err := run(thread, name, "function", len(fns), opts, func(i int) (starlark.Callable, starlark.Tuple) {
		return fns[i], nil
	})
	if err != nil {
		return nil, err
	}
	if opts.perItem {
		return starlark.Tuple(res.results(true)), nil
	}
	return starlark.Tuple(res.vals), nil
}

// argLabel names parameter name (at position index) the way conversion
// errors do: `positional arg N` when it was passed positionally, else
// `keyword arg 'NAME'`.
func argLabel(args starlark.Tuple, index int, name string) string {
	if index < len(args) {
		return fmt.Sprintf("positional arg %d", index)
	}
	return fmt.Sprintf("keyword arg '%s'", name)
}

// intArg converts an optional keyword-only int (nil = absent = 0). bool
// and None are refused.
func intArg(fnname, param string, v starlark.Value) (int, error) {
	if v == nil {
		return 0, nil
	}
	i, ok := v.(starlark.Int)
	if !ok {
		return 0, fmt.Errorf("%s: keyword arg '%s': got %s, want int", fnname, param, v.Type())
	}
	n, ok := i.Int64()
	if !ok || n > math.MaxInt32 || n < math.MinInt32 {
		return 0, fmt.Errorf("%s: keyword arg '%s': value out of range: %s", fnname, param, i)
	}
	return int(n), nil
}

// stringArg converts an optional keyword-only str (nil = absent = "").
func stringArg(fnname, param string, v starlark.Value) (string, error) {
	if v == nil {
		return "", nil
	}
	s, ok := v.(starlark.String)
	if !ok {
		return "", fmt.Errorf("%s: keyword arg '%s': got %s, want string", fnname, param, v.Type())
	}
	return string(s), nil
}

// parseOnError reports whether on_error asks for per-item Results.
func parseOnError(fnname, s string) (bool, error) {
	switch s {
	case "", onErrorAbort:
		return false, nil
	case onErrorContinue:
		return true, nil
	}
	return false, fmt.Errorf("%s: on_error must be \"abort\" or \"continue\", got %q", fnname, s)
}

// parseTimeout parses the start deadline ("" = none).
func parseTimeout(fnname, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: invalid timeout: %w", fnname, err)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s: timeout must be positive, got %s", fnname, d)
	}
	return d, nil
}

// collect lists the items of an iterable. Strings (and bytes) are not
// iterable; a dict yields its keys.
func collect(fnname string, v starlark.Value) ([]starlark.Value, error) {
	iterable, ok := v.(starlark.Iterable)
	if !ok {
		return nil, fmt.Errorf("%s: expected iterable, got %s", fnname, v.Type())
	}
	var items []starlark.Value
	if n := starlark.Len(v); n > 0 {
		items = make([]starlark.Value, 0, n)
	}
	it := iterable.Iterate()
	defer it.Done()
	var x starlark.Value
	for it.Next(&x) {
		items = append(items, x)
	}
	return items, nil
}

// outcome is what the calls of one concur call produced, by index.
type outcome struct {
	vals []starlark.Value // None where the call failed
	errs []error
}

// results renders the outcome as Result objects (on_error="continue");
// withValues false gives successes value None (each).
func (o *outcome) results(withValues bool) []starlark.Value {
	out := make([]starlark.Value, len(o.vals))
	for i, err := range o.errs {
		switch {
		case err != nil:
			out[i] = libkite.ResultErr(err.Error())
		case withValues:
			out[i] = libkite.ResultOK(o.vals[i])
		default:
			out[i] = libkite.ResultOK(starlark.None)
		}
	}
	return out
}

// run calls job(i) for i in [0, n) on worker threads, at most
// opts.workers at a time (0 = all at once), and waits for every started
// call. Items not started when the start deadline passes fail with
// "timeout exceeded"; when the caller's context ends, unstarted items are
// skipped, running ones are cancelled at their next step, and run returns
// the context's error once they all stopped. An exit() inside a call is
// returned as is; otherwise, in abort mode, the lowest-index failure
// becomes `<name>: <label> I: <message>`.
func run(thread *starlark.Thread, name, label string, n int, opts options, job func(i int) (starlark.Callable, starlark.Tuple)) (*outcome, error) {
	ctx := libkite.Context(thread)
	out := &outcome{vals: make([]starlark.Value, n), errs: make([]error, n)}
	if n > 0 {
		var deadline time.Time
		if opts.timeout > 0 {
			deadline = time.Now().Add(opts.timeout)
		}
		pool := newPool(thread, ctx)
		size := n
		if opts.workers > 0 && opts.workers < n {
			size = opts.workers
		}
		if limit := libkite.MaxThreads(thread); limit > 0 && limit < size {
			size = limit // the run's Limits.MaxGoroutines
		}
		pool.run(size, n, func(i int) {
			switch {
			case ctx.Err() != nil:
				out.errs[i] = ctx.Err()
			case !deadline.IsZero() && !time.Now().Before(deadline):
				out.errs[i] = errTimeout
			default:
				fn, args := job(i)
				out.vals[i], out.errs[i] = pool.call(fn, args)
			}
			if out.errs[i] != nil || out.vals[i] == nil {
				out.vals[i] = starlark.None
			}
		})
	}
	for _, err := range out.errs {
		if err != nil && libkite.IsExit(err) {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, context.Cause(ctx))
	}
	if !opts.perItem {
		for i, err := range out.errs {
			if err != nil {
				return nil, fmt.Errorf("%s: %s %d: %w", name, label, i, err)
			}
		}
	}
	return out, nil
}
