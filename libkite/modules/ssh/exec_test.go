package ssh_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kitessh "github.com/project-starkite/starkite/libkite/modules/ssh"
)

func TestExec(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	srv := startServer(t, func(_ context.Context, cmd string) (string, string, int) {
		if strings.Contains(cmd, "fail") {
			return "partial\n", "boom\n", 7
		}
		return "hello\n", "warn\n", 0
	})
	hosts := []string{srv.Addr()}
	t.Run("password auth", func(t *testing.T) {
		got := mustEval(t, nil, "", client(hosts)+`.exec("echo hello")`)
		want := `[SSHResult(code = 0, host = "` + srv.Addr() + `", ok = True, stderr = "warn\n", stdout = "hello\n")]`
		if got != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("key auth", func(t *testing.T) {
		c := `ssh.config(hosts=["127.0.0.1"], port=` + strconv.Itoa(srv.Port()) + `, user="anyone", key=ssh.test_key().path, host_key_check=False, max_retries=0)`
		if got := mustEval(t, nil, "", c+`.exec("x")[0].ok`); got != "True" {
			t.Fatal(got)
		}
	})
	t.Run("non-zero exit is a result", func(t *testing.T) {
		got := mustEval(t, nil, "r = "+client(hosts)+`.exec("fail")[0]`, `(r.ok, r.code, r.stdout, r.stderr)`)
		if got != `(False, 7, "partial\n", "boom\n")` {
			t.Fatal(got)
		}
	})
	t.Run("handler sees the final command", func(t *testing.T) {
		mustEval(t, nil, "", client(hosts, `cwd="/srv"`, `sudo=True`)+`.exec("whoami", env={"X": "1"})`)
		cmds := srv.Commands()
		if last := cmds[len(cmds)-1]; last != `sudo X="1" cd /srv && whoami` {
			t.Fatalf("server got %q", last)
		}
	})
	t.Run("try_exec", func(t *testing.T) {
		if got := mustEval(t, nil, "", client(hosts)+`.try_exec("x")`); !strings.HasPrefix(got, "Result(ok=True, value=[SSHResult(") {
			t.Fatal(got)
		}
	})
	t.Run("key file errors", func(t *testing.T) {
		dir := kitetest.TempDir(t)
		bad := kitetest.WriteFile(t, filepath.Join(dir, "bad"), "not a key")
		msg := evalErr(t, nil, "", client(hosts, `key=`+kitetest.Lit(bad))+`.exec("x")`)
		if !strings.HasPrefix(msg, "failed to parse private key: ") {
			t.Fatal(msg)
		}
		msg = evalErr(t, nil, "", client(hosts, `key=`+kitetest.Lit(filepath.Join(dir, "missing")))+`.exec("x")`)
		if msg != "failed to read private key: open "+filepath.Join(dir, "missing")+": no such file or directory" {
			t.Fatal(msg)
		}
	})
}

// TestScriptHandler: handle_exec with a Starlark function, its return
// contract and its errors.
func TestScriptHandler(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	pre := `
srv = ssh.test_server(user="ops", password="pw")
def handler(cmd):
    if cmd == "bad":
        return "just a string"
    if cmd == "raise":
        fail("boom")
    return ("out:" + cmd, "err", 3 if cmd == "three" else 0)
srv.handle_exec(handler)
srv.start()
c = ssh.config(hosts=["127.0.0.1"], port=srv.port(), user="ops", password="pw", host_key_check=False, max_retries=0)
def one(cmd):
    r = c.exec(cmd)[0]
    return (r.stdout, r.stderr, r.code, r.ok)
`
	for _, tc := range []struct{ cmd, want string }{
		{"hello", `("out:hello", "err", 0, True)`},
		{"three", `("out:three", "err", 3, False)`},
		{"bad", `("", "handler must return (stdout, stderr, exit_code) tuple", 1, False)`},
		{"raise", `("", "handler error: boom", 1, False)`},
	} {
		if got := mustEval(t, nil, pre, `one(`+kitetest.Lit(tc.cmd)+`)`); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.cmd, got, tc.want)
		}
	}
	kitetest.RunCases(t, func(t testing.TB) *libkite.Runtime { return newRuntime(t, nil) }, []kitetest.Case{
		{Name: "before start", Pre: "s = ssh.test_server()", Expr: `(s.port(), s.addr(), str(s), type(s))`,
			Want: `(0, "", "<ssh.test_server>", "ssh.test_server")`},
		{Name: "dir", Expr: `dir(ssh.test_server())`,
			Want: `["add_file", "addr", "handle_exec", "port", "shutdown", "start", "uploaded"]`},
		{Name: "addr after start", Pre: "s = ssh.test_server()\ns.start()", Expr: `s.addr() == "127.0.0.1:%d" % s.port() and s.port() > 0`, Want: "True"},
		{Name: "start twice", Pre: "s = ssh.test_server()\ns.start()", Expr: `s.start()`, Err: "ssh.test_server.start: server already started"},
		{Name: "shutdown idempotent", Pre: "s = ssh.test_server()\ns.start()\ns.shutdown()", Expr: `s.shutdown()`, Want: "None"},
		{Name: "shutdown before start", Pre: "s = ssh.test_server()", Expr: `s.shutdown()`, Want: "None"},
		{Name: "positionals ignored", Expr: `type(ssh.test_server("x", "y"))`, Want: "ssh.test_server"},
		{Name: "add_file without path", Expr: `ssh.test_server().add_file(content="x")`, Err: "ssh.test_server.add_file: path is required"},
		{Name: "uploaded none", Expr: `ssh.test_server().uploaded("/x")`, Want: "None"},
		{Name: "uploaded arity", Expr: `ssh.test_server().uploaded()`, Err: "ssh.test_server.uploaded: expected 1 argument (path), got 0"},
		{Name: "handle_exec not callable", Expr: `ssh.test_server().handle_exec(1)`, Err: "ssh.test_server.handle_exec: argument must be callable, got int"},
		{Name: "test_key", Pre: "k = ssh.test_key()", Expr: `(type(k), k.port, k.path.endswith("/id_ed25519"))`, Want: `("struct", 0, True)`},
		{Name: "test_key args", Expr: `ssh.test_key(1)`, Err: "ssh.test_key takes no arguments"},
	})
}

