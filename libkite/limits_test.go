package libkite_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/concur"
)

// limited builds a trusted runtime with lim, the concur module and a print
// hook counting bytes (print adds no newline to the hook's text, so the
// hook adds one per call as stdout would).
func limited(t testing.TB, lim libkite.Limits, opts ...libkite.ConfigOption) (*libkite.Runtime, *strings.Builder) {
	t.Helper()
	reg := libkite.NewRegistry(nil)
	reg.Register(concur.New())
	out := &strings.Builder{}
	var mu sync.Mutex
	print := func(_ *starlark.Thread, msg string) {
		mu.Lock()
		defer mu.Unlock()
		out.WriteString(msg + "\n")
	}
	rt, err := libkite.NewTrusted(&libkite.Config{Registry: reg, Print: print, NoSignals: true},
		append(opts, libkite.WithLimits(lim))...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt, out
}

// wantStopped checks err and the runtime's report name the limit l.
func wantStopped(t *testing.T, rt *libkite.Runtime, err error, l libkite.Limit) libkite.LimitsEnforced {
	t.Helper()
	var le *libkite.LimitError
	if !errors.Is(err, libkite.ErrLimitExceeded) || !errors.As(err, &le) || le.Limit != l {
		t.Fatalf("err = %v, want a %s LimitError", err, l)
	}
	rep := rt.LimitsEnforced()
	if rep.StoppedBy != l {
		t.Fatalf("report StoppedBy = %q, want %q (report %+v)", rep.StoppedBy, l, rep)
	}
	if rep.Enforced[l] == "" {
		t.Fatalf("report does not list %s as enforced: %+v", l, rep)
	}
	return rep
}

const endless = "for i in range(1 << 62):\n    pass\n"

func TestMaxStepsStopsAnEndlessLoop(t *testing.T) {
	rt, _ := limited(t, libkite.Limits{MaxSteps: 50_000})
	err := rt.Execute(context.Background(), endless)
	rep := wantStopped(t, rt, err, libkite.LimitSteps)
	if rep.Steps > 50_000 || rep.Steps < 40_000 {
		t.Fatalf("run used %d steps, want close to and at most 50000", rep.Steps)
	}
	var se *libkite.ScriptError
	if !errors.As(err, &se) || se.ExitCode != libkite.ExitScriptError {
		t.Fatalf("err = %#v, want a ScriptError with exit code %d", err, libkite.ExitScriptError)
	}
}

// TestMaxStepsIsOneBudgetForEveryThread: concur workers draw on the run's
// budget, so eight workers stop where one would not.
func TestMaxStepsIsOneBudgetForEveryThread(t *testing.T) {
	burn := `
def burn(n):
    for i in range(20000):
        pass
    return n
`
	rt, _ := limited(t, libkite.Limits{MaxSteps: 1 << 40})
	if err := rt.Execute(context.Background(), burn+"burn(0)\n"); err != nil {
		t.Fatal(err)
	}
	one := rt.LimitsEnforced().Steps
	if err := rt.Execute(context.Background(), burn+"concur.map(list(range(8)), burn)\n"); err != nil {
		t.Fatal(err)
	}
	if all := rt.LimitsEnforced().Steps; all < 8*one*9/10 {
		t.Fatalf("report counts %d steps for eight workers of %d each: the workers' steps are missing", all, one)
	}
	rt, _ = limited(t, libkite.Limits{MaxSteps: 3 * one})
	if err := rt.Execute(context.Background(), burn+"burn(0)\n"); err != nil {
		t.Fatalf("one worker within the budget: %v", err)
	}
	wantStopped(t, rt, rt.Execute(context.Background(), burn+"concur.map(list(range(8)), burn)\n"), libkite.LimitSteps)
}

func TestTimeoutStopsAnEndlessLoop(t *testing.T) {
	rt, _ := limited(t, libkite.Limits{Timeout: 50 * time.Millisecond})
	err := rt.Execute(context.Background(), endless)
	wantStopped(t, rt, err, libkite.LimitTimeout)
	var se *libkite.ScriptError
	if !errors.As(err, &se) || se.ExitCode != libkite.ExitTimeout {
		t.Fatalf("err = %#v, want exit code %d", err, libkite.ExitTimeout)
	}
	// the same runtime runs again: the limit is per run
	if err := rt.Execute(context.Background(), "x = 1"); err != nil {
		t.Fatalf("next run: %v", err)
	}
	if rep := rt.LimitsEnforced(); rep.StoppedBy != "" {
		t.Fatalf("next run's report: %+v", rep)
	}
}

func TestMaxOutputCapsEverythingPrinted(t *testing.T) {
	rt, out := limited(t, libkite.Limits{MaxOutputBytes: 1000})
	err := rt.Execute(context.Background(), `
for i in range(1000000):
    print("0123456789abcdefghi")
`)
	rep := wantStopped(t, rt, err, libkite.LimitOutput)
	if got := out.Len(); got > 1000 || got < 990 {
		t.Fatalf("printed %d bytes, want the first 1000 at most (and close to it)", got)
	}
	if rep.OutputBytes < 1000 {
		t.Fatalf("report counts %d output bytes", rep.OutputBytes)
	}
}

// TestMaxGoroutinesCapsConcurFanOut: concur.map over a million items runs
// with at most 4 script threads and at most a handful more goroutines.
func TestMaxGoroutinesCapsConcurFanOut(t *testing.T) {
	if testing.Short() {
		t.Skip("a million calls")
	}
	rt, _ := limited(t, libkite.Limits{MaxGoroutines: 4})
	var peak atomic.Int64
	base := int64(runtime.NumGoroutine())
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
				if n := int64(runtime.NumGoroutine()); n > peak.Load() {
					peak.Store(n)
				}
				time.Sleep(time.Millisecond)
			}
		}
	}()
	err := rt.Execute(context.Background(), `n = len(concur.map(range(1000000), lambda x: x))
if n != 1000000:
    fail("got %d results" % n)
`)
	close(done)
	if err != nil {
		t.Fatal(err)
	}
	rep := rt.LimitsEnforced()
	if rep.PeakThreads < 1 || rep.PeakThreads > 4 {
		t.Fatalf("peak script threads %d, want 1..4", rep.PeakThreads)
	}
	if extra := peak.Load() - base; extra > 4+8 {
		t.Fatalf("%d goroutines above the baseline during the run, want about 4", extra)
	}
}

