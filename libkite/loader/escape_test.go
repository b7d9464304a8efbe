//go:build unix

package loader_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/loader"
)

// This file tries to get around a policy: every case is a way a script
// could reach a file, host, program or module the policy does not grant,
// and each must be refused — by a permission error naming the resource
// actually reached wherever the engine can see it.

// escapeCase is one attempt: pre (statements) then expr run under the
// policy with CWD and OUT (and the test's extra globals) bound. want is
// the exact first line of the permission error; wantPrefix, when set
// instead, its beginning.
type escapeCase struct {
	name       string
	pre        string
	expr       string
	want       string
	wantPrefix string
}

// runEscapes runs each case as a subtest on a fresh runtime and requires
// a permission error (libkite.IsPermissionError through the script-error
// wrapping) whose first line is c.want (or starts with c.wantPrefix);
// after, when set, then checks that nothing escaped.
func runEscapes(t *testing.T, perms func() *libkite.PermissionConfig, g map[string]any, cases []escapeCase, after func(t *testing.T)) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rt, _ := newBaseRuntime(t, perms(), g)
			err := rt.Execute(context.Background(), c.pre+"\nr = "+c.expr+"\n")
			first, _, _ := strings.Cut(kitetest.ErrMsg(err), "\n")
			switch {
			case !libkite.IsPermissionError(err):
				t.Errorf("not denied: error = %v", err)
			case c.want != "" && first != c.want:
				t.Errorf("error = %q\nwant    %q", first, c.want)
			case c.wantPrefix != "" && !strings.HasPrefix(first, c.wantPrefix):
				t.Errorf("error = %q\nwant prefix %q", first, c.wantPrefix)
			}
			if after != nil {
				after(t)
			}
		})
	}
}

// deniedBy is the first line of a denial by a deny rule.
func deniedBy(permission, function, resource, rule string) string {
	return "permission denied: " + permission + " " + function + "(" + fmt.Sprintf("%q", resource) + ") - blocked by deny rule: " + rule
}

// outsideUnchanged snapshots OUT now and returns a check that it still
// looks exactly the same.
func outsideUnchanged(t *testing.T, e *permEnv) func(t *testing.T) {
	before := kitetest.Snapshot(t, e.out)
	return func(t *testing.T) { kitetest.SameSnapshot(t, before, kitetest.Snapshot(t, e.out)) }
}

// TestEscapeRelativePaths: relative paths and ".." are made absolute and
// cleaned before the check (DECISION P1), so under allow-fs they cannot
// leave $CWD.
func TestEscapeRelativePaths(t *testing.T) {
	e := newPermEnv(t)
	kitetest.WriteFile(t, e.outside("keep.txt"), "keep")
	kitetest.WriteFile(t, e.in("a.txt"), "a")
	target := e.outside("x")
	unchanged := outsideUnchanged(t, e)
	runEscapes(t, libkite.AllowFSPermissions, e.globals(), []escapeCase{
		{name: "write_text ../", expr: `write_text("../out/x", "pwned")`, want: kitetest.Denied("fs.write", "write", target)},
		{name: "write_text ../ to the parent", expr: `write_text("../x", "pwned")`, want: kitetest.Denied("fs.write", "write", filepath.Join(e.root, "x"))},
		{name: "path sub/../../", expr: `path("sub/../../out/x").write_text("pwned")`, want: kitetest.Denied("fs.write", "write", target)},
		{name: "path with . and ..", expr: `path("./././../out/./x").write_bytes(b"pwned")`, want: kitetest.Denied("fs.write", "write", target)},
		{name: "absolute path through cwd/..", expr: `write_text(CWD + "/../out/x", "pwned")`, want: kitetest.Denied("fs.write", "write", target)},
		{name: "remove ../", expr: `path("../out/keep.txt").remove()`, want: kitetest.Denied("fs.delete", "remove", e.outside("keep.txt"))},
		{name: "mkdir ../", expr: `path("../out/d").mkdir()`, want: kitetest.Denied("fs.write", "mkdir", e.outside("d"))},
		{name: "copy_to ../", expr: `path("a.txt").copy_to("../out/x")`, want: kitetest.Denied("fs.write", "copy", target)},
		{name: "json writer ../", expr: `json.source({"a": 1}).write_file("../out/x")`, want: kitetest.Denied("fs.write", "write", target)},
		{name: "sql.open ../", expr: `sql.open("sqlite", "../out/x")`, want: kitetest.Denied("fs.write", "write", target)},
	}, unchanged)
}

