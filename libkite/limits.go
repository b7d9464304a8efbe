package libkite

import (
	"context"
	"errors"
	"fmt"
	"runtime/metrics"
	"sync/atomic"
	"time"

	"go.starlark.net/starlark"
)

// Limits caps what one run may consume. A run is one top-level Execute,
// ExecuteRepl, Eval, Call or CallFn with everything it starts: load()ed
// modules, deferred functions, concur workers, server handlers. Zero means
// unlimited for every field.
type Limits struct {
	// MaxSteps caps Starlark execution steps (go.starlark.net's abstract
	// step count), summed over every thread of the run.
	MaxSteps uint64 `json:"max_steps,omitempty"`
	// Timeout is the run's wall-clock deadline.
	Timeout time.Duration `json:"timeout,omitempty"`
	// MaxOutputBytes caps the bytes printed (print, printf, and every
	// module writing through WriteText or CapOutput, such as log records
	// on stderr); output beyond it is dropped and
	// the run stops.
	MaxOutputBytes int64 `json:"max_output_bytes,omitempty"`
	// MaxMemoryBytes caps memory. Without a sandbox a watchdog samples
	// the Go heap of the whole process every 10 ms and stops the run
	// when it is above the cap (an approximation: it cannot attribute
	// memory to one run or stop a single huge allocation); inside the
	// gVisor sandbox the sandbox's memory limit enforces it.
	MaxMemoryBytes int64 `json:"max_memory_bytes,omitempty"`
	// MaxGoroutines caps the script threads running at once: concur
	// workers and server handlers beyond it wait for a free slot.
	MaxGoroutines int `json:"max_goroutines,omitempty"`
}

// IsZero reports whether no limit is set.
func (l Limits) IsZero() bool { return l == Limits{} }

// Validate rejects negative values.
func (l Limits) Validate() error {
	switch {
	case l.Timeout < 0:
		return fmt.Errorf("invalid limits: timeout must not be negative, got %s", l.Timeout)
	case l.MaxOutputBytes < 0:
		return fmt.Errorf("invalid limits: max output bytes must not be negative, got %d", l.MaxOutputBytes)
	case l.MaxMemoryBytes < 0:
		return fmt.Errorf("invalid limits: max memory bytes must not be negative, got %d", l.MaxMemoryBytes)
	case l.MaxGoroutines < 0:
		return fmt.Errorf("invalid limits: max goroutines must not be negative, got %d", l.MaxGoroutines)
	}
	return nil
}

// WithLimits sets Config.Limits.
func WithLimits(l Limits) ConfigOption { return func(c *Config) { c.Limits = l } }

// Limit names one field of Limits in reports and errors.
type Limit string

const (
	LimitSteps      Limit = "max_steps"
	LimitTimeout    Limit = "timeout"
	LimitOutput     Limit = "max_output"
	LimitMemory     Limit = "max_memory"
	LimitGoroutines Limit = "max_goroutines"
)

// ErrLimitExceeded matches (errors.Is) the error of a run a limit stopped.
var ErrLimitExceeded = errors.New("limit exceeded")

// LimitError is why a limit stopped a run.
type LimitError struct {
	Limit  Limit
	Detail string // e.g. "more than 1000 steps"
}

func (e *LimitError) Error() string { return fmt.Sprintf("%s limit exceeded: %s", e.Limit, e.Detail) }

// Is makes errors.Is(err, ErrLimitExceeded) hold.
func (e *LimitError) Is(target error) bool { return target == ErrLimitExceeded }

