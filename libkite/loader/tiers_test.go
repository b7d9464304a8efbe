//go:build unix

package loader_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/term"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/loader"
)

// This file is the tier matrix of permissions.md §7: one operation per
// permission category of the base modules, run under every built-in tier
// against the full base registry, and the exact set each tier allows.

// permEnv is the directory layout the proof suites work in: the test
// chdirs into CWD (so the tiers' $CWD is known; checkers expand it when
// they are built), and OUT is a sibling directory outside it.
type permEnv struct {
	root, cwd, out string
}

// newPermEnv makes root/cwd and root/out (canonical paths) and chdirs
// into root/cwd for the rest of the test.
func newPermEnv(t *testing.T) *permEnv {
	t.Helper()
	root := kitetest.TempDir(t)
	e := &permEnv{root: root, cwd: kitetest.MkdirAll(t, filepath.Join(root, "cwd")), out: kitetest.MkdirAll(t, filepath.Join(root, "out"))}
	t.Chdir(e.cwd)
	return e
}

// in and outside name a path below CWD and below OUT.
func (e *permEnv) in(rel string) string      { return filepath.Join(e.cwd, rel) }
func (e *permEnv) outside(rel string) string { return filepath.Join(e.out, rel) }

// globals binds CWD and OUT for scripts.
func (e *permEnv) globals() map[string]any {
	return map[string]any{"CWD": e.cwd, "OUT": e.out}
}

// newBaseRuntime is a runtime over the base registry under perms (nil =
// trust mode) with g as extra globals; its print output is captured.
func newBaseRuntime(t testing.TB, perms *libkite.PermissionConfig, g map[string]any) (*libkite.Runtime, *kitetest.Output) {
	t.Helper()
	return kitetest.New(t, &libkite.Config{Registry: loader.NewDefaultRegistry(nil), Permissions: perms, Globals: g})
}

// runOp evaluates expr in a fresh runtime and reports its outcome: "ok",
// or the first line of the error it raised or of the error of the
// failed Result/ExecResult it returned.
func runOp(t testing.TB, perms *libkite.PermissionConfig, g map[string]any, expr string) string {
	t.Helper()
	rt, out := newBaseRuntime(t, perms, g)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	src := "r = " + expr + "\nif hasattr(r, 'ok') and not r.ok:\n    print('error: ' + r.error)\n"
	err := rt.Execute(ctx, src)
	msg := kitetest.ErrMsg(err)
	if err == nil {
		msg = "ok"
		if s := out.String(); strings.HasPrefix(s, "error: ") {
			msg = strings.TrimPrefix(s, "error: ")
		}
	}
	msg, _, _ = strings.Cut(msg, "\n")
	return msg
}

// isDenial tells a permission denial from any other outcome.
func isDenial(msg string) bool { return strings.HasPrefix(msg, "permission denied") }