// TestEscapeDenyRuleDotDot: an absolute deny rule cannot be dodged by
// spelling the path differently — "..", "." or a symlink into the
// denied tree.
func TestEscapeDenyRuleDotDot(t *testing.T) {
	e := newPermEnv(t)
	secret := kitetest.WriteFile(t, e.in("secret/f"), "top secret")
	kitetest.WriteFile(t, e.in("public.txt"), "public")
	kitetest.MkdirAll(t, e.in("sub"))
	kitetest.Symlink(t, "secret/f", e.in("alias"))
	kitetest.Symlink(t, "secret", e.in("secretlink"))
	const rule = "fs.read($CWD/secret/**)"
	perms := func() *libkite.PermissionConfig {
		return &libkite.PermissionConfig{Allow: []string{"fs.read"}, Deny: []string{rule}}
	}
	want := deniedBy("fs.read", "read_file", secret, rule)
	runEscapes(t, perms, e.globals(), []escapeCase{
		{name: "direct", expr: `read_text("secret/f")`, want: want},
		{name: "./secret/../secret/f", expr: `read_text("./secret/../secret/f")`, want: want},
		{name: "sub/../secret/f", expr: `read_text("sub/../secret/f")`, want: want},
		{name: "absolute with ..", expr: `read_text(CWD + "/sub/../secret/./f")`, want: want},
		{name: "path object", expr: `path("sub/../secret/f").read_bytes()`, want: deniedBy("fs.read", "read_bytes", secret, rule)},
		{name: "symlink to the file", expr: `read_text("alias")`, want: want},
		{name: "symlink to the directory", expr: `read_text("secretlink/f")`, want: want},
		{name: "hash reader", expr: `hash.file("sub/../secret/f").sha256()`, want: want},
		{name: "base64 reader", expr: `base64.file("secretlink/f").encode()`, want: want},
		{name: "template reader", expr: `template.file("alias")`, want: want},
		{name: "exists", expr: `exists("sub/../secret/f")`, want: deniedBy("fs.read", "exists", secret, rule)},
	}, nil)

	rt, _ := newBaseRuntime(t, perms(), e.globals())
	if got, msg, _ := kitetest.Eval(rt, "", `read_text("secret/../public.txt")`); got != "public" {
		t.Errorf("a read outside the denied tree: %q %s", got, msg)
	}
}

