package k8s

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilexec "k8s.io/client-go/util/exec"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// Fast tests of spec §7 over fake clients and an in-memory streamer.

type memLogCall struct {
	ns, pod string
	o       logOptions
}

type memExecCall struct {
	ns, pod, container string
	argv               []string
	stdin              []byte // nil: no stdin
}

// memStreamer serves canned logs, runs exec through a function and hands
// out fake forwardings, recording every call.
type memStreamer struct {
	mu       sync.Mutex
	bodies   map[string]string // pod → log body
	logErr   error
	logCalls []memLogCall
	// run answers an exec: what the command writes and its error.
	run       func(argv []string, stdin []byte) (stdout, stderr string, err error)
	execCalls []memExecCall
	forwards  []*memForward
	pfErr     error
}

func (m *memStreamer) logs(_ context.Context, ns, pod string, o logOptions) (io.ReadCloser, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.logCalls = append(m.logCalls, memLogCall{ns, pod, o})
	if m.logErr != nil {
		return nil, m.logErr
	}
	return io.NopCloser(strings.NewReader(m.bodies[pod])), nil
}

func (m *memStreamer) exec(_ context.Context, ns, pod, container string, argv []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var in []byte
	if stdin != nil {
		var err error
		if in, err = io.ReadAll(stdin); err != nil {
			return err
		}
	}
	m.mu.Lock()
	m.execCalls = append(m.execCalls, memExecCall{ns, pod, container, argv, in})
	run := m.run
	m.mu.Unlock()
	if run == nil {
		return nil
	}
	out, errOut, err := run(argv, in)
	_, _ = io.WriteString(stderr, errOut)
	_, _ = io.WriteString(stdout, out)
	return err
}

func (m *memStreamer) portForward(_ context.Context, ns, pod string, local, remote int) (forwarding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pfErr != nil {
		return nil, m.pfErr
	}
	f := &memForward{ns: ns, pod: pod, local: local, remote: remote, ended: make(chan struct{})}
	m.forwards = append(m.forwards, f)
	return f, nil
}

func (m *memStreamer) lastExec() memExecCall {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.execCalls) == 0 {
		return memExecCall{}
	}
	return m.execCalls[len(m.execCalls)-1]
}

type memForward struct {
	ns, pod       string
	local, remote int
	mu            sync.Mutex
	stops         int
	ended         chan struct{}
}

func (f *memForward) localPort() int        { return f.local }
func (f *memForward) done() <-chan struct{} { return f.ended }
func (f *memForward) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stops == 0 {
		close(f.ended)
	}
	f.stops++
}
func (f *memForward) stopCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stops
}

// useStreamer makes every client's streamer s for the test.
func useStreamer(t *testing.T, s streamer) {
	t.Helper()
	old := newStreamer
	newStreamer = func(*Client) (streamer, error) { return s, nil }
	t.Cleanup(func() { newStreamer = old })
}

func TestStreamNoClusterConnection(t *testing.T) {
	f := newFake(t)
	local := kitetest.TempDir(t)
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Expr: `k8s.logs("p")`, Err: "k8s.logs: " + errNoCluster.Error()},
		{Expr: `k8s.logs_follow("p", print)`, Err: "k8s.logs_follow: " + errNoCluster.Error()},
		{Expr: `k8s.exec("p", "true")`, Err: "k8s.exec: " + errNoCluster.Error()},
		{Expr: `k8s.port_forward("p", 80)`, Err: "k8s.port_forward: " + errNoCluster.Error()},
		{Expr: `k8s.cp("p", "p:/x", ` + kitetest.Lit(local+"/x") + `)`, Err: "k8s.cp: " + errNoCluster.Error()},
		{Expr: `k8s.config(namespace="n").try_exec("p", ["ls"]).error`, Want: "k8s.exec: " + errNoCluster.Error()},
	})
}