// closedPort is a 127.0.0.1 TCP port nothing listens on.
func closedPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// writeScript creates an executable shell script at path running body.
func writeScript(t testing.TB, path, body string) string {
	t.Helper()
	kitetest.WriteFile(t, path, "#!/bin/sh\n"+body+"\n")
	if err := os.Chmod(path, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// tierOp is one operation of the matrix. expr runs in a script with CWD,
// OUT and PORT (a closed port) bound; check, when set, replaces the
// script by a checker-only call (for os.exit, which would end the test
// process when allowed). setup runs before every evaluation.
type tierOp struct {
	name  string
	expr  string
	check func(*libkite.PermissionChecker) error
	setup func(t *testing.T, e *permEnv)
}

func tierOps(e *permEnv) []tierOp {
	return []tierOp{
		{name: "fs.read", expr: `read_text(OUT + "/data.txt")`},
		{name: "fs.write in cwd", expr: `path("written.txt").try_write_text("x")`},
		{name: "fs.write outside", expr: `path(OUT + "/written.txt").try_write_text("x")`},
		{name: "fs.delete in cwd", expr: `path("victim.txt").try_remove()`,
			setup: func(t *testing.T, e *permEnv) { kitetest.WriteFile(t, e.in("victim.txt"), "v") }},
		{name: "fs.delete outside", expr: `path(OUT + "/victim.txt").try_remove()`,
			setup: func(t *testing.T, e *permEnv) { kitetest.WriteFile(t, e.outside("victim.txt"), "v") }},
		{name: "os.env", expr: `os.try_env("HOME")`},
		{name: "os.exec in cwd", expr: `try_exec("./tool.sh")`},
		{name: "os.exec outside", expr: `try_exec("/bin/true")`},
		{name: "os.process chdir", expr: `os.try_chdir(".")`},
		{name: "os.process exit", check: func(c *libkite.PermissionChecker) error { return c.Check("os", "process", "exit", "0") }},
		{name: "io.prompt", expr: `io.try_prompt("name? ", secret=True)`},
		{name: "http.client", expr: `http.url("http://127.0.0.1:%d/" % PORT).try_get(timeout="2s")`},
		{name: "http.server", expr: `http.try_server(port=0)`},
		{name: "ssh.connect", expr: `ssh.try_config(hosts=["127.0.0.1:%d" % PORT], max_retries=0, host_key_check=False)`},
		{name: "ssh.transfer", expr: `ssh.config(hosts=["127.0.0.1:%d" % PORT], host_key_check=False, dry_run=True).try_upload(OUT + "/data.txt", "/tmp/x")`},
		{name: "sql.open sqlite in cwd", expr: `sql.try_open("sqlite", "app.db")`},
		{name: "sql.open sqlite outside", expr: `sql.try_open("sqlite", OUT + "/app.db")`},
		{name: "sql.open sqlite :memory:", expr: `sql.try_open("sqlite", ":memory:")`},
	}
}

// tierAllows is permissions.md §7 as the set of tierOps each tier admits.
var tierAllows = func() map[string][]string {
	fs := []string{"fs.read", "fs.write in cwd", "fs.delete in cwd", "os.env", "io.prompt",
		"sql.open sqlite in cwd", "sql.open sqlite :memory:"}
	net := append(append([]string{}, fs...), "http.client", "ssh.connect", "ssh.transfer")
	local := append(append([]string{}, net...), "http.server", "os.exec in cwd")
	return map[string][]string{
		"deny-all":    nil,
		"allow-fs":    fs,
		"allow-net":   net,
		"allow-local": local,
		"allow-all":   nil, // everything, filled in below
	}
}()

var tiers = []struct {
	name string
	cfg  func() *libkite.PermissionConfig
}{
	{"deny-all", libkite.DenyAllPermissions},
	{"allow-fs", libkite.AllowFSPermissions},
	{"allow-net", libkite.AllowNetPermissions},
	{"allow-local", libkite.AllowLocalPermissions},
	{"allow-all", libkite.AllowAllPermissions},
}

// TestTierMatrix runs every operation under every tier and requires
// exactly the allowed set of permissions.md §7: "denied" is an error (or
// failed Result) starting "permission denied"; anything else — success or
// another failure such as a refused connection — counts as allowed.
func TestTierMatrix(t *testing.T) {
	e := newPermEnv(t)
	kitetest.WriteFile(t, e.outside("data.txt"), "data")
	writeScript(t, e.in("tool.sh"), "exit 0")
	g := e.globals()
	g["PORT"] = closedPort(t)
	ops := tierOps(e)
	interactive := term.IsTerminal(int(os.Stdin.Fd()))

	for _, tier := range tiers {
		t.Run(tier.name, func(t *testing.T) {
			want := map[string]bool{}
			for _, name := range tierAllows[tier.name] {
				want[name] = true
			}
			var got, wantList []string
			for _, op := range ops {
				if tier.name == "allow-all" {
					want[op.name] = true
				}
				if op.name == "io.prompt" && interactive && want[op.name] {
					// an allowed prompt would wait for the terminal
					continue
				}
				if op.setup != nil {
					op.setup(t, e)
				}
				var msg string
				if op.check != nil {
					c, err := libkite.NewPermissionChecker(tier.cfg())
					if err != nil {
						t.Fatal(err)
					}
					msg = "ok"
					if err := op.check(c); err != nil {
						msg = err.Error()
					}
				} else {
					msg = runOp(t, tier.cfg(), g, op.expr)
				}
				t.Logf("%s: %s", op.name, msg)
				allowed := !isDenial(msg)
				if allowed {
					got = append(got, op.name)
				}
				if want[op.name] {
					wantList = append(wantList, op.name)
				}
				if allowed != want[op.name] {
					t.Errorf("%s: allowed=%v, want %v (outcome: %s)", op.name, allowed, want[op.name], msg)
				}
			}
			if t.Failed() {
				sort.Strings(got)
				sort.Strings(wantList)
				t.Logf("allowed %v\nwant    %v", got, wantList)
			}
			if wd, _ := os.Getwd(); wd != e.cwd {
				t.Fatalf("working directory moved to %s", wd)
			}
		})
	}
}

// TestTierDenialsNameTheCall: the matrix's denials are the §9 message
// for the call made — resource canonical (relative paths made absolute)
// — and suggest the lowest tier whose rules admit that exact call.
func TestTierDenialsNameTheCall(t *testing.T) {
	e := newPermEnv(t)
	g := e.globals()
	cases := []struct {
		name, tier, expr, want, suggest string
	}{
		{"relative write under deny-all", "deny-all", `write_text("w.txt", "x")`,
			kitetest.Denied("fs.write", "write", e.in("w.txt")), "allow-fs"},
		{"outside write under allow-fs", "allow-fs", `write_text(OUT + "/w.txt", "x")`,
			kitetest.Denied("fs.write", "write", e.outside("w.txt")), "allow-all"},
		{"http.client under allow-fs", "allow-fs", `http.url("http://127.0.0.1:9/x").get()`,
			kitetest.Denied("http.client", "GET", "http://127.0.0.1:9/x"), "allow-net"},
		{"cwd exec under allow-net", "allow-net", `exec("./tool.sh")`,
			kitetest.Denied("os.exec", "exec", e.in("tool.sh")), "allow-local"},
		{"outside exec under allow-local", "allow-local", `exec(OUT + "/tool.sh")`,
			kitetest.Denied("os.exec", "exec", e.outside("tool.sh")), "allow-all"},
		{"chdir under allow-local", "allow-local", `chdir(".")`,
			kitetest.Denied("os.process", "chdir", e.cwd), "allow-all"},
		{"http.server under allow-net", "allow-net", `http.server(port=0)`,
			"permission denied: http.server server - no matching allow rule", "allow-local"},
		{"sql outside under allow-fs", "allow-fs", `sql.open("sqlite", OUT + "/x.db")`,
			kitetest.Denied("fs.write", "write", e.outside("x.db")), "allow-all"},
	}
	byName := map[string]func() *libkite.PermissionConfig{}
	for _, tier := range tiers {
		byName[tier.name] = tier.cfg
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rt, _ := newBaseRuntime(t, byName[c.tier](), g)
			err := rt.Execute(context.Background(), c.expr)
			if !libkite.IsPermissionError(err) {
				t.Fatalf("error = %v (%T), want a permission error", err, err)
			}
			first, hint, _ := strings.Cut(kitetest.ErrMsg(err), "\n")
			if first != c.want {
				t.Fatalf("error = %q\nwant    %q", first, c.want)
			}
			if !strings.Contains(hint, "--permissions="+c.suggest) {
				t.Fatalf("hint %q does not suggest %s", hint, c.suggest)
			}
		})
	}
}