// TestEscapeSymlinkDir: a symlink inside $CWD to a directory outside it
// is followed before the check, so under allow-fs nothing can be
// written, created, moved, copied, linked or deleted through it — by fs
// or by any other module that writes files. The link may have been made
// by the test or by the script itself.
func TestEscapeSymlinkDir(t *testing.T) {
	e := newPermEnv(t)
	kitetest.WriteFile(t, e.in("a.txt"), "a")
	kitetest.WriteFile(t, e.outside("keep.txt"), "keep")
	kitetest.Symlink(t, e.out, e.in("ext"))
	out := e.outside
	unchanged := outsideUnchanged(t, e)
	runEscapes(t, libkite.AllowFSPermissions, e.globals(), []escapeCase{
		{name: "write_text", expr: `write_text("ext/f", "pwned")`, want: kitetest.Denied("fs.write", "write", out("f"))},
		{name: "absolute path through the link", expr: `write_text(CWD + "/ext/f", "pwned")`, want: kitetest.Denied("fs.write", "write", out("f"))},
		{name: "append_text", expr: `path("ext/f").append_text("pwned")`, want: kitetest.Denied("fs.write", "write", out("f"))},
		{name: "touch a new file", expr: `path("ext/new").touch()`, want: kitetest.Denied("fs.write", "touch", out("new"))},
		{name: "mkdir", expr: `path("ext/d").mkdir()`, want: kitetest.Denied("fs.write", "mkdir", out("d"))},
		{name: "mkdir parents", expr: `path("ext/d/e").mkdir(parents=True)`, want: kitetest.Denied("fs.write", "mkdir", out("d/e"))},
		{name: "copy_to", expr: `path("a.txt").copy_to("ext/c")`, want: kitetest.Denied("fs.write", "copy", out("c"))},
		{name: "move_to", expr: `path("a.txt").move_to("ext/m")`, want: kitetest.Denied("fs.write", "move", out("m"))},
		{name: "rename", expr: `path("a.txt").rename("ext/r")`, want: kitetest.Denied("fs.write", "rename", out("r"))},
		{name: "symlink_to", expr: `path("ext/l").symlink_to("/etc/passwd")`, want: kitetest.Denied("fs.write", "symlink", out("l"))},
		{name: "hardlink_to", expr: `path("ext/h").hardlink_to("a.txt")`, want: kitetest.Denied("fs.write", "hardlink", out("h"))},
		{name: "truncate", expr: `path("ext/keep.txt").truncate(0)`, want: kitetest.Denied("fs.write", "truncate", out("keep.txt"))},
		{name: "chmod", expr: `path("ext/keep.txt").chmod(0o777)`, want: kitetest.Denied("fs.write", "chmod", out("keep.txt"))},
		{name: "remove", expr: `path("ext/keep.txt").remove()`, want: kitetest.Denied("fs.delete", "remove", out("keep.txt"))},
		{name: "move out of the tree", expr: `path("ext/keep.txt").move_to("stolen.txt")`, want: kitetest.Denied("fs.write", "move", out("keep.txt"))},
		{name: "sql.open", expr: `sql.open("sqlite", "ext/x.db")`, want: kitetest.Denied("fs.write", "write", out("x.db"))},
		{name: "sql attach", expr: `sql.open("sqlite", "in.db").exec("attach 'ext/x.db' as o")`, want: kitetest.Denied("fs.write", "write", out("x.db"))},
		{name: "json writer", expr: `json.source({"a": 1}).write_file("ext/j.json")`, want: kitetest.Denied("fs.write", "write", out("j.json"))},
		{name: "yaml writer", expr: `yaml.source({"a": 1}).write_file("ext/y.yaml")`, want: kitetest.Denied("fs.write", "write", out("y.yaml"))},
		{name: "csv writer", expr: `csv.source([["a"]]).write_file("ext/c.csv")`, want: kitetest.Denied("fs.write", "write", out("c.csv"))},
		{name: "gzip compress", expr: `gzip.text("x").compress("ext/g.gz")`, want: kitetest.Denied("fs.write", "write", out("g.gz"))},
		{name: "zip write", expr: `zip.file("ext/z.zip").write("a.txt")`, want: kitetest.Denied("fs.write", "write", out("z.zip"))},
		{name: "link made by the script", pre: `path("mine").symlink_to(OUT)`,
			expr: `write_text("mine/f", "pwned")`, want: kitetest.Denied("fs.write", "write", out("f"))},
		{name: "link made by the script, relative target", pre: `path("mine2").symlink_to("../out")`,
			expr: `path("mine2/d").mkdir()`, want: kitetest.Denied("fs.write", "mkdir", out("d"))},
	}, unchanged)
	kitetest.WantFile(t, e.in("a.txt"), "a")

	// ".." after a link is cleaned before the check, and the file written
	// is the file checked — CWD/lexical.txt — not the kernel's reading of
	// the path (the link target's parent, outside)
	kitetest.Symlink(t, kitetest.MkdirAll(t, e.outside("deep")), e.in("deeplink"))
	rt, _ := newBaseRuntime(t, libkite.AllowFSPermissions(), e.globals())
	if _, msg, _ := kitetest.Eval(rt, "", `write_text("deeplink/../lexical.txt", "x")`); msg != "" {
		t.Fatalf("write: %s", msg)
	}
	kitetest.WantFile(t, e.in("lexical.txt"), "x")
	kitetest.NoFile(t, e.outside("lexical.txt"))
}

