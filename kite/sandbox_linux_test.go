//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The sandbox tests run the built kite inside real gVisor. They skip only
// when the kernel cannot give an unprivileged process a user namespace,
// and say why.

// sandboxEnv is one test's world: a home directory with a secret and a
// user config, a project directory to run from, and a private TMPDIR so
// the test can check that no bundle or state directory is left behind.
type sandboxEnv struct {
	t                     *testing.T
	root, home, work, tmp string
	env                   []string
}

func newSandboxEnv(t *testing.T) *sandboxEnv {
	t.Helper()
	requireUserNamespaces(t)
	root := t.TempDir()
	e := &sandboxEnv{t: t, root: root, home: filepath.Join(root, "home"), work: filepath.Join(root, "work"), tmp: filepath.Join(root, "tmp")}
	for _, d := range []string{e.home, e.work, e.tmp, filepath.Join(e.home, ".starkite")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.write(filepath.Join(e.home, "secret.txt"), "top secret")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "STARKITE_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "TMPDIR=") {
			e.env = append(e.env, kv)
		}
	}
	e.env = append(e.env, "HOME="+e.home, "TMPDIR="+e.tmp)
	t.Cleanup(e.checkNoLeftovers)
	return e
}

func (e *sandboxEnv) write(path, content string) {
	e.t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// checkNoLeftovers fails when a run left its bundle or state behind.
func (e *sandboxEnv) checkNoLeftovers() {
	entries, _ := os.ReadDir(e.tmp)
	for _, en := range entries {
		if strings.HasPrefix(en.Name(), "starkite-sandbox-") {
			e.t.Errorf("left behind in TMPDIR: %s", en.Name())
		}
	}
}

// result is one finished kite process.
type result struct {
	stdout, stderr string
	code           int
}

// kite runs the binary in dir with the test's environment plus extra.
func (e *sandboxEnv) kite(dir, stdin string, extra []string, args ...string) result {
	e.t.Helper()
	c := exec.Command(kiteBin, args...)
	c.Dir = dir
	c.Env = append(append([]string(nil), e.env...), extra...)
	c.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		e.t.Fatalf("kite %v: %v", args, err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: c.ProcessState.ExitCode()}
}

// must fails the test unless r exited 0.
func (r result) must(t *testing.T) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	return r
}

// lines checks that every want line appears in r's stdout.
func (r result) lines(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(r.stdout, w+"\n") {
			t.Errorf("stdout lacks %q\nstdout:\n%s\nstderr:\n%s", w, r.stdout, r.stderr)
		}
	}
}

// requireUserNamespaces skips when this kernel cannot run rootless gVisor
// at all (the only reason these tests may skip).
func requireUserNamespaces(t *testing.T) {
	t.Helper()
	for path, blocked := range map[string]string{
		"/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1",
		"/proc/sys/kernel/unprivileged_userns_clone":             "0",
	} {
		if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == blocked && os.Getuid() != 0 {
			t.Skipf("gVisor cannot run here: %s is %s (user namespaces restricted)", path, blocked)
		}
	}
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil && strings.TrimSpace(string(b)) == "0" {
		t.Skip("gVisor cannot run here: /proc/sys/user/max_user_namespaces is 0")
	}
}

// hostListener is an HTTP server on the host's loopback that counts the
// requests reaching it.
func hostListener(t *testing.T) (url string, hits *atomic.Int32) {
	hits = new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "host says hi")
	}))
	t.Cleanup(srv.Close)
	return srv.URL, hits
}

