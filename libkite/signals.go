package libkite

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.starlark.net/starlark"
)

// Canonical signal names, as passed to script handlers.
const (
	sigInterrupt = "interrupt"
	sigTerminate = "terminated"
	sigHangup    = "hangup"
)

// canonicalSignal maps SIGINT/INT/interrupt (any case) and friends to the
// canonical name.
func canonicalSignal(name string) (string, error) {
	switch strings.ToUpper(strings.TrimPrefix(strings.ToUpper(name), "SIG")) {
	case "INT", "INTERRUPT":
		return sigInterrupt, nil
	case "TERM", "TERMINATED":
		return sigTerminate, nil
	case "HUP", "HANGUP":
		return sigHangup, nil
	}
	return "", fmt.Errorf("unknown signal %q (want SIGINT, SIGTERM or SIGHUP)", name)
}

// RegisterSignalHandler installs fn for the named signal (SIGINT, SIGTERM,
// SIGHUP; INT/interrupt spellings accepted), replacing any earlier one.
func (rt *Runtime) RegisterSignalHandler(name string, fn starlark.Callable) error {
	sig, err := canonicalSignal(name)
	if err != nil {
		return err
	}
	rt.cleanupMu.Lock()
	rt.handlers[sig] = fn
	rt.cleanupMu.Unlock()
	return nil
}

// HasSignalHandler reports whether a handler is installed for name.
func (rt *Runtime) HasSignalHandler(name string) bool {
	sig, err := canonicalSignal(name)
	if err != nil {
		return false
	}
	rt.cleanupMu.Lock()
	defer rt.cleanupMu.Unlock()
	return rt.handlers[sig] != nil
}

// DefaultSignalHandler installs fn for name only if no handler is
// installed (the script's own on_signal wins) and returns a function that
// removes fn again — and only fn: a handler the script installs meanwhile
// is kept. installed reports whether fn went in.
func (rt *Runtime) DefaultSignalHandler(name string, fn starlark.Callable) (remove func(), installed bool) {
	sig, err := canonicalSignal(name)
	if err != nil {
		return func() {}, false
	}
	rt.cleanupMu.Lock()
	defer rt.cleanupMu.Unlock()
	if rt.handlers[sig] != nil {
		return func() {}, false
	}
	rt.handlers[sig] = fn
	return func() {
		rt.cleanupMu.Lock()
		if rt.handlers[sig] == fn {
			delete(rt.handlers, sig)
		}
		rt.cleanupMu.Unlock()
	}, true
}

// UnregisterSignalHandler removes the handler for name.
func (rt *Runtime) UnregisterSignalHandler(name string) {
	if sig, err := canonicalSignal(name); err == nil {
		rt.cleanupMu.Lock()
		delete(rt.handlers, sig)
		rt.cleanupMu.Unlock()
	}
}

// handleSignal runs the script's handler for sig, then its defers, as a
// run of their own: Config.Limits bound them like any other script code.
func (rt *Runtime) handleSignal(sig string) {
	rt.cleanupMu.Lock()
	fn := rt.handlers[sig]
	rt.cleanupMu.Unlock()
	ctx, r := rt.beginRun(context.Background())
	if fn != nil {
		thread := rt.NewThread("signal")
		b := bind(ctx, thread)
		func() {
			defer b.release()
			defer func() { _ = recover() }()
			_, _ = starlark.Call(thread, fn, starlark.Tuple{starlark.String(sig)}, nil)
		}()
		rt.flushPrintf(thread)
	}
	rt.runDefers(ctx)
	_ = rt.endRun(r, nil)
}

// osExit is replaced in tests.
var osExit = os.Exit

// signalHub is the one process-wide subscription to SIGINT/SIGTERM/SIGHUP.
// It is held only while runtimes with signal handling are open: when the
// last one closes, the subscription and its goroutine are released after
// a short grace period (so hosts creating a runtime per request do not pay
// for signal.Notify/Stop each time). Nothing leaks per runtime.
var signalHub = &hub{rts: map[*Runtime]struct{}{}}

// signalGrace is how long the subscription outlives the last runtime.
var signalGrace = 100 * time.Millisecond