// TestMaxMemoryStopsAllocationBombs: a huge string and a growing list are
// both stopped by the heap watchdog; the process (this test) lives on.
func TestMaxMemoryStopsAllocationBombs(t *testing.T) {
	for name, src := range map[string]string{
		"repeat": `s = "x" * (1 << 28)
` + endless,
		"list growth": `l = []
for i in range(1 << 40):
    l.append("abcdefgh" * 64)
`,
	} {
		t.Run(name, func(t *testing.T) {
			rt, _ := limited(t, libkite.Limits{MaxMemoryBytes: 64 << 20, Timeout: time.Minute})
			err := rt.Execute(context.Background(), src)
			rep := wantStopped(t, rt, err, libkite.LimitMemory)
			if rep.PeakHeap <= 64<<20 {
				t.Fatalf("peak heap %d, want above the cap that stopped it", rep.PeakHeap)
			}
			if !strings.Contains(rep.Enforced[libkite.LimitMemory], "approximate") {
				t.Fatalf("library mode must call the watchdog approximate: %q", rep.Enforced[libkite.LimitMemory])
			}
		})
	}
	runtime.GC()
}

// TestLimitsReport: configured limits are listed with how they are
// enforced; an environment enforcing memory replaces the watchdog; a call
// can ask for its own report.
func TestLimitsReport(t *testing.T) {
	lim := libkite.Limits{MaxSteps: 1e6, Timeout: time.Minute, MaxMemoryBytes: 1 << 40}
	rt, _ := limited(t, lim, func(c *libkite.Config) { c.MemoryEnforcer = "gVisor sandbox memory limit" })
	var rep libkite.LimitsEnforced
	ctx := libkite.WithLimitsReport(context.Background(), &rep)
	if err := rt.Execute(ctx, "def f(x):\n    return x * 2\n"); err != nil {
		t.Fatal(err)
	}
	if rep.Limits != lim || rep.StoppedBy != "" || len(rep.Enforced) != 3 || len(rep.NotEnforced) != 0 {
		t.Fatalf("report %+v", rep)
	}
	if rep.Enforced[libkite.LimitMemory] != "gVisor sandbox memory limit" {
		t.Fatalf("memory enforced by %q", rep.Enforced[libkite.LimitMemory])
	}
	if _, ok := rep.Enforced[libkite.LimitOutput]; ok {
		t.Fatalf("an unset limit is listed: %+v", rep.Enforced)
	}
	// Call is a run of its own
	v, err := rt.Call(context.Background(), "f", []any{21}, nil)
	if err != nil || v.String() != "42" {
		t.Fatalf("Call = %v, %v", v, err)
	}
	if rt.LimitsEnforced().Steps == 0 {
		t.Fatalf("Call's report counts no steps")
	}
}

