//go:build unix

package loader_test

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/loader"
)

// This file follows the checker into every context that runs script code
// (permissions.md §11): under a policy granting only fs.read, a write is
// denied and a read allowed wherever the code runs — concur workers, HTTP
// handlers, retry callbacks, load()ed modules, deferred functions, signal
// handlers and Go-side calls.

// readOnly allows fs.read and nothing else.
func readOnly() *libkite.PermissionConfig {
	return &libkite.PermissionConfig{Allow: []string{"fs.read"}}
}

// propEnv is a temp dir D holding r.txt ("readable"), bound as D in
// scripts; writeDenied is the denial of writing D/<name>.
type propEnv struct{ dir string }

func newPropEnv(t *testing.T) *propEnv {
	e := &propEnv{dir: kitetest.TempDir(t)}
	kitetest.WriteFile(t, e.dir+"/r.txt", "readable")
	return e
}

func (e *propEnv) globals() map[string]any { return map[string]any{"D": e.dir} }

func (e *propEnv) writeDenied(name string) string {
	return kitetest.Denied("fs.write", "write", e.dir+"/"+name)
}

// firstLine is s up to its first newline (denials go on with a hint).
func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// nothingWritten fails t if any file other than r.txt appeared in D.
func (e *propEnv) nothingWritten(t *testing.T) {
	t.Helper()
	for p := range kitetest.Snapshot(t, e.dir) {
		if p != "." && p != "r.txt" {
			t.Errorf("%s was written", p)
		}
	}
}

// TestPropagationScripts runs, under read-only, scripts whose last line
// prints the outcome of a write and a read made in another context, and
// compares the output exactly.
func TestPropagationScripts(t *testing.T) {
	e := newPropEnv(t)
	deny := func(name string) string { return firstLine(e.writeDenied(name)) }
	cases := []struct {
		name, src, want string
	}{
		{name: "main thread",
			src:  `print(firstline(path(D + "/main.txt").try_write_text("x").error)); print(read_text(D + "/r.txt"))`,
			want: deny("main.txt") + "\nreadable"},
		{name: "concur.map",
			src: `
rs = concur.map(["m1.txt", "m2.txt"], lambda n: firstline(path(D + "/" + n).try_write_text("x").error))
print(rs[0]); print(rs[1])
print(concur.map([1, 2], lambda i: read_text(D + "/r.txt")))`,
			want: deny("m1.txt") + "\n" + deny("m2.txt") + "\n" + `["readable", "readable"]`},
		{name: "concur.map raising",
			src:  `r = concur.try_map(["raise.txt"], lambda n: write_text(D + "/" + n, "x")); print(firstline(r.error))`,
			want: "concur.map: item 0: " + deny("raise.txt")},
		{name: "concur.map with workers",
			src:  `print([firstline(r.error) for r in concur.map(["w1.txt", "w2.txt", "w3.txt"], lambda n: path(D + "/" + n).try_write_text("x"), workers=2)])`,
			want: `["` + strings.ReplaceAll(deny("w1.txt"), `"`, `\"`) + `", "` + strings.ReplaceAll(deny("w2.txt"), `"`, `\"`) + `", "` + strings.ReplaceAll(deny("w3.txt"), `"`, `\"`) + `"]`},
		{name: "concur.each",
			src: `
r = concur.try_each(["each.txt"], lambda n: write_text(D + "/" + n, "x")); print(firstline(r.error))
print(concur.each([1, 2], lambda i: read_text(D + "/r.txt")))`,
			want: "concur.each: item 0: " + deny("each.txt") + "\nNone"},
		{name: "concur.each continue",
			src:  `print([firstline(r.error) for r in concur.each(["c.txt"], lambda n: write_text(D + "/" + n, "x"), on_error="continue")])`,
			want: `["` + strings.ReplaceAll(deny("c.txt"), `"`, `\"`) + `"]`},
		{name: "concur.exec",
			src: `
a, b = concur.exec(lambda: firstline(path(D + "/exec.txt").try_write_text("x").error), lambda: read_text(D + "/r.txt"))
print(a); print(b)`,
			want: deny("exec.txt") + "\nreadable"},
		{name: "nested concur",
			src:  `print(concur.map([1], lambda i: concur.map([2], lambda j: firstline(path(D + "/nest.txt").try_write_text("x").error))[0])[0])`,
			want: deny("nest.txt")},
		{name: "retry.do",
			src: `
r = retry.do(lambda: write_text(D + "/retry.txt", "x"), max_attempts=2, delay="1ms")
print(r.ok, r.attempts, firstline(r.error))
print(retry.do(lambda: read_text(D + "/r.txt"), delay="1ms").value)`,
			want: "False 2 " + deny("retry.txt") + "\nreadable"},
		{name: "retry.with_backoff and on_retry",
			src: `
seen = []
def note(attempt, err):
    seen.append(firstline(path(D + "/on_retry.txt").try_write_text("x").error))
r = retry.with_backoff(lambda: write_text(D + "/backoff.txt", "x"), max_attempts=2, delay="1ms", on_retry=note)
print(firstline(r.error)); print(seen[0])`,
			want: deny("backoff.txt") + "\n" + deny("on_retry.txt")},
		{name: "deferred function",
			src: `
defer(lambda: print(firstline(path(D + "/defer.txt").try_write_text("x").error)))
defer(lambda: print(read_text(D + "/r.txt")))
print("main done")`,
			want: "main done\nreadable\n" + deny("defer.txt")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rt, out := newBaseRuntime(t, readOnly(), e.globals())
			src := "def firstline(s):\n    return s.split(\"\\n\")[0]\n" + c.src
			if err := rt.Execute(context.Background(), src); err != nil {
				t.Fatalf("script failed: %v\noutput: %s", err, out.String())
			}
			if got := out.String(); got != c.want {
				t.Fatalf("output =\n%s\nwant\n%s", got, c.want)
			}
		})
	}
	e.nothingWritten(t)
}