func TestLogsUnit(t *testing.T) {
	f := newFake(t)
	m := &memStreamer{bodies: map[string]string{"web": "one\ntwo\n"}}
	useStreamer(t, m)
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Expr: `k8s.logs("web")`, Want: "one\ntwo\n"},
		{Expr: `k8s.config(namespace="apps").logs("web", container="c", tail=5, since="90s", previous=True)`, Want: "one\ntwo\n"},
		{Expr: `k8s.logs("web", "ns2", "c2", 0, "1500ms")`, Want: "one\ntwo\n"},
		{Expr: `k8s.logs("web", since="1h30m")`, Want: "one\ntwo\n"},
		{Expr: `k8s.logs("empty")`, Want: ""},
		{Expr: `k8s.logs("web", since="0s")`, Err: `k8s.logs: invalid since "0s"`},
		{Expr: `k8s.logs("web", tail="1")`, Err: `k8s.logs: for parameter "tail": got string, want int`},
		{Expr: `k8s.logs()`, Err: `k8s.logs: missing required argument: name`},
	})
	want := []memLogCall{
		{"team-a", "web", logOptions{}},
		{"apps", "web", logOptions{container: "c", tailLines: 5, sinceSeconds: 90, previous: true}},
		{"ns2", "web", logOptions{container: "c2", sinceSeconds: 2}},
		{"team-a", "web", logOptions{sinceSeconds: 5400}},
		{"team-a", "empty", logOptions{}},
	}
	if fmt.Sprint(m.logCalls) != fmt.Sprint(want) {
		t.Fatalf("log requests\n got %v\nwant %v", m.logCalls, want)
	}
	m.logErr = apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, "web")
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Expr: `k8s.try_logs("web").error`, Want: `k8s.logs: pods "web" not found (NotFound)`},
		{Expr: `k8s.try_logs_follow("web", print).error`, Want: `k8s.logs_follow: pods "web" not found (NotFound)`},
	})
}

func TestLogsFollowUnit(t *testing.T) {
	f := newFake(t)
	long := strings.Repeat("z", 200000)
	m := &memStreamer{bodies: map[string]string{
		"p":     "a\nb\n\nlast without newline",
		"ended": "x\ny\n",
		"long":  long + "\nshort\n",
	}}
	useStreamer(t, m)
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Name: "lines", Pre: "got = []\n", Expr: `k8s.logs_follow("p", got.append), got`, Want: `(4, ["a", "b", "", "last without newline"])`},
		{Name: "no empty line after the final newline", Pre: "got = []\n", Expr: `k8s.logs_follow("ended", handler=got.append), got`, Want: `(2, ["x", "y"])`},
		{Name: "long lines whole", Pre: "got = []\n", Expr: `k8s.logs_follow("long", got.append), [len(l) for l in got]`, Want: `(2, [200000, 5])`},
		{Name: "empty log", Expr: `k8s.logs_follow("none", print)`, Want: `0`},
		{Name: "False stops", Pre: "got = []\ndef h(l):\n    got.append(l)\n    return l != \"b\"\n", Expr: `k8s.logs_follow("p", h), got`, Want: `(2, ["a", "b"])`},
		{Name: "falsy but not False goes on", Pre: "def h(l):\n    return 0\n", Expr: `k8s.logs_follow("p", h)`, Want: `4`},
		{Name: "handler error", Pre: "def h(l):\n    fail(\"no: \" + l)\n", Expr: `k8s.logs_follow("p", h)`, Err: `k8s.logs_follow: handler: no: a`},
		{Name: "required", Expr: `k8s.logs_follow("p")`, Err: `k8s.logs_follow: handler is required`},
		{Name: "not callable", Expr: `k8s.logs_follow("p", 3)`, Err: `k8s.logs_follow: for parameter handler: got int, want callable`},
		{Name: "client form", Pre: "got = []\n", Expr: `k8s.config(namespace="q").logs_follow("p", got.append, tail=3, container="c")`, Want: `4`},
	})
	last := m.logCalls[len(m.logCalls)-1]
	if want := (memLogCall{"q", "p", logOptions{container: "c", follow: true, tailLines: 3}}); fmt.Sprint(last) != fmt.Sprint(want) {
		t.Fatalf("follow request %v, want %v", last, want)
	}
}