func TestLimitsRejectNegativeValues(t *testing.T) {
	_, err := libkite.New(nil, libkite.WithLimits(libkite.Limits{Timeout: -time.Second}))
	if err == nil || !strings.Contains(err.Error(), "timeout must not be negative") {
		t.Fatalf("err = %v", err)
	}
}

// BenchmarkLimitStopLatency: time from the moment a limit trips to the
// run's return (issue 12: under 100 ms). Reported as stop-ms.
func BenchmarkLimitStopLatency(b *testing.B) {
	rt, _ := limited(b, libkite.Limits{Timeout: 20 * time.Millisecond})
	var total time.Duration
	for b.Loop() {
		start := time.Now()
		err := rt.Execute(context.Background(), endless)
		total += time.Since(start) - 20*time.Millisecond
		if !errors.Is(err, libkite.ErrLimitExceeded) {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "stop-ms")
}

func TestLimitsHoldForDeferredFunctions(t *testing.T) {
	rt, out := limited(t, libkite.Limits{MaxSteps: 100_000})
	err := rt.Execute(context.Background(), `
def cleanup():
    print("cleanup started")
`+indent(endless)+`
defer(cleanup)
print("body done")
`)
	wantStopped(t, rt, err, libkite.LimitSteps)
	if got := out.String(); got != "body done\ncleanup started\n" {
		t.Fatalf("output = %q", got)
	}
}

func TestLimitsHoldForTestFiles(t *testing.T) {
	rt, _ := limited(t, libkite.Limits{MaxSteps: 100_000})
	results, err := rt.ExecuteTests(context.Background(), `
def test_a_quick():
    pass

def test_b_endless():
`+indent(endless)+`
def test_c_after():
    pass
`)
	wantStopped(t, rt, err, libkite.LimitSteps)
	if len(results) != 3 || results[0].Error != nil || results[1].Error == nil || results[2].Error == nil {
		t.Fatalf("results = %+v, want a passing first test and the rest failed by the limit", results)
	}
}

// indent puts src inside a function body.
func indent(src string) string {
	return "    " + strings.ReplaceAll(strings.TrimSuffix(src, "\n"), "\n", "\n    ") + "\n"
}

func TestARunStoppedByALimitDropsItsDefers(t *testing.T) {
	rt, out := limited(t, libkite.Limits{MaxSteps: 100_000})
	err := rt.Execute(context.Background(), "defer(lambda: print(\"cleanup\"))\n"+endless)
	wantStopped(t, rt, err, libkite.LimitSteps)
	if got := out.String(); got != "" {
		t.Fatalf("deferred code ran after the limit stopped the run: %q", got)
	}
}

func TestACancelledRunStillRunsItsDefers(t *testing.T) {
	rt, out := limited(t, libkite.Limits{MaxSteps: 1 << 40})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	err := rt.Execute(ctx, "defer(lambda: print(\"cleanup\"))\n"+endless)
	if err == nil || errors.Is(err, libkite.ErrLimitExceeded) {
		t.Fatalf("err = %v, want the caller's cancellation", err)
	}
	if got := out.String(); got != "cleanup\n" {
		t.Fatalf("output = %q, want the deferred cleanup", got)
	}
}