// TestPropagationHTTPHandler: a request handler runs on a new thread of
// the server's runtime with its checker — a write there is denied and the
// client gets a 500 carrying the permission error; a read is served.
func TestPropagationHTTPHandler(t *testing.T) {
	e := newPropEnv(t)
	perms := &libkite.PermissionConfig{Allow: []string{"http.server", "http.client", "fs.read"}}
	rt, out := newBaseRuntime(t, perms, e.globals())
	src := `
def bad(req):
    write_text(D + "/handler.txt", "x")
    return "wrote"

def good(req):
    return read_text(D + "/r.txt")

def mw(req, next):
    r = path(D + "/middleware.txt").try_write_text("x")
    resp = next(req)
    if req.path == "/mw":
        return r.error
    return resp

srv = http.server(port=0)
srv.use(mw)
srv.handle("/bad", bad)
srv.handle("/good", good)
srv.handle("/mw", good)
srv.start()
base = "http://127.0.0.1:%d" % srv.port()
for p in ["/bad", "/good", "/mw"]:
    r = http.url(base + p).get(timeout="10s")
    print(r.status_code)
    print(r.get_text().split("\n")[0])
srv.shutdown()
`
	if err := rt.Execute(context.Background(), src); err != nil {
		t.Fatalf("script failed: %v\noutput: %s", err, out.String())
	}
	want := strings.Join([]string{
		"500", "handler error: " + firstLine(e.writeDenied("handler.txt")),
		"200", "readable",
		"200", firstLine(e.writeDenied("middleware.txt")),
	}, "\n")
	if got := out.String(); got != want {
		t.Fatalf("output =\n%s\nwant\n%s", got, want)
	}
	e.nothingWritten(t)
}

