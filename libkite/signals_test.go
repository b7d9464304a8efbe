//go:build unix

package libkite_test

import (
	"context"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSignalHandlerThenDefersThenExit(t *testing.T) {
	codes := make(chan int, 1)
	restore := libkite.SetOSExitForTest(func(code int) { codes <- code })
	defer restore()

	rt, out := capture(t, nil)
	hookRan := make(chan bool, 1)
	remove := libkite.AtExit(func() { hookRan <- true })
	defer remove()
	cleanupRan := false
	rt.AddCleanup(func() { cleanupRan = true })
	src := `
def on_int(name):
    print("handler " + name)
on_signal("SIGINT", on_int)
defer(lambda: print("cleanup 1"))
defer(lambda: print("cleanup 2"))
`
	if err := rt.ExecuteRepl(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if !rt.HasSignalHandler("interrupt") || !rt.HasSignalHandler("SIGINT") || !rt.HasSignalHandler("int") {
		t.Fatal("handler not found under synonym names")
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-codes:
		if code != libkite.ExitInterrupt {
			t.Errorf("exit code %d, want 130", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no exit after SIGINT")
	}
	if got := out.String(); got != "handler interrupt\ncleanup 2\ncleanup 1" {
		t.Errorf("sequence %q", got)
	}
	if !cleanupRan {
		t.Error("runtime cleanups did not run before exit")
	}
	select {
	case <-hookRan:
	default:
		t.Error("AtExit hook did not run before exit")
	}
}

func TestSighupRunsHandlerWithoutExit(t *testing.T) {
	exited := make(chan int, 1)
	restore := libkite.SetOSExitForTest(func(code int) { exited <- code })
	defer restore()
	rt, out := capture(t, nil)
	if err := rt.ExecuteRepl(context.Background(), `on_signal("hangup", lambda n: print("got " + n))`); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(syscall.Getpid(), syscall.SIGHUP)
	waitFor(t, "SIGHUP handler", func() bool { return strings.Contains(out.String(), "got hangup") })
	select {
	case code := <-exited:
		t.Fatalf("SIGHUP exited with %d", code)
	case <-time.After(50 * time.Millisecond):
	}
	rt.UnregisterSignalHandler("SIGHUP")
	if rt.HasSignalHandler("SIGHUP") {
		t.Error("handler still registered")
	}
	if err := rt.RegisterSignalHandler("SIGUSR9", nil); err == nil {
		t.Error("unknown signal accepted")
	}
}

func TestManyRuntimesDoNotLeak(t *testing.T) {
	base := libkite.NumSignalSubscribers()
	runtime.GC()
	goroutines := runtime.NumGoroutine()
	for i := 0; i < 2000; i++ {
		rt, err := libkite.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.Execute(context.Background(), "x = 1"); err != nil {
			t.Fatal(err)
		}
		rt.Close()
	}
	if n := libkite.NumSignalSubscribers(); n != base {
		t.Errorf("signal subscribers = %d, want %d", n, base)
	}
	if base == 0 {
		waitFor(t, "signal subscription release", func() bool { return !libkite.SignalSubscribedForTest() })
	}
	waitFor(t, "goroutines to settle", func() bool { return runtime.NumGoroutine() <= goroutines })

	rt, _ := libkite.New(nil, libkite.WithoutSignalHandlers())
	defer rt.Close()
	if n := libkite.NumSignalSubscribers(); n != base {
		t.Errorf("WithoutSignalHandlers still subscribed (%d)", n)
	}
}

func TestDefaultSignalHandler(t *testing.T) {
	rt, err := libkite.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	def := starlark.NewBuiltin("default", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
		return starlark.None, nil
	})
	remove, ok := rt.DefaultSignalHandler("SIGINT", def)
	if !ok || !rt.HasSignalHandler("interrupt") {
		t.Fatal("default handler not installed")
	}
	// the script installs its own meanwhile: removing the default keeps it
	if err := rt.Execute(context.Background(), `on_signal("SIGINT", lambda name: None)`); err != nil {
		t.Fatal(err)
	}
	remove()
	if !rt.HasSignalHandler("SIGINT") {
		t.Fatal("removing the default dropped the script's handler")
	}
	// a script handler already present: the default stays out
	if _, ok := rt.DefaultSignalHandler("SIGINT", def); ok {
		t.Fatal("default replaced the script's handler")
	}
	remove, ok = rt.DefaultSignalHandler("SIGTERM", def)
	remove()
	if !ok || rt.HasSignalHandler("SIGTERM") {
		t.Fatal("remove left the default installed")
	}
}

func TestSignalHandlersRunUnderTheLimits(t *testing.T) {
	rt, out := capture(t, nil, libkite.WithLimits(libkite.Limits{MaxSteps: 100_000}))
	src := `
def on_hup(name):
    print("handler " + name)
    for i in range(1 << 62):
        pass
on_signal("SIGHUP", on_hup)
`
	if err := rt.ExecuteRepl(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(syscall.Getpid(), syscall.SIGHUP)
	waitFor(t, "the handler's run to be stopped", func() bool { return rt.LimitsEnforced().StoppedBy == libkite.LimitSteps })
	if !strings.Contains(out.String(), "handler hangup") {
		t.Fatalf("handler did not run: %q", out.String())
	}
}
