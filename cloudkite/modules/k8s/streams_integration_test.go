package k8s

import (
	"archive/tar"
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// Integration tests of spec §7 against the real API server through the
// test kubelet front (streams_front_test.go).

// frontGlobals are script helpers reading what the front saw:
// log_query() → the last log request's query (first values),
// last_exec() → {"pod", "container", "argv", "stdin"}, ws_refused() → int.
func (f *kubeletFront) globals() map[string]any {
	return map[string]any{
		"log_query": starlark.NewBuiltin("log_query", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			d := starlark.NewDict(4)
			for k, v := range f.lastLogQuery() {
				_ = d.SetKey(starlark.String(k), starlark.String(v[0]))
			}
			return d, nil
		}),
		"last_exec": starlark.NewBuiltin("last_exec", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			e := f.lastExec()
			argv := make([]starlark.Value, len(e.argv))
			for i, a := range e.argv {
				argv[i] = starlark.String(a)
			}
			d := starlark.NewDict(4)
			_ = d.SetKey(starlark.String("pod"), starlark.String(e.pod))
			_ = d.SetKey(starlark.String("container"), starlark.String(e.container))
			_ = d.SetKey(starlark.String("argv"), starlark.NewList(argv))
			_ = d.SetKey(starlark.String("stdin"), starlark.Bool(e.stdin))
			return d, nil
		}),
		"ws_refused": starlark.NewBuiltin("ws_refused", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return starlark.MakeInt(f.refused()), nil
		}),
	}
}