// TestEscapeSymlinkFile: writes through a symlink whose target is
// outside $CWD are refused. A live link is followed before the check (a
// permission error naming the target); a dangling one cannot be followed
// by the check, so the write must not follow it either: fs opens the
// checked path itself with O_NOFOLLOW (ELOOP), writers that replace
// files atomically replace the link, and sql refuses it. In every case
// nothing appears outside $CWD.
func TestEscapeSymlinkFile(t *testing.T) {
	e := newPermEnv(t)
	target := kitetest.WriteFile(t, e.outside("target.txt"), "outside")
	kitetest.WriteFile(t, e.in("a.txt"), "a")
	kitetest.Symlink(t, target, e.in("flink"))
	unchanged := outsideUnchanged(t, e)
	runEscapes(t, libkite.AllowFSPermissions, e.globals(), []escapeCase{
		{name: "write_text", expr: `write_text("flink", "pwned")`, want: kitetest.Denied("fs.write", "write", target)},
		{name: "write_bytes", expr: `path("flink").write_bytes(b"pwned")`, want: kitetest.Denied("fs.write", "write", target)},
		{name: "append_text", expr: `path("flink").append_text("pwned")`, want: kitetest.Denied("fs.write", "write", target)},
		{name: "touch", expr: `path("flink").touch()`, want: kitetest.Denied("fs.write", "touch", target)},
		{name: "truncate", expr: `path("flink").truncate(0)`, want: kitetest.Denied("fs.write", "truncate", target)},
		{name: "chmod", expr: `path("flink").chmod(0o777)`, want: kitetest.Denied("fs.write", "chmod", target)},
		{name: "copy_to", expr: `path("a.txt").copy_to("flink")`, want: kitetest.Denied("fs.write", "copy", target)},
		{name: "hardlink to the target", expr: `path("h").hardlink_to("flink")`, want: kitetest.Denied("fs.write", "hardlink", target)},
		{name: "json writer", expr: `json.source({"a": 1}).write_file("flink")`, want: kitetest.Denied("fs.write", "write", target)},
		{name: "gzip decompress", expr: `gzip.bytes(gzip.text("x").compress()).decompress("flink")`,
			want: kitetest.Denied("fs.write", "write", target)},
		{name: "sql.open", expr: `sql.open("sqlite", "flink")`, want: kitetest.Denied("fs.write", "write", target)},
	}, unchanged)

	// dangling links: refused, or the link itself replaced; never followed
	absent := e.outside("absent")
	cases := []struct{ name, expr, err string }{
		{"write_text", `write_text("dangle", "pwned")`, "open dangle: too many levels of symbolic links"},
		{"append_text", `path("dangle").append_text("pwned")`, "open dangle: too many levels of symbolic links"},
		{"touch", `path("dangle").touch()`, "chtimes dangle: no such file or directory"},
		{"mkdir", `path("dangle").mkdir()`, "mkdir dangle: file exists"},
		{"mkdir parents below", `path("dangle/sub").mkdir(parents=True)`, "mkdir dangle/sub: file exists"},
		{"copy_to", `path("a.txt").copy_to("dangle")`, "open dangle: too many levels of symbolic links"},
		{"sql.open", `sql.open("sqlite", "dangle")`, `sql.open: cannot open "dangle": it is a symbolic link to a missing file`},
		{"sql attach", `sql.open("sqlite", "in.db").exec("attach 'dangle' as o")`,
			`sql.db.exec: ATTACH: cannot open "dangle": it is a symbolic link to a missing file`},
		{"json writer replaces the link", `json.source({"a": 1}).write_file("dangle")`, ""},
		{"gzip replaces the link", `gzip.text("x").compress("dangle")`, ""},
		{"zip replaces the link", `zip.file("dangle").write("a.txt")`, ""},
	}
	for _, c := range cases {
		t.Run("dangling/"+c.name, func(t *testing.T) {
			os.Remove(e.in("dangle"))
			kitetest.Symlink(t, absent, e.in("dangle"))
			rt, _ := newBaseRuntime(t, libkite.AllowFSPermissions(), e.globals())
			err := rt.Execute(context.Background(), c.expr)
			if c.err == "" {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
				if fi, err := os.Lstat(e.in("dangle")); err != nil || !fi.Mode().IsRegular() {
					t.Fatalf("dangle is not a regular file in cwd now (%v)", err)
				}
			} else if msg := kitetest.ErrMsg(err); msg != c.err {
				t.Fatalf("error = %q\nwant    %q", msg, c.err)
			}
			kitetest.NoFile(t, absent)
			unchanged(t)
		})
	}
}