func TestExecUnit(t *testing.T) {
	f := newFake(t)
	m := &memStreamer{run: func(argv []string, _ []byte) (string, string, error) {
		switch argv[len(argv)-1] {
		case "fail":
			return "some out", "some err\n", utilexec.CodeExitError{Err: errors.New("command terminated with exit code 7"), Code: 7}
		case "broken":
			return "", "partial", errors.New("connection reset by peer")
		}
		return strings.Join(argv, "|"), "", nil
	}}
	useStreamer(t, m)
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Expr: `k8s.exec("p", "echo hi")`, Want: `{"stdout": "/bin/sh|-c|echo hi", "stderr": "", "code": 0, "exit_code": 0}`},
		{Expr: `k8s.exec("p", ["ls", "-l", "a b"])["stdout"]`, Want: `ls|-l|a b`},
		{Expr: `k8s.exec("p", ("ls",))["stdout"]`, Want: `ls`},
		{Expr: `k8s.exec("p", ["fail"])`, Want: `{"stdout": "some out", "stderr": "some err\n", "code": 7, "exit_code": 7}`},
		{Expr: `k8s.exec("p", ["broken"])`, Want: `{"stdout": "", "stderr": "partial\nconnection reset by peer", "code": 1, "exit_code": 1}`},
		{Expr: `k8s.try_exec("p", ["fail"])`, Want: `Result(ok=True, value={"stdout": "some out", "stderr": "some err\n", "code": 7, "exit_code": 7})`},
		{Expr: `k8s.exec("p", 1)`, Err: `k8s.exec: for parameter command: got int, want string or list of strings`},
		{Expr: `k8s.exec("p", None)`, Err: `k8s.exec: for parameter command: got NoneType, want string or list of strings`},
		{Expr: `k8s.exec("p", ["a", b"x"])`, Err: `k8s.exec: for parameter command: element 1 is bytes, want string`},
		{Expr: `k8s.exec("p", [])`, Err: `k8s.exec: for parameter command: empty command`},
		{Expr: `k8s.try_exec("p", {}).error`, Want: `k8s.exec: for parameter command: got dict, want string or list of strings`},
		{Expr: `k8s.exec("p", "x", timeout="soon")`, Err: `k8s.exec: invalid timeout "soon"`},
		{Expr: `k8s.config(namespace="n1").exec("p", "x", "n2", "side")["code"]`, Want: `0`},
	})
	if got := m.lastExec(); got.ns != "n2" || got.container != "side" || got.stdin != nil {
		t.Fatalf("last exec %+v", got)
	}
}

func TestPortForwardUnit(t *testing.T) {
	f := newFake(t)
	m := &memStreamer{}
	useStreamer(t, m)
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Name: "handle", Pre: "fw = k8s.port_forward(\"db\", 5432)\n",
			Expr: `type(fw), fw.local_port, str(fw), dir(fw), fw.stop(), fw.stop(), fw.try_stop().ok`,
			Want: `("port_forward", 5432, "<port_forward localhost:5432 -> team-a/db:5432>", ["local_port", "stop", "try_stop"], None, None, True)`},
		{Expr: `k8s.config(namespace="n").port_forward("db", 80, 8080).local_port`, Want: `8080`},
		{Expr: `k8s.port_forward("db", 80, local_port=8081, namespace="x").local_port`, Want: `8081`},
		{Expr: `k8s.port_forward("db", 65536)`, Err: `k8s.port_forward: invalid port 65536`},
		{Expr: `k8s.port_forward("db", 80, 65536)`, Err: `k8s.port_forward: invalid local_port 65536`},
		{Expr: `k8s.port_forward("db", 80, timeout="1s")`, Err: `k8s.port_forward: unknown keyword argument: timeout`},
		{Expr: `{k8s.port_forward("db", 80): 1}`, Err: `unhashable type: port_forward`},
		{Expr: `k8s.port_forward("db", 80).stop(1)`, Err: `port_forward.stop: unexpected positional argument at index 0`},
	})
	// Each stop reaches the forwarding (which ends once): three from the
	// script, one when its runtime closed.
	if got := m.forwards[0].stopCount(); got != 4 {
		t.Fatalf("stops = %d, want 4", got)
	}
	if fw := m.forwards[1]; fw.ns != "n" || fw.remote != 80 || fw.local != 8080 {
		t.Fatalf("forward %+v", fw)
	}

	// A forwarding left running ends with the script's run context...
	rt := f.runtime(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	if err := rt.Execute(ctx, `fw = k8s.port_forward("db", 1234)`); err != nil {
		t.Fatal(err)
	}
	fw := m.forwards[len(m.forwards)-1]
	if fw.stopCount() != 0 {
		t.Fatal("stopped before the run ended")
	}
	cancel()
	select {
	case <-fw.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("not stopped when the run's context ended")
	}
	// ... or with the runtime.
	rt = f.runtime(t, nil)
	if err := rt.Execute(context.Background(), `fw = k8s.port_forward("db", 1235)`); err != nil {
		t.Fatal(err)
	}
	fw = m.forwards[len(m.forwards)-1]
	rt.Close()
	if fw.stopCount() == 0 {
		t.Fatal("not stopped when the runtime closed")
	}

	m.pfErr = errors.New("unable to listen on any of the requested ports")
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Expr: `k8s.try_port_forward("db", 80).error`, Want: `k8s.port_forward: unable to listen on any of the requested ports`},
	})
}

