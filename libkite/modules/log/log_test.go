package log_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	stdtime "time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kitelog "github.com/project-starkite/starkite/libkite/modules/log"
)

// stamp is the time of every record in these tests.
var stamp = stdtime.Date(2026, 3, 11, 14, 30, 0, 123000000, stdtime.UTC)

const (
	textTime = "time=2026-03-11T14:30:00.123Z "
	jsonTime = `{"time":"2026-03-11T14:30:00.123Z",`
)

// safeBuffer is a bytes.Buffer safe for concurrent writers.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newLog returns a log module whose stderr is the returned buffer.
func newLog() (libkite.Module, *safeBuffer) {
	buf := &safeBuffer{}
	return kitelog.NewForTest(buf, func() stdtime.Time { return stamp }), buf
}

// run executes src on a fresh runtime holding the log module and returns
// what went to stderr, what went to the runtime's output (print hook) and
// the script's error message.
func run(t *testing.T, cfg *libkite.Config, src string) (stderr, stdout, errMsg string) {
	t.Helper()
	m, buf := newLog()
	rt, out := kitetest.New(t, cfg, m)
	err := rt.Execute(context.Background(), src)
	if err != nil {
		var ee *starlark.EvalError
		if errors.As(err, &ee) {
			errMsg = ee.Msg
		} else {
			errMsg = err.Error()
		}
	}
	return buf.String(), out.String(), errMsg
}

type logCase struct {
	name           string
	src            string
	stderr, stdout string // exact
	err            string // exact error message ("" = success)
}

func runLogCases(t *testing.T, cases []logCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stderr, stdout, msg := run(t, nil, c.src)
			if msg != c.err {
				t.Fatalf("error = %q\nwant    %q", msg, c.err)
			}
			if stderr != c.stderr {
				t.Errorf("stderr =\n%q\nwant\n%q", stderr, c.stderr)
			}
			if stdout != c.stdout {
				t.Errorf("stdout =\n%q\nwant\n%q", stdout, c.stdout)
			}
		})
	}
}