// LimitsEnforced is the report of one run: the limits it was given, which
// of them this mode enforces (and how) or cannot enforce (and why), the
// one that stopped the run, and what the run used.
type LimitsEnforced struct {
	Limits      Limits           `json:"limits"`
	Enforced    map[Limit]string `json:"enforced,omitempty"`
	NotEnforced map[Limit]string `json:"not_enforced,omitempty"`
	StoppedBy   Limit            `json:"stopped_by,omitempty"`
	Steps       uint64           `json:"steps"`        // steps of the run's threads (counted when MaxSteps is set)
	OutputBytes int64            `json:"output_bytes"` // bytes printed (counted when MaxOutputBytes is set)
	PeakHeap    uint64           `json:"peak_heap_bytes,omitempty"`
	PeakThreads int64            `json:"peak_threads,omitempty"` // most script threads at once (counted when MaxGoroutines is set)
}

// How each limit is enforced without a sandbox.
var limitMethods = map[Limit]string{
	LimitSteps:      "Starlark execution steps, one budget shared by every thread of the run",
	LimitTimeout:    "context deadline: every thread is cancelled at its next step, blocking builtins return",
	LimitOutput:     "output (print, printf, module text, log records on stderr) counted before it is written",
	LimitMemory:     "heap watchdog: the whole process's Go heap sampled every 10 ms (approximate)",
	LimitGoroutines: "script threads (concur workers, server handlers) wait for one of N slots",
}

// LimitsEnforced returns the report of the most recent run that finished
// on this runtime (zero before the first). Concurrent callers that need
// their own run's report use WithLimitsReport.
func (rt *Runtime) LimitsEnforced() LimitsEnforced {
	if p := rt.lastReport.Load(); p != nil {
		return *p
	}
	return LimitsEnforced{}
}

type reportKey struct{}

// WithLimitsReport returns a context that makes the run started with it
// store its report in *dst when it finishes.
func WithLimitsReport(ctx context.Context, dst *LimitsEnforced) context.Context {
	return context.WithValue(ctx, reportKey{}, dst)
}

type runKey struct{}

// run is the state one limited run shares between its threads.
type run struct {
	lim       Limits
	ctx       context.Context
	cancel    context.CancelCauseFunc
	stopTimer context.CancelFunc

	stepsLeft   atomic.Int64 // budget not yet granted to a thread
	stepsUsed   atomic.Uint64
	output      atomic.Int64
	slots       chan struct{} // MaxGoroutines semaphore
	threads     atomic.Int64
	peakThreads atomic.Int64
	peakHeap    atomic.Uint64
	stopped     atomic.Pointer[LimitError]
	watchDone   chan struct{}
}

// runOf returns the limited run ctx belongs to, or nil.
func runOf(ctx context.Context) *run {
	r, _ := ctx.Value(runKey{}).(*run)
	return r
}

// beginRun starts a limited run for a top-level entry point. It returns
// ctx unchanged and a nil run when no limit is set or ctx already belongs
// to a run (a nested call joins it).
func (rt *Runtime) beginRun(ctx context.Context) (context.Context, *run) {
	lim := rt.cfg.Limits
	if lim.IsZero() || runOf(ctx) != nil {
		return ctx, nil
	}
	r := &run{lim: lim}
	ctx, r.cancel = context.WithCancelCause(ctx)
	if lim.Timeout > 0 {
		ctx, r.stopTimer = context.WithTimeoutCause(ctx, lim.Timeout,
			&LimitError{Limit: LimitTimeout, Detail: "the run took longer than " + lim.Timeout.String()})
	}
	if lim.MaxSteps > 0 {
		r.stepsLeft.Store(int64(min(lim.MaxSteps, 1<<62)))
	}
	if lim.MaxGoroutines > 0 {
		r.slots = make(chan struct{}, lim.MaxGoroutines)
	}
	r.ctx = context.WithValue(ctx, runKey{}, r)
	if lim.MaxMemoryBytes > 0 && rt.cfg.MemoryEnforcer == "" {
		r.watchDone = make(chan struct{})
		go r.watchHeap()
	}
	return r.ctx, r
}

