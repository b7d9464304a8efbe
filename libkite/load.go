package libkite

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"go.starlark.net/starlark"
)

// ModulePathEnv lists extra load() search directories (colon-separated).
const ModulePathEnv = "STARKITE_MODULE_PATH"

// ModuleCache holds the Starlark modules a runtime has load()ed, keyed by
// resolved absolute path, so each file executes once per runtime.
type ModuleCache struct {
	mu      sync.Mutex
	entries map[string]*cacheEntry
	files   map[string]struct{} // every file load() read, whatever the outcome
}

type cacheEntry struct {
	value   starlark.Value
	err     error
	loading bool
	done    chan struct{}
}

// NewModuleCache returns an empty cache.
func NewModuleCache() *ModuleCache {
	return &ModuleCache{entries: map[string]*cacheEntry{}, files: map[string]struct{}{}}
}

// LoadedFiles returns the absolute paths of the Starlark files load() has
// read in this runtime, sorted — including a file whose load failed (a
// syntax error, say) and each file of a module directory. Hosts that re-run
// a script when its sources change (kite watch) watch these.
func (rt *Runtime) LoadedFiles() []string {
	c := rt.modules
	c.mu.Lock()
	defer c.mu.Unlock()
	files := make([]string, 0, len(c.files))
	for f := range c.files {
		files = append(files, f)
	}
	sort.Strings(files)
	return files
}

// Get returns a loaded module value.
func (c *ModuleCache) Get(path string) (starlark.Value, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[path]
	if !ok || e.loading || e.err != nil {
		return nil, false
	}
	return e.value, true
}

// Set stores a loaded module value.
func (c *ModuleCache) Set(path string, v starlark.Value) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[path] = &cacheEntry{value: v, done: closedChan}
}

// StartLoading marks path as loading; false if it already is.
func (c *ModuleCache) StartLoading(path string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[path]; ok && e.loading {
		return false
	}
	c.entries[path] = &cacheEntry{loading: true, done: make(chan struct{})}
	return true
}

// StopLoading clears the loading mark of path (without storing a value).
func (c *ModuleCache) StopLoading(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[path]; ok && e.loading {
		close(e.done)
		delete(c.entries, path)
	}
}

// Clear forgets every module.
func (c *ModuleCache) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries = map[string]*cacheEntry{}
}

// Size reports how many modules are cached.
func (c *ModuleCache) Size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, e := range c.entries {
		if !e.loading {
			n++
		}
	}
	return n
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// loadingKey marks, per thread, the chain of modules being loaded so that
// a cycle is reported instead of deadlocking.
const loadingKey = "libkite.loading"

// load is the thread Load hook: a built-in module name yields its
// namespace; anything else is a Starlark file or module directory.
func (rt *Runtime) load(thread *starlark.Thread, module string) (starlark.StringDict, error) {
	if v, ok := rt.predeclared[module]; ok {
		if _, isMod := rt.registry.Get(ModuleName(module)); isMod {
			return starlark.StringDict{module: v}, nil
		}
	}
	val, err := rt.loadStar(thread, module)
	if err != nil {
		if IsPermissionError(err) {
			return nil, err // "permission denied: fs.read load(...)" says it all
		}
		return nil, fmt.Errorf("cannot load %s: %w", module, err)
	}
	return starlark.StringDict{exportName(module, val): val}, nil
}

// exportName is the one symbol a load of module binds.
func exportName(module string, val starlark.Value) string {
	if m, ok := val.(*ModuleValue); ok {
		return m.Name()
	}
	return module
}

