package libkite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/starlark"
)

// runtimeBuiltins are the control builtins every script sees; they
// override module exports and aliases of the same name.
var runtimeBuiltins = starlark.StringDict{
	"fail":      starlark.NewBuiltin("fail", failBuiltin),
	"exit":      starlark.NewBuiltin("exit", exitBuiltin),
	"defer":     starlark.NewBuiltin("defer", deferBuiltin),
	"on_signal": starlark.NewBuiltin("on_signal", onSignalBuiltin),
	"Result":    starlark.NewBuiltin("Result", resultBuiltin),
}

func init() { runtimeBuiltins.Freeze() }

// failBuiltin: fail(msg="script failed") raises exactly msg.
func failBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 1 {
		return nil, fmt.Errorf("fail: got %d arguments, want at most 1", len(args))
	}
	msg := "script failed"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "msg?", &msg); err != nil {
		return nil, err
	}
	return nil, &failError{msg}
}

type failError struct{ msg string }

func (e *failError) Error() string { return e.msg }

// exitBuiltin: exit(code=0) stops the script; the host sees nil or *ExitError.
func exitBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var code starlark.Value = starlark.MakeInt(0)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "code?", &code); err != nil {
		return nil, err
	}
	n, ok := code.(starlark.Int)
	if !ok {
		return nil, fmt.Errorf("exit: for parameter code: got %s, want int", code.Type())
	}
	c, ok := n.Int64()
	if !ok || c < 0 || c > 255 {
		return nil, fmt.Errorf("exit: code %s out of range 0-255", n)
	}
	return nil, &exitRequest{code: int(c)}
}

// deferBuiltin: defer(fn) registers a cleanup run LIFO after the script.
func deferBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fn starlark.Callable
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "fn", &fn); err != nil {
		return nil, err
	}
	rt := GetRuntime(thread)
	if rt == nil {
		return nil, fmt.Errorf("defer: no runtime bound to this thread")
	}
	rt.cleanupMu.Lock()
	rt.defers = append(rt.defers, fn)
	rt.cleanupMu.Unlock()
	return starlark.None, nil
}

// onSignalBuiltin: on_signal(signal, handler) installs a signal handler.
func onSignalBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	var fn starlark.Callable
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "signal", &name, "handler", &fn); err != nil {
		return nil, err
	}
	rt := GetRuntime(thread)
	if rt == nil {
		return nil, fmt.Errorf("on_signal: no runtime bound to this thread")
	}
	if err := rt.RegisterSignalHandler(name, fn); err != nil {
		return nil, fmt.Errorf("on_signal: %v", err)
	}
	return starlark.None, nil
}

// WriteText writes text that may hold partial lines (printf, println) the
// way the runtime routes output: straight to stdout without a print hook;
// with one, line-buffered into it so a host capturing print() sees whole
// lines. It is the one output path for modules that write text.
func WriteText(thread *starlark.Thread, text string) {
	if rt := GetRuntime(thread); rt != nil {
		rt.writeText(thread, text)
	} else {
		writeStdout([]byte(text))
	}
}

// writeText emits text that may contain partial lines.
func (rt *Runtime) writeText(thread *starlark.Thread, text string) {
	rt.emitText(thread, limitOutput(thread, text))
}

// emitText is writeText after the output limit.
func (rt *Runtime) emitText(thread *starlark.Thread, text string) {
	if text == "" {
		return
	}
	if rt.cfg.Print == nil {
		writeStdout([]byte(text))
		return
	}
	st := ensureState(thread)
	st.mu.Lock()
	st.pbuf = append(st.pbuf, text...)
	var lines []string
	for {
		i := bytes.IndexByte(st.pbuf, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, string(st.pbuf[:i]))
		st.pbuf = st.pbuf[i+1:]
	}
	if len(st.pbuf) == 0 {
		st.pbuf = nil
	}
	st.mu.Unlock()
	for _, l := range lines {
		rt.cfg.Print(thread, l)
	}
}

// print is the thread print hook: a pending printf fragment is joined to
// the printed line.
func (rt *Runtime) print(thread *starlark.Thread, msg string) {
	if st := stateOf(thread); st != nil && st.run != nil && st.run.lim.MaxOutputBytes > 0 {
		line := limitOutput(thread, msg+"\n")
		if line == "" {
			return
		}
		if !strings.HasSuffix(line, "\n") { // cut by the cap: the rest is dropped
			rt.emitText(thread, line)
			return
		}
		msg = line[:len(line)-1]
	}
	if rt.cfg.Print == nil {
		writeStdout([]byte(msg + "\n"))
		return
	}
	if st := stateOf(thread); st != nil {
		st.mu.Lock()
		if len(st.pbuf) > 0 {
			msg = string(st.pbuf) + msg
			st.pbuf = nil
		}
		st.mu.Unlock()
	}
	rt.cfg.Print(thread, msg)
}

// flushPrintf hands a trailing printf fragment to the print hook.
func (rt *Runtime) flushPrintf(thread *starlark.Thread) {
	if rt.cfg.Print == nil {
		return
	}
	st := stateOf(thread)
	if st == nil {
		return
	}
	st.mu.Lock()
	rest := string(st.pbuf)
	st.pbuf = nil
	st.mu.Unlock()
	if rest != "" {
		rt.cfg.Print(thread, strings.TrimSuffix(rest, "\n"))
	}
}

// runDefers runs deferred callables LIFO, once each, on a fresh thread;
// their errors are ignored. ctx is the run's: its limits hold for deferred
// code too. A run stopped from outside (Ctrl-C, a watch restart) still
// cleans up, until the run's own deadline; a run a limit stopped runs no
// more script code, so its defers are dropped.
func (rt *Runtime) runDefers(ctx context.Context) {
	if ctx.Err() != nil {
		var le *LimitError
		if r := runOf(ctx); errors.As(context.Cause(ctx), &le) || r != nil && r.stopped.Load() != nil {
			rt.cleanupMu.Lock()
			rt.defers = nil
			rt.cleanupMu.Unlock()
			return
		}
		d, hasDeadline := ctx.Deadline()
		ctx = context.WithoutCancel(ctx)
		if hasDeadline {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, d)
			defer cancel()
		}
	}
	for {
		rt.cleanupMu.Lock()
		n := len(rt.defers)
		if n == 0 {
			rt.cleanupMu.Unlock()
			return
		}
		fn := rt.defers[n-1]
		rt.defers = rt.defers[:n-1]
		rt.cleanupMu.Unlock()
		thread := rt.NewThread("defer")
		b := bind(ctx, thread)
		func() {
			defer b.release()
			defer func() { _ = recover() }()
			_, _ = starlark.Call(thread, fn, nil, nil)
		}()
		rt.flushPrintf(thread)
	}
}