// probeScript reports what a script can see and reach; the test reads
// the lines it prints.
const probeScript = `
home = env("HOME")
def show(label, r):
    if r.ok:
        print(label, "ok", r.value)
    else:
        print(label, "error", r.error)

show("home-read", fs.path(home + "/secret.txt").try_read_text())
show("home-write", fs.path(home + "/planted.txt").try_write_text("x"))
show("passwd", fs.path("/etc/passwd").try_read_text())
show("cwd-write", fs.path("out.txt").try_write_text("written inside"))
show("cwd-read", fs.path("in.txt").try_read_text())
show("tmp-write", fs.path("/tmp/" + var_str("tmpname")).try_write_text("tmp"))
show("tmp-read", fs.path("/tmp/" + var_str("tmpname")).try_read_text())
r = http.url(var_str("host_url")).try_get(timeout = "3s")
print("host-http", "ok" if r.ok and r.value.status_code == 200 else "error " + (r.error or str(r.value.status_code)))

srv = http.server(host = "127.0.0.1", port = 0)
srv.handle("GET /", lambda req: "pong")
srv.start()
print("own-http", http.url("http://127.0.0.1:%d/" % srv.port()).get(timeout = "3s").get_text())
srv.shutdown()
print("inside", env("STARKITE_INSIDE_SANDBOX", "unset"), env("STARKITE_SANDBOX_SESSION", "unset"))
`

// probe runs probeScript from dir under the sandbox flag and returns its
// report by label.
func (e *sandboxEnv) probe(dir, sandboxFlag string, extraEnv ...string) (got map[string]string, all string, hostHits int32) {
	e.t.Helper()
	url, hits := hostListener(e.t)
	tmpname := fmt.Sprintf("kite-probe-%d.txt", time.Now().UnixNano())
	e.write(filepath.Join(dir, "probe.star"), probeScript)
	e.write(filepath.Join(dir, "in.txt"), "from the host")
	r := e.kite(dir, "", extraEnv, "run", "probe.star", sandboxFlag, "--allow-all", "--var", "host_url="+url, "--var", "tmpname="+tmpname).must(e.t)
	got = map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		label, rest, _ := strings.Cut(line, " ")
		got[label] = rest
	}
	if _, err := os.Stat(filepath.Join("/tmp", tmpname)); err == nil {
		e.t.Errorf("the sandbox's /tmp write reached the host's /tmp")
	}
	return got, r.stdout + r.stderr, hits.Load()
}

func expect(t *testing.T, got map[string]string, all string, label, prefix string) {
	t.Helper()
	if !strings.HasPrefix(got[label], prefix) {
		t.Errorf("%s = %q, want prefix %q\n%s", label, got[label], prefix, all)
	}
}

func TestSandboxOpaque(t *testing.T) {
	e := newSandboxEnv(t)
	got, all, hits := e.probe(e.work, "--sandbox-opaque")
	expect(t, got, all, "home-read", "error ")
	expect(t, got, all, "home-read", "error open "+e.home+"/secret.txt: no such file or directory")
	expect(t, got, all, "passwd", "error open /etc/passwd: no such file or directory")
	expect(t, got, all, "cwd-write", "ok")
	expect(t, got, all, "cwd-read", "ok from the host")
	expect(t, got, all, "tmp-write", "ok")
	expect(t, got, all, "tmp-read", "ok tmp")
	expect(t, got, all, "host-http", "error ")
	expect(t, got, all, "own-http", "pong")
	expect(t, got, all, "inside", "1 unset")
	if b, err := os.ReadFile(filepath.Join(e.work, "out.txt")); err != nil || string(b) != "written inside" {
		t.Errorf("cwd write did not reach the host: %q, %v", b, err)
	}
	if hits != 0 {
		t.Errorf("the host listener was reached %d times from opaque", hits)
	}
}

func TestSandboxNetAccess(t *testing.T) {
	e := newSandboxEnv(t)
	got, all, _ := e.probe(e.work, "--sandbox=net-access")
	expect(t, got, all, "host-http", "ok")
	expect(t, got, all, "home-read", "error open "+e.home+"/secret.txt: no such file or directory")
	expect(t, got, all, "passwd", "error ")
	expect(t, got, all, "cwd-write", "ok")
	expect(t, got, all, "own-http", "pong")
}