func (rt *Runtime) loadStar(thread *starlark.Thread, module string) (starlark.Value, error) {
	path, isDir, err := rt.resolve(thread, module)
	if err != nil {
		return nil, err
	}
	if err := rt.checkLoad(thread, path); err != nil {
		return nil, err
	}
	if v, ok := rt.modules.Get(path); ok {
		return v, nil
	}
	chain, _ := thread.Local(loadingKey).([]string)
	for _, p := range chain {
		if p == path {
			return nil, fmt.Errorf("circular dependency detected loading module %s", module)
		}
	}
	// Another thread may be loading the same file: wait for it.
	for {
		if rt.modules.StartLoading(path) {
			break
		}
		rt.modules.mu.Lock()
		e := rt.modules.entries[path]
		rt.modules.mu.Unlock()
		if e == nil {
			continue
		}
		<-e.done
		if v, ok := rt.modules.Get(path); ok {
			return v, nil
		}
	}
	name := symbolName(module, path, isDir)
	val, err := rt.execModule(thread, name, path, isDir, append(chain, path))
	if err != nil {
		rt.modules.StopLoading(path)
		return nil, err
	}
	rt.modules.mu.Lock()
	if e, ok := rt.modules.entries[path]; ok && e.loading {
		close(e.done)
	}
	rt.modules.entries[path] = &cacheEntry{value: val, done: closedChan}
	rt.modules.mu.Unlock()
	return val, nil
}

// checkLoad lets code load freely from the places code lives — the entry
// script's directory tree, the working directory tree, the runtime's
// WorkDir, $STARKITE_MODULE_PATH and ~/.starkite/modules — and treats any
// other file as a file read: load("/etc/x.star") or load("../../x.star")
// escaping those roots needs fs.read on it (checked as function "load" on
// the canonical path, before the cache so a narrower thread cannot ride
// on another's earlier load). deny-all therefore still loads project
// modules but cannot read arbitrary files through load().
func (rt *Runtime) checkLoad(thread *starlark.Thread, path string) error {
	canon := CanonicalPath(path)
	for _, root := range rt.loadRoots() {
		if root != "" && (canon == root || strings.HasPrefix(canon, root+string(filepath.Separator)) || root == string(filepath.Separator)) {
			return nil
		}
	}
	return Check(thread, "fs", "read", "load", canon)
}

// loadRoots are the canonical directories load() reads without an fs
// check.
func (rt *Runtime) loadRoots() []string {
	var roots []string
	add := func(dir string) {
		if dir != "" {
			roots = append(roots, CanonicalPath(dir))
		}
	}
	if sp := rt.cfg.ScriptPath; sp != "" && !strings.HasPrefix(sp, "<") {
		add(filepath.Dir(sp))
	}
	add(rt.cfg.WorkDir)
	if cwd, err := os.Getwd(); err == nil {
		add(cwd)
	}
	for _, d := range filepath.SplitList(os.Getenv(ModulePathEnv)) {
		add(d)
	}
	if home, err := os.UserHomeDir(); err == nil {
		add(filepath.Join(home, ".starkite", "modules"))
	}
	return roots
}

// symbolName names the exported module value (builtins.md §9.1).
func symbolName(module, path string, isDir bool) string {
	if !isExplicitPath(module) {
		return module
	}
	if isDir {
		return filepath.Base(path)
	}
	if filepath.Base(path) == "main.star" {
		return filepath.Base(filepath.Dir(path))
	}
	return strings.TrimSuffix(filepath.Base(path), ".star")
}

func isExplicitPath(module string) bool {
	return strings.Contains(module, "/") || strings.HasSuffix(module, ".star")
}

// execModule runs a module file (or a module directory's files) on a new
// thread that inherits the caller's permissions, and returns its public
// globals as one module value.
func (rt *Runtime) execModule(parent *starlark.Thread, name, path string, isDir bool, chain []string) (starlark.Value, error) {
	files := []string{path}
	if isDir {
		entry, err := dirEntryFile(path)
		if err != nil {
			return nil, err
		}
		files = []string{entry}
		others, _ := filepath.Glob(filepath.Join(path, "*.star"))
		sort.Strings(others)
		for _, f := range others {
			if f != entry {
				files = append(files, f)
			}
		}
	}
	members := starlark.StringDict{}
	for _, file := range files {
		rt.modules.mu.Lock()
		rt.modules.files[file] = struct{}{}
		rt.modules.mu.Unlock()
		src, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		thread := rt.NewThread(file)
		st := ensureState(thread)
		if pst := stateOf(parent); pst != nil {
			st.checker, st.ctx, st.dryRun = pst.checker, pst.ctx, pst.dryRun
		}
		st.origin = moduleLabel(file)
		thread.SetLocal(loadingKey, chain)
		if pst := stateOf(parent); pst != nil && pst.ctx != nil {
			b := bind(pst.ctx, thread)
			defer b.release()
		}
		env := rt.moduleEnv()
		globals, err := starlark.ExecFileOptions(fileOptions, thread, file, src, env)
		rt.flushPrintf(thread)
		if err != nil {
			return nil, err
		}
		for k, v := range globals {
			if !strings.HasPrefix(k, "_") {
				members[k] = v
			}
		}
	}
	members.Freeze()
	return NewModule(name, members), nil
}

