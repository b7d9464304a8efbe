// Package libkite is kite's embeddable Starlark runtime: a Runtime runs
// scripts against a Registry of modules under a permission policy, with
// cancellation by context, defer/on_signal cleanups, load() of Starlark
// modules and a test runner.
package libkite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"reflect"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/project-starkite/starkite/libkite/permissions"
	"github.com/project-starkite/starkite/libkite/startype"
)

// Version is the libkite API version.
const Version = "1.0.0"

// fileOptions is kite's dialect: the options users of an automation
// language expect. Scripts valid in the strict dialect keep working.
var fileOptions = &syntax.FileOptions{
	Set:             true,
	While:           true,
	TopLevelControl: true,
	GlobalReassign:  true,
	Recursion:       true,
}

// FileOptions returns the Starlark dialect kite compiles scripts with.
func FileOptions() *syntax.FileOptions { o := *fileOptions; return &o }

// Runtime executes Starlark scripts. Execute, ExecuteRepl and
// ExecuteTests* use the runtime's main thread and must not run
// concurrently with each other; Call, CallFn, Eval and GetGlobalVal may
// be used from many goroutines at once.
type Runtime struct {
	cfg         *Config
	registry    *Registry
	checker     *PermissionChecker
	varStore    VarStore
	dryRun      bool
	logger      *slog.Logger
	predeclared starlark.StringDict // registry exports + aliases + builtins + Globals

	mu      sync.Mutex                          // serialises writers of globals
	globals atomic.Pointer[starlark.StringDict] // retained top-level bindings; copy-on-write, read lock-free

	thread  *starlark.Thread // main thread
	modules *ModuleCache
	spare   atomic.Pointer[pooledThread] // one idle Call thread: the common sequential case
	threads sync.Pool                    // more idle Call threads, for concurrent callers

	cleanupMu sync.Mutex
	defers    []starlark.Callable
	handlers  map[string]starlark.Callable // canonical signal name → handler
	cleanups  []func()

	closed atomic.Bool

	lastReport atomic.Pointer[LimitsEnforced] // of the last limited run that finished
}

// New builds a runtime from cfg and opts (either may be nil). cfg itself
// is not modified. Permissions nil means trust mode (everything allowed).
func New(cfg *Config, opts ...ConfigOption) (*Runtime, error) {
	c := &Config{}
	if cfg != nil {
		*c = *cfg
	}
	for _, o := range opts {
		o(c)
	}
	return newRuntime(c)
}

// NewTrusted builds a runtime whose scripts may do everything (allow-all
// checker). Permissions given in cfg or opts are replaced.
func NewTrusted(cfg *Config, opts ...ConfigOption) (*Runtime, error) {
	return New(cfg, append(opts, WithTrusted())...)
}

// NewSandboxed builds a runtime whose scripts may only compute, print and
// log (deny-all checker). Permissions given in cfg or opts are replaced.
func NewSandboxed(cfg *Config, opts ...ConfigOption) (*Runtime, error) {
	return New(cfg, append(opts, WithSandboxed())...)
}