// endRun finishes r (nil: nothing to do): it stops the watchdog, stores the
// report and turns err into the LimitError when a limit stopped the run.
func (rt *Runtime) endRun(r *run, err error) error {
	if r == nil {
		return err
	}
	if r.watchDone != nil {
		close(r.watchDone)
		r.sampleHeap(heapSample()) // a run shorter than a tick still reports its heap
	}
	var le *LimitError
	if errors.As(context.Cause(r.ctx), &le) && r.ctx.Err() != nil {
		r.stopped.CompareAndSwap(nil, le)
	}
	stopped := r.stopped.Load()
	rep := rt.report(r, stopped)
	if r.stopTimer != nil {
		r.stopTimer()
	}
	r.cancel(nil)
	rt.lastReport.Store(&rep)
	if dst, ok := r.ctx.Value(reportKey{}).(*LimitsEnforced); ok && dst != nil {
		*dst = rep
	}
	if stopped != nil {
		code := ExitScriptError
		if stopped.Limit == LimitTimeout {
			code = ExitTimeout
		}
		return &ScriptError{Message: "script stopped", ExitCode: code, Cause: stopped}
	}
	return err
}

func (rt *Runtime) report(r *run, stopped *LimitError) LimitsEnforced {
	rep := LimitsEnforced{
		Limits:      r.lim,
		Steps:       r.stepsUsed.Load(),
		OutputBytes: r.output.Load(),
		PeakHeap:    r.peakHeap.Load(),
		PeakThreads: r.peakThreads.Load(),
	}
	if stopped != nil {
		rep.StoppedBy = stopped.Limit
	}
	set := map[Limit]bool{
		LimitSteps: r.lim.MaxSteps > 0, LimitTimeout: r.lim.Timeout > 0, LimitOutput: r.lim.MaxOutputBytes > 0,
		LimitMemory: r.lim.MaxMemoryBytes > 0, LimitGoroutines: r.lim.MaxGoroutines > 0,
	}
	for l, on := range set {
		if !on {
			continue
		}
		how := limitMethods[l]
		if l == LimitMemory && rt.cfg.MemoryEnforcer != "" {
			how = rt.cfg.MemoryEnforcer
		}
		if rep.Enforced == nil {
			rep.Enforced = map[Limit]string{}
		}
		rep.Enforced[l] = how
	}
	return rep
}

// trip stops the run because of le (the first limit wins).
func (r *run) trip(le *LimitError) {
	if r.stopped.CompareAndSwap(nil, le) {
		r.cancel(le)
	}
}

// stepChunk is how many steps a thread takes from the run's budget at a time.
const stepChunk = 10_000

// take grants up to n steps from the budget (0 when it is spent).
func (r *run) take(n int64) int64 {
	for {
		left := r.stepsLeft.Load()
		if left <= 0 {
			return 0
		}
		g := min(n, left)
		if r.stepsLeft.CompareAndSwap(left, left-g) {
			return g
		}
	}
}

// bindSteps gives thread its first grant when it starts executing for r.
func (r *run) bindSteps(thread *starlark.Thread, st *threadState) {
	st.stepBase = thread.Steps
	st.stepLimit = thread.Steps
	r.grantSteps(thread, st)
}

// grantSteps extends thread's step limit by a grant, or stops the run.
func (r *run) grantSteps(thread *starlark.Thread, st *threadState) {
	g := r.take(stepChunk)
	if g == 0 {
		r.trip(&LimitError{Limit: LimitSteps, Detail: fmt.Sprintf("more than %d steps", r.lim.MaxSteps)})
		thread.Cancel(fmt.Sprintf("%s limit exceeded (%d steps)", LimitSteps, r.lim.MaxSteps))
		return
	}
	st.stepLimit += uint64(g)
	thread.SetMaxExecutionSteps(st.stepLimit)
}

// releaseSteps returns thread's unused grant and counts what it used.
func (r *run) releaseSteps(thread *starlark.Thread, st *threadState) {
	used := thread.Steps - st.stepBase
	r.stepsUsed.Add(used)
	if st.stepLimit > thread.Steps {
		r.stepsLeft.Add(int64(st.stepLimit - thread.Steps))
	}
	thread.SetMaxExecutionSteps(0) // unlimited until the next binding
}