// TestPropagationLoadedModule: a load()ed module's top level and its
// functions run under the host's checker (modules never get more than
// the host script), and their denials name the module.
func TestPropagationLoadedModule(t *testing.T) {
	e := newPropEnv(t)
	proj := kitetest.TempDir(t)
	kitetest.WriteFile(t, proj+"/lib/writer.star", `write_text(D + "/top.txt", "x")`+"\n")
	kitetest.WriteFile(t, proj+"/lib/fns.star", `
def write():
    write_text(D + "/fn.txt", "x")

def try_write():
    return path(D + "/fn2.txt").try_write_text("x").error

def read():
    return read_text(D + "/r.txt")

value = read()
`)
	kitetest.WriteFile(t, proj+"/lib/pkg/main.star", "def write():\n    write_text(D + \"/pkg.txt\", \"x\")\n")
	script := kitetest.WriteFile(t, proj+"/main.star", "")
	newRT := func(t *testing.T) *libkite.Runtime {
		rt, _ := kitetest.New(t, &libkite.Config{Registry: loader.NewDefaultRegistry(nil), Permissions: readOnly(),
			Globals: e.globals(), ScriptPath: script})
		return rt
	}
	origin := func(module, name string) string {
		return strings.Replace(firstLine(e.writeDenied(name)), "permission denied:", `permission denied (module "`+module+`"):`, 1)
	}
	cases := []struct{ name, src, want string }{
		{"top level", `load("lib/writer.star", "writer")`, "cannot load lib/writer.star: " + origin("writer", "top.txt")},
		{"function", "load(\"lib/fns.star\", \"fns\")\nfns.write()", origin("fns", "fn.txt")},
		{"function called from a concur worker", "load(\"lib/fns.star\", \"fns\")\nconcur.map([1], lambda i: fns.write())",
			"concur.map: item 0: " + origin("fns", "fn.txt")},
		{"module directory", "load(\"lib/pkg\", \"pkg\")\npkg.write()", origin("pkg", "pkg.txt")},
		{"the entry script has no origin", `write_text(D + "/entry.txt", "x")`, firstLine(e.writeDenied("entry.txt"))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := newRT(t).Execute(context.Background(), c.src)
			if !libkite.IsPermissionError(err) {
				t.Fatalf("error = %v, want a permission error", err)
			}
			if got := firstLine(kitetest.ErrMsg(err)); got != c.want {
				t.Fatalf("error = %q\nwant    %q", got, c.want)
			}
		})
	}
	t.Run("allowed calls and try_ results", func(t *testing.T) {
		rt := newRT(t)
		got, msg, _ := kitetest.Eval(rt, `load("lib/fns.star", "fns")`, `[fns.value, fns.read(), fns.try_write().split("\n")[0]]`)
		want := `["readable", "readable", "` + strings.ReplaceAll(origin("fns", "fn2.txt"), `"`, `\"`) + `"]`
		if msg != "" || got != want {
			t.Fatalf("= %s (%s)\nwant %s", got, msg, want)
		}
	})
	e.nothingWritten(t)
}

// TestPropagationGoCalls: Call, CallFn and Eval run on fresh threads of
// the runtime, each under its checker; the denial is reachable with
// errors.As (IsPermissionError) through the wrapping.
func TestPropagationGoCalls(t *testing.T) {
	e := newPropEnv(t)
	rt, _ := newBaseRuntime(t, readOnly(), e.globals())
	ctx := context.Background()
	src := `
def write(name):
    write_text(D + "/" + name, "x")

def read():
    return read_text(D + "/r.txt")
`
	if err := rt.Execute(ctx, src); err != nil {
		t.Fatal(err)
	}
	fn, _ := rt.GetGlobalVal("write")
	callable := fn.(starlark.Callable)
	for name, call := range map[string]func() error{
		"call.txt":   func() error { _, err := rt.Call(ctx, "write", []any{"call.txt"}, nil); return err },
		"callfn.txt": func() error { _, err := rt.CallFn(ctx, callable, []any{"callfn.txt"}, nil); return err },
		"eval.txt":   func() error { _, err := rt.Eval(ctx, `write_text(D + "/eval.txt", "x")`); return err },
		"evalfn.txt": func() error { _, err := rt.Eval(ctx, `write("evalfn.txt")`); return err },
	} {
		err := call()
		if !libkite.IsPermissionError(err) {
			t.Errorf("%s: error = %v (%T), want a permission error", name, err, err)
			continue
		}
		if got := firstLine(kitetest.ErrMsg(err)); got != firstLine(e.writeDenied(name)) {
			t.Errorf("%s: error = %q", name, got)
		}
	}
	if v, err := rt.Call(ctx, "read", nil, nil); err != nil || v != starlark.String("readable") {
		t.Errorf("Call read = %v, %v", v, err)
	}
	if v, err := rt.Eval(ctx, `read()`); err != nil || v != starlark.String("readable") {
		t.Errorf("Eval read = %v, %v", v, err)
	}
	e.nothingWritten(t)
}