func newRuntime(cfg *Config) (*Runtime, error) {
	if cfg.OutputFormat == "" {
		cfg.OutputFormat = "text"
	}
	if err := cfg.Limits.Validate(); err != nil {
		return nil, err
	}
	checker, err := NewPermissionChecker(cfg.Permissions)
	if err != nil {
		return nil, fmt.Errorf("invalid permission config: %w", err)
	}
	if cfg.AuditLog != nil || cfg.PermissionPrompt != nil {
		h := permissions.Hooks{Prompt: cfg.PermissionPrompt}
		if cfg.AuditLog != nil {
			h.Audit = permissions.JSONAuditWriter(cfg.AuditLog)
		}
		checker = checker.WithHooks(h)
	}
	reg := cfg.Registry
	if reg == nil {
		mc := cfg.ModuleConfig
		if mc == nil {
			mc = &ModuleConfig{DryRun: cfg.DryRun, Debug: cfg.Debug, TestMode: cfg.TestMode, VarStore: cfg.VarStore}
		}
		reg = NewRegistry(mc)
	}
	rt := &Runtime{
		cfg:      cfg,
		registry: reg,
		checker:  checker,
		varStore: cfg.VarStore,
		dryRun:   cfg.DryRun || reg.cfg.DryRun,
		logger:   cfg.Logger,
		modules:  NewModuleCache(),
		handlers: map[string]starlark.Callable{},
	}
	rt.globals.Store(&starlark.StringDict{})
	if rt.varStore == nil {
		rt.varStore = reg.cfg.VarStore
	}
	if rt.logger == nil {
		rt.logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if rt.predeclared, err = rt.buildPredeclared(); err != nil {
		return nil, err
	}
	rt.thread = rt.NewThread("libkite")
	rt.threads.New = func() any {
		t := rt.NewThread("call")
		return &pooledThread{thread: t, st: stateOf(t)}
	}
	if !cfg.NoSignals {
		signalHub.add(rt)
	}
	return rt, nil
}

// buildPredeclared assembles, later winning: module namespaces, module
// aliases, runtime builtins, host Globals.
func (rt *Runtime) buildPredeclared() (starlark.StringDict, error) {
	ls := rt.registry.load()
	if ls.err != nil {
		return nil, fmt.Errorf("failed to load modules: %w", ls.err)
	}
	var env starlark.StringDict
	if len(rt.cfg.Modules) == 0 {
		env = make(starlark.StringDict, len(ls.predeclared)+len(runtimeBuiltins)+len(rt.cfg.Globals))
		for k, v := range ls.predeclared {
			env[k] = v
		}
	} else {
		keep := map[ModuleName]bool{}
		for _, m := range rt.cfg.Modules {
			keep[ModuleName(m)] = true
		}
		env = starlark.StringDict{}
		for k, v := range ls.exports {
			if keep[ls.exportOwner[k]] {
				env[k] = v
			}
		}
		for k, v := range ls.aliases {
			if keep[ls.aliasOwner[k]] {
				env[k] = v
			}
		}
	}
	for k, v := range runtimeBuiltins {
		env[k] = v
	}
	keys := make([]string, 0, len(rt.cfg.Globals))
	for k := range rt.cfg.Globals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, err := startype.ToStarlark(rt.cfg.Globals[k])
		if err != nil {
			return nil, fmt.Errorf("invalid global %q: %w", k, err)
		}
		v.Freeze()
		env[k] = v
	}
	return env, nil
}

// NewThread returns a thread bound to this runtime: load(), print
// routing, the permission checker and dry-run flag are installed.
func (rt *Runtime) NewThread(name string) *starlark.Thread {
	t := &starlark.Thread{Name: name, Load: rt.load, Print: rt.print, OnMaxSteps: onMaxSteps}
	t.SetLocal(stateKey, &threadState{rt: rt, checker: rt.checker, dryRun: rt.dryRun})
	return t
}

// Registry returns the runtime's module registry.
func (rt *Runtime) Registry() *Registry { return rt.registry }

// Permissions returns the active checker (nil in trust mode).
func (rt *Runtime) Permissions() *PermissionChecker { return rt.checker }

// VarStore returns the variable store scripts read (may be nil).
func (rt *Runtime) VarStore() VarStore { return rt.varStore }

// Config returns the runtime's effective configuration (do not modify).
func (rt *Runtime) Config() *Config { return rt.cfg }

// Logger returns the runtime's diagnostics logger.
func (rt *Runtime) Logger() *slog.Logger { return rt.logger }

// AddCleanup registers fn to run at Close (e.g. closing a connection a
// module opened for this runtime). Cleanups run in reverse order.
func (rt *Runtime) AddCleanup(fn func()) {
	rt.cleanupMu.Lock()
	rt.cleanups = append(rt.cleanups, fn)
	rt.cleanupMu.Unlock()
}

// Close stops signal handling, cancels a running Execute and runs the
// registered cleanups. The registry is not closed: it may be shared by
// many runtimes (close it with Registry.Close when done with it).
func (rt *Runtime) Close() error {
	if rt.closed.Swap(true) {
		return nil
	}
	signalHub.remove(rt)
	cancelThread(rt.thread, stateOf(rt.thread), "runtime closed")
	rt.cleanupMu.Lock()
	cleanups := rt.cleanups
	rt.cleanups = nil
	rt.cleanupMu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	return nil
}

// Cleanup is an alias of Close.
func (rt *Runtime) Cleanup() error { return rt.Close() }

var errClosed = errors.New("libkite: runtime is closed")

// env returns the environment scripts see: predeclared names plus the
// retained top-level bindings of earlier executions.
func (rt *Runtime) env() starlark.StringDict {
	globals := *rt.globals.Load()
	if len(globals) == 0 {
		return rt.predeclared
	}
	env := make(starlark.StringDict, len(rt.predeclared)+len(globals))
	for k, v := range rt.predeclared {
		env[k] = v
	}
	for k, v := range globals {
		env[k] = v
	}
	return env
}

