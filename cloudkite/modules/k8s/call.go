package k8s

import (
	"context"
	"fmt"
	"time"

	"go.starlark.net/starlark"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/project-starkite/starkite/libkite"
)

// Permission categories (spec §2): the category is also the function slot
// and the resource is always empty.
const (
	permNone   = ""
	permRead   = "read"
	permWrite  = "write"
	permExec   = "exec"
	permConfig = "config"
)

// op is one operation of spec §5–§10: offered as k8s.<name> on the
// default client and as a method of every k8s.client, both with try_
// twins. run binds its arguments with x.bind, then calls x.begin before
// any side effect.
type op struct {
	perm string
	run  func(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)
	// permFn is the permission check's function slot when it is not the
	// category (port_forward: k8s.read with function "port_forward").
	permFn string
}

// call is one invocation of an op.
type call struct {
	thread *starlark.Thread
	fn     string // the builtin's name, for argument-binding errors
	op     string // "k8s.<name>", the prefix of every other error
	perm   string
	permFn string
	client func() (*Client, error)

	c      *Client
	ctx    context.Context
	cancel context.CancelFunc
}

// builtin is the module-level form of o, on the module's default client.
func (o op) builtin(m *module, name string) *starlark.Builtin {
	return starlark.NewBuiltin("k8s."+name, func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		x := &call{thread: thread, fn: fn.Name(), op: "k8s." + name, perm: o.perm, permFn: o.permFn, client: m.defaultClient}
		return x.finish(o.run(x, args, kwargs))
	})
}

// method is the k8s.client method form of o.
func (o op) method(name string) libkite.BuiltinFunc {
	return func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		c := fn.Receiver().(*clientValue).c
		x := &call{thread: thread, fn: fn.Name(), op: "k8s." + name, perm: o.perm, permFn: o.permFn,
			client: func() (*Client, error) { return c, nil }}
		return x.finish(o.run(x, args, kwargs))
	}
}

// bind unpacks the arguments. Binding errors are plain (named after the
// builtin, not prefixed with the op).
func (x *call) bind(args starlark.Tuple, kwargs []starlark.Tuple, pairs ...any) error {
	if err := libkite.UnpackArgs(x.fn, args, kwargs, pairs...); err != nil {
		return &plainError{err}
	}
	return nil
}

// begin validates timeout, checks the op's permission, then obtains the
// client and the request context: the thread's context, bounded by the
// per-call timeout, else the client's default timeout.
func (x *call) begin(timeout string) error {
	d, explicit, err := parseTimeout(timeout)
	if err != nil {
		return err
	}
	if x.perm != permNone {
		fn := x.permFn
		if fn == "" {
			fn = x.perm
		}
		if err := libkite.Check(x.thread, "k8s", x.perm, fn, ""); err != nil {
			return err
		}
	}
	if x.c, err = x.client(); err != nil {
		return err
	}
	if !explicit {
		d = x.c.timeout
	}
	x.ctx = libkite.Context(x.thread)
	if d > 0 {
		x.ctx, x.cancel = context.WithTimeout(x.ctx, d)
	}
	return nil
}

// finish releases the call's context and prefixes a failure with the op.
func (x *call) finish(v starlark.Value, err error) (starlark.Value, error) {
	if x.cancel != nil {
		x.cancel()
	}
	if err != nil {
		return nil, wrapOp(x.op, err)
	}
	return v, nil
}

// parseTimeout reads a timeout kwarg: "" → not given; else a Go duration
// (0 = no deadline).
func parseTimeout(s string) (d time.Duration, explicit bool, err error) {
	if s == "" {
		return 0, false, nil
	}
	d, err = time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, false, fmt.Errorf("invalid timeout %q", s)
	}
	return d, true, nil
}

// dryRun is the DryRun option of a mutating request: server-side dry run
// when the call asks for it or the runtime runs in dry-run mode.
func (x *call) dryRun(requested bool) []string {
	if requested || libkite.DryRun(x.thread) {
		return []string{metav1.DryRunAll}
	}
	return nil
}

// namespaceFor is the namespace a request for ki goes to: none for
// cluster-scoped kinds, else ns, else the client's default.
func (x *call) namespaceFor(ki *kindInfo, ns string) string {
	if !ki.Namespaced {
		return ""
	}
	if ns == "" {
		return x.c.ns
	}
	return ns
}

// resource is the dynamic client for ki in namespace ns ("" = cluster
// scope, or all namespaces for a namespaced kind).
func (x *call) resource(ki *kindInfo, ns string) dynamic.ResourceInterface {
	r := x.c.dyn.Resource(ki.GVR)
	if ki.Namespaced && ns != "" {
		return r.Namespace(ns)
	}
	return r
}

// runAside runs f (a client-go call with no context parameter) on its own
// goroutine and stops waiting when ctx ends.
func runAside[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
