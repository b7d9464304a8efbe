// Package retry is kite's retry module (spec/retry.md): re-invoke a
// zero-argument callable until it reports success, with a fixed delay
// (retry.do) or an exponential backoff (retry.with_backoff), optional
// jitter, a retry_on predicate, an on_retry hook and an overall timeout.
// Attempt failures never raise; the outcome is a RetryResult.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the retry module (plain: no try_ twins, no aliases).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "retry",
		Doc: "Retry a callable with fixed delay or exponential backoff",
		Build: func() starlark.StringDict {
			return starlark.StringDict{
				"do":           starlark.NewBuiltin("retry.do", doBuiltin),
				"with_backoff": starlark.NewBuiltin("retry.with_backoff", withBackoffBuiltin),
			}
		},
	}
}

// Policy is one retry configuration: what Do runs and how it waits.
type Policy struct {
	MaxAttempts int
	Delay       time.Duration // first wait
	MaxDelay    time.Duration // cap of the doubled wait (Backoff only)
	Backoff     bool          // double the wait after every wait
	Jitter      bool          // multiply each wait by a factor in [0.75, 1.25)
	Timeout     time.Duration // 0 = none; checked before each attempt, cuts waits short
	Func        starlark.Callable
	RetryOn     starlark.Callable // nil = none
	OnRetry     starlark.Callable // nil = none
}

// doBuiltin: retry.do(func, *, max_attempts=3, delay="1s", retry_on=None,
// on_retry=None, timeout="", jitter=False).
func doBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	p := Policy{MaxAttempts: 3}
	delay, timeout := "1s", ""
	var fnV, retryOn, onRetry starlark.Value
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "func", &fnV, "*", nil,
		"max_attempts?", &p.MaxAttempts, "delay?", &delay, "retry_on?", &retryOn, "on_retry?", &onRetry,
		"timeout?", &timeout, "jitter?", &p.Jitter); err != nil {
		return nil, bindingError(err)
	}
	if err := p.setup(fnV, retryOn, onRetry, delay, "", timeout); err != nil {
		return nil, err
	}
	return p.Do(thread)
}

// withBackoffBuiltin: retry.with_backoff(func, *, max_attempts=5,
// delay="500ms", max_delay="30s", retry_on=None, on_retry=None,
// timeout="", jitter=True).
func withBackoffBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	p := Policy{MaxAttempts: 5, Backoff: true, Jitter: true}
	delay, maxDelay, timeout := "500ms", "30s", ""
	var fnV, retryOn, onRetry starlark.Value
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "func", &fnV, "*", nil,
		"max_attempts?", &p.MaxAttempts, "delay?", &delay, "max_delay?", &maxDelay,
		"retry_on?", &retryOn, "on_retry?", &onRetry, "timeout?", &timeout, "jitter?", &p.Jitter); err != nil {
		return nil, bindingError(err)
	}
	if err := p.setup(fnV, retryOn, onRetry, delay, maxDelay, timeout); err != nil {
		return nil, err
	}
	return p.Do(thread)
}

// bindingError rewords starlark.UnpackArgs' conversion errors into the
// struct-binding form the spec names: `retry.do: for parameter
// max_attempts: got string, want int` → `retry.do: keyword arg
// 'max_attempts': got string, want int` (every converted parameter but
// func is keyword-only, and func is converted later).
func bindingError(err error) error {
	head, rest, found := strings.Cut(err.Error(), ": for parameter ")
	if !found {
		return err
	}
	param, tail, found := strings.Cut(rest, ":")
	if !found {
		return err
	}
	return errors.New(head + ": keyword arg '" + strings.Trim(param, `"`) + "':" + tail)
}

// setup converts the callables and durations, in the spec's order.
func (p *Policy) setup(fn, retryOn, onRetry starlark.Value, delay, maxDelay, timeout string) error {
	var err error
	if p.Func, err = callable("func", fn, false); err != nil {
		return err
	}
	if p.RetryOn, err = callable("retry_on", retryOn, true); err != nil {
		return err
	}
	if p.OnRetry, err = callable("on_retry", onRetry, true); err != nil {
		return err
	}
	if p.Delay, err = time.ParseDuration(delay); err != nil {
		return fmt.Errorf("invalid delay: %w", err)
	}
	if p.Backoff {
		if p.MaxDelay, err = time.ParseDuration(maxDelay); err != nil {
			return fmt.Errorf("invalid max_delay: %w", err)
		}
	}
	if timeout != "" {
		if p.Timeout, err = time.ParseDuration(timeout); err != nil {
			return fmt.Errorf("invalid timeout: %w", err)
		}
		if p.Timeout <= 0 {
			p.Timeout = -1 // already expired: no attempt is made
		}
	}
	return nil
}

func callable(param string, v starlark.Value, noneOK bool) (starlark.Callable, error) {
	if v == nil || (noneOK && v == starlark.None) {
		return nil, nil
	}
	c, ok := v.(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("%s: expected callable, got %s", param, v.Type())
	}
	return c, nil
}