func (rt *Runtime) retain(globals starlark.StringDict) {
	rt.mu.Lock()
	next := copyDict(*rt.globals.Load())
	for k, v := range globals {
		next[k] = v
	}
	rt.globals.Store(&next)
	rt.mu.Unlock()
}

// GetGlobalVal returns a retained top-level binding.
func (rt *Runtime) GetGlobalVal(name string) (starlark.Value, bool) {
	v, ok := (*rt.globals.Load())[name]
	return v, ok
}

// Globals returns a copy of the retained top-level bindings.
func (rt *Runtime) Globals() starlark.StringDict {
	return copyDict(*rt.globals.Load())
}

// Execute runs src as a script. Its top-level bindings are retained for
// Call, Eval and GetGlobalVal. Deferred functions run afterwards, whatever
// the outcome. exit(0) → nil; exit(n) → *ExitError; evaluation errors →
// *ScriptError; syntax errors are returned as they are.
func (rt *Runtime) Execute(ctx context.Context, src string) error {
	return rt.execute(ctx, rt.filename("<script>"), src)
}

func (rt *Runtime) execute(ctx context.Context, filename string, src any) error {
	if rt.closed.Load() {
		return errClosed
	}
	ctx, r := rt.beginRun(ctx)
	thread := rt.thread
	b := bind(ctx, thread)
	err := func() (err error) {
		defer b.release()
		defer recoverPanic(&err, rt.cfg.Debug)
		env := rt.env()
		f, prog, err := starlark.SourceProgramOptions(fileOptions, filename, src, env.Has)
		if err != nil {
			return err
		}
		globals, err := prog.Init(thread, env)
		globals.Freeze()
		rt.retain(globals)
		if err == nil {
			err = rt.runEntryPoint(thread, f, globals)
		}
		return err
	}()
	rt.flushPrintf(thread)
	rt.runDefers(ctx)
	return rt.endRun(r, mapError(ctx, err))
}

// runEntryPoint calls Config.EntryPoint when the script defines it and did
// not call it at top level itself.
func (rt *Runtime) runEntryPoint(thread *starlark.Thread, f *syntax.File, globals starlark.StringDict) error {
	name := rt.cfg.EntryPoint
	if name == "" {
		return nil
	}
	fn, ok := globals[name].(starlark.Callable)
	if !ok {
		if rt.cfg.RequireEntryPoint {
			return fmt.Errorf("entry point %s() not defined in %s", name, rt.filename("<script>"))
		}
		if globals[name] != nil {
			rt.logger.Debug("entry point is not callable; skipped", "name", name)
		}
		return nil
	}
	if callsAtTopLevel(f, name) {
		return nil
	}
	_, err := starlark.Call(thread, fn, nil, nil)
	return err
}

// callsAtTopLevel reports whether top-level code (outside def bodies)
// calls name().
func callsAtTopLevel(f *syntax.File, name string) bool {
	found := false
	for _, stmt := range f.Stmts {
		syntax.Walk(stmt, func(n syntax.Node) bool {
			switch n := n.(type) {
			case *syntax.DefStmt, *syntax.LambdaExpr:
				return false
			case *syntax.CallExpr:
				if id, ok := n.Fn.(*syntax.Ident); ok && id.Name == name {
					found = true
				}
			}
			return !found
		})
	}
	return found
}

// ExecuteRepl runs src in REPL mode: it sees the bindings of earlier
// executions and its own top-level bindings are kept (unfrozen). Deferred
// functions are not run.
func (rt *Runtime) ExecuteRepl(ctx context.Context, src string) error {
	if rt.closed.Load() {
		return errClosed
	}
	ctx, r := rt.beginRun(ctx)
	thread := rt.thread
	b := bind(ctx, thread)
	err := func() (err error) {
		defer b.release()
		defer recoverPanic(&err, rt.cfg.Debug)
		// one REPL chunk against predeclared names + retained bindings:
		// globals stay unfrozen and assignable across inputs (x = 1 then
		// x += 1), and load() bindings persist like any other
		opts := *fileOptions
		opts.LoadBindsGlobally = true
		f, err := opts.Parse("<repl>", src, 0)
		if err != nil {
			return err
		}
		globals := copyDict(rt.env())
		err = starlark.ExecREPLChunk(f, thread, globals)
		changed := starlark.StringDict{}
		for k, v := range globals {
			if p, ok := rt.predeclared[k]; !ok || !sameValue(p, v) {
				changed[k] = v
			}
		}
		rt.retain(changed)
		return err
	}()
	rt.flushPrintf(thread)
	return rt.endRun(r, mapError(ctx, err))
}