func (rt *Runtime) moduleEnv() starlark.StringDict {
	env := make(starlark.StringDict, len(rt.predeclared)+1)
	for k, v := range rt.predeclared {
		env[k] = v
	}
	cfg := starlark.NewDict(0)
	cfg.Freeze()
	env["_config"] = cfg
	return env
}

// dirEntryFile returns main.star or <dirname>.star of a module directory.
func dirEntryFile(dir string) (string, error) {
	for _, name := range []string{"main.star", filepath.Base(dir) + ".star"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no entry point found in module directory %s (want main.star or %s.star)", dir, filepath.Base(dir))
}

func isModuleDir(dir string) bool {
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() {
		return false
	}
	_, err = dirEntryFile(dir)
	return err == nil
}

func isRegular(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// resolve finds the file or module directory for a load string
// (builtins.md §9.2) and returns its absolute path.
func (rt *Runtime) resolve(thread *starlark.Thread, module string) (path string, isDir bool, err error) {
	callerDir := rt.callerDir(thread)
	scriptDir := ""
	if sp := rt.cfg.ScriptPath; sp != "" && !strings.HasPrefix(sp, "<") {
		scriptDir = filepath.Dir(sp)
	}
	cwd, _ := os.Getwd()
	hit := func(p string) (string, bool, bool) {
		if isRegular(p) {
			return p, false, true
		}
		if isModuleDir(p) {
			return p, true, true
		}
		return "", false, false
	}
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	if isExplicitPath(module) {
		if filepath.IsAbs(module) {
			if p, d, ok := hit(module); ok {
				return filepath.Clean(p), d, nil
			}
			return "", false, fmt.Errorf("file not found: %s", module)
		}
		for _, base := range []string{callerDir, rt.cfg.WorkDir, scriptDir, cwd} {
			if base == "" {
				continue
			}
			if p, d, ok := hit(filepath.Join(base, module)); ok {
				return abs(p), d, nil
			}
		}
		return "", false, fmt.Errorf("file not found: %s", module)
	}
	var dirs []string
	for _, base := range []string{callerDir, scriptDir, rt.cfg.WorkDir} {
		if base != "" {
			dirs = append(dirs, filepath.Join(base, "modules"), base)
		}
	}
	for _, d := range filepath.SplitList(os.Getenv(ModulePathEnv)) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".starkite", "modules"))
	}
	for _, d := range dirs {
		if isRegular(filepath.Join(d, module+".star")) {
			return abs(filepath.Join(d, module+".star")), false, nil
		}
		if isModuleDir(filepath.Join(d, module)) {
			return abs(filepath.Join(d, module)), true, nil
		}
	}
	return "", false, fmt.Errorf("module %q not found in search paths", module)
}

// callerDir is the directory of the file executing load(): the loading
// module's own directory, else the main script's.
func (rt *Runtime) callerDir(thread *starlark.Thread) string {
	for i := 0; i < thread.CallStackDepth(); i++ {
		f := thread.CallFrame(i).Pos.Filename()
		if f != "" && !strings.HasPrefix(f, "<") {
			return filepath.Dir(f)
		}
	}
	if strings.HasSuffix(thread.Name, ".star") {
		return filepath.Dir(thread.Name)
	}
	if sp := rt.cfg.ScriptPath; sp != "" && !strings.HasPrefix(sp, "<") {
		return filepath.Dir(sp)
	}
	return ""
}
