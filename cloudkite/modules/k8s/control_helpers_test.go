package k8s

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// Test support for k8s.control: a recorder the handlers report to, the
// controller's notes captured, short timings, and controllers run in the
// background and stopped by cancelling their context.

// recorder collects what handlers report through record(*args): one
// line per call, the arguments joined by spaces (strings as they are).
type recorder struct {
	mu    sync.Mutex
	lines []string
	times []time.Time
}

func (r *recorder) globals() map[string]any {
	return map[string]any{
		"record": starlark.NewBuiltin("record", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			parts := make([]string, len(args))
			for i, a := range args {
				if s, ok := starlark.AsString(a); ok {
					parts[i] = s
				} else {
					parts[i] = a.String()
				}
			}
			r.mu.Lock()
			r.lines = append(r.lines, strings.Join(parts, " "))
			r.times = append(r.times, time.Now())
			r.mu.Unlock()
			return starlark.None, nil
		}),
		// count(line): how many recorded lines equal line.
		"count": starlark.NewBuiltin("count", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			s, _ := starlark.AsString(args[0])
			return starlark.MakeInt(r.count(s)), nil
		}),
	}
}

func (r *recorder) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

func (r *recorder) count(line string) int {
	n := 0
	for _, l := range r.all() {
		if l == line {
			n++
		}
	}
	return n
}

// timesOf are the times line was recorded.
func (r *recorder) timesOf(line string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ts []time.Time
	for i, l := range r.lines {
		if l == line {
			ts = append(ts, r.times[i])
		}
	}
	return ts
}

// waitCount waits until line was recorded at least n times.
func (r *recorder) waitCount(t *testing.T, line string, n int) {
	t.Helper()
	eventually(t, func() bool { return r.count(line) >= n }, func() string {
		return "record " + strconvQ(line) + " ×" + itoa(n) + "; have " + strings.Join(quoteAll(r.all()), ", ")
	})
}

// eventually polls cond until it holds (30 s at most).
func eventually(t *testing.T, cond func() bool, what func() string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// notes captures the controller's notes (notesOut) for one test.
type notes struct {
	mu sync.Mutex
	b  strings.Builder
}

func (n *notes) Write(p []byte) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.b.Write(p)
}

func (n *notes) String() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.b.String()
}

func (n *notes) waitFor(t *testing.T, sub string) {
	t.Helper()
	eventually(t, func() bool { return strings.Contains(n.String(), sub) }, func() string {
		return "note " + strconvQ(sub) + "; notes:\n" + n.String()
	})
}

func captureNotes(t *testing.T) *notes {
	n := &notes{}
	notesMu.Lock()
	prev := notesOut
	notesOut = n
	notesMu.Unlock()
	t.Cleanup(func() {
		notesMu.Lock()
		notesOut = prev
		notesMu.Unlock()
		if t.Failed() {
			t.Logf("controller notes:\n%s", n.String())
		}
	})
	return n
}

// shortTimings shortens the controller's timings for one test (restored
// when it ends, after its controllers have stopped).
func shortTimings(t *testing.T) {
	saved := []time.Duration{controlWatchBackoff, controlWatchBackoffMax, controlLeaseDuration, controlRenewDeadline,
		controlRetryPeriod, controlDrainTimeout, controlReleaseTimeout}
	controlWatchBackoff, controlWatchBackoffMax = 20*time.Millisecond, 200*time.Millisecond
	controlLeaseDuration, controlRenewDeadline, controlRetryPeriod = 3*time.Second, 2*time.Second, 200*time.Millisecond
	controlDrainTimeout, controlReleaseTimeout = 5*time.Second, 5*time.Second
	t.Cleanup(func() {
		controlWatchBackoff, controlWatchBackoffMax, controlLeaseDuration, controlRenewDeadline,
			controlRetryPeriod, controlDrainTimeout, controlReleaseTimeout = saved[0], saved[1], saved[2], saved[3], saved[4], saved[5], saved[6]
	})
}

// running is a controller running in the background.
type running struct {
	cancel context.CancelFunc
	done   chan result
	once   sync.Once
	res    result
}

type result struct {
	v   starlark.Value
	err error
}

// startScript runs src (after the prelude) on rt in the background.
func startScript(t *testing.T, rt *libkite.Runtime, src string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan result, 1)}
	go func() { r.done <- result{err: rt.Execute(ctx, prelude+src)} }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// startControl calls the k8s.control builtin of rt directly (as a Go
// host would) in the background, with kwargs naming globals of rt for
// Starlark values: k8s.control's own result comes back, not a script's.
func startControl(t *testing.T, rt *libkite.Runtime, defs string, kind string, kwargs map[string]any) *running {
	t.Helper()
	if err := rt.Execute(context.Background(), prelude+defs); err != nil {
		t.Fatal(err)
	}
	control, err := rt.Eval(context.Background(), "k8s.control")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range kwargs {
		if s, ok := v.(global); ok {
			gv, ok := rt.GetGlobalVal(string(s))
			if !ok {
				t.Fatalf("no global %s", s)
			}
			kwargs[k] = gv
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan result, 1)}
	go func() {
		v, err := rt.CallFn(ctx, control.(starlark.Callable), []any{kind}, kwargs)
		r.done <- result{v, err}
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// global names a global of the runtime in startControl's kwargs.
type global string

// stop cancels the controller and waits for it (10 s at most).
func (r *running) stop(t *testing.T) result {
	t.Helper()
	r.once.Do(func() {
		r.cancel()
		select {
		case r.res = <-r.done:
		case <-time.After(10 * time.Second):
			r.res = result{err: errors.New("the controller did not stop within 10s of its cancellation")}
			t.Error(r.res.err)
		}
	})
	return r.res
}

// ended reports whether the controller has ended (without
// blocking), and its result.
func (r *running) ended() (result, bool) {
	select {
	case res := <-r.done:
		r.once.Do(func() { r.res = res })
		return res, true
	default:
		return result{}, false
	}
}

// wantCancelled checks a script controller's end after cancellation:
// the run stops because its context was cancelled, nothing else.
func wantCancelled(t *testing.T, res result) {
	t.Helper()
	if res.err != nil && !errors.Is(res.err, context.Canceled) {
		t.Fatalf("controller script ended with %v", res.err)
	}
}

func strconvQ(s string) string { return starlark.String(s).String() }

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconvQ(s)
	}
	return out
}

func itoa(n int) string { return starlark.MakeInt(n).String() }