// TestAllowPermissionsDenyList: AllowPermissions(deny...) is allow-all
// with holes — the denied category is refused by its deny rule, every
// other one (exec anywhere, writes outside $CWD) still allowed.
func TestAllowPermissionsDenyList(t *testing.T) {
	e := newPermEnv(t)
	g := e.globals()
	cfg := func() *libkite.PermissionConfig { return libkite.AllowPermissions("fs.write") }

	rt, _ := newBaseRuntime(t, cfg(), g)
	err := rt.Execute(context.Background(), `write_text("w.txt", "x")`)
	want := `permission denied: fs.write write("` + e.in("w.txt") + `") - blocked by deny rule: fs.write`
	if msg := kitetest.ErrMsg(err); !libkite.IsPermissionError(err) || msg != want {
		t.Fatalf("write: error = %q\nwant %q", msg, want)
	}
	kitetest.NoFile(t, e.in("w.txt"))

	for _, expr := range []string{
		`exec("/bin/true")`,
		`try_exec("true; true")`,               // shell syntax: only rules with no resource (or *, **) admit it
		`path(OUT + "/gone.txt").try_remove()`, // fs.delete outside $CWD: missing file, but not denied
		`setenv("KITE_TIERS_PROBE", "1")`,
		`http.try_server(port=0)`,
	} {
		if got := runOp(t, cfg(), g, expr); isDenial(got) {
			t.Errorf("%s: %s", expr, got)
		}
	}
	os.Unsetenv("KITE_TIERS_PROBE")

	// the deny rule beats the allow-all grant for every fs.write function
	for _, expr := range []string{
		`path("t.txt").try_touch()`,
		`path("d").try_mkdir()`,
		`json.source({"a": 1}).try_write_file("j.json")`,
		`sql.try_open("sqlite", "x.db")`,
	} {
		if got := runOp(t, cfg(), g, expr); !strings.Contains(got, "blocked by deny rule: fs.write") {
			t.Errorf("%s: %s", expr, got)
		}
	}
}