// TestEscapeProcSelf: /proc/self/root and /proc/self/cwd are symlinks
// like any other: the path is canonicalised before the check, so with
// only fs.read($CWD/**) they reach nothing outside $CWD.
func TestEscapeProcSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/root"); err != nil {
		t.Skip("no /proc/self/root on this system")
	}
	e := newPermEnv(t)
	secret := kitetest.WriteFile(t, e.outside("secret.txt"), "secret")
	kitetest.WriteFile(t, e.in("in.txt"), "inside")
	perms := func() *libkite.PermissionConfig {
		return &libkite.PermissionConfig{Allow: []string{"fs.read($CWD/**)"}}
	}
	runEscapes(t, perms, e.globals(), []escapeCase{
		{name: "/proc/self/root", expr: `read_text("/proc/self/root" + OUT + "/secret.txt")`, want: kitetest.Denied("fs.read", "read_file", secret)},
		{name: "/proc/<pid>/root", expr: `read_text("/proc/%d/root" % pid() + OUT + "/secret.txt")`, want: kitetest.Denied("fs.read", "read_file", secret)},
		{name: "/proc/self/root/proc/self/cwd/..", expr: `read_text("/proc/self/root/proc/self/cwd/../out/secret.txt")`,
			wantPrefix: `permission denied: fs.read read_file("/proc/`},
		{name: "/proc/self/cwd/..", expr: `read_text("/proc/self/cwd/../out/secret.txt")`, wantPrefix: `permission denied: fs.read read_file("/proc/`},
		{name: "path object", expr: `path("/proc/self/root" + OUT).listdir()`, want: kitetest.Denied("fs.read", "listdir", e.out)},
	}, nil)

	// the same tricks aimed inside $CWD resolve there and are allowed
	rt, _ := newBaseRuntime(t, perms(), e.globals())
	for _, expr := range []string{`read_text("/proc/self/cwd/in.txt")`, `read_text("/proc/self/root" + CWD + "/in.txt")`} {
		if got, msg, _ := kitetest.Eval(rt, "", expr); got != "inside" {
			t.Errorf("%s = %q (%s)", expr, got, msg)
		}
	}
}

// counter is an httptest server that counts the requests it receives.
type counter struct {
	*httptest.Server
	hits atomic.Int32
}

func newCounter(t *testing.T, h http.HandlerFunc) *counter {
	t.Helper()
	c := &counter{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		if h != nil {
			h(w, r)
			return
		}
		w.Write([]byte("reached"))
	}))
	t.Cleanup(c.Close)
	return c
}

// hostPort is the server's 127.0.0.1:port.
func (c *counter) hostPort() string { return strings.TrimPrefix(c.URL, "http://") }