func merge(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func lines(age time.Duration, texts ...string) []frontLog {
	out := make([]frontLog, len(texts))
	for i, t := range texts {
		out[i] = frontLog{age: age, text: t}
	}
	return out
}

func TestLogsIntegration(t *testing.T) {
	c := newCluster(t)
	f := newKubeletFront(t, c)
	main := append(append(append(lines(2*time.Hour, "boot\n"), lines(90*time.Minute, "old line\n")...),
		lines(5*time.Minute, "recent 1\n", "recent 2\n")...), lines(0, "last\n")...)
	f.addPod(c, &frontPod{name: "web", containers: []string{"main", "sidecar"},
		logs:     map[string][]frontLog{"main": main, "sidecar": lines(0, "side 1\n", "side 2\n")},
		previous: map[string][]frontLog{"main": lines(time.Hour, "crashed before\n", "panic: oops\n")}})
	f.addPod(c, &frontPod{name: "solo", logs: map[string][]frontLog{"main": lines(0, "only\n", "no newline at end")}})
	run(t, f.runtime(t, c, nil, f.globals()), `
k = k8s.config(kubeconfig=FKC, namespace=NS)
ALL = "boot\nold line\nrecent 1\nrecent 2\nlast\n"
eq(k.logs("web", container="main"), ALL)
eq(log_query(), {"container": "main"}, "plain request")

# tail → tailLines
eq(k.logs("web", container="main", tail=2), "recent 2\nlast\n")
eq(log_query(), {"container": "main", "tailLines": "2"})
eq(k.logs("web", container="main", tail=0), ALL, "tail=0 is everything")
eq("tailLines" in log_query(), False)

# since → sinceSeconds (rounded up)
eq(k.logs("web", container="main", since="10m"), "recent 1\nrecent 2\nlast\n")
eq(log_query()["sinceSeconds"], "600")
eq(k.logs("web", container="main", since="100ms"), "last\n")
eq(log_query()["sinceSeconds"], "1")
eq(k.logs("web", container="main", since="3h", tail=4), "old line\nrecent 1\nrecent 2\nlast\n")

# previous → the prior instance
eq(k.logs("web", container="main", previous=True), "crashed before\npanic: oops\n")
eq(log_query(), {"container": "main", "previous": "true"})
eq(k.try_logs("web", container="sidecar", previous=True).error,
   'k8s.logs: previous terminated container "sidecar" in pod "web" not found (BadRequest)')

# container selection is the server's
eq(k.logs("web", container="sidecar"), "side 1\nside 2\n")
eq(k.try_logs("web").error, "k8s.logs: a container name must be specified for pod web, choose one of: [main sidecar] (BadRequest)")
eq(k.logs("solo"), "only\nno newline at end")

# positional optionals: name, namespace, container, tail, since, previous, timeout
eq(k.logs("web", NS, "main", 1, "", False, "30s"), "last\n")

# the module's default client (KUBECONFIG → front), namespace kwarg
eq(k8s.logs("web", namespace=NS, container="sidecar", tail=1), "side 2\n")

# a missing pod: the API server's own 404
eq(k.try_logs("ghost").error, 'k8s.logs: pods "ghost" not found (NotFound)')
r = k8s.try_logs("ghost", namespace=NS)
eq([r.ok, r.value], [False, None])

# argument errors
eq(k.try_logs("web", since="soon").error, 'k8s.logs: invalid since "soon"')
eq(k.try_logs("web", since="-5s").error, 'k8s.logs: invalid since "-5s"')
eq(k.try_logs("web", timeout="x").error, 'k8s.logs: invalid timeout "x"')
has(k.try_logs("web", tail="3").error, "tail")
`)
}

func TestLogsFollowIntegration(t *testing.T) {
	c := newCluster(t)
	f := newKubeletFront(t, c)
	f.addPod(c, &frontPod{name: "ticker", delay: 20 * time.Millisecond,
		logs: map[string][]frontLog{"main": lines(0, "one\n", "\n", "three\n", "four\n", "five-unterminated")}})
	f.addPod(c, &frontPod{name: "hang", delay: 100 * time.Millisecond, hang: true,
		logs: map[string][]frontLog{"main": lines(0, "a\n", "b\n", "c\n", "d\n")}})
	run(t, f.runtime(t, c, nil, f.globals()), `
k = k8s.config(kubeconfig=FKC, namespace=NS)
got = []
def collect(line):
    got.append(line)

# every line, "\n" stripped, the empty line kept, the unterminated one flushed
eq(k.logs_follow("ticker", collect), 5)
eq(got, ["one", "", "three", "four", "five-unterminated"])
eq(log_query(), {"follow": "true"})

# handler as keyword, tail reaches the server
got.clear()
eq(k8s.logs_follow("ticker", namespace=NS, handler=collect, tail=2), 2)
eq(got, ["four", "five-unterminated"])
eq(log_query(), {"follow": "true", "tailLines": "2"})

# returning exactly False stops (None and other falsy values do not)
seen = []
def two(line):
    seen.append(line)
    if len(seen) == 1:
        return 0
    if len(seen) == 2:
        return False
eq(k.logs_follow("hang", two, timeout="20s"), 2)
eq(seen, ["a", "b"])

# the timeout ends a follow normally: what arrived is counted
got.clear()
eq(k.logs_follow("hang", collect, timeout="1s"), 4)
eq(got, ["a", "b", "c", "d"])

# handler errors abort with the handler's message
def boom(line):
    fail("bad line " + line)
r = k.try_logs_follow("ticker", boom)
eq(r.ok, False)
has(r.error, "k8s.logs_follow: handler: ")
has(r.error, "bad line one")

eq(k.try_logs_follow("ticker").error, "k8s.logs_follow: handler is required")
eq(k.try_logs_follow("ticker", None).error, "k8s.logs_follow: handler is required")
has(k.try_logs_follow("ticker", "nope").error, "for parameter handler: got string, want callable")
eq(k.try_logs_follow("ghost", collect).error, 'k8s.logs_follow: pods "ghost" not found (NotFound)')
`)
	// The early stop closed the stream: the front saw its client go away
	// after two lines (not at the end of the log), and the timeout closed
	// the other after all four.
	f.mu.Lock()
	closed := append([]int(nil), f.closed["hang"]...)
	f.mu.Unlock()
	sort.Ints(closed)
	if len(closed) != 2 || closed[0] > 3 || closed[1] != 4 {
		t.Fatalf("follow clients went away after %v lines; want one early (<4) and one at 4", closed)
	}
}

func TestExecIntegration(t *testing.T) {
	c := newCluster(t)
	f := newKubeletFront(t, c)
	box := f.addPod(c, &frontPod{name: "box", containers: []string{"app", "sidecar"}})
	kitetest.WriteFile(t, filepath.Join(box.root, "hello.txt"), "hello from the pod\n")
	start := time.Now()
	run(t, f.runtime(t, c, nil, merge(f.globals(), map[string]any{"BOXROOT": box.root})), `
k = k8s.config(kubeconfig=FKC, namespace=NS)

# a str runs under /bin/sh -c; stdout and stderr apart; the real exit code
r = k.exec("box", "echo out; echo err >&2; exit 3", container="app")
eq(r, {"stdout": "out\n", "stderr": "err\n", "code": 3, "exit_code": 3})
eq(list(r.keys()), ["stdout", "stderr", "code", "exit_code"])
eq(last_exec(), {"pod": "box", "container": "app", "argv": ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], "stdin": False})

# a list is the argv as it is (no shell)
eq(k.exec("box", ["cat", "hello.txt"], container="app"), {"stdout": "hello from the pod\n", "stderr": "", "code": 0, "exit_code": 0})
eq(k.exec("box", ("sh", "-c", 'printf "%s|" "$@"', "sh", "a b", "$HOME", "*"), container="sidecar")["stdout"], "a b|$HOME|*|")
eq(last_exec()["container"], "sidecar")
eq(k.exec("box", ["false"], container="app")["code"], 1)
eq(k.exec("box", "exit 42", NS, "app")["exit_code"], 42)

# the default client, namespace kwarg; the pod's working directory
eq(k8s.exec("box", "pwd", namespace=NS, container="app")["stdout"], BOXROOT + "\n")

# failures that are not exit codes: code 1 and the error in stderr
r = k.exec("ghost", ["true"])
eq([r["code"], r["exit_code"], r["stdout"]], [1, 1, ""])
has(r["stderr"], 'pods "ghost" not found')
r = k.exec("box", "true", container="nope")
eq(r["code"], 1)
has(r["stderr"], "container nope is not valid for pod box")
r = k.exec("box", ["no-such-program-here"], container="app")
eq(r["code"], 1)
has(r["stderr"], "no-such-program-here")
# stderr the command wrote comes first, then the error
r = k.exec("box", "echo partial >&2; sleep 5", container="app", timeout="400ms")
eq(r["code"], 1)
has(r["stderr"], "partial\n")
has(r["stderr"], "context deadline exceeded")

# bad command arguments raise (plain binding errors)
eq(k.try_exec("box", 42).error, "k8s.client.exec: for parameter command: got int, want string or list of strings")
eq(k8s.try_exec("box", ["ls", 1]).error, "k8s.exec: for parameter command: element 1 is int, want string")
eq(k8s.try_exec("box", []).error, "k8s.exec: for parameter command: empty command")
has(k.try_exec("box").error, "missing required argument: command")

# try_exec: a Result holding the dict
r = k.try_exec("box", "exit 5", container="app")
eq([r.ok, r.error, r.value["code"]], [True, "", 5])
eq(type(r), "Result")

# WebSocket was tried first, then SPDY
eq(ws_refused() > 0, True)
`)
	if d := time.Since(start); d > 60*time.Second {
		t.Fatalf("exec tests took %v", d)
	}
}

func TestPortForwardIntegration(t *testing.T) {
	c := newCluster(t)
	f := newKubeletFront(t, c)
	sameRemote := kitetest.FreePort(t)
	f.addPod(c, &frontPod{name: "db", ports: map[int32]string{5432: frontEchoServer(t), int32(sameRemote): frontEchoServer(t)}})
	local := kitetest.FreePort(t)
	leaked := kitetest.FreePort(t)

	// Bound on both loopback addresses: forwarding there must fail.
	busy := kitetest.FreePort(t)
	l4, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", busy))
	if err != nil {
		t.Fatal(err)
	}
	defer l4.Close()
	if l6, err := net.Listen("tcp6", fmt.Sprintf("[::1]:%d", busy)); err == nil {
		defer l6.Close()
	}

	rt := f.runtime(t, c, nil, merge(f.globals(), map[string]any{"LOCAL": local, "SAME": sameRemote, "BUSY": busy, "LEAKED": leaked}))
	run(t, rt, `
k = k8s.config(kubeconfig=FKC, namespace=NS)
fw = k.port_forward("db", 5432, local_port=LOCAL)
eq(type(fw), "port_forward")
eq(fw.local_port, LOCAL)
eq(str(fw), "<port_forward localhost:%d -> %s/db:5432>" % (LOCAL, NS))
# bytes really flow: the pod's echo server answers upper-cased, twice
eq(echo(LOCAL, "hello through the tunnel"), "HELLO THROUGH THE TUNNEL")
eq(echo(LOCAL, "x" * 100000), "X" * 100000)
eq(fw.stop(), None)
fw.stop()   # a second stop is harmless
eq(fw.try_stop().ok, True)
eq("local_port" in dir(fw), True)

# local_port=0 (the default) is the same number as the pod's port
fw2 = k8s.port_forward("db", SAME, namespace=NS)
eq(fw2.local_port, SAME)
eq(echo(SAME, "same"), "SAME")
fw2.stop()

# a local port in use
r = k.try_port_forward("db", 5432, local_port=BUSY)
eq(r.ok, False)
has(r.error, "k8s.port_forward: ")
has(r.error, "address already in use")

# a missing pod: the API server's 404
has(k.try_port_forward("ghost", 80, local_port=LOCAL).error, 'pods "ghost" not found')
eq(k.try_port_forward("db", 0).error, "k8s.port_forward: invalid port 0")
eq(k.try_port_forward("db", 70000).error, "k8s.port_forward: invalid port 70000")
eq(k.try_port_forward("db", 80, local_port=-1).error, "k8s.port_forward: invalid local_port -1")

# left running: the end of the run stops it
left = k.port_forward("db", 5432, local_port=LEAKED)
eq(echo(LEAKED, "still up"), "STILL UP")
`)
	// After the stops (and the run's end) the local ports are free again.
	for _, p := range []int{local, sameRemote, leaked} {
		waitPortFree(t, p)
	}
}

// waitPortFree waits until 127.0.0.1:port can be bound again.
func waitPortFree(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			l.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("port %d still bound: %v", port, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tarFile is one entry of a hand-made archive.
type tarFile struct {
	name, body, link string
	typ              byte
}

func makeTar(t *testing.T, files ...tarFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Typeflag: f.typ, Mode: 0o644, Size: int64(len(f.body)), Linkname: f.link, ModTime: time.Now()}
		if f.typ == 0 {
			h.Typeflag = tar.TypeReg
		}
		if h.Typeflag != tar.TypeReg {
			h.Size = 0
		}
		if h.Typeflag == tar.TypeDir {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			if _, err := tw.Write([]byte(f.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// treeOf lists a directory: relative path → content ("->target" for a
// symlink, "/" for a directory).
func treeOf(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "." {
			return nil
		}
		switch {
		case info.Mode()&os.ModeSymlink != 0:
			l, _ := os.Readlink(p)
			out[rel] = "->" + l
		case info.IsDir():
			out[rel] = "/"
		default:
			b, _ := os.ReadFile(p)
			out[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s:\n got %v\nwant %v", what, got, want)
	}
}

func TestCpIntegration(t *testing.T) {
	c := newCluster(t)
	f := newKubeletFront(t, c)
	box := f.addPod(c, &frontPod{name: "box"})
	evil := f.addPod(c, &frontPod{name: "evil"})
	kitetest.MkdirAll(t, filepath.Join(box.root, "up"))

	// A local tree: files, a nested binary file, a relative symlink, an
	// empty directory.
	local := kitetest.TempDir(t)
	src := filepath.Join(local, "src")
	kitetest.WriteFile(t, filepath.Join(src, "a.txt"), "alpha\n")
	kitetest.WriteFile(t, filepath.Join(src, "sub", "b.txt"), "beta\n")
	kitetest.WriteFile(t, filepath.Join(src, "sub", "deeper", "c.bin"), "\x00\x01\xff binary\n")
	kitetest.MkdirAll(t, filepath.Join(src, "empty"))
	kitetest.Symlink(t, "a.txt", filepath.Join(src, "link"))
	single := kitetest.WriteFile(t, filepath.Join(local, "single.txt"), "just one file\n")
	want := treeOf(t, src)

	// The evil pod's tar hands out prepared archives named by the path
	// asked for.
	archives := map[string][]byte{
		"dotdot":   makeTar(t, tarFile{name: "dotdot/", typ: tar.TypeDir}, tarFile{name: "dotdot/ok.txt", body: "fine"}, tarFile{name: "dotdot/../../evil", body: "pwned"}),
		"absolute": makeTar(t, tarFile{name: "absolute/", typ: tar.TypeDir}, tarFile{name: filepath.Join(local, "abs-evil"), body: "pwned"}),
		"linkout":  makeTar(t, tarFile{name: "linkout/", typ: tar.TypeDir}, tarFile{name: "linkout/l", typ: tar.TypeSymlink, link: "../../"}, tarFile{name: "linkout/l/evil2", body: "pwned"}),
		"linkabs":  makeTar(t, tarFile{name: "linkabs/", typ: tar.TypeDir}, tarFile{name: "linkabs/l", typ: tar.TypeSymlink, link: local}),
		"through":  makeTar(t, tarFile{name: "through/", typ: tar.TypeDir}, tarFile{name: "through/out/evil3", body: "pwned"}),
	}
	for name, b := range archives {
		kitetest.WriteFile(t, filepath.Join(evil.root, ".archives", name+".tar"), string(b))
	}
	kitetest.WriteFile(t, filepath.Join(evil.root, ".bin", "tar"), "#!/bin/sh\n# tar cf - -C <dir> <base>\nexec cat \"$POD_ROOT/.archives/$(basename \"$5\").tar\"\n")
	if err := os.Chmod(filepath.Join(evil.root, ".bin", "tar"), 0o755); err != nil {
		t.Fatal(err)
	}

	dst := filepath.Join(local, "dst")
	rt := f.runtime(t, c, nil, merge(f.globals(), map[string]any{"SRC": src, "SINGLE": single, "LOCAL": local, "DST": dst}))
	run(t, rt, `
k = k8s.config(kubeconfig=FKC, namespace=NS)

# upload a directory: its contents become the pod directory up/tree
eq(k.cp("box", SRC, "box:up/tree"), {"source": SRC, "direction": "to_pod", "files": 4})
eq(last_exec()["argv"], ["tar", "xf", "-", "-C", "up"])
eq(last_exec()["stdin"], True)

# upload a file: to a path, into an existing directory (checked in the pod), into dir/
eq(k8s.cp("box", SINGLE, "box:up/renamed.txt", namespace=NS), {"source": SINGLE, "direction": "to_pod", "files": 1})
eq(k.cp("box", SINGLE, "box:up")["files"], 1)
eq(k.cp("box", SINGLE, "box:up/tree/sub/")["files"], 1)
`)
	pod := treeOf(t, filepath.Join(box.root, "up"))
	for rel, content := range want {
		if pod[filepath.Join("tree", rel)] != content {
			t.Fatalf("pod up/tree/%s = %q, want %q (pod tree %v)", rel, pod[filepath.Join("tree", rel)], content, pod)
		}
	}
	for _, p := range []string{"renamed.txt", "single.txt", "tree/sub/single.txt"} {
		if pod[p] != "just one file\n" {
			t.Fatalf("pod up/%s = %q", p, pod[p])
		}
	}

	run(t, rt, `
k = k8s.config(kubeconfig=FKC, namespace=NS)
# download a directory: its contents land in DST (created)
eq(k.cp("box", "box:up/tree", DST), {"files": 5, "direction": "from_pod"})
eq(last_exec()["argv"], ["tar", "cf", "-", "-C", "up", "tree"])
# again into the existing directory: merged, same files
eq(k.cp("box", "box:up/tree", DST)["files"], 5)

# download a file: to a path, into an existing directory, into dir/ (created)
eq(k.cp("box", "box:up/renamed.txt", LOCAL + "/copy.txt"), {"files": 1, "direction": "from_pod"})
eq(k.cp("box", "box:up/renamed.txt", LOCAL)["files"], 1)
eq(k.cp("box", "box:up/renamed.txt", LOCAL + "/fresh/")["files"], 1)

# a missing path in the pod: tar's own failure
r = k.try_cp("box", "box:up/nope", LOCAL + "/nope")
eq(r.ok, False)
has(r.error, "k8s.cp: tar failed in the pod (exit code 2): ")
has(r.error, "nope")

# direction
eq(k.try_cp("box", "box:a", "box:b").error, 'k8s.cp: only one of src and dst may be a pod path ("<pod>:<path>")')
eq(k.try_cp("box", "a", "./b:c").error, 'k8s.cp: one of src and dst must be a pod path ("<pod>:<path>")')
has(k.try_cp("ghost", SINGLE, "ghost:x.txt").error, 'pods "ghost" not found')
has(k.try_cp("box", LOCAL + "/missing", "box:x").error, "no such file or directory")
`)
	// Round trip: what came back is what went up (plus the extra file
	// uploaded into sub/).
	got := treeOf(t, dst)
	want2 := map[string]string{}
	for k, v := range want {
		want2[k] = v
	}
	want2[filepath.Join("sub", "single.txt")] = "just one file\n"
	sameTree(t, "downloaded tree", got, want2)
	for _, p := range []string{"copy.txt", "renamed.txt", "fresh/renamed.txt"} {
		if b, err := os.ReadFile(filepath.Join(local, p)); err != nil || string(b) != "just one file\n" {
			t.Fatalf("%s = %q, %v", p, b, err)
		}
	}

	// A pod whose tar sends archives escaping the destination.
	kitetest.MkdirAll(t, filepath.Join(local, "trap"))
	kitetest.Symlink(t, local, filepath.Join(local, "trap", "out")) // a pre-existing link in dst
	run(t, rt, `
k = k8s.config(kubeconfig=FKC, namespace=NS)
def refused(path, dst, want):
    r = k.try_cp("evil", "evil:" + path, dst)
    eq(r.ok, False, path)
    has(r.error, want, path)

refused("dotdot", LOCAL + "/trap", 'k8s.cp: refusing archive entry "dotdot/../../evil": path leaves the destination ("..")')
refused("absolute", LOCAL + "/trap", 'refusing archive entry "%s/abs-evil": absolute path' % LOCAL)
refused("linkout", LOCAL + "/trap", 'refusing archive entry "linkout/l": symlink to "../../" leaves the destination')
refused("linkabs", LOCAL + "/trap", 'refusing archive entry "linkabs/l": symlink to absolute path')
refused("through", LOCAL + "/trap", 'refusing archive entry "through/out/evil3": path leaves the destination (through a symlink)')
`)
	for _, p := range []string{"evil", "abs-evil", "evil2", "evil3", filepath.Join("trap", "l")} {
		noEntry(t, filepath.Join(local, p))
		noEntry(t, filepath.Join(filepath.Dir(local), p))
	}
	// The valid entry before the bad one stayed inside dst.
	kitetest.WantFile(t, filepath.Join(local, "trap", "ok.txt"), "fine")
}

func TestStreamPermissionsIntegration(t *testing.T) {
	c := newCluster(t)
	f := newKubeletFront(t, c)
	box := f.addPod(c, &frontPod{name: "box", ports: map[int32]string{80: frontEchoServer(t)},
		logs: map[string][]frontLog{"main": lines(0, "log line\n")}})
	kitetest.WriteFile(t, filepath.Join(box.root, "f.txt"), "data")
	local := kitetest.TempDir(t)
	port := kitetest.FreePort(t)
	readOnly := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.read"}}}
	globals := map[string]any{"LOCAL": local, "PORT": port}

	rt := f.runtime(t, c, readOnly, merge(f.globals(), globals))
	for _, expr := range []string{`k8s.exec("box", "true", namespace=NS)`, `k8s.cp("box", "box:f.txt", LOCAL + "/f", namespace=NS)`,
		`k8s.cp("box", LOCAL, "box:x", namespace=NS)`} {
		_, msg, err := kitetest.Eval(rt, "", expr)
		if !libkite.IsPermissionError(err) || !strings.HasPrefix(msg, denied("exec")) {
			t.Fatalf("%s: %q (%v), want %q", expr, msg, err, denied("exec"))
		}
	}
	run(t, rt, `
eq(k8s.logs("box", namespace=NS), "log line\n")
fw = k8s.port_forward("box", 80, local_port=PORT, namespace=NS)
eq(echo(PORT, "ok"), "OK")
fw.stop()
r = k8s.try_exec("box", "true", namespace=NS)
eq(r.ok, False)
has(r.error, "permission denied: k8s.exec exec")
`)
	kitetest.NoFile(t, filepath.Join(local, "f"))
	if e := f.lastExec(); e.pod != "" {
		t.Fatalf("a denied call reached the pod: %+v", e)
	}

	// The function slot: port_forward is k8s.read with function
	// port_forward, logs is k8s.read with function read.
	onlyRead := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.read(read:*)"}}}
	_, msg, err := kitetest.Eval(f.runtime(t, c, onlyRead, globals), "", `k8s.port_forward("box", 80, local_port=PORT, namespace=NS)`)
	if want := "permission denied: k8s.read port_forward - no matching allow rule"; !libkite.IsPermissionError(err) || !strings.HasPrefix(msg, want) {
		t.Fatalf("port_forward under read-only functions: %q, want %q", msg, want)
	}
	onlyPF := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.read(port_forward:*)"}}}
	run(t, f.runtime(t, c, onlyPF, merge(f.globals(), globals)), `
fw = k8s.port_forward("box", 80, local_port=PORT, namespace=NS)
eq(echo(PORT, "pf"), "PF")
fw.stop()
eq(k8s.try_logs("box", namespace=NS).error.startswith("permission denied: k8s.read read"), True)
`)

	// cp's local side goes through fs permissions.
	noFS := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"k8s.exec"}}}
	_, msg, err = kitetest.Eval(f.runtime(t, c, noFS, globals), "", `k8s.cp("box", "box:f.txt", LOCAL + "/f", namespace=NS)`)
	if want := kitetest.Denied("fs.write", "write", filepath.Join(libkite.CanonicalPath(local), "f")); !libkite.IsPermissionError(err) || !strings.HasPrefix(msg, want) {
		t.Fatalf("download without fs.write: %q, want %q", msg, want)
	}
	_, msg, err = kitetest.Eval(f.runtime(t, c, noFS, globals), "", `k8s.cp("box", LOCAL, "box:up", namespace=NS)`)
	if want := kitetest.Denied("fs.read", "walk", libkite.CanonicalPath(local)); !libkite.IsPermissionError(err) || !strings.HasPrefix(msg, want) {
		t.Fatalf("upload without fs.read: %q, want %q", msg, want)
	}
	kitetest.NoFile(t, filepath.Join(local, "f"))
	if _, err := os.Stat(filepath.Join(box.root, "up")); err == nil {
		t.Fatal("a denied upload reached the pod")
	}
}

// noEntry fails t unless nothing (not even a dangling symlink) is at p.
func noEntry(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Lstat(p); !os.IsNotExist(err) {
		t.Fatalf("%s exists (lstat: %v)", p, err)
	}
}