// Do runs the attempt loop (spec "Attempt algorithm") on thread. It
// returns an error only when the thread's context ends (during a wait or
// an attempt) or a callee asked to exit(); attempt failures are reported
// in the RetryResult.
func (p *Policy) Do(thread *starlark.Thread) (starlark.Value, error) {
	ctx := libkite.Context(thread)
	start := time.Now()
	var deadline time.Time
	if p.Timeout != 0 {
		deadline = start.Add(p.Timeout)
	}
	errs := []string{}
	d := p.Delay
	finish := func(r *RetryResult) *RetryResult {
		r.Elapsed = time.Since(start)
		return r
	}
	for attempt := 1; attempt <= p.MaxAttempts; attempt++ {
		if !deadline.IsZero() && !time.Now().Before(deadline) {
			timeoutErrs := errs
			if len(timeoutErrs) == 0 {
				timeoutErrs = []string{"timeout exceeded"}
			}
			return finish(&RetryResult{Error: "timeout exceeded", Attempts: attempt - 1, Errors: timeoutErrs}), nil
		}
		ret, err := starlark.Call(thread, p.Func, nil, nil)
		if err := stopping(ctx, err); err != nil {
			return nil, err
		}
		var msg string
		var value starlark.Value
		ok := false
		switch r := ret.(type) {
		case nil:
			msg = err.Error()
		case *libkite.Result:
			ok, value, msg = r.OK(), r.Value(), r.ErrorString()
		case *RetryResult:
			ok, value, msg = r.OK, r.valueOrNone(), r.Error
		case starlark.NoneType:
			ok, value = true, r
		case starlark.Bool:
			if r {
				ok, value = true, r
			} else {
				msg = "returned False"
			}
		default:
			// any other value is an immediate success (reference quirk:
			// attempts=1 and no errors, whatever happened before)
			return finish(&RetryResult{OK: true, Value: ret, Attempts: 1, Errors: []string{}}), nil
		}
		if ok {
			retry, err := p.retryOn(thread, ret)
			if err != nil {
				return nil, err
			}
			if !retry {
				return finish(&RetryResult{OK: true, Value: value, Attempts: attempt, Errors: errs}), nil
			}
			msg = "retry_on predicate triggered"
		}
		errs = append(errs, msg)
		if attempt >= p.MaxAttempts {
			break
		}
		if p.OnRetry != nil {
			_, err := starlark.Call(thread, p.OnRetry, starlark.Tuple{starlark.MakeInt(attempt), starlark.String(msg)}, nil)
			if err := stopping(ctx, err); err != nil {
				return nil, err
			}
		}
		if err := p.wait(ctx, d, deadline); err != nil {
			return nil, err
		}
		if p.Backoff {
			d = nextDelay(d, p.MaxDelay)
		}
	}
	last := "all attempts failed"
	if len(errs) > 0 {
		last = errs[len(errs)-1]
	}
	return finish(&RetryResult{Error: last, Attempts: p.MaxAttempts, Errors: errs}), nil
}

// retryOn asks the predicate whether a successful return must be retried:
// only an exact True does; a predicate error means "do not retry".
func (p *Policy) retryOn(thread *starlark.Thread, ret starlark.Value) (bool, error) {
	if p.RetryOn == nil {
		return false, nil
	}
	v, err := starlark.Call(thread, p.RetryOn, starlark.Tuple{ret}, nil)
	if err := stopping(libkite.Context(thread), err); err != nil {
		return false, err
	}
	return err == nil && v == starlark.True, nil
}

// wait sleeps d (jittered), waking early at the deadline and returning the
// context's error at once when it ends.
func (p *Policy) wait(ctx context.Context, d time.Duration, deadline time.Time) error {
	if p.Jitter {
		d = jitter(d)
	}
	if !deadline.IsZero() {
		d = min(d, time.Until(deadline))
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("retry: %w", context.Cause(ctx))
	}
	return sleep(ctx, d)
}

// jitter multiplies d by a uniform random factor in [0.75, 1.25).
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.75 + rand.Float64()*0.5))
}

// nextDelay is the backoff step: double, capped at max (overflow → max).
func nextDelay(d, max time.Duration) time.Duration {
	if d > max/2 {
		return max
	}
	return min(d*2, max)
}

// sleep waits d or until ctx ends (then it returns the context's error).
// A variable so tests can record the waits instead of sleeping.
var sleep = func(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("retry: %w", context.Cause(ctx))
	}
}

// stopping returns the error that must end the whole retry call rather
// than count as a failed attempt: a callee failed because the caller's
// context ended, or called exit(). nil otherwise.
func stopping(ctx context.Context, err error) error {
	if err != nil && (ctx.Err() != nil || libkite.IsExit(err)) {
		return err
	}
	return nil
}
