package concur

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// pool runs user functions on worker threads made from the caller's
// runtime.
//
// A worker call goes through (*libkite.Runtime).CallFn with a small
// builtin that calls the user function on the thread CallFn provides: that
// thread is the runtime's (print hook, load resolver, dry-run flag), it is
// bound to the caller's context exactly as the runtime binds its own
// threads (cancellation at the next step, libkite.Context for blocking
// builtins inside the worker), panics are recovered and a trailing printf
// fragment is flushed. The caller's permission checker is installed for
// the duration of the call, so workers never get more than their caller.
// Without a runtime (a bare thread), a detached thread copies the caller's
// print and load hooks and checker and is cancelled with the context.
type pool struct {
	parent  *starlark.Thread
	ctx     context.Context
	rt      *libkite.Runtime
	checker *libkite.PermissionChecker
}

func newPool(parent *starlark.Thread, ctx context.Context) *pool {
	return &pool{parent: parent, ctx: ctx, rt: libkite.GetRuntime(parent), checker: libkite.GetPermissions(parent)}
}

// run calls do(i) for every i in [0, n) from size goroutines and returns
// when all of them have finished: nothing outlives the call.
func (p *pool) run(size, n int, do func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	wg.Add(size)
	for range size {
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				do(i)
			}
		}()
	}
	wg.Wait()
}

// call runs fn(*args) on a worker thread and returns its result or the
// error the callee raised (its message is the callee's error text).
func (p *pool) call(fn starlark.Callable, args starlark.Tuple) (starlark.Value, error) {
	if p.rt == nil {
		return p.callDetached(fn, args)
	}
	var (
		val     starlark.Value
		callErr error
		ran     bool
	)
	worker := starlark.NewBuiltin("concur.worker", func(t *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		ran = true
		if prev := libkite.GetPermissions(t); prev != p.checker {
			libkite.SetPermissions(t, p.checker)
			defer libkite.SetPermissions(t, prev)
		}
		val, callErr = starlark.Call(t, fn, args, nil)
		return starlark.None, callErr
	})
	_, err := p.rt.CallFn(p.ctx, worker, nil, nil)
	if ran && (val != nil || callErr != nil) {
		return val, callErr
	}
	// not started (runtime closed, context done) or a recovered panic
	return nil, err
}

func (p *pool) callDetached(fn starlark.Callable, args starlark.Tuple) (v starlark.Value, err error) {
	t := &starlark.Thread{Name: "concur", Print: p.parent.Print, Load: p.parent.Load}
	if p.checker != nil {
		libkite.SetPermissions(t, p.checker)
	}
	if p.ctx.Done() != nil {
		stop := context.AfterFunc(p.ctx, func() { t.Cancel(context.Cause(p.ctx).Error()) })
		defer stop()
	}
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, fmt.Errorf("internal error: panic: %v", r)
		}
	}()
	return starlark.Call(t, fn, args, nil)
}