func TestStreamPermissionsUnit(t *testing.T) {
	f := newFake(t)
	useStreamer(t, &memStreamer{bodies: map[string]string{"p": "log\n"}})
	local := kitetest.TempDir(t)
	dst := kitetest.Lit(filepath.Join(local, "out"))
	denyAll := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	allowLocal := &libkite.Config{Permissions: libkite.AllowLocalPermissions()}
	readOnly := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.read"}}}
	readFn := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.read(read:*)"}}}
	pfFn := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.read(port_forward:*)"}}}
	pfDenied := "permission denied: k8s.read port_forward - no matching allow rule"
	cases := []kitetest.PermCase{
		{Name: "deny-all logs", Cfg: denyAll, Expr: `k8s.logs("p")`, ErrPrefix: denied("read")},
		{Name: "deny-all logs_follow", Cfg: denyAll, Expr: `k8s.logs_follow("p", print)`, ErrPrefix: denied("read")},
		{Name: "deny-all exec", Cfg: denyAll, Expr: `k8s.exec("p", "true")`, ErrPrefix: denied("exec")},
		{Name: "deny-all cp", Cfg: denyAll, Expr: `k8s.cp("p", "p:/x", ` + dst + `)`, ErrPrefix: denied("exec")},
		{Name: "deny-all port_forward", Cfg: denyAll, Expr: `k8s.port_forward("p", 80)`, ErrPrefix: pfDenied},
		{Name: "deny-all try_port_forward", Cfg: denyAll, Expr: `k8s.try_port_forward("p", 80)`, Want: `Result(ok=False, error="` + pfDenied},
		{Name: "allow-local exec", Cfg: allowLocal, Expr: `k8s.config().exec("p", "true")`, ErrPrefix: denied("exec")},
		{Name: "allow-local cp", Cfg: allowLocal, Expr: `k8s.cp("p", "p:/x", ` + dst + `)`, ErrPrefix: denied("exec")},
		{Name: "allow-local logs", Cfg: allowLocal, Expr: `k8s.logs("p")`, Want: "log\n"},
		{Name: "allow-local port_forward", Cfg: allowLocal, Expr: `k8s.port_forward("p", 80).local_port`, Want: "80"},
		{Name: "read-only exec", Cfg: readOnly, Expr: `k8s.exec("p", "true")`, ErrPrefix: denied("exec")},
		{Name: "read-only try_cp", Cfg: readOnly, Expr: `k8s.try_cp("p", "p:/x", ` + dst + `)`, Want: `Result(ok=False, error="` + denied("exec")},
		{Name: "read-only logs_follow", Cfg: readOnly, Expr: `k8s.logs_follow("p", print)`, Want: "1"},
		{Name: "read function only: logs", Cfg: readFn, Expr: `k8s.logs("p")`, Want: "log\n"},
		{Name: "read function only: port_forward", Cfg: readFn, Expr: `k8s.port_forward("p", 80)`, ErrPrefix: pfDenied},
		{Name: "port_forward function only", Cfg: pfFn, Expr: `k8s.port_forward("p", 80).local_port`, Want: "80"},
		{Name: "port_forward function only: logs", Cfg: pfFn, Expr: `k8s.logs("p")`, ErrPrefix: "permission denied: k8s.read read - no matching allow rule"},
	}
	kitetest.RunPermCases(t, func(t testing.TB, cfg *libkite.Config) *libkite.Runtime { return f.runtime(t, cfg) }, cases, nil)
	kitetest.NoFile(t, filepath.Join(local, "out"))
}

// ---- cp ---------------------------------------------------------------------