// sameValue reports whether a and b are the same value (identity for
// reference types) without panicking on uncomparable dynamic types.
func sameValue(a, b starlark.Value) bool {
	ta := reflect.TypeOf(a)
	return ta == reflect.TypeOf(b) && ta != nil && ta.Comparable() && a == b
}

// Eval evaluates one expression against the predeclared names and the
// retained bindings. Statements are errors.
func (rt *Runtime) Eval(ctx context.Context, expr string) (starlark.Value, error) {
	if rt.closed.Load() {
		return nil, errClosed
	}
	ctx, r := rt.beginRun(ctx)
	thread := rt.NewThread("eval")
	b := bind(ctx, thread)
	v, err := func() (v starlark.Value, err error) {
		defer b.release()
		defer recoverPanic(&err, rt.cfg.Debug)
		return starlark.EvalOptions(fileOptions, thread, "<eval>", expr, rt.env())
	}()
	rt.flushPrintf(thread)
	if err != nil {
		err = mapError(ctx, err)
	}
	if err = rt.endRun(r, err); err != nil {
		return nil, err
	}
	return v, nil
}

// Call calls the retained global function name with Go arguments
// (converted by startype). Distinct calls may run concurrently.
func (rt *Runtime) Call(ctx context.Context, name string, args []any, kwargs map[string]any) (starlark.Value, error) {
	v, ok := (*rt.globals.Load())[name]
	if !ok {
		return nil, fmt.Errorf("libkite: global %q not defined", name)
	}
	fn, ok := v.(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("libkite: global %q is not callable (type %s)", name, v.Type())
	}
	return rt.call(ctx, fn, args, kwargs)
}

// CallFn calls fn with Go arguments (converted by startype).
func (rt *Runtime) CallFn(ctx context.Context, fn starlark.Callable, args []any, kwargs map[string]any) (starlark.Value, error) {
	if fn == nil {
		return nil, errors.New("libkite: CallFn: fn is nil")
	}
	return rt.call(ctx, fn, args, kwargs)
}

