package concur

import (
	"context"
	"sync"
	"sync/atomic"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// pool runs user functions on worker threads made from the caller's
// runtime through a libkite.Caller (permissions, context, print and load
// hooks of the caller; panics recovered).
type pool struct {
	caller *libkite.Caller
}

func newPool(parent *starlark.Thread, ctx context.Context) *pool {
	return &pool{caller: libkite.NewCaller("concur.worker", parent, ctx)}
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
	return p.caller.Call(fn, args, nil)
}