func TestSandboxHost(t *testing.T) {
	e := newSandboxEnv(t)
	proj := filepath.Join(e.home, "proj") // run from inside $HOME
	got, all, _ := e.probe(proj, "--sandbox-host")
	expect(t, got, all, "home-read", "ok top secret")
	expect(t, got, all, "home-write", "error ")
	if !strings.Contains(got["home-write"], "read-only file system") {
		t.Errorf("home-write = %q, want a read-only file system error", got["home-write"])
	}
	expect(t, got, all, "cwd-write", "ok") // the cwd bind stays writable under the ro $HOME
	expect(t, got, all, "host-http", "ok")
	if _, err := os.Stat(filepath.Join(e.home, "planted.txt")); err == nil {
		t.Error("a file was planted in $HOME")
	}
	// host binaries run (allow-all) and the process table is the sandbox's
	e.write(filepath.Join(proj, "bins.star"), `print(os.exec("echo from-host-binary").strip())
`)
	r := e.kite(proj, "", nil, "run", "bins.star", "--sandbox-host", "--allow-all").must(t)
	r.lines(t, "from-host-binary")
}

func TestSandboxCustomProfiles(t *testing.T) {
	e := newSandboxEnv(t)
	extra := filepath.Join(e.root, "cache")
	os.MkdirAll(extra, 0o755)
	e.write(filepath.Join(e.work, "config.yaml"), fmt.Sprintf(`sandbox:
  build:
    base: opaque
    mounts:
      - {source: %s, destination: %s, mode: rw}
  default: net-access
`, extra, extra))
	e.write(filepath.Join(e.work, "build.star"), fmt.Sprintf(`fs.path(%q).write_text("built")
print("wrote")`, filepath.Join(extra, "artifact.txt")))
	e.kite(e.work, "", nil, "run", "build.star", "--sandbox=build", "--allow-all").must(t).lines(t, "wrote")
	if b, err := os.ReadFile(filepath.Join(extra, "artifact.txt")); err != nil || string(b) != "built" {
		t.Errorf("extra rw mount: %q, %v", b, err)
	}
	// without the extra mount the same write fails
	if r := e.kite(e.work, "", nil, "run", "build.star", "--sandbox=opaque", "--allow-all"); r.code != 1 || !strings.Contains(r.stderr, "no such file or directory") {
		t.Errorf("opaque write outside cwd: exit %d\n%s", r.code, r.stderr)
	}
	// bare --sandbox is the config's default (net-access here)
	got, all, _ := e.probe(e.work, "--sandbox")
	expect(t, got, all, "host-http", "ok")
	// the env var is the shebang path
	got, all, _ = e.probe(e.work, "--allow-all", "STARKITE_SECURITY_SANDBOX=opaque")
	expect(t, got, all, "host-http", "error ")
	expect(t, got, all, "inside", "1 unset")

	cfg := filepath.Join(e.work, "config.yaml")
	for _, tt := range []struct{ profile, want string }{
		{"  bad:\n    network: wifi\n", `sandbox: profile "bad" (` + cfg + `): unknown network mode "wifi" (want "host" or "loopback")`},
		{"  bad:\n    mounts: [{destination: /x}]\n", `sandbox: profile "bad" (` + cfg + `): network mode is required (one of "host", "loopback")`},
		{"  bad:\n    base: opaque\n    mounts: [{source: /no/such/dir, destination: /data}]\n", `sandbox: profile "bad" (` + cfg + `): bind source "/no/such/dir" does not exist on the host`},
		{"  bad:\n    base: opaque\n    mounts: [{source: ~/x, destination: /data}]\n", `sandbox: profile "bad" (` + cfg + `): mount[0]: source "~/x" must be an absolute path`},
		{"  bad:\n    base: strict\n", `sandbox: profile "bad" (` + cfg + `): base "strict" must name a built-in profile (opaque, net-access, host)`},
	} {
		e.write(cfg, "sandbox:\n"+tt.profile)
		r := e.kite(e.work, "", nil, "exec", "--sandbox=bad", "print('ran')")
		if r.code != 1 || r.stderr != "Error: "+tt.want+"\n" || r.stdout != "" {
			t.Errorf("profile %q: exit %d\nstdout %q\nstderr %q\nwant   %q", tt.profile, r.code, r.stdout, r.stderr, "Error: "+tt.want+"\n")
		}
	}
	r := e.kite(e.work, "", nil, "exec", "--sandbox=nosuch", "print('ran')")
	if r.code != 1 || !strings.Contains(r.stderr, `sandbox: profile not found: "nosuch"`) {
		t.Errorf("unknown profile: exit %d %q", r.code, r.stderr)
	}
}