func (rt *Runtime) call(ctx context.Context, fn starlark.Callable, args []any, kwargs map[string]any) (starlark.Value, error) {
	if rt.closed.Load() {
		return nil, errClosed
	}
	sargs, err := startype.Tuple(args)
	if err != nil {
		return nil, fmt.Errorf("libkite: %w", err)
	}
	skw, err := startype.Kwargs(kwargs)
	if err != nil {
		return nil, fmt.Errorf("libkite: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ctx, r := rt.beginRun(ctx)
	pt := rt.spare.Swap(nil)
	if pt == nil {
		pt = rt.threads.Get().(*pooledThread)
	}
	v, err := rt.callPooled(ctx, pt, fn, sargs, skw)
	if !rt.spare.CompareAndSwap(nil, pt) {
		rt.threads.Put(pt)
	}
	if err != nil {
		err = mapError(ctx, err)
	}
	if err = rt.endRun(r, err); err != nil {
		return nil, err
	}
	return v, nil
}

// pooledThread is a reusable Call thread with its state at hand.
type pooledThread struct {
	thread *starlark.Thread
	st     *threadState
}

func (rt *Runtime) callPooled(ctx context.Context, pt *pooledThread, fn starlark.Callable, args starlark.Tuple, kwargs []starlark.Tuple) (v starlark.Value, err error) {
	b := bindState(ctx, pt.thread, pt.st)
	defer func() {
		b.release()
		if p := recover(); p != nil {
			v, err = nil, panicError(p, rt.cfg.Debug)
		}
		if rt.cfg.Print != nil {
			rt.flushPrintf(pt.thread)
		}
	}()
	return starlark.Call(pt.thread, fn, args, kwargs)
}

func (rt *Runtime) filename(def string) string {
	if rt.cfg.ScriptPath != "" {
		return rt.cfg.ScriptPath
	}
	return def
}

// bind ties thread to ctx: cancellation or deadline cancels the thread at
// its next step. The binding must be released when the thread is done;
// after release, ctx can no longer cancel the thread.
func bind(ctx context.Context, thread *starlark.Thread) binding {
	return bindState(ctx, thread, ensureState(thread))
}

func bindState(ctx context.Context, thread *starlark.Thread, st *threadState) binding {
	st.ctx = ctx
	if st.rt == nil || st.rt.cfg.Limits.IsZero() {
		// no limits: nothing to join (skips a context lookup per call)
	} else if r := runOf(ctx); r != nil {
		st.run = r
		if r.lim.MaxSteps > 0 {
			r.bindSteps(thread, st)
		}
	}
	if st.cancelled.Load() { // only libkite cancels its threads
		st.cancelled.Store(false)
		thread.Uncancel()
	}
	if ctx.Done() == nil {
		return binding{thread: thread, st: st}
	}
	if err := ctx.Err(); err != nil {
		cancelThread(thread, st, err.Error())
		return binding{thread: thread, st: st}
	}
	st.mu.Lock()
	gen := st.gen
	st.mu.Unlock()
	stop := context.AfterFunc(ctx, func() {
		st.mu.Lock()
		if st.gen == gen { // still the same execution
			cancelThread(thread, st, ctx.Err().Error())
		}
		st.mu.Unlock()
	})
	return binding{thread: thread, st: st, stop: stop}
}

// cancelThread stops thread at its next step and remembers that it must
// be uncancelled before reuse.
func cancelThread(thread *starlark.Thread, st *threadState, reason string) {
	st.cancelled.Store(true)
	thread.Cancel(reason)
}

// binding is the link between one execution on a thread and its context.
type binding struct {
	thread *starlark.Thread
	st     *threadState
	stop   func() bool
}

func (b binding) release() {
	if r := b.st.run; r != nil {
		if r.lim.MaxSteps > 0 {
			r.releaseSteps(b.thread, b.st)
		}
		b.st.run = nil
	}
	if b.stop != nil {
		b.stop()
		b.st.mu.Lock()
		b.st.gen++ // a cancel still in flight is now ignored
		b.st.mu.Unlock()
	}
	b.st.ctx = nil
}

// CancelledError is the cause of a script stopped by its context. It
// unwraps to both the Starlark error and the context's error, so
// errors.Is(err, context.DeadlineExceeded) holds.
type CancelledError struct {
	Eval error // the *starlark.EvalError the interpreter raised
	Ctx  error // context.Canceled or context.DeadlineExceeded
}

func (e *CancelledError) Error() string   { return e.Eval.Error() }
func (e *CancelledError) Unwrap() []error { return []error{e.Eval, e.Ctx} }

// mapError turns an execution error into the runtime's error contract.
func mapError(ctx context.Context, err error) error {
	if err == nil {
		// The context ended before the run did, and a blocking builtin
		// (a server, a controller) returned because of it before the
		// interpreter's next step noticed: the run was still cancelled.
		if ctxErr := ctx.Err(); ctxErr != nil {
			return NewScriptError("script error", ExitScriptError,
				&CancelledError{Eval: fmt.Errorf("Starlark computation cancelled: %s", ctxErr), Ctx: ctxErr})
		}
		return nil
	}
	if code, ok := exitCode(err); ok {
		if code == 0 {
			return nil
		}
		return &ExitError{Code: code}
	}
	var evalErr *starlark.EvalError
	if !errors.As(err, &evalErr) {
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			return &CancelledError{Eval: err, Ctx: ctxErr}
		}
		return err // syntax/resolve errors, panics, closed runtime
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return NewScriptError("script error", ExitScriptError, &CancelledError{Eval: err, Ctx: ctxErr})
	}
	return NewScriptError("script error", ExitScriptError, err)
}

// recoverPanic turns a panic in a builtin into an error so a buggy module
// cannot crash the host.
func recoverPanic(err *error, withStack bool) {
	if p := recover(); p != nil {
		*err = panicError(p, withStack)
	}
}

func panicError(p any, withStack bool) error {
	if withStack {
		return fmt.Errorf("internal error: panic: %v\n%s", p, debug.Stack())
	}
	return fmt.Errorf("internal error: panic: %v", p)
}

// PrintVariables writes the variable store to stdout (debug helper).
func (rt *Runtime) PrintVariables() {
	fmt.Print(rt.formatVariables())
}

func (rt *Runtime) formatVariables() string {
	vs := rt.varStore
	if vs == nil || len(vs.Keys()) == 0 {
		return "No variables loaded\n"
	}
	lister, ok := vs.(VarLister)
	if !ok {
		return "Variable store does not support listing all variables\n"
	}
	all := lister.All()
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := "Variables:\n"
	for _, k := range keys {
		out += fmt.Sprintf("  %s = %v\n", k, all[k])
	}
	return out
}

var appVersion atomic.Value // string

// SetAppVersion records the version of the program embedding libkite
// (scripts read it with runtime.version()).
func SetAppVersion(v string) { appVersion.Store(v) }

// AppVersion returns the version set with SetAppVersion, or "dev".
func AppVersion() string {
	if v, _ := appVersion.Load().(string); v != "" {
		return v
	}
	return "dev"
}