func TestTestKeyFile(t *testing.T) {
	rt := newRuntime(t, nil)
	p, msg, _ := kitetest.Eval(rt, "", "ssh.test_key().path")
	if msg != "" {
		t.Fatal(msg)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	if !strings.Contains(kitetest.ReadFile(t, p), "-----BEGIN PRIVATE KEY-----") {
		t.Fatal("not a PKCS#8 PEM key")
	}
	rt.Close()
	if _, err := os.Stat(filepath.Dir(p)); !os.IsNotExist(err) {
		t.Fatalf("key directory left after Close: %v", err)
	}
}

func TestMultiHost(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	// each server waits (up to 5s) until all three commands have arrived:
	// only a concurrent run finishes all of them with "together"
	var arrived sync.WaitGroup
	barrier := func(name string) kitessh.ExecHandler {
		return func(ctx context.Context, cmd string) (string, string, int) {
			if cmd != "barrier" {
				return name + "\n", "", 0
			}
			arrived.Done()
			done := make(chan struct{})
			go func() { arrived.Wait(); close(done) }()
			select {
			case <-done:
				return name + " together\n", "", 0
			case <-time.After(5 * time.Second):
				return name + " alone\n", "", 0
			}
		}
	}
	a, b, c := startServer(t, barrier("a")), startServer(t, barrier("b")), startServer(t, barrier("c"))
	hosts := []string{a.Addr(), b.Addr(), c.Addr()}

	t.Run("concurrent, results in host order", func(t *testing.T) {
		arrived.Add(3)
		got := mustEval(t, nil, "", `[r.stdout for r in `+client(hosts)+`.exec("barrier")]`)
		if got != `["a together\n", "b together\n", "c together\n"]` {
			t.Fatal(got)
		}
	})
	t.Run("linear", func(t *testing.T) {
		got := mustEval(t, nil, "", `[(r.host, r.stdout) for r in `+client(hosts, `exec_policy="linear"`)+`.exec("x")]`)
		want := `[("` + a.Addr() + `", "a\n"), ("` + b.Addr() + `", "b\n"), ("` + c.Addr() + `", "c\n")]`
		if got != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	})
	bad1, bad2 := closedAddr(t), closedAddr(t)
	t.Run("concurrent: first failing host in host order", func(t *testing.T) {
		before := len(c.Commands())
		msg := evalErr(t, nil, "", client([]string{a.Addr(), bad1, b.Addr(), bad2, c.Addr()})+`.exec("y")`)
		if !strings.HasPrefix(msg, "host "+bad1+": failed after 1 attempt: failed to connect to "+bad1+": dial tcp "+bad1+": ") {
			t.Fatal(msg)
		}
		if len(c.Commands()) != before+1 {
			t.Fatal("concurrent policy must run every host")
		}
	})
	t.Run("linear stops at the first failure", func(t *testing.T) {
		before := len(c.Commands())
		msg := evalErr(t, nil, "", client([]string{a.Addr(), bad1, c.Addr()}, `exec_policy="linear"`)+`.exec("z")`)
		if !strings.HasPrefix(msg, "host "+bad1+": failed after 1 attempt") {
			t.Fatal(msg)
		}
		if len(c.Commands()) != before {
			t.Fatal("linear policy ran a host after the failing one")
		}
	})
	t.Run("same host three times", func(t *testing.T) {
		c := `ssh.config(hosts=["127.0.0.1"] * 3, port=` + strconv.Itoa(a.Port()) + `, user="u", password="pw", host_key_check=False)`
		if got := mustEval(t, nil, "", `[r.ok for r in `+c+`.exec("x")]`); got != "[True, True, True]" {
			t.Fatal(got)
		}
	})
}

func TestJumpHost(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	bastion := startServer(t, echo("bastion"))
	target := startServer(t, echo("target"))
	t.Run("exec through the bastion", func(t *testing.T) {
		got := mustEval(t, nil, "", client([]string{target.Addr()}, `jump_host=`+kitetest.Lit(bastion.Addr()))+`.exec("hostname")[0].stdout`)
		if got != "target:hostname\n" {
			t.Fatal(got)
		}
		if cmds := target.Commands(); len(cmds) != 1 || cmds[0] != "hostname" {
			t.Fatalf("target ran %q", cmds)
		}
		if cmds := bastion.Commands(); len(cmds) != 0 {
			t.Fatalf("bastion ran %q", cmds)
		}
	})
	t.Run("transfer through the bastion", func(t *testing.T) {
		dir := kitetest.TempDir(t)
		src := kitetest.WriteFile(t, filepath.Join(dir, "in.txt"), "via jump")
		c := client([]string{target.Addr()}, `jump_host=`+kitetest.Lit(bastion.Addr()))
		mustEval(t, nil, "", c+`.upload(`+kitetest.Lit(src)+`, "/j/in.txt")`)
		mustEval(t, nil, "", c+`.download("/j/in.txt", `+kitetest.Lit(filepath.Join(dir, "out.txt"))+`)`)
		if got := kitetest.ReadFile(t, filepath.Join(dir, "out.txt")); got != "via jump" {
			t.Fatal(got)
		}
	})
	t.Run("host keys of both hops verified", func(t *testing.T) {
		kh := knownHosts(t, bastion, target)
		c := `ssh.config(hosts=[` + kitetest.Lit(target.Addr()) + `], jump_host=` + kitetest.Lit(bastion.Addr()) +
			`, user="u", password="pw", max_retries=0, known_hosts_file=` + kitetest.Lit(kh) + `)`
		if got := mustEval(t, nil, "", c+`.exec("x")[0].ok`); got != "True" {
			t.Fatal(got)
		}
		kh = knownHosts(t, bastion) // target unknown
		c = `ssh.config(hosts=[` + kitetest.Lit(target.Addr()) + `], jump_host=` + kitetest.Lit(bastion.Addr()) +
			`, user="u", password="pw", max_retries=0, known_hosts_file=` + kitetest.Lit(kh) + `)`
		msg := evalErr(t, nil, "", c+`.exec("x")`)
		if !strings.Contains(msg, "failed to connect to "+target.Addr()+" via jump host "+bastion.Addr()) ||
			!strings.Contains(msg, "unknown host "+target.Addr()) {
			t.Fatal(msg)
		}
	})
	t.Run("unreachable bastion", func(t *testing.T) {
		bad := closedAddr(t)
		msg := evalErr(t, nil, "", client([]string{target.Addr()}, `jump_host=`+kitetest.Lit(bad))+`.exec("x")`)
		if !strings.HasPrefix(msg, "host "+target.Addr()+": failed after 1 attempt: failed to connect to jump host "+bad+": ") {
			t.Fatal(msg)
		}
	})
	t.Run("tunnel refused", func(t *testing.T) {
		bad := closedAddr(t)
		msg := evalErr(t, nil, "", client([]string{bad}, `jump_host=`+kitetest.Lit(bastion.Addr()))+`.exec("x")`)
		if !strings.HasPrefix(msg, "host "+bad+": failed after 1 attempt: failed to tunnel from "+bastion.Addr()+" to "+bad+": ") {
			t.Fatal(msg)
		}
	})
}

func TestAuthFailure(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	srv := startServer(t, nil)
	c := `ssh.config(hosts=[` + kitetest.Lit(srv.Addr()) + `], user="u", password="wrong", host_key_check=False, max_retries=0)`
	msg := evalErr(t, nil, "", c+`.exec("x")`)
	if !strings.HasPrefix(msg, "host "+srv.Addr()+": failed after 1 attempt: failed to connect to "+srv.Addr()+": ssh: handshake failed: ssh: unable to authenticate") {
		t.Fatal(msg)
	}
	// refused credentials are not retried: max_retries=3 still makes one attempt
	retrying := strings.Replace(c, "max_retries=0", "max_retries=3", 1)
	if msg := evalErr(t, nil, "", retrying+`.exec("x")`); !strings.HasPrefix(msg, "host "+srv.Addr()+": failed after 1 attempt: ") ||
		!strings.Contains(msg, "unable to authenticate") {
		t.Fatal(msg)
	}
	if got := mustEval(t, nil, "", c+`.try_exec("x").ok`); got != "False" {
		t.Fatal(got)
	}
	wrongUser := strings.Replace(c, `user="u", password="wrong"`, `user="other", password="pw"`, 1)
	if got := mustEval(t, nil, "", wrongUser+`.try_exec("x").ok`); got != "False" {
		t.Fatal("password accepted for another user")
	}
	noAuth := strings.Replace(c, `password="wrong", `, "", 1)
	if msg := evalErr(t, nil, "", noAuth+`.exec("x")`); msg != "no authentication method configured" {
		t.Fatal(msg)
	}
	if n := len(srv.Commands()); n != 0 {
		t.Fatalf("%d commands ran without authentication", n)
	}
}

// knownHosts writes a known_hosts file listing the servers' keys.
func knownHosts(t testing.TB, servers ...*kitessh.TestServer) string {
	t.Helper()
	var b strings.Builder
	for _, s := range servers {
		b.WriteString(knownhosts.Line([]string{knownhosts.Normalize(s.Addr())}, s.HostKey()) + "\n")
	}
	return kitetest.WriteFile(t, filepath.Join(kitetest.TempDir(t), "known_hosts"), b.String())
}

func TestHostKeyCheck(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	srv := startServer(t, echo("srv"))
	other := startServer(t, nil)
	home := kitetest.TempDir(t)
	t.Setenv("HOME", home)
	cfg := func(extra string) string {
		return `ssh.config(hosts=[` + kitetest.Lit(srv.Addr()) + `], user="u", password="pw", max_retries=0` + extra + `)`
	}
	hostname := srv.Addr()

	t.Run("on by default: missing known_hosts", func(t *testing.T) {
		file := filepath.Join(home, ".ssh", "known_hosts")
		msg := evalErr(t, nil, "", cfg("")+`.exec("x")`)
		want := `host key setup: failed to load known_hosts "` + file + `": open ` + file + `: no such file or directory ` +
			"(add the host with `ssh-keyscan -H <host> >> " + file + "`, or pass host_key_check=False to skip verification)"
		if msg != want {
			t.Fatalf("got  %s\nwant %s", msg, want)
		}
	})
	t.Run("unknown host", func(t *testing.T) {
		kh := knownHosts(t, other)
		// other's key is listed under other's address only
		msg := evalErr(t, nil, "", cfg(`, known_hosts_file=`+kitetest.Lit(kh))+`.exec("x")`)
		if !strings.Contains(msg, "unknown host "+hostname+" (not in "+kh+")") || !strings.Contains(msg, "host_key_check=False") {
			t.Fatal(msg)
		}
	})
	t.Run("known host", func(t *testing.T) {
		kh := knownHosts(t, srv)
		if got := mustEval(t, nil, "", cfg(`, known_hosts_file=`+kitetest.Lit(kh))+`.exec("x")[0].stdout`); got != "srv:x\n" {
			t.Fatal(got)
		}
	})
	t.Run("default file with ~ expansion", func(t *testing.T) {
		kitetest.WriteFile(t, filepath.Join(home, ".ssh", "known_hosts"), kitetest.ReadFile(t, knownHosts(t, srv)))
		if got := mustEval(t, nil, "", cfg("")+`.exec("x")[0].ok`); got != "True" {
			t.Fatal(got)
		}
		if got := mustEval(t, nil, "", cfg(`, known_hosts_file="~/.ssh/known_hosts"`)+`.exec("x")[0].ok`); got != "True" {
			t.Fatal(got)
		}
		os.Remove(filepath.Join(home, ".ssh", "known_hosts"))
	})
	t.Run("mismatch", func(t *testing.T) {
		line := knownhosts.Line([]string{knownhosts.Normalize(srv.Addr())}, other.HostKey())
		kh := kitetest.WriteFile(t, filepath.Join(kitetest.TempDir(t), "known_hosts"), line+"\n")
		before := len(srv.Commands())
		retrying := strings.Replace(cfg(`, known_hosts_file=`+kitetest.Lit(kh)), "max_retries=0", "max_retries=2", 1)
		msg := evalErr(t, nil, "", retrying+`.exec("x")`)
		if !strings.Contains(msg, "host key mismatch for "+hostname) || !strings.Contains(msg, "failed after 1 attempt") {
			t.Fatal(msg) // a rejected host key is never retried
		}
		if len(srv.Commands()) != before {
			t.Fatal("command ran on a host whose key did not match")
		}
	})
	t.Run("explicit opt-out", func(t *testing.T) {
		if got := mustEval(t, nil, "", cfg(`, host_key_check=False`)+`.exec("x")[0].ok`); got != "True" {
			t.Fatal(got)
		}
	})
}

func TestRetries(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	defer kitessh.SetRetryDelayForTest(time.Millisecond)()
	bad := closedAddr(t)
	t.Run("max_retries=0 fails after one attempt", func(t *testing.T) {
		msg := evalErr(t, nil, "", client([]string{bad})+`.exec("x")`)
		want := "host " + bad + ": failed after 1 attempt: failed to connect to " + bad + ": dial tcp " + bad + ": connect: connection refused"
		if msg != want {
			t.Fatalf("got  %s\nwant %s", msg, want)
		}
	})
	t.Run("max_retries=1 makes two attempts", func(t *testing.T) {
		msg := evalErr(t, nil, "",
			`ssh.config(hosts=[`+kitetest.Lit(bad)+`], password="pw", host_key_check=False, max_retries=1).exec("x")`)
		if !strings.HasPrefix(msg, "host "+bad+": failed after 2 attempts: failed to connect to "+bad) {
			t.Fatal(msg)
		}
	})
	t.Run("every attempt dials", func(t *testing.T) {
		addr, accepted := silentListener(t, true)
		evalErr(t, nil, "", `ssh.config(hosts=[`+kitetest.Lit(addr)+`], password="pw", host_key_check=False, max_retries=2).exec("x")`)
		if n := accepted(); n != 3 {
			t.Fatalf("%d connections, want 3", n)
		}
	})
	t.Run("default is 3 retries", func(t *testing.T) {
		addr, accepted := silentListener(t, true)
		msg := evalErr(t, nil, "", `ssh.config(hosts=[`+kitetest.Lit(addr)+`], password="pw", host_key_check=False).exec("x")`)
		if n := accepted(); n != 4 || !strings.Contains(msg, "failed after 4 attempts") {
			t.Fatalf("%d connections (%s), want 4", n, msg)
		}
	})
	t.Run("handshake timeout", func(t *testing.T) {
		addr, _ := silentListener(t, false)
		start := time.Now()
		msg := evalErr(t, nil, "", `ssh.config(hosts=[`+kitetest.Lit(addr)+`], password="pw", host_key_check=False, max_retries=0, timeout="150ms").exec("x")`)
		if !strings.HasSuffix(msg, "failed to connect to "+addr+": ssh handshake timed out after 150ms") {
			t.Fatal(msg)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v", d)
		}
	})
}

// TestCancellation: the script's context aborts a running command, a
// retry pause and a handshake.
func TestCancellation(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	handlerDone := make(chan error, 1)
	srv := startServer(t, func(ctx context.Context, _ string) (string, string, int) {
		<-ctx.Done() // until the client's connection goes away
		handlerDone <- ctx.Err()
		return "", "", 0
	})
	run := func(t *testing.T, src string) {
		t.Helper()
		rt := newRuntime(t, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := rt.Execute(ctx, src)
		if err == nil || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the deadline", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %v", d)
		}
	}
	t.Run("running command", func(t *testing.T) {
		run(t, client([]string{srv.Addr()})+`.exec("sleep forever")`)
		select {
		case <-handlerDone:
		case <-time.After(5 * time.Second):
			t.Fatal("the server never saw the connection close")
		}
	})
	t.Run("retry pause", func(t *testing.T) {
		defer kitessh.SetRetryDelayForTest(time.Hour)()
		run(t, `ssh.config(hosts=[`+kitetest.Lit(closedAddr(t))+`], password="pw", host_key_check=False, max_retries=3).exec("x")`)
	})
	t.Run("handshake", func(t *testing.T) {
		addr, _ := silentListener(t, false)
		run(t, `ssh.config(hosts=[`+kitetest.Lit(addr)+`], password="pw", host_key_check=False, timeout="1h").exec("x")`)
	})
}

func TestKeepAlive(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	slow := func(context.Context, string) (string, string, int) {
		time.Sleep(150 * time.Millisecond)
		return "done", "", 0
	}
	srv := startServer(t, slow)
	got := mustEval(t, nil, "", client([]string{srv.Addr()}, `keep_alive_interval="10ms"`)+`.exec("x")[0].stdout`)
	if got != "done" || srv.KeepAlives() == 0 {
		t.Fatalf("%s, %d keep-alives", got, srv.KeepAlives())
	}
	quiet := startServer(t, slow)
	mustEval(t, nil, "", client([]string{quiet.Addr()}, `keep_alive_interval="0s"`)+`.exec("x")`)
	if n := quiet.KeepAlives(); n != 0 {
		t.Fatalf(`keep_alive_interval="0s" still sent %d keep-alives`, n)
	}
}