// TestEscapeFileURL: http.client only speaks http and https. A file://
// URL (or a redirect to one) fails, and never returns the file.
func TestEscapeFileURL(t *testing.T) {
	e := newPermEnv(t)
	secret := kitetest.WriteFile(t, e.outside("secret.txt"), "TOP-SECRET-CONTENT")
	toFile := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file://"+secret, http.StatusFound)
	})
	g := e.globals()
	g["REDIR"] = toFile.URL + "/"
	g["SECRET"] = secret
	for _, expr := range []string{
		`http.url("file://" + SECRET).get()`,
		`http.url("file://" + SECRET).post("x")`,
		`http.url("FILE://" + SECRET).get()`,
		`http.url("file://localhost" + SECRET).get()`,
		`http.url(REDIR).get()`,
	} {
		t.Run(expr, func(t *testing.T) {
			rt, _ := newBaseRuntime(t, libkite.AllowNetPermissions(), g)
			err := rt.Execute(context.Background(), "r = "+expr+"\nprint(r.get_text())")
			if err == nil {
				t.Fatal("a file: URL was fetched")
			}
			msg := kitetest.ErrMsg(err)
			if strings.Contains(msg, "TOP-SECRET") {
				t.Fatalf("the error leaks the file: %s", msg)
			}
			t.Logf("refused with: %s", msg)
			if !strings.Contains(msg, `unsupported URL scheme "file"`) {
				t.Errorf("error = %q, want the unsupported-scheme refusal", msg)
			}
		})
	}
	// under a host rule, a file: URL (no host) is not even admitted
	perms := func() *libkite.PermissionConfig {
		return &libkite.PermissionConfig{Allow: []string{"http.client(127.0.0.1:*)"}}
	}
	runEscapes(t, perms, g, []escapeCase{
		{name: "host rule", expr: `http.url("file://" + SECRET).get()`, wantPrefix: `permission denied: http.client GET("file://`},
	}, nil)
}

// TestEscapeRedirect: a redirect hop is checked like the first request,
// so a server the policy allows cannot bounce the client to one it does
// not — the denied host never sees a request.
func TestEscapeRedirect(t *testing.T) {
	e := newPermEnv(t)
	b := newCounter(t, nil)
	a := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
			w.Write([]byte("a-ok"))
		case "/307":
			http.Redirect(w, r, b.URL+"/landing", http.StatusTemporaryRedirect)
		case "/self":
			http.Redirect(w, r, "/ok", http.StatusFound)
		default:
			http.Redirect(w, r, b.URL+"/landing", http.StatusFound)
		}
	})
	g := e.globals()
	g["A"], g["B"] = a.URL, b.URL
	landing := b.URL + "/landing"
	for _, rule := range []string{
		"http.client(" + a.hostPort() + ")",      // host-only (DECISION P2)
		"http.client(GET,POST:" + a.URL + "/*)",  // full-URL glob
		"http.client(GET,POST:" + a.URL + "/**)", // full-URL prefix
	} {
		t.Run(rule, func(t *testing.T) {
			perms := func() *libkite.PermissionConfig { return &libkite.PermissionConfig{Allow: []string{rule}} }
			rt, _ := newBaseRuntime(t, perms(), g)
			if got, msg, _ := kitetest.Eval(rt, "", `http.url(A + "/self").get().get_text()`); got != "a-ok" {
				t.Fatalf("allowed redirect within A: %q %s", got, msg)
			}
			runEscapes(t, perms, g, []escapeCase{
				{name: "302", expr: `http.url(A + "/go").get()`, want: kitetest.Denied("http.client", "GET", landing)},
				{name: "307 keeps POST", expr: `http.url(A + "/307").post("x")`, want: kitetest.Denied("http.client", "POST", landing)},
			}, func(t *testing.T) {
				if n := b.hits.Load(); n != 0 {
					t.Fatalf("the denied server received %d requests", n)
				}
			})
		})
	}
}