func TestModuleFunctions(t *testing.T) {
	runLogCases(t, []logCase{
		{name: "info to stderr", src: `log.info("hello")`, stderr: textTime + "level=INFO msg=hello\n"},
		{name: "returns None", src: `print(log.info("x") == None)`, stderr: textTime + "level=INFO msg=x\n", stdout: "True"},
		{name: "msg keyword", src: `log.warn(msg="careful")`, stderr: textTime + "level=WARN msg=careful\n"},
		{name: "debug dropped at default level", src: `log.debug("hidden")`},
		{name: "all levels after set_level(debug)", src: "log.set_level(\"debug\")\nlog.debug(\"d\")\nlog.info(\"i\")\nlog.warn(\"w\")\nlog.error(\"e\")",
			stderr: textTime + "level=DEBUG msg=d\n" + textTime + "level=INFO msg=i\n" + textTime + "level=WARN msg=w\n" + textTime + "level=ERROR msg=e\n"},
		{name: "set_level error drops lower", src: "log.set_level(\"ERROR\")\nlog.warn(\"w\")\nlog.error(\"e\")",
			stderr: textTime + "level=ERROR msg=e\n"},
		{name: "warning synonym", src: "log.set_level(\"WARNING\")\nlog.info(\"i\")\nlog.warn(\"w\")",
			stderr: textTime + "level=WARN msg=w\n"},
		{name: "text attrs and quoting", src: `log.info("hello world", attrs={"s": "a b", "n": 1, "l": [1, 2], "none": None, "f": 1.5, "b": True, "q": "x\"y", "r": range(3)})`,
			stderr: textTime + `level=INFO msg="hello world" s="a b" n=1 l="[1 2]" none=<nil> f=1.5 b=true q="x\"y" r=range(3)` + "\n"},
		{name: "text dict value", src: `log.info("m", attrs={"d": {"b": 1, "a": [2]}})`, stderr: textTime + `level=INFO msg=m d="map[a:[2] b:1]"` + "\n"},
		{name: "big int", src: `log.info("m", attrs={"n": 1 << 70})`, stderr: textTime + "level=INFO msg=m n=1180591620717411303424\n"},
		{name: "json format", src: "log.set_format(\"json\")\nlog.info(\"hi\", attrs={\"k\": \"v\", \"n\": 2, \"l\": [1, \"a\"], \"t\": (True, None), \"f\": 0.5})",
			stderr: jsonTime + `"level":"INFO","msg":"hi","k":"v","n":2,"l":[1,"a"],"t":[true,null],"f":0.5}` + "\n"},
		{name: "json nested dict is an object", src: "log.set_format(\"json\")\nlog.info(\"hi\", attrs={\"d\": {\"a\": {\"b\": 1}, 2: \"x\"}})",
			stderr: jsonTime + `"level":"INFO","msg":"hi","d":{"2":"x","a":{"b":1}}}` + "\n"},
		{name: "back to text", src: "log.set_format(\"json\")\nlog.set_format(\"text\")\nlog.info(\"hi\")", stderr: textTime + "level=INFO msg=hi\n"},
		{name: "set_output stdout", src: "log.set_output(\"stdout\")\nlog.info(\"out\")", stdout: textTime + "level=INFO msg=out"},
		{name: "set_output any case", src: "log.set_output(\"StdOut\")\nlog.info(\"out\")\nlog.set_output(\"STDERR\")\nlog.info(\"err\")",
			stdout: textTime + "level=INFO msg=out", stderr: textTime + "level=INFO msg=err\n"},
		{name: "format and output keep the level", src: "log.set_level(\"error\")\nlog.set_format(\"json\")\nlog.set_output(\"stdout\")\nlog.warn(\"w\")\nlog.error(\"e\")",
			stdout: jsonTime + `"level":"ERROR","msg":"e"}`},
		// errors
		{name: "attrs positional", src: `log.info("m", {"k": 1})`, err: "log.info: unexpected positional argument at index 1"},
		{name: "missing msg", src: `log.info()`, err: "log.info: missing required argument: msg"},
		{name: "msg not a string", src: `log.error(1)`, err: "log.error: for parameter msg: got int, want string"},
		{name: "unknown keyword", src: `log.debug("m", extra=1)`, err: "log.debug: unknown keyword argument: extra"},
		{name: "attrs None", src: `log.info("m", attrs=None)`, err: "attrs must be a dict"},
		{name: "attrs list", src: `log.warn("m", attrs=[1])`, err: "attrs must be a dict"},
		{name: "attrs key", src: `log.info("m", attrs={1: 2})`, err: "attrs keys must be strings"},
		{name: "bad level", src: `log.set_level("Info")`, err: "unknown log level: Info"},
		{name: "bad level name", src: `log.set_level("trace")`, err: "unknown log level: trace"},
		{name: "bad format", src: `log.set_format("JSON")`, err: "unknown log format: JSON (use 'text' or 'json')"},
		{name: "bad output", src: `log.set_output("file")`, err: "unknown output: file (use 'stderr' or 'stdout')"},
		{name: "set_level type", src: `log.set_level(1)`, err: "log.set_level: for parameter level: got int, want string"},
		{name: "set_format missing", src: `log.set_format()`, err: "log.set_format: missing required argument: format"},
		{name: "set_output extra", src: `log.set_output("stdout", "x")`, err: "log.set_output: unexpected positional argument at index 1"},
		// try_
		{name: "try_info ok", src: `print(log.try_info("m"))`, stderr: textTime + "level=INFO msg=m\n", stdout: "Result(ok=True, value=None)"},
		{name: "try_set_level error", src: `print(log.try_set_level("x"))`, stdout: `Result(ok=False, error="unknown log level: x")`},
		{name: "try_debug attrs error", src: `print(log.try_debug("m", attrs=1).error)`, stdout: "attrs must be a dict"},
	})
}

func TestNamespace(t *testing.T) {
	kitetest.RunCases(t, func(t testing.TB) *libkite.Runtime {
		m, _ := newLog()
		rt, _ := kitetest.New(t, nil, m)
		return rt
	}, []kitetest.Case{
		{Expr: `" ".join(dir(log))`, Want: "debug error info logger set_format set_level set_output " +
			"try_debug try_error try_info try_logger try_set_format try_set_level try_set_output try_warn warn"},
		{Expr: `str(log)`, Want: `<module "log">`},
		{Expr: `log.nope`, Err: "module has no .nope field or method", ErrContains: true},
	})
}