// onMaxSteps is every runtime thread's OnMaxSteps hook.
func onMaxSteps(thread *starlark.Thread) {
	st := stateOf(thread)
	if st == nil || st.run == nil {
		thread.Cancel("too many steps")
		return
	}
	st.run.grantSteps(thread, st)
}

// admitOutput counts n bytes of output; it returns how many of them may be
// written (all, or what is left under the cap, after which the run stops).
func (r *run) admitOutput(n int) int {
	if r == nil || r.lim.MaxOutputBytes <= 0 {
		return n
	}
	total := r.output.Add(int64(n))
	if total <= r.lim.MaxOutputBytes {
		return n
	}
	r.trip(&LimitError{Limit: LimitOutput, Detail: fmt.Sprintf("more than %d bytes of output", r.lim.MaxOutputBytes)})
	allowed := int64(n) - (total - r.lim.MaxOutputBytes)
	return int(max(allowed, 0))
}

// acquireThread takes a script-thread slot (MaxGoroutines), waiting for one
// to free up; release gives it back. ok is false when the run ended first.
func (r *run) acquireThread(ctx context.Context) (release func(), ok bool) {
	if r == nil || r.slots == nil {
		return func() {}, true
	}
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, false
	}
	n := r.threads.Add(1)
	for {
		p := r.peakThreads.Load()
		if n <= p || r.peakThreads.CompareAndSwap(p, n) {
			break
		}
	}
	return func() { r.threads.Add(-1); <-r.slots }, true
}

// MaxThreads is the run's MaxGoroutines for the run thread belongs to (0 =
// no cap). Modules that fan out (concur) size their pools by it.
func MaxThreads(thread *starlark.Thread) int {
	if st := stateOf(thread); st != nil && st.run != nil {
		return st.run.lim.MaxGoroutines
	}
	return 0
}

// heapMetric is the runtime/metrics sample the watchdog reads.
const heapMetric = "/memory/classes/heap/objects:bytes"

// watchHeap stops the run when the process heap goes above MaxMemoryBytes.
func (r *run) watchHeap() {
	sample := heapSample()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	check := func() bool {
		h := r.sampleHeap(sample)
		if h > uint64(r.lim.MaxMemoryBytes) {
			r.trip(&LimitError{Limit: LimitMemory, Detail: fmt.Sprintf("heap at %d bytes, above %d", h, r.lim.MaxMemoryBytes)})
			return true
		}
		return false
	}
	for {
		select {
		case <-r.watchDone:
			return
		case <-r.ctx.Done():
			return
		case <-tick.C:
			if check() {
				return
			}
		}
	}
}

func heapSample() []metrics.Sample { return []metrics.Sample{{Name: heapMetric}} }

// sampleHeap reads the heap size and raises the run's peak to it.
func (r *run) sampleHeap(sample []metrics.Sample) uint64 {
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	h := sample[0].Value.Uint64()
	for {
		p := r.peakHeap.Load()
		if h <= p || r.peakHeap.CompareAndSwap(p, h) {
			return h
		}
	}
}

// CapOutput applies the run's MaxOutputBytes to text a module is about
// to write somewhere other than through WriteText (stderr, say): it
// returns the part that may still be written ("" when none). Output
// through print and WriteText is counted already.
func CapOutput(thread *starlark.Thread, text string) string { return limitOutput(thread, text) }

// limitOutput applies the run's MaxOutputBytes to text about to be
// written on thread: the part that may still be written ("" when none).
func limitOutput(thread *starlark.Thread, text string) string {
	st := stateOf(thread)
	if st == nil || st.run == nil || st.run.lim.MaxOutputBytes <= 0 {
		return text
	}
	return text[:st.run.admitOutput(len(text))]
}