// TestEscapeUserinfo: "http://<allowed>@<evil>/" contacts <evil>; the
// check must see the host actually contacted, not the userinfo, under a
// host-only rule and under a full-URL rule alike.
func TestEscapeUserinfo(t *testing.T) {
	e := newPermEnv(t)
	a, b := newCounter(t, nil), newCounter(t, nil)
	g := e.globals()
	g["A"], g["HA"], g["HB"] = a.URL, a.hostPort(), b.hostPort()
	for _, r := range []struct{ rule, allowed string }{
		{"http.client(" + a.hostPort() + ")", `A + "/x"`},
		// "*" stops at "/": this rule admits only the bare origin, and
		// would admit "http://<A>@<B>" if the userinfo were checked
		{"http.client(GET:http://" + a.hostPort() + "*)", `A`},
		{"http.client(GET:" + a.URL + "/**)", `A + "/x"`},
	} {
		rule := r.rule
		t.Run(rule, func(t *testing.T) {
			perms := func() *libkite.PermissionConfig { return &libkite.PermissionConfig{Allow: []string{rule}} }
			rt, _ := newBaseRuntime(t, perms(), g)
			if got, msg, _ := kitetest.Eval(rt, "", `http.url(`+r.allowed+`).get().get_text()`); got != "reached" {
				t.Fatalf("allowed request: %q %s", got, msg)
			}
			before := a.hits.Load()
			runEscapes(t, perms, g, []escapeCase{
				{name: "allowed host as userinfo", expr: `http.url("http://" + HA + "@" + HB + "/").get()`,
					want: kitetest.Denied("http.client", "GET", b.URL+"/")},
				{name: "no path", expr: `http.url("http://" + HA + "@" + HB).get()`,
					want: kitetest.Denied("http.client", "GET", b.URL)},
				{name: "user and password", expr: `http.url("http://u:" + HA + "@" + HB + "/x").get()`,
					want: kitetest.Denied("http.client", "GET", b.URL+"/x")},
				{name: "upper-case scheme", expr: `http.url("HTTP://" + HA + "@" + HB + "/").get()`,
					want: kitetest.Denied("http.client", "GET", b.URL+"/")},
			}, func(t *testing.T) {
				if n := b.hits.Load(); n != 0 {
					t.Fatalf("the denied server received %d requests", n)
				}
			})
			if a.hits.Load() != before {
				t.Error("the allowed server was contacted by a denied request")
			}
		})
	}
}

// TestEscapeExec: under allow-local (os.exec($CWD/**)) the checked
// program is the one that would run — resolved through "..", the exec
// working directory, the PATH in force (the call's env or the process's)
// and symlinks — so no spelling runs a program outside $CWD.
func TestEscapeExec(t *testing.T) {
	e := newPermEnv(t)
	marker := e.outside("ran")
	bin := writeScript(t, e.outside("outside-bin"), "touch "+marker)
	writeScript(t, e.in("tool.sh"), "exit 0")
	kitetest.MkdirAll(t, e.in("bin"))
	kitetest.Symlink(t, "/bin/sh", e.in("shlink"))
	kitetest.Symlink(t, e.out, e.in("bindir"))
	kitetest.Symlink(t, bin, e.in("binlink"))
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh in PATH")
	}
	realSh, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	path := os.Getenv("PATH")
	t.Setenv("PATH", path) // restored when the test ends
	g := e.globals()
	g["MARK"] = marker
	denied := kitetest.Denied("os.exec", "exec", bin)
	runEscapes(t, libkite.AllowLocalPermissions, g, []escapeCase{
		{name: "../", expr: `exec("../out/outside-bin")`, want: denied},
		{name: "bin/../../", expr: `exec("bin/../../out/outside-bin")`, want: denied},
		{name: "cwd= outside", expr: `exec("./outside-bin", cwd=OUT)`, want: denied},
		{name: "cwd= relative", expr: `exec("./outside-bin", cwd="../out")`, want: denied},
		{name: "env PATH override", expr: `exec("outside-bin", env={"PATH": OUT})`, want: denied},
		{name: "env PATH relative entry", expr: `exec("outside-bin", env={"PATH": "../out"})`, want: denied},
		{name: "setenv PATH", pre: `setenv("PATH", OUT)`, expr: `exec("outside-bin")`, want: denied},
		{name: "setenv PATH relative entry", pre: `setenv("PATH", "bin:../out")`, expr: `exec("outside-bin")`, want: denied},
		{name: "symlink to /bin/sh", expr: `exec("./shlink -c 'touch " + MARK + "'")`, want: kitetest.Denied("os.exec", "exec", realSh)},
		{name: "symlink to the binary", expr: `exec(CWD + "/binlink")`, want: denied},
		{name: "directory symlink", expr: `exec("bindir/outside-bin")`, want: denied},
		{name: "sh -c", expr: `exec("sh -c 'touch " + MARK + "'")`, want: kitetest.Denied("os.exec", "exec", sh)},
		{name: "shell syntax", expr: `exec("./tool.sh; " + OUT + "/outside-bin")`,
			want: kitetest.Denied("os.exec", "exec", "shell:./tool.sh; "+bin)},
		{name: "shell= outside", expr: `exec("./tool.sh", shell=OUT + "/outside-bin")`, want: denied},
		{name: "shell= symlink", expr: `exec("./tool.sh", shell="./shlink")`, want: kitetest.Denied("os.exec", "exec", realSh)},
		{name: "try_exec", expr: `try_exec("../out/outside-bin")`, want: denied},
		{name: "which", expr: `which("../out/outside-bin")`, want: kitetest.Denied("os.exec", "which", bin)},
	}, func(t *testing.T) {
		kitetest.NoFile(t, marker)
		os.Setenv("PATH", path) // undo the setenv cases
	})

	// the same tier runs what is really in $CWD
	rt, _ := newBaseRuntime(t, libkite.AllowLocalPermissions(), g)
	for _, expr := range []string{`exec("./tool.sh")`, `exec("bin/../tool.sh")`, `exec("tool.sh", env={"PATH": CWD})`} {
		if _, msg, _ := kitetest.Eval(rt, "", expr); msg != "" {
			t.Errorf("%s: %s", expr, msg)
		}
	}
}