// TestSandboxProcess covers the process contract: exit status, the two
// output streams, stdin, and a regular-file stdout shared by the outer and
// the inner kite.
func TestSandboxProcess(t *testing.T) {
	e := newSandboxEnv(t)
	e.write(filepath.Join(e.work, "exit.star"), `print("before exit")
exit(7)`)
	r := e.kite(e.work, "", nil, "run", "exit.star", "--sandbox")
	if r.code != 7 || r.stdout != "before exit\n" || r.stderr != "" {
		t.Errorf("exit(7): code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	e.write(filepath.Join(e.work, "fail.star"), `print("out")
log.warn("to stderr")
fail("boom")`)
	r = e.kite(e.work, "", nil, "run", "fail.star", "--sandbox")
	if r.code != 1 || r.stdout != "out\n" || !strings.Contains(r.stderr, "to stderr") || !strings.Contains(r.stderr, "Error: script error: boom") {
		t.Errorf("fail(): code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if strings.Count(r.stderr, "Error:") != 1 {
		t.Errorf("the error is reported more than once:\n%s", r.stderr)
	}
	// gVisor's own log is silent unless --debug asks for it
	r = e.kite(e.work, "", nil, "exec", "--sandbox", "--debug", "print(1)").must(t)
	if !strings.Contains(r.stderr, "container.go") {
		t.Errorf("--debug shows no gVisor log:\n%s", r.stderr)
	}
	// stdin reaches the script, and exec - reads its code from it
	r = e.kite(e.work, "print('code from stdin', 6 * 7)\n", nil, "exec", "--sandbox", "-").must(t)
	r.lines(t, "code from stdin 42")
	e.write(filepath.Join(e.work, "stdin.star"), `print(fs.path("/dev/stdin").read_text().upper())`)
	e.kite(e.work, "piped data\n", nil, "run", "stdin.star", "--sandbox", "--allow-fs").must(t).lines(t, "PIPED DATA")

	// a regular file as stdout: what the inner kite wrote is not
	// overwritten by what the outer writes after it
	out := filepath.Join(e.root, "out.log")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command(kiteBin, "run", "exit.star", "--sandbox")
	c.Dir, c.Env, c.Stdout, c.Stderr = e.work, e.env, f, f
	c.Run()
	fmt.Fprintln(f, "after kite")
	f.Close()
	if b, _ := os.ReadFile(out); string(b) != "before exit\nafter kite\n" {
		t.Errorf("stdout file = %q", b)
	}
}

// TestSandboxSession: what the outer kite resolved from files the sandbox
// hides (~/.starkite/config.yaml, a --var-file outside the cwd) applies
// inside, and the audit log outside the cwd is written.
func TestSandboxSession(t *testing.T) {
	e := newSandboxEnv(t)
	e.write(filepath.Join(e.home, ".starkite", "config.yaml"), `config:
  greeting: hello from home
permissions:
  readonly:
    allow: ["fs.read(*)"]
`)
	varFile := filepath.Join(e.root, "vars.yaml")
	e.write(varFile, "replicas: 3\n")
	audit := filepath.Join(e.root, "audit.jsonl")
	e.write(filepath.Join(e.work, "session.star"), `print(var_str("greeting"), var_int("replicas") + 1)
print(fs.path("session.star").exists())
r = fs.path("x.txt").try_write_text("no")
print("write:", r.error)`)
	r := e.kite(e.work, "", nil, "run", "session.star", "--sandbox", "--permissions=readonly", "--var-file="+varFile, "--audit-log="+audit).must(t)
	r.lines(t, "hello from home 4", "True")
	if !strings.Contains(r.stdout, "write: permission denied: fs.write") {
		t.Errorf("the readonly profile was not applied inside:\n%s", r.stdout)
	}
	b, err := os.ReadFile(audit)
	if err != nil || !strings.Contains(string(b), `"fs"`) || strings.Count(string(b), "\n") < 2 {
		t.Errorf("audit log outside the cwd: %v\n%s", err, b)
	}
	// the recursion guard: already inside, --sandbox runs natively
	r = e.kite(e.work, "", []string{"STARKITE_INSIDE_SANDBOX=1"}, "exec", "--sandbox", "--allow-fs", `print(fs.path(env("HOME") + "/secret.txt").read_text())`).must(t)
	r.lines(t, "top secret")
}

func TestSandboxCommands(t *testing.T) {
	e := newSandboxEnv(t)
	// repl: statements from stdin, bindings persist
	r := e.kite(e.work, "x = 21\nprint(x * 2)\nprint(fs.path(env('HOME')).exists())\n", nil, "repl", "--sandbox", "--allow-fs").must(t)
	r.lines(t, "42", "False")

	// test: one file → one sandbox; several files in different
	// directories → one sandbox each, run from the file's directory
	a, b := filepath.Join(e.work, "a"), filepath.Join(e.work, "b")
	e.write(filepath.Join(a, "one_test.star"), `def test_sees_own_dir():
    assert_true(fs.path("one_test.star").exists() or fs.path("a/one_test.star").exists())
    assert_false(fs.path(env("HOME") + "/secret.txt").exists())
`)
	e.write(filepath.Join(b, "two_test.star"), `def test_fails():
    assert_equal(1, 2)
def test_passes():
    assert_true(fs.path("two_test.star").exists())
`)
	r = e.kite(e.work, "", nil, "test", "a/one_test.star", "--sandbox", "--allow-fs").must(t)
	r.lines(t, "Tests: 1 passed, 0 failed, 1 total")
	r = e.kite(e.work, "", nil, "test", ".", "--sandbox", "--allow-fs", "-v")
	if r.code != 1 {
		t.Errorf("a failing file must fail the run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r.lines(t, "--- a/one_test.star ---", "--- b/two_test.star ---", "Tests: 1 passed, 0 failed, 1 total", "Tests: 1 passed, 1 failed, 2 total")
	if !strings.Contains(r.stdout, "across 2 file(s)") {
		t.Errorf("no total line:\n%s", r.stdout)
	}
	r = e.kite(e.work, "", nil, "test", ".", "--sandbox", "--allow-fs", "--parallel=2", "--run=passes")
	r.must(t).lines(t, "--- a/one_test.star ---", "--- b/two_test.star ---", "Tests: 1 passed, 0 failed, 1 total")
}

// startKite starts kite in the background and returns a line reader on
// its stdout.
func (e *sandboxEnv) startKite(dir string, args ...string) (*exec.Cmd, *bufio.Scanner, *bytes.Buffer) {
	e.t.Helper()
	c := exec.Command(kiteBin, args...)
	c.Dir, c.Env = dir, e.env
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	return c, bufio.NewScanner(out), &stderr
}

// waitLine reads lines until one starts with want (or fails after 30 s).
func waitLine(t *testing.T, sc *bufio.Scanner, want string) {
	t.Helper()
	found := make(chan bool, 1)
	go func() {
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), want) {
				found <- true
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if !ok {
			t.Fatalf("output ended before %q", want)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no %q within 30s", want)
	}
}

// TestSandboxSignal: SIGINT to the outer kite reaches the script's
// on_signal handler inside, then its defers run and kite exits 130.
func TestSandboxSignal(t *testing.T) {
	e := newSandboxEnv(t)
	e.write(filepath.Join(e.work, "loop.star"), `on_signal("SIGINT", lambda s: print("handler " + s))
defer(lambda: print("deferred"))
print("ready")
while True:
    pass
`)
	c, sc, stderr := e.startKite(e.work, "run", "loop.star", "--sandbox")
	waitLine(t, sc, "ready")
	c.Process.Signal(syscall.SIGINT)
	waitLine(t, sc, "handler interrupt")
	waitLine(t, sc, "deferred")
	c.Wait()
	if code := c.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d, want 130\n%s", code, stderr)
	}
}

// TestSandboxWatch: each run is sandboxed, and an edit on the host
// triggers the next one.
func TestSandboxWatch(t *testing.T) {
	e := newSandboxEnv(t)
	script := filepath.Join(e.work, "w.star")
	e.write(script, `print("run one", fs.path(env("HOME")).exists())`)
	c, sc, stderr := e.startKite(e.work, "watch", "w.star", "--sandbox", "--allow-fs")
	waitLine(t, sc, "run one False")
	waitLine(t, sc, "--- Completed in ")
	e.write(script, `print("run two")`)
	waitLine(t, sc, "run two")
	c.Process.Signal(syscall.SIGINT)
	c.Wait()
	if code := c.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d, want 130\n%s", code, stderr)
	}
}

// memoryCgroupSettable predicts whether runsc can put the sandbox in a
// memory cgroup here: as root with the memory controller mounted (v1) or
// enabled (v2). Rootless runs without delegation cannot.
func memoryCgroupSettable() bool {
	if os.Geteuid() != 0 {
		return false
	}
	if st, err := os.Stat("/sys/fs/cgroup/memory"); err == nil && st.IsDir() {
		return true
	}
	b, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers")
	return err == nil && strings.Contains(string(b), "memory")
}

func TestSandboxMemoryLimit(t *testing.T) {
	e := newSandboxEnv(t)
	cgroup := memoryCgroupSettable()
	t.Logf("memory cgroup settable: %v", cgroup)

	// the report inside says how --max-memory is enforced, and the script
	// sees the cap as the machine's memory
	e.write(filepath.Join(e.work, "meminfo.star"), `print(read_text("/proc/meminfo").splitlines()[0])`+"\n")
	r := e.kite(e.work, "", nil, "run", "--sandbox", "--allow-all", "--max-memory=512MiB", "--debug", "meminfo.star").must(t)
	if cgroup {
		r.lines(t, "MemTotal:         524288 kB")
		if !strings.Contains(r.stderr, "max_memory = 512 MiB, enforced by gVisor sandbox: a host memory cgroup of 512 MiB") {
			t.Errorf("report does not name the sandbox's cgroup:\n%s", r.stderr)
		}
	} else if !strings.Contains(r.stderr, "enforced by heap watchdog") || !strings.Contains(r.stderr, "not the sandbox: ") {
		t.Errorf("report does not say why the sandbox cannot enforce memory:\n%s", r.stderr)
	}

	// allocation bombs: list growth, and big strings
	for name, src := range map[string]string{
		"list":   "x = []\nfor i in range(1 << 40):\n    x.append(str(i) * 20)\n",
		"string": "x = []\nfor i in range(64):\n    x.append(str(i) * (1 << 28))\n",
	} {
		t.Run(name, func(t *testing.T) {
			e.write(filepath.Join(e.work, name+".star"), src)
			start := time.Now()
			r := e.kite(e.work, "", nil, "run", "--sandbox", "--allow-all", "--max-memory=256MiB", "-o", "json", name+".star")
			t.Logf("stopped after %v", time.Since(start))
			if r.code != 1 || !strings.Contains(r.stderr, "max_memory limit exceeded") || !strings.Contains(r.stderr, "(raise --max-memory)") ||
				!strings.Contains(r.stderr, `"stopped_by":"max_memory"`) {
				t.Fatalf("exit %d, want 1 with a max_memory stop and report\nstderr:\n%s", r.code, r.stderr)
			}
			want := "heap at " // the watchdog inside the sandbox
			if cgroup {
				want = "the sandbox reached its memory cgroup limit of 268435456 bytes and the kernel killed it"
			}
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
		})
	}
}