func TestCpRemotePath(t *testing.T) {
	for _, c := range []struct {
		in, path string
		remote   bool
	}{
		{"pod:/x", "/x", true}, {"pod:x/y", "x/y", true}, {"pod:", "", true}, {"p:a:b", "a:b", true},
		{"/x", "", false}, {"./a:b", "", false}, {"/x:y", "", false}, {":x", "", false}, {"dir/p:x", "", false},
	} {
		p, ok := remotePath(c.in)
		if p != c.path || ok != c.remote {
			t.Errorf("remotePath(%q) = %q, %v", c.in, p, ok)
		}
	}
	for _, c := range []struct{ in, dir, arg, base string }{
		{"/data/x", "/data", "x", "x"}, {"x", ".", "x", "x"}, {"/a/b/", "/a", "b", "b"}, {".", ".", ".", "."},
		{"/tmp/-rf", "/tmp", "./-rf", "-rf"}, {"/x", "/", "x", "x"},
	} {
		dir, arg, base, err := splitRemote(c.in)
		if err != nil || dir != c.dir || arg != c.arg || base != c.base {
			t.Errorf("splitRemote(%q) = %q %q %q %v", c.in, dir, arg, base, err)
		}
	}
	if _, _, _, err := splitRemote("//"); err == nil {
		t.Error("the root is refused")
	}
}

// podTar is a memStreamer whose tar cf answers with archive (and whose
// other commands succeed).
func podTar(archive []byte, stderr string, err error) *memStreamer {
	return &memStreamer{run: func(argv []string, _ []byte) (string, string, error) {
		if argv[0] == "tar" && argv[1] == "cf" {
			return string(archive), stderr, err
		}
		return "", "", nil
	}}
}

