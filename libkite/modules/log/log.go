// Package log is kite's log module (spec/log.md): structured logging on
// log/slog with text and JSON output, levels, bound attributes, groups
// and child loggers.
//
// The module-level default logger (log.info, log.set_level, ...) is per
// runtime: every runtime using a registry gets its own level, format and
// output, so concurrent runtimes never see each other's settings.
// Records written to stdout go through the runtime's output routing
// (libkite.WriteText: the host's print hook when it has one); stderr
// records go to the process's standard error.
package log

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	stdtime "time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the log module. It is try-enabled: the reference has no
// log.try_* functions, kite provides them as a compatible superset.
func New() libkite.Module { return newModule(os.Stderr, stdtime.Now) }

func newModule(stderr io.Writer, now func() stdtime.Time) *module {
	return &module{stderr: &lockedWriter{w: stderr}, now: now}
}

// module implements libkite.Module itself: Load builds a fresh instance
// (per registry) whose default loggers are kept per runtime.
type module struct {
	stderr io.Writer
	now    func() stdtime.Time

	loaded atomic.Pointer[instance] // the latest Load's instance (for tests)
}

func (m *module) Name() libkite.ModuleName     { return "log" }
func (m *module) Description() string          { return "Structured logging (text and JSON)" }
func (m *module) Aliases() starlark.StringDict { return nil }
func (m *module) FactoryMethod() string        { return "" }
func (m *module) Load(cfg *libkite.ModuleConfig) (starlark.StringDict, error) {
	in := &instance{mod: m, states: map[*libkite.Runtime]*defaultLogger{}}
	if cfg != nil {
		in.debug = cfg.Debug
	}
	m.loaded.Store(in)
	b := func(name string, fn libkite.BuiltinFunc) *starlark.Builtin {
		return starlark.NewBuiltin("log."+name, fn)
	}
	members := starlark.StringDict{
		"debug":      b("debug", in.logAt(slog.LevelDebug)),
		"info":       b("info", in.logAt(slog.LevelInfo)),
		"warn":       b("warn", in.logAt(slog.LevelWarn)),
		"error":      b("error", in.logAt(slog.LevelError)),
		"set_level":  b("set_level", in.setLevel),
		"set_format": b("set_format", in.setFormat),
		"set_output": b("set_output", in.setOutput),
		"logger":     b("logger", in.newLogger),
	}
	return starlark.StringDict{"log": libkite.NewTryModule("log", members)}, nil
}

// instance is one loaded log module: the default logger of each runtime
// (and one for threads that belong to no runtime).
type instance struct {
	mod   *module
	debug bool // the registry's ModuleConfig asked for debug level

	mu       sync.Mutex
	states   map[*libkite.Runtime]*defaultLogger
	fallback *defaultLogger
}

// defaultLogger is the module-level logger of one runtime.
type defaultLogger struct {
	mu    sync.Mutex
	level *slog.LevelVar
	lg    *Logger // rebuilt by set_format/set_output, sharing level
}

func (in *instance) newDefault(debug bool) *defaultLogger {
	lv := new(slog.LevelVar)
	if debug {
		lv.Set(slog.LevelDebug)
	}
	lg, _ := in.mod.build(lv, "", "text", "stderr")
	return &defaultLogger{level: lv, lg: lg}
}

// state returns the default logger of thread's runtime, creating it on
// first use; it is dropped when the runtime closes.
func (in *instance) state(thread *starlark.Thread) *defaultLogger {
	rt := libkite.GetRuntime(thread)
	in.mu.Lock()
	defer in.mu.Unlock()
	if rt == nil {
		if in.fallback == nil {
			in.fallback = in.newDefault(in.debug)
		}
		return in.fallback
	}
	st, ok := in.states[rt]
	if !ok {
		st = in.newDefault(in.debug || rt.Config().Debug)
		in.states[rt] = st
		rt.AddCleanup(func() {
			in.mu.Lock()
			delete(in.states, rt)
			in.mu.Unlock()
		})
	}
	return st
}

func (st *defaultLogger) current() *Logger {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.lg
}

// logAt returns log.debug/info/warn/error: (msg, *, attrs=None) → None.
func (in *instance) logAt(level slog.Level) libkite.BuiltinFunc {
	return func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		msg, attrs, err := unpackRecord(fn.Name(), args, kwargs)
		if err != nil {
			return nil, err
		}
		return starlark.None, in.state(thread).current().Log(thread, level, msg, attrs)
	}
}

// set_level(level): debug|info|warn|warning|error, lower or upper case.
func (in *instance) setLevel(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "level", &s); err != nil {
		return nil, err
	}
	lvl, ok := moduleLevels[s]
	if !ok {
		return nil, fmt.Errorf("unknown log level: %s", s)
	}
	in.state(thread).level.Set(lvl)
	return starlark.None, nil
}

// set_format(format): text|json. The level is kept.
func (in *instance) setFormat(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "format", &s); err != nil {
		return nil, err
	}
	if err := checkFormat(s); err != nil {
		return nil, err
	}
	st := in.state(thread)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.lg, _ = in.mod.build(st.level, "", s, st.lg.output)
	return starlark.None, nil
}

// set_output(output): stderr|stdout, any case. The level is kept.
func (in *instance) setOutput(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "output", &s); err != nil {
		return nil, err
	}
	if _, err := parseOutput(s); err != nil {
		return nil, err
	}
	st := in.state(thread)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.lg, _ = in.mod.build(st.level, "", st.lg.format, s)
	return starlark.None, nil
}

// logger(*, level="info", format="text", output="stderr") → logger. An
// empty string selects the default.
func (in *instance) newLogger(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	level, format, output := "", "", ""
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "*", nil, "level?", &level, "format?", &format, "output?", &output); err != nil {
		return nil, err
	}
	if level == "" {
		level = "info"
	}
	lvl, ok := loggerLevels[level]
	if !ok {
		return nil, fmt.Errorf("unknown log level: %s", level)
	}
	if format == "" {
		format = "text"
	}
	if output == "" {
		output = "stderr"
	}
	return in.mod.build(lvl, level, format, output)
}

// moduleLevels are set_level's accepted names; loggerLevels log.logger's.
var (
	moduleLevels = map[string]slog.Level{
		"debug": slog.LevelDebug, "DEBUG": slog.LevelDebug,
		"info": slog.LevelInfo, "INFO": slog.LevelInfo,
		"warn": slog.LevelWarn, "WARN": slog.LevelWarn, "warning": slog.LevelWarn, "WARNING": slog.LevelWarn,
		"error": slog.LevelError, "ERROR": slog.LevelError,
	}
	loggerLevels = map[string]slog.Level{
		"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "warning": slog.LevelWarn, "error": slog.LevelError,
	}
)

func checkFormat(f string) error {
	if f != "text" && f != "json" {
		return fmt.Errorf("unknown log format: %s (use 'text' or 'json')", f)
	}
	return nil
}

// parseOutput reports whether output (any case) names stdout.
func parseOutput(o string) (toStdout bool, err error) {
	switch {
	case equalFold(o, "stdout"):
		return true, nil
	case equalFold(o, "stderr"):
		return false, nil
	}
	return false, fmt.Errorf("unknown output: %s (use 'stderr' or 'stdout')", o)
}

func equalFold(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// lockedWriter serialises writes to a shared destination (stderr).
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
