package ssh_test

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

func policy(allow ...string) *libkite.Config {
	return &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: allow}}
}

func TestPermissions(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	srv := startServer(t, echo("srv"))
	dir := kitetest.TempDir(t)
	src := kitetest.WriteFile(t, filepath.Join(dir, "src.txt"), "x")
	key := kitetest.WriteFile(t, filepath.Join(dir, "id"), "key")
	kh := kitetest.WriteFile(t, filepath.Join(dir, "known_hosts"), "")
	dry := `ssh.config(hosts=["h1", "h2"], dry_run=True, host_key_check=False)`
	h1 := `ssh.config(hosts=["h1"], dry_run=True, host_key_check=False)`
	sshOnly := policy("ssh.connect", "ssh.transfer")
	perExec := policy("ssh.connect(config:)", "ssh.connect(exec:h1:*)")
	transfers := policy("ssh.connect(config:)", "ssh.transfer(upload:h1:**)", "fs.read", "fs.write")
	real := client([]string{srv.Addr()})
	other := startServer(t, echo("other"))

	kitetest.RunPermCases(t, newRuntime, []kitetest.PermCase{
		{Name: "config denied", Cfg: policy(), Expr: `ssh.config()`,
			ErrPrefix: "permission denied: ssh.connect config - no matching allow rule"},
		{Name: "try_config denied", Cfg: policy(), Expr: `ssh.try_config()`,
			Want: `Result(ok=False, error="permission denied: ssh.connect config - no matching allow rule`},
		{Name: "exec: second host denied", Cfg: perExec, Expr: dry + `.exec("uptime")`,
			ErrPrefix: kitetest.Denied("ssh.connect", "exec", "h2:uptime")},
		{Name: "exec: resource is the raw command", Cfg: perExec, Expr: h1 + `.exec("uptime", sudo=True, cwd="/x", env={"A": "1"})[0].ok`, Want: "True"},
		{Name: "exec: try_exec captures", Cfg: perExec, Expr: dry + `.try_exec("uptime")`,
			Want: `Result(ok=False, error="permission denied: ssh.connect exec(\"h2:uptime\")`},
		{Name: "exec: no hosts, no check", Cfg: policy("ssh.connect(config:)"), Expr: `ssh.config().exec("x")`, Want: "[]"},
		{Name: "upload allowed", Cfg: transfers, Expr: h1 + `.upload(` + kitetest.Lit(src) + `, "/r")[0].dry_run`, Want: "True"},
		{Name: "upload: second host denied", Cfg: transfers, Expr: dry + `.upload(` + kitetest.Lit(src) + `, "/r")`,
			ErrPrefix: kitetest.Denied("ssh.transfer", "upload", "h2:"+src+"->/r")},
		{Name: "download denied", Cfg: transfers, Expr: h1 + `.download("/r", "/tmp/x")`,
			ErrPrefix: kitetest.Denied("ssh.transfer", "download", "h1:/r->/tmp/x")},
		{Name: "upload source needs fs.read", Cfg: sshOnly, Expr: h1 + `.upload(` + kitetest.Lit(src) + `, "/r")`,
			ErrPrefix: kitetest.Denied("fs.read", "read_file", src)},
		{Name: "download destination needs fs.write", Cfg: sshOnly, Expr: h1 + `.download("/r", ` + kitetest.Lit(filepath.Join(dir, "out")) + `)`,
			ErrPrefix: kitetest.Denied("fs.write", "write", filepath.Join(dir, "out"))},
		{Name: "multi-host download checks each file", Cfg: policy("ssh.connect", "ssh.transfer", "fs.write(write:"+dir+"/out.h1)"),
			Expr:      dry + `.download("/r", ` + kitetest.Lit(filepath.Join(dir, "out")) + `)`,
			ErrPrefix: kitetest.Denied("fs.write", "write", filepath.Join(dir, "out.h2"))},
		{Name: "missing parents need fs.write mkdir", Cfg: policy("ssh.connect", "ssh.transfer", "fs.write(write:"+dir+"/**)"),
			Expr:      h1 + `.download("/r", ` + kitetest.Lit(filepath.Join(dir, "new", "sub", "out")) + `)`,
			ErrPrefix: kitetest.Denied("fs.write", "mkdir", filepath.Join(dir, "new", "sub"))},
		{Name: "key file needs fs.read", Cfg: sshOnly, Expr: `ssh.config(hosts=["h1"], dry_run=True, host_key_check=False, key=` + kitetest.Lit(key) + `).exec("x")`,
			ErrPrefix: kitetest.Denied("fs.read", "read_file", key)},
		{Name: "known_hosts needs fs.read", Cfg: sshOnly, Expr: `ssh.config(hosts=["h1"], dry_run=True, known_hosts_file=` + kitetest.Lit(kh) + `).exec("x")`,
			ErrPrefix: kitetest.Denied("fs.read", "read_file", kh)},
		{Name: "real exec denied", Cfg: perExec, Expr: real + `.exec("x")`,
			ErrPrefix: kitetest.Denied("ssh.connect", "exec", srv.Addr()+":x")},
		{Name: "real exec under allow-net", Cfg: &libkite.Config{Permissions: libkite.AllowNetPermissions()},
			Expr: client([]string{other.Addr()}) + `.exec("x")[0].stdout`, Want: "other:x\n"},
		{Name: "test_server needs no permission", Cfg: policy(), Expr: `type(ssh.test_server())`, Want: "ssh.test_server"},
	}, func(t *testing.T) {
		if cmds := srv.Commands(); len(cmds) != 0 {
			t.Fatalf("a denied call ran %q", cmds)
		}
	})
}

// TestHandlerPermissions: a script's exec handler runs with the
// permissions of the thread that installed it.
func TestHandlerPermissions(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	pre := `
srv = ssh.test_server(password="pw")
srv.handle_exec(lambda cmd: (env("HOME"), "", 0))
srv.start()
c = ssh.config(hosts=[srv.addr()], user="testuser", password="pw", host_key_check=False, max_retries=0)
`
	got := mustEval(t, policy("ssh.connect"), pre, `c.exec("x")[0].stderr`)
	if !strings.HasPrefix(got, `handler error: `+kitetest.Denied("os.env", "env", "HOME")) {
		t.Fatal(got)
	}
	got = mustEval(t, policy("ssh.connect", "os.env"), pre, `c.exec("x")[0].code`)
	if got != "0" {
		t.Fatal(got)
	}
}

// TestNoLeaks: servers a script leaves running are shut down by the
// runtime's Close and nothing (listeners, connections, keep-alives,
// tunnels, handler threads) outlives it.
func TestNoLeaks(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	dir := kitetest.TempDir(t)
	src := kitetest.WriteFile(t, filepath.Join(dir, "f"), "data")
	before := runtime.NumGoroutine()
	rt := newRuntime(t, nil)
	err := rt.Execute(context.Background(), `
a = ssh.test_server(password="pw")
b = ssh.test_server(password="pw")
a.start()
b.start()
b.handle_exec(lambda cmd: ("ok", "", 0))
c = ssh.config(hosts=[b.addr(), b.addr()], jump_host=a.addr(), user="testuser", password="pw",
               host_key_check=False, max_retries=0, keep_alive_interval="5ms")
c.exec("x")
c.upload(`+kitetest.Lit(src)+`, "/f")
c.download("/f", `+kitetest.Lit(filepath.Join(dir, "back"))+`)
`)
	if err != nil {
		t.Fatal(err)
	}
	rt.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