func TestLoggerObject(t *testing.T) {
	kitetest.RunCases(t, func(t testing.TB) *libkite.Runtime {
		m, _ := newLog()
		rt, _ := kitetest.New(t, nil, m)
		return rt
	}, []kitetest.Case{
		{Expr: `type(log.logger())`, Want: "logger"},
		{Expr: `str(log.logger())`, Want: "logger(level=info, format=text, output=stderr)"},
		{Expr: `repr(log.logger(level="debug", format="json", output="stdout"))`, Want: "logger(level=debug, format=json, output=stdout)"},
		{Expr: `log.logger(level="", format="", output="")`, Want: "logger(level=info, format=text, output=stderr)"},
		{Pre: `l = log.logger(level="debug", format="text")`, Expr: `(l.level, l.format, l.output)`, Want: `("debug", "text", "stderr")`},
		{Expr: `log.logger(level="warning").level`, Want: "warning"},
		{Expr: `log.logger(output="STDOUT").output`, Want: "STDOUT"},
		{Expr: `log.logger(format="json").format`, Want: "json"},
		{Expr: `bool(log.logger())`, Want: "True"},
		{Expr: `{log.logger(): 1}`, Err: "unhashable type: logger"},
		{Expr: `" ".join(dir(log.logger()))`, Want: "attrs debug error format group info level output " +
			"try_attrs try_debug try_error try_group try_info try_warn warn"},
		{Expr: `log.logger().try_level`, Err: "logger has no .try_level field or method", ErrContains: true},
		{Pre: `l = log.logger(level="error").attrs({"a": 1})`, Expr: `(type(l), l.level)`, Want: `("logger", "error")`},
		{Pre: `l = log.logger(output="stdout").group("g")`, Expr: `str(l)`, Want: "logger(level=info, format=text, output=stdout)"},
		{Expr: `log.logger("debug")`, Err: "log.logger: unexpected positional argument at index 0"},
		{Expr: `log.logger(level="Info")`, Err: "unknown log level: Info"},
		{Expr: `log.logger(level="DEBUG")`, Err: "unknown log level: DEBUG"},
		{Expr: `log.logger(format="xml")`, Err: "unknown log format: xml (use 'text' or 'json')"},
		{Expr: `log.logger(output="file")`, Err: "unknown output: file (use 'stderr' or 'stdout')"},
		{Expr: `log.logger(colour=True)`, Err: "log.logger: unknown keyword argument: colour"},
		{Expr: `log.logger(level=1)`, Err: `log.logger: for parameter "level": got int, want string`},
		{Expr: `log.logger().attrs(None)`, Err: "logger.attrs: argument must be a dict"},
		{Expr: `log.logger().attrs([1])`, Err: "logger.attrs: argument must be a dict"},
		{Expr: `log.logger().attrs({1: 1})`, Err: "attrs keys must be strings"},
		{Expr: `log.logger().attrs()`, Err: "logger.attrs: missing required argument: attrs"},
		{Expr: `type(log.logger().attrs(attrs={}))`, Want: "logger"},
		{Expr: `log.logger().group(1)`, Err: "logger.group: for parameter name: got int, want string"},
		{Expr: `log.logger().info("m", {"a": 1})`, Err: "logger.info: unexpected positional argument at index 1"},
		{Expr: `log.logger().info("m", attrs=None)`, Err: "attrs must be a dict"},
		{Expr: `log.logger().try_attrs(1).error`, Want: "logger.attrs: argument must be a dict"},
		{Expr: `type(log.logger().try_group("g").value)`, Want: "logger"},
		{Expr: `log.try_logger(level="x").error`, Want: "unknown log level: x"},
	})
}

