package libkite

import (
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite/permissions"
)

// threadState is everything libkite keeps per Starlark thread. It lives in
// one thread-local so concurrent runtimes and threads never share state.
type threadState struct {
	rt      *Runtime
	checker *permissions.Checker
	ctx     context.Context
	dryRun  bool
	origin  string // label of the load()ed module whose top level runs here

	mu        sync.Mutex
	gen       uint64      // execution generation, guards late context cancels
	cancelled atomic.Bool // the thread was cancelled and must be uncancelled before reuse
	pbuf      []byte      // printf output not yet terminated by a newline

	// the limited run the current execution belongs to (nil: none), and
	// the thread's step counter at binding and its granted limit
	run                 *run
	stepBase, stepLimit uint64
}

const stateKey = "libkite.state"

func stateOf(thread *starlark.Thread) *threadState {
	if thread == nil {
		return nil
	}
	st, _ := thread.Local(stateKey).(*threadState)
	return st
}

func ensureState(thread *starlark.Thread) *threadState {
	st := stateOf(thread)
	if st == nil {
		st = &threadState{}
		thread.SetLocal(stateKey, st)
	}
	return st
}

// GetRuntime returns the runtime that created thread, or nil.
func GetRuntime(thread *starlark.Thread) *Runtime {
	if st := stateOf(thread); st != nil {
		return st.rt
	}
	return nil
}

// SetPermissions installs checker on thread (nil = trust mode). Call it
// before the thread starts executing.
func SetPermissions(thread *starlark.Thread, checker *PermissionChecker) {
	ensureState(thread).checker = checker
}

// GetPermissions returns the checker installed on thread, or nil.
func GetPermissions(thread *starlark.Thread) *PermissionChecker {
	if st := stateOf(thread); st != nil {
		return st.checker
	}
	return nil
}

// SetModuleOrigin labels code running on thread as coming from a load()ed
// module, so denials can name it.
func SetModuleOrigin(thread *starlark.Thread, label string) {
	ensureState(thread).origin = label
}

// DryRun reports whether side effects must be simulated on this thread.
func DryRun(thread *starlark.Thread) bool {
	st := stateOf(thread)
	return st != nil && st.dryRun
}

// Context returns the context bound to the thread's current execution
// (never nil). Blocking builtins should honour it.
func Context(thread *starlark.Thread) context.Context {
	if st := stateOf(thread); st != nil && st.ctx != nil {
		return st.ctx
	}
	return context.Background()
}

// Check asks the thread's permission checker whether the call
// module.category function(resource) may proceed. Builtins call it before
// any side effect. No checker (trust mode) or a nil thread allows.
func Check(thread *starlark.Thread, module, category, function, resource string) error {
	st := stateOf(thread)
	if st == nil || st.checker == nil {
		return nil
	}
	err := st.checker.Check(module, category, function, resource)
	if pe, ok := err.(*PermissionError); ok {
		pe.Origin = originOf(thread, st)
	}
	return err
}

// CheckPath canonicalises path (absolute against the process working
// directory, cleaned, symlinks of its deepest existing ancestor resolved)
// and checks it as the resource. It returns the canonical path.
func CheckPath(thread *starlark.Thread, module, category, function, path string) (string, error) {
	canon := CanonicalPath(path)
	return canon, Check(thread, module, category, function, canon)
}

// CanonicalPath makes path absolute and clean and resolves symlinks in its
// longest existing prefix, so "..", links and /proc/self/root tricks
// cannot dodge a rule. Paths that do not exist yet keep their tail.
func CanonicalPath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	var tail []string
	cur := abs
	for {
		if resolved, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(append([]string{resolved}, tail...)...)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs
		}
		tail = append([]string{filepath.Base(cur)}, tail...)
		cur = parent
	}
}

// CanonicalURL is the permission resource of a URL (DECISION P1's
// counterpart for http.client): scheme and host lower-cased and any
// userinfo dropped, so "http://allowed.example.com@evil/" is checked as
// "http://evil/" — the host actually contacted — and credentials never
// reach rules, denials or the audit log. Text that does not parse as a
// URL with a host is returned unchanged (the request fails later).
func CanonicalURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	u.User = nil
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	return u.String()
}

// originOf names the load()ed module responsible for the current call:
// the innermost .star frame that is not the entry script, else the
// thread's own origin label.
func originOf(thread *starlark.Thread, st *threadState) string {
	entry := ""
	if st.rt != nil {
		entry = st.rt.cfg.ScriptPath
	}
	for i := 0; i < thread.CallStackDepth(); i++ {
		f := thread.CallFrame(i).Pos.Filename()
		if strings.HasSuffix(f, ".star") && f != entry && filepath.Clean(f) != filepath.Clean(entry) {
			return moduleLabel(f)
		}
	}
	return st.origin
}

// moduleLabel is the display name of a module file: the directory name for
// main.star, else the base name without .star.
func moduleLabel(file string) string {
	base := filepath.Base(file)
	if base == "main.star" {
		return filepath.Base(filepath.Dir(file))
	}
	return strings.TrimSuffix(base, ".star")
}

var (
	stdoutMu sync.Mutex
	stdoutW  io.Writer // nil = os.Stdout; set by RedirectStdout
)

func writeStdout(b []byte) {
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	if stdoutW != nil {
		stdoutW.Write(b)
		return
	}
	os.Stdout.Write(b)
}

// RedirectStdout sends the runtime's standard output (print and printf
// without a print hook, in every runtime of the process) to w until
// restore is called. A server that owns the process's stdout for a
// protocol (mcp.serve over stdio) uses it to keep script output off the
// wire. Redirections nest: restore reinstates the previous writer.
func RedirectStdout(w io.Writer) (restore func()) {
	stdoutMu.Lock()
	prev := stdoutW
	stdoutW = w
	stdoutMu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			stdoutMu.Lock()
			stdoutW = prev
			stdoutMu.Unlock()
		})
	}
}
