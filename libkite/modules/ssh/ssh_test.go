package ssh_test

import (
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kitessh "github.com/project-starkite/starkite/libkite/modules/ssh"
)

func TestModuleShape(t *testing.T) {
	t.Run("normal runtime", func(t *testing.T) {
		rt := newRuntimeMode(t, nil, false)
		got, msg, _ := kitetest.Eval(rt, "", "dir(ssh)")
		if msg != "" || got != `["config", "try_config"]` {
			t.Fatalf("dir(ssh) = %s %s", got, msg)
		}
	})
	kitetest.RunCases(t, func(t testing.TB) *libkite.Runtime { return newRuntime(t, nil) }, []kitetest.Case{
		{Name: "test mode dir", Expr: "dir(ssh)",
			Want: `["config", "test_key", "test_server", "try_config", "try_test_key", "try_test_server"]`},
		{Name: "client type", Expr: `type(ssh.config(hosts=["h1"]))`, Want: "ssh.client"},
		{Name: "client str", Expr: `str(ssh.config(hosts=["h1", "h2"]))`, Want: "<ssh.client hosts=[h1 h2]>"},
		{Name: "client dir", Expr: `dir(ssh.config())`,
			Want: `["download", "exec", "hosts", "try_download", "try_exec", "try_upload", "upload"]`},
		{Name: "truthy with hosts", Expr: `(bool(ssh.config(hosts=["h"])), bool(ssh.config()))`, Want: "(True, False)"},
		{Name: "hosts attr in order, fresh list", Pre: `c = ssh.config(hosts=["b", "a", "b"])` + "\nl = c.hosts\nl.append(\"x\")",
			Expr: "c.hosts", Want: `["b", "a", "b"]`},
		{Name: "hosts non-list ignored", Expr: `ssh.config(hosts="h").hosts`, Want: "[]"},
		{Name: "hosts non-strings dropped", Expr: `ssh.config(hosts=["a", 1, None, "b"]).hosts`, Want: `["a", "b"]`},
		{Name: "unhashable", Expr: `{ssh.config(): 1}`, Err: "unhashable type: ssh.client"},
		{Name: "positional", Expr: `ssh.config(["h"])`, Err: "ssh.config: unexpected positional argument at index 0"},
		{Name: "unknown kwarg", Expr: `ssh.config(bogus=1)`, Err: "ssh.config: unknown keyword argument: bogus"},
		{Name: "port type", Expr: `ssh.config(port="22")`, Err: "ssh.config: keyword arg 'port': got string, want int"},
		{Name: "sudo type", Expr: `ssh.config(sudo=1)`, Err: "ssh.config: keyword arg 'sudo': got int, want bool"},
		{Name: "bad timeout", Expr: `ssh.config(timeout="bad")`, Err: `ssh.config: invalid timeout "bad": time: invalid duration "bad"`},
		{Name: "bad keep_alive_interval", Expr: `ssh.config(keep_alive_interval="x")`,
			Err: `ssh.config: invalid keep_alive_interval "x": time: invalid duration "x"`},
		{Name: "bad host port", Expr: `ssh.config(hosts=["h:abc"])`, Err: `ssh.config: invalid host "h:abc": invalid port "abc"`},
		{Name: "bad jump host", Expr: `ssh.config(jump_host="[::1")`, Err: `ssh.config: jump_host: invalid host "[::1": missing ']'`},
		{Name: "try_config error", Expr: `ssh.try_config(timeout="bad").ok`, Want: "False"},
		{Name: "try_config ok", Expr: `type(ssh.try_config(hosts=["h"]).value)`, Want: "ssh.client"},
		{Name: "exec missing cmd", Expr: `ssh.config(hosts=["h"]).exec()`, Err: "ssh.client.exec: missing required argument: cmd"},
		{Name: "exec cmd type", Expr: `ssh.config(hosts=["h"]).exec(1)`, Err: "ssh.client.exec: positional arg 0: got int, want string"},
		{Name: "exec sudo positional", Expr: `ssh.config(hosts=["h"]).exec("x", True)`,
			Err: "ssh.client.exec: unexpected positional argument at index 1"},
		{Name: "exec env type", Expr: `ssh.config(hosts=["h"], dry_run=True).exec("x", env=1)`,
			Err: "ssh.client.exec: keyword arg 'env': got int, want dict"},
		{Name: "exec bad env name", Expr: `ssh.config(hosts=["h"], dry_run=True).exec("x", env={"A B": "1"})`,
			Err: `ssh.client.exec: invalid environment variable name "A B"`},
		{Name: "upload missing dst", Expr: `ssh.config(hosts=["h"]).upload("a")`, Err: "ssh.client.upload: missing required argument: dst"},
		{Name: "upload bad mode", Expr: `ssh.config(hosts=["h"], dry_run=True).upload("/etc/hostname", "/x", mode="9")`,
			Err: `ssh.client.upload: invalid mode "9" (want octal such as "0644")`},
		{Name: "download missing dst", Expr: `ssh.config(hosts=["h"]).download(src="a")`, Err: "ssh.client.download: missing required argument: dst"},
		{Name: "no hosts: exec", Expr: `ssh.config().exec("x")`, Want: "[]"},
		{Name: "no hosts: upload", Expr: `ssh.config().upload("/nonexistent", "/r")`, Want: "[]"},
		{Name: "no hosts: download", Expr: `ssh.config().download("/r", "/nonexistent/x")`, Want: "[]"},
		{Name: "no hosts: try_exec", Expr: `ssh.config().try_exec("x")`, Want: "Result(ok=True, value=[])"},
	})
}