// TestPropagationNarrowedThread: a checker installed on one thread with
// libkite.SetPermissions — narrower than the runtime's — is what concur
// workers spawned from that thread run under (libkite.Caller captures the
// spawning thread's checker), while the runtime's other threads keep the
// runtime's policy.
func TestPropagationNarrowedThread(t *testing.T) {
	e := newPropEnv(t)
	rt, _ := newBaseRuntime(t, &libkite.PermissionConfig{Allow: []string{"fs.read", "fs.write"}}, e.globals())
	ctx := context.Background()
	src := `
def spawn(name):
    return concur.map([name], lambda n: path(D + "/" + n).try_write_text("x").error)[0].split("\n")[0]

def direct(name):
    return path(D + "/" + name).try_write_text("x").error
`
	if err := rt.Execute(ctx, src); err != nil {
		t.Fatal(err)
	}
	narrow, err := libkite.NewPermissionChecker(readOnly())
	if err != nil {
		t.Fatal(err)
	}
	thread := rt.NewThread("narrowed")
	libkite.SetPermissions(thread, narrow)
	spawn, _ := rt.GetGlobalVal("spawn")
	direct, _ := rt.GetGlobalVal("direct")

	v, err := starlark.Call(thread, spawn, starlark.Tuple{starlark.String("narrow-worker.txt")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(v.(starlark.String)), firstLine(e.writeDenied("narrow-worker.txt")); got != want {
		t.Fatalf("worker of the narrowed thread: %q\nwant %q", got, want)
	}
	v, err = starlark.Call(thread, direct, starlark.Tuple{starlark.String("narrow-direct.txt")}, nil)
	if err != nil || !strings.HasPrefix(string(v.(starlark.String)), firstLine(e.writeDenied("narrow-direct.txt"))) {
		t.Fatalf("the narrowed thread itself: %v, %v", v, err)
	}
	e.nothingWritten(t)

	// the runtime's own policy is untouched: its workers may write
	v, err = rt.Call(ctx, "spawn", []any{"wide.txt"}, nil)
	if err != nil || v != starlark.String("") {
		t.Fatalf("worker under the runtime's policy: %v, %v", v, err)
	}
	kitetest.WantFile(t, e.dir+"/wide.txt", "x")
}

// TestPropagationSignalHandler: an on_signal handler runs on a new thread
// of the runtime under its checker. SIGHUP is the signal that can be
// raised in-process safely: with a runtime subscribed, the handler (and
// the defers) run and the process is not terminated (signals_test.go).
func TestPropagationSignalHandler(t *testing.T) {
	e := newPropEnv(t)
	out := &kitetest.Output{}
	rt, err := libkite.New(&libkite.Config{Registry: loader.NewDefaultRegistry(nil), Permissions: readOnly(),
		Globals: e.globals(), Print: out.Print})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	src := `
def on_hup(name):
    print(name + ": " + path(D + "/signal.txt").try_write_text("x").error.split("\n")[0])
    print(name + ": " + read_text(D + "/r.txt"))
on_signal("SIGHUP", on_hup)
`
	if err := rt.ExecuteRepl(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if libkite.NumSignalSubscribers() == 0 {
		t.Skip("the runtime is not subscribed to signals; raising SIGHUP would end the test process")
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	want := "hangup: " + firstLine(e.writeDenied("signal.txt")) + "\nhangup: readable"
	deadline := time.Now().Add(5 * time.Second)
	for out.String() != want {
		if time.Now().After(deadline) {
			t.Fatalf("output =\n%s\nwant\n%s", out.String(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.nothingWritten(t)
}
