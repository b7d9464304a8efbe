//go:build unix

package ssh_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh/agent"

	"github.com/project-starkite/starkite/libkite/kitetest"
)

// umask is the process umask (read once; new local files get mode &^ umask).
var umask = func() os.FileMode {
	old := syscall.Umask(0)
	syscall.Umask(old)
	return os.FileMode(old)
}()

func TestTransfer(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	srv := startServer(t, nil)
	dir := kitetest.TempDir(t)
	c := client([]string{srv.Addr()})

	t.Run("round trip keeps content and mode", func(t *testing.T) {
		content := "line 1\nline 2\x00\xff binary\n"
		src := kitetest.WriteFile(t, filepath.Join(dir, "script.sh"), content)
		got := mustEval(t, nil, "", c+`.upload(`+kitetest.Lit(src)+`, "/opt/app/run.sh", mode="0750")[0]`)
		want := `SSHTransferResult(bytes = 23, dst = "/opt/app/run.sh", host = "` + srv.Addr() + `", ok = True, src = "` + src + `")`
		if got != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
		up, ok := srv.Uploaded("/opt/app/run.sh")
		if !ok || string(up.Content) != content || up.Mode != "0750" || up.Name != "script.sh" {
			t.Fatalf("server has %+v", up)
		}
		dst := filepath.Join(dir, "back", "nested", "run.sh") // parents created
		got = mustEval(t, nil, "", c+`.download("/opt/app/run.sh", `+kitetest.Lit(dst)+`)[0]`)
		want = `SSHTransferResult(bytes = 23, dst = "` + dst + `", host = "` + srv.Addr() + `", ok = True, src = "/opt/app/run.sh")`
		if got != want {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
		if b := kitetest.ReadFile(t, dst); b != content {
			t.Fatalf("downloaded %q", b)
		}
		fi, _ := os.Stat(dst)
		if fi.Mode().Perm() != 0o750&^umask {
			t.Fatalf("mode %v, want %v", fi.Mode().Perm(), 0o750&^umask)
		}
		pfi, _ := os.Stat(filepath.Dir(dst))
		if !pfi.IsDir() || pfi.Mode().Perm() != 0o755&^umask {
			t.Fatalf("parent %v", pfi.Mode())
		}
	})
	t.Run("binary content", func(t *testing.T) {
		all := make([]byte, 256*64)
		for i := range all {
			all[i] = byte(i)
		}
		if err := srv.AddFile("/bin.dat", all, "0600"); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, "bin.dat")
		mustEval(t, nil, "", c+`.download("/bin.dat", `+kitetest.Lit(dst)+`)`)
		if b, _ := os.ReadFile(dst); !bytes.Equal(b, all) {
			t.Fatal("binary content changed")
		}
		if fi, _ := os.Stat(dst); fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v", fi.Mode())
		}
	})
	t.Run("empty file", func(t *testing.T) {
		src := kitetest.WriteFile(t, filepath.Join(dir, "empty"), "")
		if got := mustEval(t, nil, "", c+`.upload(`+kitetest.Lit(src)+`, "/empty")[0].bytes`); got != "0" {
			t.Fatal(got)
		}
		mustEval(t, nil, "", c+`.download("/empty", `+kitetest.Lit(filepath.Join(dir, "empty.back"))+`)`)
		kitetest.WantFile(t, filepath.Join(dir, "empty.back"), "")
	})
	t.Run("remote path with spaces", func(t *testing.T) {
		src := kitetest.WriteFile(t, filepath.Join(dir, "sp"), "x")
		mustEval(t, nil, "", c+`.upload(`+kitetest.Lit(src)+`, "/dir with space/it's")`)
		if _, ok := srv.Uploaded("/dir with space/it's"); !ok {
			t.Fatal("not stored under the quoted path")
		}
	})
	t.Run("remote path starting with a dash is not an option", func(t *testing.T) {
		src := kitetest.WriteFile(t, filepath.Join(dir, "dash"), "x")
		mustEval(t, nil, "", c+`.upload(`+kitetest.Lit(src)+`, "-r")`)
		if _, ok := srv.Uploaded("./-r"); !ok {
			t.Fatal("not stored as ./-r")
		}
	})
	t.Run("existing destination replaced", func(t *testing.T) {
		dst := kitetest.WriteFile(t, filepath.Join(dir, "existing"), "old content that is longer")
		srv.AddFile("/new", []byte("new"), "0644")
		mustEval(t, nil, "", c+`.download("/new", `+kitetest.Lit(dst)+`)`)
		kitetest.WantFile(t, dst, "new")
	})
	t.Run("missing remote file", func(t *testing.T) {
		dst := filepath.Join(dir, "missing", "file")
		got := mustEval(t, nil, "", c+`.try_download("/nope", `+kitetest.Lit(dst)+`)`)
		if got != `Result(ok=False, error="host `+srv.Addr()+`: scp error: file not found")` {
			t.Fatal(got)
		}
		kitetest.NoFile(t, dst)
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".kite-") {
				t.Fatalf("temporary file %s left behind", e.Name())
			}
		}
	})
	t.Run("missing local file", func(t *testing.T) {
		missing := filepath.Join(dir, "nope")
		msg := evalErr(t, nil, "", c+`.upload(`+kitetest.Lit(missing)+`, "/x")`)
		if msg != "failed to read local file: open "+missing+": no such file or directory" {
			t.Fatal(msg)
		}
	})
	t.Run("local directory refused", func(t *testing.T) {
		msg := evalErr(t, nil, "", c+`.upload(`+kitetest.Lit(dir)+`, "/x")`)
		if msg != "failed to read local file: "+dir+" is not a regular file" {
			t.Fatal(msg)
		}
	})
	t.Run("scp error reply on upload", func(t *testing.T) {
		src := kitetest.WriteFile(t, filepath.Join(dir, "e"), "x")
		msg := evalErr(t, nil, "", c+`.upload(`+kitetest.Lit(src)+`, "")`) // the server refuses an empty target
		if msg != "host "+srv.Addr()+`: scp start: scp error (code 2): expected exactly one path` {
			t.Fatal(msg)
		}
	})
}