// TestDryRun: dry-run results are synthetic and exact; nothing is dialled
// (192.0.2.1 is unroutable TEST-NET-1).
func TestDryRun(t *testing.T) {
	c := `ssh.config(hosts=["192.0.2.1", "h2"], dry_run=True, host_key_check=False)`
	kitetest.RunCases(t, func(t testing.TB) *libkite.Runtime { return newRuntime(t, nil) }, []kitetest.Case{
		{Name: "exec", Expr: c + `.exec("uptime")`,
			Want: `[SSHResult(code = 0, dry_run = True, host = "192.0.2.1", ok = True, stderr = "", stdout = "[DRY RUN] Would execute on 192.0.2.1: uptime"), ` +
				`SSHResult(code = 0, dry_run = True, host = "h2", ok = True, stderr = "", stdout = "[DRY RUN] Would execute on h2: uptime")]`},
		{Name: "spec example", Expr: `ssh.config(hosts=["h"], dry_run=True, host_key_check=False).exec("./run", sudo=True, as_user="svc", cwd="app", env={"A": "1"})[0].stdout`,
			Want: `[DRY RUN] Would execute on h: sudo -u svc A="1" cd app && ./run`},
		{Name: "client defaults", Expr: `ssh.config(hosts=["h"], dry_run=True, host_key_check=False, sudo=True, cwd="/srv", env={"B": "2", "A": "1"}).exec("ls", sudo=False, env={"B": "3"})[0].stdout`,
			Want: `[DRY RUN] Would execute on h: sudo A="1" B="3" cd /srv && ls`},
		{Name: "as_user without sudo ignored", Expr: `ssh.config(hosts=["h"], dry_run=True, host_key_check=False).exec("ls", as_user="x")[0].stdout`,
			Want: `[DRY RUN] Would execute on h: ls`},
		{Name: "upload", Expr: c + `.upload("/nonexistent/local", "/remote", mode="0755")`,
			Want: `[SSHTransferResult(bytes = 0, dry_run = True, dst = "/remote", host = "192.0.2.1", ok = True, src = "/nonexistent/local"), ` +
				`SSHTransferResult(bytes = 0, dry_run = True, dst = "/remote", host = "h2", ok = True, src = "/nonexistent/local")]`},
		{Name: "download dst unchanged", Expr: c + `.download("/remote", "/nonexistent/dir/local")[1]`,
			Want: `SSHTransferResult(bytes = 0, dry_run = True, dst = "/nonexistent/dir/local", host = "h2", ok = True, src = "/remote")`},
		{Name: "try_exec", Expr: `type(` + c + `.try_exec("x")) + " " + type(` + c + `.try_exec("x").value)`, Want: "Result list"},
		{Name: "result type", Expr: `type(` + c + `.exec("x")[0])`, Want: "struct"},
	})
	t.Run("runtime dry run", func(t *testing.T) {
		got := mustEval(t, &libkite.Config{DryRun: true}, "",
			`ssh.config(hosts=["192.0.2.1"], host_key_check=False).exec("x")[0].stdout`)
		if got != "[DRY RUN] Would execute on 192.0.2.1: x" {
			t.Fatal(got)
		}
	})
	t.Run("dry_run=False cannot undo a runtime dry run", func(t *testing.T) {
		got := mustEval(t, &libkite.Config{DryRun: true}, "",
			`ssh.config(hosts=["192.0.2.1"], host_key_check=False, dry_run=False).download("/r", "/nonexistent/x")[0].dry_run`)
		if got != "True" {
			t.Fatal(got)
		}
	})
}

