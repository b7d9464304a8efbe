package log

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	stdtime "time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// Logger is a Starlark `logger`: a slog handler with a fixed level,
// format and output. attrs() and group() derive new loggers sharing the
// same sink.
type Logger struct {
	level   string // as constructed (lower case)
	format  string // "text" | "json"
	output  string // as typed
	handler slog.Handler
	sink    *sink
}

var _ starlark.HasAttrs = (*Logger)(nil)

// sink is where a logger family's records go. The handler writes a record
// into buf (under mu) and Log sends the finished line on: to the
// runtime's output for stdout, else to stderr.
type sink struct {
	mu       sync.Mutex
	buf      []byte
	toStdout bool
	stderr   io.Writer
	now      func() stdtime.Time
}

func (s *sink) Write(p []byte) (int, error) {
	s.buf = append(s.buf, p...)
	return len(p), nil
}

// build makes a root logger writing to a fresh sink.
func (m *module) build(level slog.Leveler, levelName, format, output string) (*Logger, error) {
	if err := checkFormat(format); err != nil {
		return nil, err
	}
	toStdout, err := parseOutput(output)
	if err != nil {
		return nil, err
	}
	s := &sink{toStdout: toStdout, stderr: m.stderr, now: m.now}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(s, opts)
	} else {
		h = slog.NewTextHandler(s, opts)
	}
	return &Logger{level: levelName, format: format, output: output, handler: h, sink: s}, nil
}

// Log emits one record at level with msg and attrs (after the logger's
// bound attributes); records below the logger's level are dropped.
func (l *Logger) Log(thread *starlark.Thread, level slog.Level, msg string, attrs []slog.Attr) error {
	ctx := context.Background()
	if !l.handler.Enabled(ctx, level) {
		return nil
	}
	r := slog.NewRecord(l.sink.now(), level, msg, 0)
	r.AddAttrs(attrs...)
	s := l.sink
	s.mu.Lock()
	s.buf = s.buf[:0]
	err := l.handler.Handle(ctx, r)
	line := string(s.buf)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if s.toStdout {
		libkite.WriteText(thread, line)
		return nil
	}
	if line = libkite.CapOutput(thread, line); line == "" { // stderr counts too
		return nil
	}
	_, err = io.WriteString(s.stderr, line)
	return err
}

func (l *Logger) derive(h slog.Handler) *Logger {
	d := *l
	d.handler = h
	return &d
}

var loggerMethods = libkite.Methods{
	"debug": loggerLogAt(slog.LevelDebug),
	"info":  loggerLogAt(slog.LevelInfo),
	"warn":  loggerLogAt(slog.LevelWarn),
	"error": loggerLogAt(slog.LevelError),
	"attrs": loggerAttrs,
	"group": loggerGroup,
}

func (l *Logger) String() string {
	return fmt.Sprintf("logger(level=%s, format=%s, output=%s)", l.level, l.format, l.output)
}
func (l *Logger) Type() string          { return "logger" }
func (l *Logger) Freeze()               {}
func (l *Logger) Truth() starlark.Bool  { return true }
func (l *Logger) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: logger") }

func (l *Logger) Attr(name string) (starlark.Value, error) {
	switch name {
	case "level":
		return starlark.String(l.level), nil
	case "format":
		return starlark.String(l.format), nil
	case "output":
		return starlark.String(l.output), nil
	}
	return loggerMethods.Attr(l, "logger", name), nil
}

func (l *Logger) AttrNames() []string { return loggerMethods.Names("format", "level", "output") }

// logger.debug/info/warn/error(msg, *, attrs=None) → None.
func loggerLogAt(level slog.Level) libkite.BuiltinFunc {
	return func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		msg, attrs, err := unpackRecord(fn.Name(), args, kwargs)
		if err != nil {
			return nil, err
		}
		return starlark.None, fn.Receiver().(*Logger).Log(thread, level, msg, attrs)
	}
}

// logger.attrs(attrs) → a new logger adding attrs to every record.
func loggerAttrs(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "attrs", &v); err != nil {
		return nil, err
	}
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("logger.attrs: argument must be a dict")
	}
	attrs, err := Attrs(d)
	if err != nil {
		return nil, err
	}
	l := fn.Receiver().(*Logger)
	return l.derive(l.handler.WithAttrs(attrs)), nil
}

// logger.group(name) → a new logger nesting later attributes under name.
func loggerGroup(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "name", &name); err != nil {
		return nil, err
	}
	l := fn.Receiver().(*Logger)
	return l.derive(l.handler.WithGroup(name)), nil
}

// unpackRecord binds (msg, *, attrs=None) of the logging functions.
func unpackRecord(fnname string, args starlark.Tuple, kwargs []starlark.Tuple) (string, []slog.Attr, error) {
	var msg string
	var attrs starlark.Value
	if err := libkite.UnpackArgs(fnname, args, kwargs, "msg", &msg, "*", nil, "attrs?", &attrs); err != nil {
		return "", nil, err
	}
	if attrs == nil {
		return msg, nil, nil
	}
	d, ok := attrs.(*starlark.Dict)
	if !ok {
		return "", nil, fmt.Errorf("attrs must be a dict")
	}
	list, err := Attrs(d)
	return msg, list, err
}
