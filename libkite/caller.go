package libkite

import (
	"context"
	"fmt"

	"go.starlark.net/starlark"
)

// Caller runs Starlark callables on fresh threads derived from a parent
// thread: concur workers, HTTP handlers, SSH test-server exec handlers and
// any other context a module creates that must run script code.
//
// A call goes through (*Runtime).CallFn with a small builtin that calls the
// user function on the thread CallFn provides: that thread is the runtime's
// (print hook, load resolver, dry-run flag), it is bound to the Caller's
// context exactly as the runtime binds its own threads (cancellation at the
// next step, Context(thread) for blocking builtins), panics are recovered
// and a trailing printf fragment is flushed. The parent's permission
// checker is installed for the duration of the call, so spawned code never
// gets more than the code that spawned it. Without a runtime (a bare
// thread), a detached thread copies the parent's print and load hooks and
// checker and is cancelled with the context.
//
// A Caller is safe for concurrent use.
type Caller struct {
	name    string
	parent  *starlark.Thread
	ctx     context.Context
	rt      *Runtime
	checker *PermissionChecker
}

// NewCaller captures parent's runtime and permissions; ctx bounds every
// call (use Context(parent) to follow the parent's cancellation). name
// labels the spawned threads and the builtin frame.
func NewCaller(name string, parent *starlark.Thread, ctx context.Context) *Caller {
	return &Caller{name: name, parent: parent, ctx: ctx, rt: GetRuntime(parent), checker: GetPermissions(parent)}
}

// Context is the context bounding the Caller's calls.
func (c *Caller) Context() context.Context { return c.ctx }

// Call runs fn(*args, **kwargs) on a fresh thread and returns its result or
// the error the callee raised (its message is the callee's error text).
func (c *Caller) Call(fn starlark.Callable, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if c.rt == nil {
		return c.callDetached(fn, args, kwargs)
	}
	if c.rt.cfg.Limits.MaxGoroutines > 0 {
		// wait for one of the run's script-thread slots
		release, ok := runOf(c.ctx).acquireThread(c.ctx)
		if !ok {
			return nil, context.Cause(c.ctx)
		}
		defer release()
	}
	var (
		val     starlark.Value
		callErr error
		ran     bool
	)
	step := starlark.NewBuiltin(c.name, func(t *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		ran = true
		if prev := GetPermissions(t); prev != c.checker {
			SetPermissions(t, c.checker)
			defer SetPermissions(t, prev)
		}
		val, callErr = starlark.Call(t, fn, args, kwargs)
		return starlark.None, callErr
	})
	_, err := c.rt.CallFn(c.ctx, step, nil, nil)
	if ran && (val != nil || callErr != nil) {
		return val, callErr
	}
	// not started (runtime closed, context done) or a recovered panic
	return nil, err
}

func (c *Caller) callDetached(fn starlark.Callable, args starlark.Tuple, kwargs []starlark.Tuple) (v starlark.Value, err error) {
	t := &starlark.Thread{Name: c.name}
	if c.parent != nil {
		t.Print, t.Load = c.parent.Print, c.parent.Load
	}
	if c.checker != nil {
		SetPermissions(t, c.checker)
	}
	if c.ctx.Done() != nil {
		stop := context.AfterFunc(c.ctx, func() { t.Cancel(context.Cause(c.ctx).Error()) })
		defer stop()
	}
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("internal error: panic: %v", r)
		}
	}()
	return starlark.Call(t, fn, args, kwargs)
}