func TestRemoteCommand(t *testing.T) {
	for _, c := range []struct {
		name, cmd, asUser, cwd string
		sudo                   bool
		env                    map[string]string
		want                   string
	}{
		{name: "plain", cmd: "ls -l", want: "ls -l"},
		{name: "cwd", cmd: "ls", cwd: "/srv/app", want: "cd /srv/app && ls"},
		{name: "cwd tilde kept", cmd: "ls", cwd: "~/app", want: "cd ~/app && ls"},
		{name: "cwd quoted when special", cmd: "ls", cwd: "/a b; rm -rf /", want: "cd '/a b; rm -rf /' && ls"},
		{name: "env sorted", cmd: "x", env: map[string]string{"B": "2", "A": "1"}, want: `A="1" B="2" x`},
		{name: "env value expansion quoted", cmd: "x", env: map[string]string{"A": "$(id)", "B": "it's"}, want: `A='$(id)' B="it's" x`},
		{name: "sudo", cmd: "x", sudo: true, want: "sudo x"},
		{name: "sudo as user", cmd: "x", sudo: true, asUser: "www-data", want: "sudo -u www-data x"},
		{name: "as user quoted", cmd: "x", sudo: true, asUser: "a;b", want: "sudo -u 'a;b' x"},
		{name: "all", cmd: "./run", sudo: true, asUser: "svc", cwd: "app", env: map[string]string{"A": "1"},
			want: `sudo -u svc A="1" cd app && ./run`},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := kitessh.RemoteCommand(c.cmd, c.sudo, c.asUser, c.cwd, c.env)
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestHostAddr(t *testing.T) {
	for _, c := range []struct{ host, want, err string }{
		{host: "h", want: "h:22"},
		{host: "h:2222", want: "h:2222"},
		{host: "10.0.0.1", want: "10.0.0.1:22"},
		{host: "[::1]:2222", want: "[::1]:2222"},
		{host: "[::1]", want: "[::1]:22"},
		{host: "::1", want: "[::1]:22"},
		{host: "fe80::1:2", want: "[fe80::1:2]:22"},
		{host: "h:0", err: `invalid host "h:0": invalid port "0"`},
		{host: "h:", err: `invalid host "h:": invalid port ""`},
		{host: ":22", err: `invalid host ":22": empty host name`},
		{host: "a:b:c", err: `invalid host "a:b:c": use [address]:port for IPv6 with a port`},
		{host: "[::1]x", err: `invalid host "[::1]x": unexpected text after ']'`},
		{host: "", err: `invalid host "": empty host`},
		{host: "u@h", err: `invalid host "u@h": unexpected character`},
	} {
		got, err := kitessh.HostAddr(c.host, 22)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if got != c.want || msg != c.err {
			t.Errorf("hostAddr(%q) = %q, %q; want %q, %q", c.host, got, msg, c.want, c.err)
		}
	}
}

func TestShellWords(t *testing.T) {
	for _, s := range []string{"plain", "/a b/c", "it's", `q"uo\te$`, "", "~/x"} {
		words, err := kitessh.ShellWords(kitessh.ShellQuote(s))
		if err != nil || len(words) != 1 || words[0] != s {
			t.Errorf("round trip of %q: %q %v", s, words, err)
		}
	}
	words, err := kitessh.ShellWords(`-p -- "a b" c\ d`)
	if err != nil || len(words) != 4 || words[2] != "a b" || words[3] != "c d" {
		t.Errorf("got %q %v", words, err)
	}
}