func TestCpDownloadUnit(t *testing.T) {
	f := newFake(t)
	dir := kitetest.TempDir(t)
	cp := func(m *memStreamer, cfg *libkite.Config, src, dst string) (string, string) {
		t.Helper()
		useStreamer(t, m)
		got, msg, _ := f.eval(t, cfg, "", `k8s.cp("p", `+kitetest.Lit(src)+`, `+kitetest.Lit(dst)+`)`)
		return got, msg
	}

	// A directory: its contents into dst (created), nested, with an inner
	// symlink and a hard link.
	tree := makeTar(t,
		tarFile{name: "data/", typ: tar.TypeDir},
		tarFile{name: "data/a.txt", body: "A"},
		tarFile{name: "data/sub/", typ: tar.TypeDir},
		tarFile{name: "data/sub/b.txt", body: "B"},
		tarFile{name: "data/sub/up", typ: tar.TypeSymlink, link: "../a.txt"},
		tarFile{name: "data/hard", typ: tar.TypeLink, link: "data/a.txt"},
		tarFile{name: "data/fifo", typ: tar.TypeFifo},
	)
	m := podTar(tree, "", nil)
	got, msg := cp(m, nil, "p:/srv/data", filepath.Join(dir, "d1"))
	if msg != "" || got != `{"files": 4, "direction": "from_pod"}` {
		t.Fatalf("= %s (%s)", got, msg)
	}
	if a := m.lastExec().argv; fmt.Sprint(a) != "[tar cf - -C /srv data]" {
		t.Fatalf("argv %q", a)
	}
	sameTree(t, "d1", treeOf(t, filepath.Join(dir, "d1")), map[string]string{
		"a.txt": "A", "hard": "A", "sub": "/", "sub/b.txt": "B", "sub/up": "->../a.txt"})

	// A file: to the path, into an existing directory, into "dir/"
	// (created); an existing symlink at the target is replaced, not
	// written through.
	file := makeTar(t, tarFile{name: "f.txt", body: "F"})
	outside := kitetest.WriteFile(t, filepath.Join(dir, "outside.txt"), "keep")
	kitetest.Symlink(t, outside, filepath.Join(dir, "victim"))
	for _, c := range []struct{ dst, want string }{
		{filepath.Join(dir, "victim"), filepath.Join(dir, "victim")},
		{dir, filepath.Join(dir, "f.txt")},
		{filepath.Join(dir, "new", "deeper") + "/", filepath.Join(dir, "new", "deeper", "f.txt")},
		{filepath.Join(dir, "made", "g.txt"), filepath.Join(dir, "made", "g.txt")},
	} {
		if got, msg := cp(podTar(file, "", nil), nil, "p:f.txt", c.dst); msg != "" || got != `{"files": 1, "direction": "from_pod"}` {
			t.Fatalf("%s: %s (%s)", c.dst, got, msg)
		}
		if fi, err := os.Lstat(c.want); err != nil || !fi.Mode().IsRegular() || kitetest.ReadFile(t, c.want) != "F" {
			t.Fatalf("%s: %v %v", c.want, fi, err)
		}
	}
	kitetest.WantFile(t, outside, "keep")

	// The remote tar's failure; an empty archive.
	_, msg = cp(podTar(nil, "tar: nope: Cannot stat: No such file or directory\n", utilexec.CodeExitError{Err: errors.New("exit 2"), Code: 2}),
		nil, "p:nope", filepath.Join(dir, "nope"))
	if msg != "k8s.cp: tar failed in the pod (exit code 2): tar: nope: Cannot stat: No such file or directory" {
		t.Fatal(msg)
	}
	_, msg = cp(podTar(makeTar(t), "", nil), nil, "p:nope", filepath.Join(dir, "nope"))
	if msg != `k8s.cp: nothing to copy: the pod sent an empty archive for "nope"` {
		t.Fatal(msg)
	}
	kitetest.NoFile(t, filepath.Join(dir, "nope"))
	_, msg = cp(podTar(tree, "", nil), nil, "p:/srv/data", outside)
	if msg != "k8s.cp: cannot copy a directory onto file "+outside {
		t.Fatal(msg)
	}

	// Hostile archives: refused, nothing outside dst.
	evil := kitetest.TempDir(t)
	for _, c := range []struct {
		name string
		tar  []byte
		want string
	}{
		{"dotdot", makeTar(t, tarFile{name: "d/", typ: tar.TypeDir}, tarFile{name: "d/../../x1", body: "!"}),
			`refusing archive entry "d/../../x1": path leaves the destination ("..")`},
		{"bare dotdot", makeTar(t, tarFile{name: "../x1", body: "!"}), `refusing archive entry "../x1": path leaves the destination ("..")`},
		{"absolute", makeTar(t, tarFile{name: "d/", typ: tar.TypeDir}, tarFile{name: evil + "/x2", body: "!"}),
			fmt.Sprintf(`refusing archive entry "%s/x2": absolute path`, evil)},
		{"other root", makeTar(t, tarFile{name: "d/", typ: tar.TypeDir}, tarFile{name: "e/x", body: "!"}), `refusing archive entry "e/x": not below "d"`},
		{"symlink up", makeTar(t, tarFile{name: "d/", typ: tar.TypeDir}, tarFile{name: "d/l", typ: tar.TypeSymlink, link: "../.."}),
			`refusing archive entry "d/l": symlink to "../.." leaves the destination`},
		{"symlink absolute", makeTar(t, tarFile{name: "d/", typ: tar.TypeDir}, tarFile{name: "d/l", typ: tar.TypeSymlink, link: "/etc"}),
			`refusing archive entry "d/l": symlink to absolute path "/etc"`},
		{"symlink chain", makeTar(t, tarFile{name: "d/", typ: tar.TypeDir}, tarFile{name: "d/y", typ: tar.TypeSymlink, link: "s/.."},
			tarFile{name: "d/s", typ: tar.TypeSymlink, link: "."}),
			`refusing archive entry "y": symlink resolves outside the destination`},
		{"write through an archive link", makeTar(t, tarFile{name: "d/", typ: tar.TypeDir}, tarFile{name: "d/s", typ: tar.TypeSymlink, link: "."},
			tarFile{name: "d/y", typ: tar.TypeSymlink, link: "s/.."}, tarFile{name: "d/y/x3", body: "!"}),
			`refusing archive entry "d/y/x3": path leaves the destination (through a symlink)`},
		{"hard link out", makeTar(t, tarFile{name: "d/", typ: tar.TypeDir}, tarFile{name: "d/h", typ: tar.TypeLink, link: "../x"}),
			`refusing archive entry "d/h": hard link to "../x"`},
		{"hard link absolute", makeTar(t, tarFile{name: "d/", typ: tar.TypeDir}, tarFile{name: "d/h", typ: tar.TypeLink, link: "/etc/passwd"}),
			`refusing archive entry "d/h": hard link to "/etc/passwd"`},
		{"second file", makeTar(t, tarFile{name: "d", body: "one"}, tarFile{name: "d/x", body: "!"}),
			`refusing archive entry "d/x": unexpected entry after a single file`},
	} {
		dst := filepath.Join(evil, "dst", strings.ReplaceAll(c.name, " ", "-"))
		_, msg := cp(podTar(c.tar, "", nil), nil, "p:d", dst)
		if !strings.HasPrefix(msg, "k8s.cp: ") || !strings.Contains(msg, c.want) {
			t.Fatalf("%s: %q, want %q", c.name, msg, c.want)
		}
	}
	for _, p := range []string{"x1", "x2", "x3", "l", "y"} {
		noEntry(t, filepath.Join(evil, p))
		noEntry(t, filepath.Join(evil, "dst", p))
	}
	noEntry(t, filepath.Join(evil, "dst", "symlink-chain", "y")) // removed again

	// The archive's refusal wins over the remote command's failure.
	_, msg = cp(podTar(makeTar(t, tarFile{name: "/abs", body: "!"}), "boom", utilexec.CodeExitError{Code: 2}), nil, "p:abs", filepath.Join(evil, "z"))
	if !strings.Contains(msg, `refusing archive entry "/abs": absolute path`) {
		t.Fatal(msg)
	}

	// Dry run: counted, nothing written.
	got, msg = cp(podTar(tree, "", nil), &libkite.Config{DryRun: true}, "p:/srv/data", filepath.Join(dir, "dry"))
	if msg != "" || got != `{"files": 4, "direction": "from_pod"}` {
		t.Fatalf("dry run: %s (%s)", got, msg)
	}
	kitetest.NoFile(t, filepath.Join(dir, "dry"))

	// Local writes are checked per entry: fs.write:write alone cannot
	// create the directories the archive holds.
	onlyWrite := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.exec", "fs.write(write:" + dir + "/**)"}}}
	_, msg = cp(podTar(tree, "", nil), onlyWrite, "p:/srv/data", filepath.Join(dir, "perm"))
	if want := kitetest.Denied("fs.write", "mkdir", filepath.Join(dir, "perm")); !strings.HasPrefix(msg, want) {
		t.Fatalf("%q, want %q", msg, want)
	}
	got, msg = cp(podTar(file, "", nil), onlyWrite, "p:/f.txt", filepath.Join(dir, "perm.txt"))
	if msg != "" || got != `{"files": 1, "direction": "from_pod"}` {
		t.Fatalf("file under fs.write(write): %s (%s)", got, msg)
	}
	noWrite := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.exec"}}}
	m = podTar(file, "", nil)
	_, msg = cp(m, noWrite, "p:/f.txt", filepath.Join(dir, "denied.txt"))
	if want := kitetest.Denied("fs.write", "write", filepath.Join(dir, "denied.txt")); !strings.HasPrefix(msg, want) {
		t.Fatalf("%q, want %q", msg, want)
	}
	if len(m.execCalls) != 0 {
		t.Fatal("a download denied locally still ran tar in the pod")
	}
}

// archiveEntries lists an uploaded archive: name → content ("->target"
// for a symlink, "/" for a directory), in order.
func archiveEntries(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			out = append(out, h.Name)
		case tar.TypeSymlink:
			out = append(out, h.Name+"->"+h.Linkname)
		default:
			body, _ := io.ReadAll(tr)
			out = append(out, h.Name+"="+string(body))
		}
	}
}

func TestCpUploadUnit(t *testing.T) {
	f := newFake(t)
	dir := kitetest.TempDir(t)
	src := filepath.Join(dir, "src")
	kitetest.WriteFile(t, filepath.Join(src, "a.txt"), "A")
	kitetest.WriteFile(t, filepath.Join(src, "sub", "b.txt"), "B")
	kitetest.MkdirAll(t, filepath.Join(src, "empty"))
	kitetest.Symlink(t, "/etc/passwd", filepath.Join(src, "link")) // sent as a link, not read
	file := kitetest.WriteFile(t, filepath.Join(dir, "one.txt"), "ONE")

	remoteDirs := map[string]bool{"/data": true}
	m := &memStreamer{run: func(argv []string, _ []byte) (string, string, error) {
		if argv[0] == "test" {
			if remoteDirs[argv[2]] {
				return "", "", nil
			}
			return "", "", utilexec.CodeExitError{Code: 1}
		}
		return "", "", nil
	}}
	useStreamer(t, m)
	eval := func(cfg *libkite.Config, expr string) (string, string) {
		t.Helper()
		got, msg, _ := f.eval(t, cfg, "", expr)
		return got, msg
	}

	got, msg := eval(nil, `k8s.cp("p", `+kitetest.Lit(src)+`, "p:/data/up", container="c")`)
	if msg != "" || got != fmt.Sprintf(`{"source": %q, "direction": "to_pod", "files": 3}`, src) {
		t.Fatalf("= %s (%s)", got, msg)
	}
	e := m.lastExec()
	if fmt.Sprint(e.argv) != "[tar xf - -C /data]" || e.container != "c" || e.ns != "team-a" {
		t.Fatalf("exec %+v", e)
	}
	entries := archiveEntries(t, e.stdin)
	want := []string{"up/", "up/a.txt=A", "up/empty/", "up/link->/etc/passwd", "up/sub/", "up/sub/b.txt=B"}
	if fmt.Sprint(entries) != fmt.Sprint(want) {
		t.Fatalf("archive %q\nwant %q", entries, want)
	}

	for _, c := range []struct{ dst, argv, entry string }{
		{"p:/data/new.txt", "[tar xf - -C /data]", "new.txt=ONE"}, // not a directory in the pod
		{"p:/data", "[tar xf - -C /data]", "one.txt=ONE"},         // a directory in the pod
		{"p:/fresh/", "[tar xf - -C /fresh]", "one.txt=ONE"},      // "dir/": no test needed
		{"p:rel.txt", "[tar xf - -C .]", "rel.txt=ONE"},
	} {
		m.execCalls = nil
		got, msg := eval(nil, `k8s.cp("p", `+kitetest.Lit(file)+`, `+kitetest.Lit(c.dst)+`)`)
		if msg != "" || !strings.HasSuffix(got, `"files": 1}`) {
			t.Fatalf("%s: %s (%s)", c.dst, got, msg)
		}
		e := m.lastExec()
		if fmt.Sprint(e.argv) != c.argv || fmt.Sprint(archiveEntries(t, e.stdin)) != "["+c.entry+"]" {
			t.Fatalf("%s: %q %q", c.dst, e.argv, archiveEntries(t, e.stdin))
		}
		tested := len(m.execCalls) == 2
		if tested != !strings.HasSuffix(c.dst, "/") {
			t.Fatalf("%s: test -d run = %v (%v)", c.dst, tested, m.execCalls)
		}
	}

	// The remote tar's failure.
	m.run = func(argv []string, _ []byte) (string, string, error) {
		return "", "tar: /nope: Cannot open: No such file or directory\n", utilexec.CodeExitError{Code: 2}
	}
	_, msg = eval(nil, `k8s.cp("p", `+kitetest.Lit(src)+`, "p:/nope/x")`)
	if msg != "k8s.cp: tar failed in the pod (exit code 2): tar: /nope: Cannot open: No such file or directory" {
		t.Fatal(msg)
	}

	// Local reads are checked before anything is sent.
	m.execCalls = nil
	noRead := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.exec", "fs.read(walk:" + dir + "/**)"}}}
	_, msg = eval(noRead, `k8s.cp("p", `+kitetest.Lit(src)+`, "p:/data/up")`)
	if want := kitetest.Denied("fs.read", "read_file", filepath.Join(src, "a.txt")); !strings.HasPrefix(msg, want) {
		t.Fatalf("%q, want %q", msg, want)
	}
	_, msg = eval(noRead, `k8s.cp("p", `+kitetest.Lit(file)+`, "p:/data/x")`)
	if want := kitetest.Denied("fs.read", "read_file", file); !strings.HasPrefix(msg, want) {
		t.Fatalf("%q, want %q", msg, want)
	}
	_, msg = eval(noRead, `k8s.cp("p", `+kitetest.Lit(filepath.Join(dir, "missing"))+`, "p:/data/x")`)
	if want := kitetest.Denied("fs.read", "read_file", filepath.Join(dir, "missing")); !strings.HasPrefix(msg, want) {
		t.Fatalf("missing file denied before it is looked at: %q, want %q", msg, want)
	}
	if len(m.execCalls) != 0 {
		t.Fatalf("denied uploads reached the pod: %v", m.execCalls)
	}

	// Argument errors.
	kitetest.RunCases(t, f.with(nil), []kitetest.Case{
		{Expr: `k8s.cp("p", "p:/a", "p:/b")`, Err: `k8s.cp: only one of src and dst may be a pod path ("<pod>:<path>")`},
		{Expr: `k8s.cp("p", "/a", "/b")`, Err: `k8s.cp: one of src and dst must be a pod path ("<pod>:<path>")`},
		{Expr: `k8s.cp("p", "p:", "/b")`, Err: `k8s.cp: empty path in the pod`},
		{Expr: `k8s.cp("p", "", "p:/b")`, Err: `k8s.cp: empty local path`},
		{Expr: `k8s.cp("p", "p:/", "/tmp/x")`, Err: `k8s.cp: cannot copy the root directory of the pod`},
		{Expr: `k8s.cp("p", "p:/a")`, Err: `k8s.cp: missing required argument: dst`},
	})
}