// TestEscapeLoad: under deny-all, load() reads the code roots freely
// (the script's tree, the working directory tree, module paths) but a
// file outside them is an fs.read (function "load") of its canonical
// path — whether named absolutely, with "..", through a symlink, or by a
// loaded module.
func TestEscapeLoad(t *testing.T) {
	e := newPermEnv(t)
	outside := kitetest.WriteFile(t, e.outside("mod.star"), "x = 'outside'\n")
	kitetest.WriteFile(t, e.in("lib/mod.star"), "x = 'inside'\n")
	kitetest.WriteFile(t, e.in("lib/nest.star"), "load('../../out/mod.star', 'mod')\nx = mod.x\n")
	kitetest.Symlink(t, outside, e.in("lib/evil.star"))
	kitetest.Symlink(t, e.out, e.in("libext"))
	script := kitetest.WriteFile(t, e.in("main.star"), "")
	t.Setenv("STARKITE_MODULE_PATH", "")
	run := func(t *testing.T, src string) (*libkite.Runtime, error) {
		rt, _ := kitetest.New(t, &libkite.Config{Registry: loader.NewDefaultRegistry(nil), Permissions: libkite.DenyAllPermissions(), ScriptPath: script})
		return rt, rt.Execute(context.Background(), src)
	}
	rt, err := run(t, `load("lib/mod.star", "mod")`+"\nr = mod.x\n")
	if err != nil {
		t.Fatalf("load inside the script's tree: %v", err)
	}
	if v, _ := rt.GetGlobalVal("r"); v.String() != `"inside"` {
		t.Fatalf("r = %v", v)
	}
	denied := kitetest.Denied("fs.read", "load", outside)
	for _, c := range []struct{ name, module, symbol, want string }{
		{"absolute", outside, "mod", "cannot load " + outside + ": " + denied},
		{"dot-dot", "../out/mod.star", "mod", "cannot load ../out/mod.star: " + denied},
		{"via cwd/..", e.cwd + "/../out/mod.star", "mod", "cannot load " + e.cwd + "/../out/mod.star: " + denied},
		{"symlinked file", "lib/evil.star", "evil", "cannot load lib/evil.star: " + denied},
		{"symlinked directory", "libext/mod.star", "mod", "cannot load libext/mod.star: " + denied},
		{"from a loaded module", "lib/nest.star", "nest",
			"cannot load lib/nest.star: cannot load ../../out/mod.star: permission denied (module \"nest\"): fs.read load(\"" + outside + "\") - no matching allow rule"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := run(t, fmt.Sprintf("load(%q, %q)\nr = %s.x\n", c.module, c.symbol, c.symbol))
			if !libkite.IsPermissionError(err) {
				t.Fatalf("not denied: %v", err)
			}
			if first, _, _ := strings.Cut(kitetest.ErrMsg(err), "\n"); first != c.want {
				t.Fatalf("error = %q\nwant    %q", first, c.want)
			}
		})
	}
}