func TestMultiHostDownload(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	a, b := startServer(t, nil), startServer(t, nil)
	a.AddFile("/etc/motd", []byte("from a"), "0644")
	b.AddFile("/etc/motd", []byte("from b"), "0640")
	dir := kitetest.TempDir(t)
	dst := filepath.Join(dir, "motd")
	got := mustEval(t, nil, "", `[r.dst for r in `+client([]string{a.Addr(), b.Addr()})+`.download("/etc/motd", `+kitetest.Lit(dst)+`)]`)
	if got != `["`+dst+"."+a.Addr()+`", "`+dst+"."+b.Addr()+`"]` {
		t.Fatal(got)
	}
	kitetest.WantFile(t, dst+"."+a.Addr(), "from a")
	kitetest.WantFile(t, dst+"."+b.Addr(), "from b")
	kitetest.NoFile(t, dst)

	src := kitetest.WriteFile(t, filepath.Join(dir, "up"), "to all")
	got = mustEval(t, nil, "", `[r.bytes for r in `+client([]string{a.Addr(), b.Addr()})+`.upload(`+kitetest.Lit(src)+`, "/tmp/up")]`)
	if got != "[6, 6]" {
		t.Fatal(got)
	}
	if fa, _ := a.Uploaded("/tmp/up"); string(fa.Content) != "to all" {
		t.Fatal("a missed the upload")
	}
	if fb, _ := b.Uploaded("/tmp/up"); string(fb.Content) != "to all" {
		t.Fatal("b missed the upload")
	}
}

// TestAgentAuth: with no key and no password, the keys of the agent at
// SSH_AUTH_SOCK are offered.
func TestAgentAuth(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(kitetest.TempDir(t), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Skipf("unix socket: %v", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); agent.ServeAgent(keyring, c); c.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	t.Setenv("SSH_AUTH_SOCK", sock)

	srv := startServer(t, echo("agent"))
	c := `ssh.config(hosts=[` + kitetest.Lit(srv.Addr()) + `], user="u", host_key_check=False, max_retries=0)`
	if got := mustEval(t, nil, "", c+`.exec("x")[0].stdout`); got != "agent:x\n" {
		t.Fatal(got)
	}
	t.Setenv("SSH_AUTH_SOCK", filepath.Join(filepath.Dir(sock), "absent.sock"))
	if msg := evalErr(t, nil, "", c+`.exec("x")`); msg != "no authentication method configured" {
		t.Fatal(msg)
	}
}