func TestLoggerOutput(t *testing.T) {
	runLogCases(t, []logCase{
		{name: "spec example", src: `svc = log.logger(format="json", output="stdout").attrs({"svc": "api"})
svc.group("req").info("done", attrs={"ms": 12})`,
			stdout: jsonTime + `"level":"INFO","msg":"done","svc":"api","req":{"ms":12}}`},
		{name: "text group dotted", src: `log.logger().group("db").attrs({"host": "pg.local"}).warn("slow", attrs={"ms": 5})`,
			stderr: textTime + "level=WARN msg=slow db.host=pg.local db.ms=5\n"},
		{name: "attrs order: bound then per-call", src: `log.logger().attrs({"b": 1}).attrs({"a": 2}).info("m", attrs={"z": 3, "c": 4})`,
			stderr: textTime + "level=INFO msg=m b=1 a=2 z=3 c=4\n"},
		{name: "chained attrs group attrs", src: `log.logger(format="json").attrs({"app": "kite"}).group("db").attrs({"host": "h"}).error("e", attrs={"code": 1})`,
			stderr: jsonTime + `"level":"ERROR","msg":"e","app":"kite","db":{"host":"h","code":1}}` + "\n"},
		{name: "receiver unchanged by attrs", src: "l = log.logger()\nc = l.attrs({\"x\": 1})\nl.info(\"parent\")\nc.info(\"child\")",
			stderr: textTime + "level=INFO msg=parent\n" + textTime + "level=INFO msg=child x=1\n"},
		{name: "fixed level", src: "l = log.logger(level=\"warn\")\nl.info(\"dropped\")\nl.attrs({}).info(\"dropped too\")\nl.warn(\"kept\")",
			stderr: textTime + "level=WARN msg=kept\n"},
		{name: "debug logger", src: "l = log.logger(level=\"debug\")\nl.debug(\"d\")", stderr: textTime + "level=DEBUG msg=d\n"},
		{name: "module set_level does not touch loggers", src: "l = log.logger()\nlog.set_level(\"error\")\nl.info(\"still\")\nlog.info(\"gone\")",
			stderr: textTime + "level=INFO msg=still\n"},
		{name: "all four methods", src: "l = log.logger(level=\"debug\", output=\"stdout\")\nl.debug(\"d\")\nl.info(\"i\")\nl.warn(\"w\")\nl.error(\"e\")",
			stdout: textTime + "level=DEBUG msg=d\n" + textTime + "level=INFO msg=i\n" + textTime + "level=WARN msg=w\n" + textTime + "level=ERROR msg=e"},
		{name: "try methods", src: "l = log.logger(output=\"stdout\")\nprint(l.try_info(\"m\").ok, l.try_warn(\"m\", attrs=[]).error)",
			stdout: textTime + "level=INFO msg=m\nTrue attrs must be a dict"},
	})
}

func TestDebugModeDefaultLevel(t *testing.T) {
	stderr, _, msg := run(t, &libkite.Config{Debug: true}, `log.debug("d")`)
	if msg != "" || stderr != textTime+"level=DEBUG msg=d\n" {
		t.Fatalf("runtime debug: stderr %q err %q", stderr, msg)
	}
	m, buf := newLog()
	reg := libkite.NewRegistry(&libkite.ModuleConfig{Debug: true})
	reg.Register(m)
	rt, _ := kitetest.New(t, &libkite.Config{Registry: reg})
	if err := rt.Execute(context.Background(), `log.debug("d")`); err != nil {
		t.Fatal(err)
	}
	if buf.String() != textTime+"level=DEBUG msg=d\n" {
		t.Fatalf("registry debug: stderr %q", buf.String())
	}
}

// Two runtimes built from one registry share the loaded module but not
// its default logger's settings.
func TestStateIsPerRuntime(t *testing.T) {
	m, buf := newLog()
	reg := libkite.NewRegistry(nil)
	reg.Register(m)
	a, outA := kitetest.New(t, &libkite.Config{Registry: reg})
	b, outB := kitetest.New(t, &libkite.Config{Registry: reg})
	ctx := context.Background()
	if err := a.Execute(ctx, "log.set_level(\"error\")\nlog.set_output(\"stdout\")\nlog.set_format(\"json\")"); err != nil {
		t.Fatal(err)
	}
	if err := b.Execute(ctx, `log.info("from b")`); err != nil {
		t.Fatal(err)
	}
	if err := a.Execute(ctx, "log.info(\"dropped\")\nlog.error(\"from a\")"); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), textTime+"level=INFO msg=\"from b\"\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	if got, want := outA.String(), jsonTime+`"level":"ERROR","msg":"from a"}`; got != want {
		t.Errorf("runtime a output = %q, want %q", got, want)
	}
	if outB.String() != "" {
		t.Errorf("runtime b output = %q", outB.String())
	}
}

