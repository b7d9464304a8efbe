package wasm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tetratelabs/wazero/sys"
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	kitejson "github.com/project-starkite/starkite/libkite/modules/json"
)

// call is one plugin function call in progress; host callbacks find it
// in their context.
type call struct {
	p      *Plugin
	thread *starlark.Thread
	name   string // "<plugin>.<function>": the error prefix
	ctx    context.Context
	inst   *instance

	guestErr    string // set by kite.error
	hasGuestErr bool
	abort       error // a callback's denial or failure: the call's result
}

type callKey struct{}

// callOf returns the call a host callback runs in, or nil.
func callOf(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

// errPluginTimeout is the cause of a call context cut by the plugin's
// own timeout.
var errPluginTimeout = errors.New("plugin timeout")

// call runs manifest function f: permission, arguments, an instance from
// the pool, the export, the result.
func (p *Plugin) call(thread *starlark.Thread, name string, f *Function, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.Check(thread, p.man.Name, "wasm", f.Name, ""); err != nil {
		return nil, err
	}
	vals, err := bind(name, f, args, kwargs)
	if err != nil {
		return nil, err
	}
	params, err := encodeArgs(name, f, vals)
	if err != nil {
		return nil, err
	}
	eng, err := p.engine()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := eng.fnErr[f.Name]; err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	parent := libkite.Context(thread)
	ctx, cancel := context.WithTimeoutCause(parent, p.timeout, errPluginTimeout)
	defer cancel()
	c := &call{p: p, thread: thread, name: name}
	ctx = context.WithValue(ctx, callKey{}, c)
	c.ctx = ctx
	start := time.Now()
	inst, err := p.get(ctx, eng, c)
	if err != nil {
		return nil, c.failure(err, parent, start)
	}
	c.inst = inst
	inst.cur.Store(c)
	inst.out.reset()
	res, err := inst.run(ctx, f, params)
	inst.cur.Store(nil)
	if err != nil || c.abort != nil {
		inst.close()
		return nil, c.failure(err, parent, start)
	}
	p.put(inst)
	if c.hasGuestErr {
		return nil, fmt.Errorf("%s: %s", name, c.guestErr)
	}
	return res, nil
}

// bind matches args and kwargs to f's parameters: positionals first, then
// keywords by name (named parameters only).
func bind(name string, f *Function, args starlark.Tuple, kwargs []starlark.Tuple) ([]starlark.Value, error) {
	if len(args) > len(f.Args) {
		return nil, fmt.Errorf("%s: takes %d argument%s, got %d", name, len(f.Args), plural(len(f.Args)), len(args))
	}
	vals := make([]starlark.Value, len(f.Args))
	copy(vals, args)
	for _, kv := range kwargs {
		k := string(kv[0].(starlark.String))
		i := -1
		for j, a := range f.Args {
			if a.Name != "" && a.Name == k {
				i = j
				break
			}
		}
		if i < 0 {
			return nil, fmt.Errorf("%s: unknown keyword argument: %s", name, k)
		}
		if vals[i] != nil {
			return nil, fmt.Errorf("%s: got multiple values for argument %s", name, k)
		}
		vals[i] = kv[1]
	}
	for i, v := range vals {
		if v == nil {
			return nil, fmt.Errorf("%s: missing argument %s (%s)", name, f.argName(i), f.Args[i].Type)
		}
	}
	return vals, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// param is one argument in wasm form: a scalar, or a buffer to copy into
// guest memory (passed as ptr, len).
type param struct {
	scalar uint64
	buf    []byte
	isBuf  bool
}

// encodeArgs converts bound Starlark values to f's wasm parameters.
func encodeArgs(name string, f *Function, vals []starlark.Value) ([]param, error) {
	params := make([]param, len(vals))
	for i, v := range vals {
		a := f.Args[i]
		bad := func() error {
			return fmt.Errorf("%s: argument %s must be %s, got %s", name, f.argName(i), a.Type, v.Type())
		}
		switch a.Type {
		case Int:
			n, ok := v.(starlark.Int)
			if !ok {
				return nil, bad()
			}
			x, ok := n.Int64()
			if !ok {
				return nil, fmt.Errorf("%s: argument %s: %s is out of int64 range", name, f.argName(i), n)
			}
			params[i].scalar = uint64(x)
		case Float:
			x, ok := starlark.AsFloat(v) // a Float, or an Int as float
			if !ok {
				return nil, bad()
			}
			params[i].scalar = math.Float64bits(x)
		case Bool:
			b, ok := v.(starlark.Bool)
			if !ok {
				return nil, bad()
			}
			if b {
				params[i].scalar = 1
			}
		case String:
			s, ok := v.(starlark.String)
			if !ok {
				return nil, bad()
			}
			params[i] = param{buf: []byte(s), isBuf: true}
		case Bytes:
			s, ok := libkite.StringOrBytes(v)
			if !ok {
				return nil, bad()
			}
			params[i] = param{buf: []byte(s), isBuf: true}
		case JSON:
			s, err := kitejson.Encode(v, "", "")
			if err != nil {
				return nil, fmt.Errorf("%s: argument %s: cannot encode as JSON: %v", name, f.argName(i), err)
			}
			params[i] = param{buf: []byte(s), isBuf: true}
		}
	}
	return params, nil
}

// run calls export f with params: buffers go through kite_alloc, the
// result is read back, and every buffer handed over (arguments and
// result) is released with kite_free.
func (inst *instance) run(ctx context.Context, f *Function, params []param) (starlark.Value, error) {
	fn := inst.function(f.Name)
	if fn == nil {
		return nil, fmt.Errorf("the plugin does not export %s", f.Name)
	}
	inst.stack = inst.stack[:0]
	var handed []uint32
	for _, a := range params {
		if !a.isBuf {
			inst.stack = append(inst.stack, a.scalar)
			continue
		}
		ptr, err := allocate(ctx, inst.mod, inst.alloc, a.buf)
		if err != nil {
			return nil, err
		}
		if ptr != 0 {
			handed = append(handed, ptr)
		}
		inst.stack = append(inst.stack, uint64(ptr), uint64(len(a.buf)))
	}
	if len(inst.stack) == 0 {
		inst.stack = append(inst.stack, 0) // room for the result
	}
	if err := fn.CallWithStack(ctx, inst.stack); err != nil {
		return nil, err
	}
	r := inst.stack[0]
	var res starlark.Value = starlark.None
	var data []byte
	if f.Returns.buffered() {
		ptr, n := uint32(r>>32), uint32(r)
		var err error
		if data, err = readMemory(inst.mod, ptr, n); err != nil {
			return nil, fmt.Errorf("result: %w", err)
		}
		if ptr != 0 {
			handed = append(handed, ptr)
		}
	}
	if inst.free != nil {
		for _, ptr := range handed {
			inst.stack[0] = uint64(ptr)
			if err := inst.free.CallWithStack(ctx, inst.stack[:1]); err != nil {
				return nil, err
			}
		}
	}
	switch f.Returns {
	case Int:
		res = starlark.MakeInt64(int64(r))
	case Float:
		res = starlark.Float(math.Float64frombits(r))
	case Bool:
		res = starlark.Bool(uint32(r) != 0)
	case String:
		res = starlark.String(data)
	case Bytes:
		res = starlark.Bytes(data)
	case JSON:
		if len(data) == 0 {
			break // an empty result is None
		}
		v, err := kitejson.Decode(data)
		if err != nil {
			return nil, fmt.Errorf("result is not valid JSON: %w", err)
		}
		res = v
	}
	return res, nil
}

// callError is a failed plugin call: Msg is what the script sees, Err
// the underlying error (a *sys.ExitError, a trap, a context cause).
type callError struct {
	msg string
	err error
}

func (e *callError) Error() string { return e.msg }
func (e *callError) Unwrap() error { return e.err }

// failure turns what ended c (err from wazero, a callback's abort, the
// context) into the error the script sees.
func (c *call) failure(err error, parent context.Context, start time.Time) error {
	if c.abort != nil {
		return libkite.WrapError(c.name, c.abort)
	}
	if errors.Is(err, errClosed) {
		return fmt.Errorf("%s: %w", c.name, err)
	}
	if c.ctx.Err() != nil {
		cause := context.Cause(c.ctx)
		if errors.Is(cause, errPluginTimeout) && parent.Err() == nil {
			return &callError{msg: fmt.Sprintf("%s: plugin call timed out after %s", c.name, c.p.timeout), err: context.DeadlineExceeded}
		}
		cause = context.Cause(parent)
		elapsed := time.Since(start).Round(time.Millisecond)
		if errors.Is(parent.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%s: plugin call timed out after %s: %w", c.name, elapsed, cause)
		}
		return fmt.Errorf("%s: plugin call cancelled after %s: %w", c.name, elapsed, cause)
	}
	out := ""
	if c.inst != nil {
		out = strings.TrimSpace(c.inst.out.String())
	}
	var msg string
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		msg = fmt.Sprintf("exited with code %d", exit.ExitCode())
	} else {
		first, _, _ := strings.Cut(err.Error(), "\n")
		msg = "wasm trap: " + strings.TrimPrefix(first, "wasm error: ")
	}
	if c.memoryExhausted(out) {
		msg = fmt.Sprintf("memory limit of %s exceeded (%s)", pagesText(c.p.pages), msg)
	}
	if out != "" {
		msg += "\nplugin output:\n" + out
	}
	return &callError{msg: c.name + ": " + msg, err: err}
}

// memoryExhausted reports whether the guest died of the memory cap: it
// said so, or its memory is within one growth step (a Go heap arena, 4
// MiB, or an eighth of the cap if smaller) of the cap.
func (c *call) memoryExhausted(out string) bool {
	if strings.Contains(out, "out of memory") {
		return true
	}
	limit := uint64(c.p.pages) * pageSize
	size := c.inst.memorySize()
	return size > 0 && size+min(4<<20, limit/8) >= limit
}