type hub struct {
	mu    sync.Mutex
	rts   map[*Runtime]struct{}
	ch    chan os.Signal
	done  chan struct{}
	timer *time.Timer
}

func (h *hub) add(rt *Runtime) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rts[rt] = struct{}{}
	if h.timer != nil {
		h.timer.Stop()
		h.timer = nil
	}
	if h.ch == nil {
		h.ch = make(chan os.Signal, 1)
		h.done = make(chan struct{})
		signal.Notify(h.ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
		go h.loop(h.ch, h.done)
	}
}

func (h *hub) remove(rt *Runtime) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.rts[rt]; !ok {
		return
	}
	delete(h.rts, rt)
	if len(h.rts) == 0 && h.ch != nil && h.timer == nil {
		h.timer = time.AfterFunc(signalGrace, h.release)
	}
}

// release drops the OS subscription if no runtime came back meanwhile.
func (h *hub) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.timer = nil
	if len(h.rts) > 0 || h.ch == nil {
		return
	}
	signal.Stop(h.ch)
	close(h.done)
	h.ch, h.done = nil, nil
}

func (h *hub) loop(ch chan os.Signal, done chan struct{}) {
	for {
		select {
		case <-done:
			return
		case s := <-ch:
			h.dispatch(s)
		}
	}
}

func (h *hub) dispatch(s os.Signal) {
	h.mu.Lock()
	rts := make([]*Runtime, 0, len(h.rts))
	for rt := range h.rts {
		rts = append(rts, rt)
	}
	h.mu.Unlock()
	name, _ := canonicalSignal(s.String())
	for _, rt := range rts {
		rt.handleSignal(name)
	}
	code := 0
	switch {
	case s == syscall.SIGINT:
		code = ExitInterrupt
	case s == syscall.SIGTERM:
		code = ExitTerminate
	case len(rts) == 0: // SIGHUP in the grace period: behave like the default
		code = 128 + int(syscall.SIGHUP)
	default:
		return
	}
	for _, rt := range rts {
		rt.Close() // runs Go-side cleanups (AddCleanup) before the process goes
	}
	runExitHooks()
	osExit(code)
}

var (
	exitHooksMu sync.Mutex
	exitHooks   = map[int]func(){}
	exitHookSeq int
)

// AtExit registers fn to run when a runtime's signal handling is about to
// terminate the process (after script handlers and defers). Modules use
// it to stop child processes. The returned function unregisters fn.
func AtExit(fn func()) (remove func()) {
	exitHooksMu.Lock()
	exitHookSeq++
	id := exitHookSeq
	exitHooks[id] = fn
	exitHooksMu.Unlock()
	return func() {
		exitHooksMu.Lock()
		delete(exitHooks, id)
		exitHooksMu.Unlock()
	}
}

func runExitHooks() {
	exitHooksMu.Lock()
	hooks := make([]func(), 0, len(exitHooks))
	for _, fn := range exitHooks {
		hooks = append(hooks, fn)
	}
	exitHooksMu.Unlock()
	for _, fn := range hooks {
		func() {
			defer func() { _ = recover() }()
			fn()
		}()
	}
}

// NumSignalSubscribers reports how many runtimes currently receive OS
// signals (for tests and diagnostics).
func NumSignalSubscribers() int {
	signalHub.mu.Lock()
	defer signalHub.mu.Unlock()
	return len(signalHub.rts)
}

// StopOnSignals is how a blocking builtin (a server, a controller) lets
// SIGINT and SIGTERM end it: unless the script installed its own handlers,
// either signal calls stop. name labels the handler. The returned function
// removes the handlers again; call it when the builtin returns. Without a
// runtime (a bare thread) it does nothing.
func StopOnSignals(thread *starlark.Thread, name string, stop func()) (remove func()) {
	rt := GetRuntime(thread)
	if rt == nil {
		return func() {}
	}
	onSignal := starlark.NewBuiltin(name, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		stop()
		return starlark.None, nil
	})
	var removes []func()
	for _, sig := range []string{"interrupt", "terminated"} {
		r, _ := rt.DefaultSignalHandler(sig, onSignal)
		removes = append(removes, r)
	}
	return func() {
		for _, r := range removes {
			r()
		}
	}
}