// Many runtimes logging concurrently through one registry (run with -race).
func TestConcurrentRuntimes(t *testing.T) {
	m, buf := newLog()
	reg := libkite.NewRegistry(nil)
	reg.Register(m)
	var wg sync.WaitGroup
	const n = 8
	outs := make([]*kitetest.Output, n)
	rts := make([]*libkite.Runtime, n)
	for i := range n {
		rts[i], outs[i] = kitetest.New(t, &libkite.Config{Registry: reg})
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := "log.set_output(\"stdout\")\nl = log.logger().attrs({\"w\": 1})\nfor_each = [log.info(\"x\") for _ in range(20)]\nl2 = [l.info(\"y\") for _ in range(20)]"
			if i%2 == 0 {
				src = "log.set_level(\"error\")\n" + src
			}
			if err := rts[i].Execute(context.Background(), src); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range n {
		lines := outs[i].Lines()
		want := 20
		if i%2 == 0 {
			want = 0
		}
		if len(lines) != want {
			t.Errorf("runtime %d printed %d lines, want %d", i, len(lines), want)
		}
	}
	if got := strings.Count(buf.String(), "\n"); got != n*20 {
		t.Errorf("stderr has %d lines, want %d", got, n*20)
	}
}

func TestStateDroppedOnClose(t *testing.T) {
	m, _ := newLog()
	reg := libkite.NewRegistry(nil)
	reg.Register(m)
	var rts []*libkite.Runtime
	for range 3 {
		rt, err := libkite.New(&libkite.Config{Registry: reg, NoSignals: true, Print: func(*starlark.Thread, string) {}})
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.Execute(context.Background(), `log.set_level("debug")`); err != nil {
			t.Fatal(err)
		}
		rts = append(rts, rt)
	}
	if n := kitelog.RuntimeStates(m); n != 3 {
		t.Fatalf("states before Close = %d, want 3", n)
	}
	for _, rt := range rts {
		rt.Close()
	}
	if n := kitelog.RuntimeStates(m); n != 0 {
		t.Fatalf("states after Close = %d, want 0", n)
	}
	// A new runtime starts at the default level again.
	rt, out := kitetest.New(t, &libkite.Config{Registry: reg})
	if err := rt.Execute(context.Background(), "log.set_output(\"stdout\")\nlog.debug(\"d\")"); err != nil {
		t.Fatal(err)
	}
	if out.String() != "" {
		t.Fatalf("fresh runtime inherited debug level: %q", out.String())
	}
}

func TestAttrsConversion(t *testing.T) {
	d := starlark.NewDict(2)
	_ = d.SetKey(starlark.String("a"), starlark.MakeInt(1))
	_ = d.SetKey(starlark.String("b"), starlark.NewList([]starlark.Value{starlark.None, starlark.Bytes("x")}))
	attrs, err := kitelog.Attrs(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(attrs) != 2 || attrs[0].String() != "a=1" || attrs[1].String() != "b=[<nil> [120]]" {
		t.Fatalf("Attrs = %v", attrs)
	}
	// A cyclic list is cut off, not followed forever.
	l := starlark.NewList(nil)
	_ = l.Append(l)
	if v := kitelog.Value(l); v == nil {
		t.Fatal("Value(cyclic) = nil")
	}
}

func TestConformance(t *testing.T) {
	file := filepath.Join("..", "..", "..", "tests", "log_test.star")
	m, _ := newLog()
	rt, _ := kitetest.New(t, &libkite.Config{ScriptPath: file}, m)
	kitetest.RunConformance(t, rt, file, 7)
}

func TestMaxOutputCountsStderrRecords(t *testing.T) {
	stderr, _, msg := run(t, &libkite.Config{Limits: libkite.Limits{MaxOutputBytes: 2000}}, `
for i in range(100000):
    log.info("flooding stderr %d" % i)
`)
	if !strings.Contains(msg, "max_output limit exceeded: more than 2000 bytes of output") {
		t.Fatalf("error = %q, want the output limit", msg)
	}
	if n := len(stderr); n != 2000 {
		t.Fatalf("stderr got %d bytes, want exactly the 2000-byte cap", n)
	}
}
