//go:build unix

package loader_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/loader"
)

// sideEffect is one call that changes (or, for reads, looks at) the
// outside world. expr runs in a fresh runtime with D bound to the fixture
// directory and GZ to a small gzip stream; it either raises or yields a
// Result/ExecResult. live marks calls dry-run does not simulate
// (environment, working directory, process exit, terminal input): those
// only run under deny-all.
type sideEffect struct {
	name, expr string
	live       bool
	// read marks calls that only look (checked under deny-all, but they
	// change nothing when allowed)
	read bool
}

var sideEffects = []sideEffect{
	{name: "write_text alias", expr: `write_text(D + "/new.txt", "x")`},
	{name: "write_bytes alias", expr: `write_bytes(D + "/a.txt", b"x")`},
	{name: "read_text alias", read: true, expr: `read_text(D + "/a.txt")`},
	{name: "Path.write_text", expr: `path(D + "/a.txt").try_write_text("lost")`},
	{name: "Path.write_bytes", expr: `path(D + "/a.txt").try_write_bytes(b"lost")`},
	{name: "Path.append_text", expr: `path(D + "/a.txt").try_append_text("more")`},
	{name: "Path.append_bytes", expr: `path(D + "/a.txt").try_append_bytes(b"more")`},
	{name: "Path.touch new", expr: `path(D + "/touched").try_touch()`},
	{name: "Path.touch existing", expr: `path(D + "/a.txt").try_touch()`},
	{name: "Path.mkdir", expr: `path(D + "/newdir").try_mkdir()`},
	{name: "Path.mkdir parents", expr: `path(D + "/x/y/z").try_mkdir(parents=True)`},
	{name: "Path.remove file", expr: `path(D + "/a.txt").try_remove()`},
	{name: "Path.remove dir", expr: `path(D + "/empty").try_remove()`},
	{name: "Path.remove link", expr: `path(D + "/link").try_remove()`},
	{name: "Path.rename", expr: `path(D + "/a.txt").try_rename(D + "/renamed.txt")`},
	{name: "Path.copy_to", expr: `path(D + "/a.txt").try_copy_to(D + "/copy.txt")`},
	{name: "Path.move_to", expr: `path(D + "/a.txt").try_move_to(D + "/moved.txt")`},
	{name: "Path.truncate", expr: `path(D + "/a.txt").try_truncate(1)`},
	{name: "Path.chmod", expr: `path(D + "/a.txt").try_chmod(0o777)`},
	{name: "Path.chown", read: true, expr: `path(D + "/a.txt").try_chown(uid=-1, gid=-1)`},
	{name: "Path.symlink_to", expr: `path(D + "/newlink").try_symlink_to("a.txt")`},
	{name: "Path.hardlink_to", expr: `path(D + "/hard").try_hardlink_to(D + "/a.txt")`},
	{name: "Path.read_text", read: true, expr: `path(D + "/a.txt").try_read_text()`},
	{name: "os.exec via shell", expr: `os.try_try_exec("touch " + D + "/by-shell; true")`},
	{name: "os.exec direct", expr: `os.try_try_exec("touch " + D + "/by-exec")`},
	{name: "exec alias", expr: `exec("touch " + D + "/by-alias")`},
	{name: "os.setenv", expr: `os.try_setenv("KITE_GOLDEN_VAR", "set")`, live: true},
	{name: "os.chdir", expr: `os.try_chdir("/")`, live: true},
	{name: "os.exit", expr: `os.try_exit(7)`, live: true},
	{name: "io.prompt", expr: `io.try_prompt("name? ")`, live: true},
	{name: "io.confirm", expr: `io.try_confirm("sure?")`, live: true},
	{name: "json.writer.write_file", expr: `json.source({"a": 1}).try_write_file(D + "/a.txt")`},
	{name: "json.file.decode", read: true, expr: `json.file(D + "/a.txt").try_decode()`},
	{name: "yaml.writer.write_file", expr: `yaml.source({"a": 1}).try_write_file(D + "/a.txt")`},
	{name: "yaml.file.decode", read: true, expr: `yaml.file(D + "/a.txt").try_decode()`},
	{name: "csv.writer.write_file", expr: `csv.source([["a"]]).try_write_file(D + "/a.txt")`},
	{name: "csv.file.read", read: true, expr: `csv.file(D + "/a.txt").try_read()`},
	{name: "gzip.source.compress dest", expr: `gzip.text("x").try_compress(D + "/a.txt")`},
	{name: "gzip.source.decompress dest", expr: `gzip.bytes(GZ).try_decompress(D + "/a.txt")`},
	{name: "gzip.file.compress", expr: `gzip.file(D + "/a.txt.gz").try_compress(D + "/a.txt")`},
	{name: "gzip.file.decompress", expr: `gzip.file(D + "/data.gz").try_decompress(D + "/a.txt")`},
	{name: "zip.write", expr: `zip.file(D + "/a.zip").try_write(D + "/a.txt")`},
	{name: "zip.write_all", expr: `zip.file(D + "/a.zip").try_write_all(files=[D + "/a.txt"])`},
	{name: "zip.read", read: true, expr: `zip.file(D + "/a.zip").try_read("a.txt")`},
	{name: "hash.file", read: true, expr: `hash.file(D + "/a.txt").try_sha256()`},
	{name: "base64.file", read: true, expr: `base64.file(D + "/a.txt").try_encode()`},
	{name: "template.file", read: true, expr: `template.try_file(D + "/a.txt")`},
	{name: "sql.open new file", expr: `sql.try_open("sqlite", D + "/new.db")`},
	{name: "sql.exec", expr: `sql.open("sqlite", D + "/a.db").exec("create table t(x)")`},
	{name: "sql.transaction", expr: `sql.open("sqlite", D + "/a.db").transaction(lambda tx: tx.exec("create table t(x)"))`},
	// network calls aim at a closed port: allowed, they fail to connect,
	// so they are "read" (not part of TestSideEffectsAreReal)
	{name: "http.get", read: true, expr: `http.url("http://127.0.0.1:1/").try_get(timeout="1s")`},
	{name: "http.post", read: true, expr: `http.url("http://127.0.0.1:1/").try_post({"a": 1}, timeout="1s")`},
	{name: "http.config", read: true, expr: `http.try_config(timeout="5s")`},
	{name: "http.server", read: true, expr: `http.try_server(port=0)`},
	{name: "ssh.config", read: true, expr: `ssh.try_config(hosts=["127.0.0.1:1"], max_retries=0, host_key_check=False)`},
	{name: "ssh.exec", read: true, expr: `ssh.config(hosts=["127.0.0.1:1"], max_retries=0, host_key_check=False).try_exec("touch " + D + "/by-ssh")`},
	{name: "ssh.upload", read: true, expr: `ssh.config(hosts=["127.0.0.1:1"], max_retries=0, host_key_check=False).try_upload(D + "/a.txt", "/tmp/x")`},
	{name: "ssh.download", read: true, expr: `ssh.config(hosts=["127.0.0.1:1"], max_retries=0, host_key_check=False).try_download("/etc/hostname", D + "/dl/x.txt")`},
}

// outcome runs one side effect in a fresh runtime: "ok", or the first
// line of the error it raised or returned.
func outcome(t *testing.T, cfg libkite.Config, dir string, se sideEffect) string {
	t.Helper()
	cfg.Registry = loader.NewDefaultRegistry(&libkite.ModuleConfig{DryRun: cfg.DryRun})
	rt, out := kitetest.New(t, &cfg)
	src := fmt.Sprintf("D = %q\nGZ = gzip.text(\"plain\").compress()\nr = %s\n", dir, se.expr) +
		"if hasattr(r, 'ok') and not r.ok:\n    print(r.error)\n"
	err := rt.Execute(context.Background(), src)
	msg := kitetest.ErrMsg(err)
	if err == nil {
		msg = "ok"
		if lines := out.Lines(); len(lines) > 0 {
			msg = lines[0]
		}
	}
	msg, _, _ = strings.Cut(msg, "\n")
	return msg
}

// fixture builds the directory every call aims at.
func fixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	kitetest.WriteFile(t, filepath.Join(dir, "a.txt"), "original")
	kitetest.MkdirAll(t, filepath.Join(dir, "empty"))
	kitetest.Symlink(t, "a.txt", filepath.Join(dir, "link"))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("plain"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	kitetest.WriteFile(t, filepath.Join(dir, "data.gz"), gz.String())
	return dir
}

// runGolden runs every side effect (live ones only when includeLive) on
// one fixture and returns the outcomes and the fixture's state before
// and after.
func runGolden(t *testing.T, cfg libkite.Config, includeLive bool) (outcomes map[string]string, before, after kitetest.Entries) {
	t.Helper()
	dir := fixture(t)
	before = kitetest.Snapshot(t, dir)
	wd, _ := os.Getwd()
	t.Setenv("KITE_GOLDEN_VAR", "unchanged")
	outcomes = map[string]string{}
	for _, se := range sideEffects {
		if se.live && !includeLive {
			continue
		}
		outcomes[se.name] = outcome(t, cfg, dir, se)
	}
	after = kitetest.Snapshot(t, dir)
	if got, _ := os.Getwd(); got != wd {
		os.Chdir(wd)
		t.Errorf("working directory changed to %s", got)
	}
	if v := os.Getenv("KITE_GOLDEN_VAR"); v != "unchanged" {
		t.Errorf("environment changed: KITE_GOLDEN_VAR=%q", v)
	}
	return outcomes, before, after
}

// TestDenyAllChangesNothing: under deny-all every side-effecting call of
// the base modules is refused with a permission error and the disk,
// environment and working directory are exactly as before.
func TestDenyAllChangesNothing(t *testing.T) {
	outcomes, before, after := runGolden(t, libkite.Config{Permissions: libkite.DenyAllPermissions()}, true)
	for _, se := range sideEffects {
		if got := outcomes[se.name]; !strings.HasPrefix(got, "permission denied: ") {
			t.Errorf("%s: not denied: %s", se.name, got)
		}
	}
	kitetest.SameSnapshot(t, before, after) // the disk is unchanged
}

// TestSideEffectsAreReal keeps the two tests above honest: allowed and
// not simulated, every write-like call succeeds and changes the fixture
// (so a call that silently did nothing could not pass them).
func TestSideEffectsAreReal(t *testing.T) {
	cfg := libkite.Config{Permissions: libkite.AllowAllPermissions()}
	for _, se := range sideEffects {
		if se.live || se.read {
			continue
		}
		dir := fixture(t)
		before := kitetest.Snapshot(t, dir)
		if got := outcome(t, cfg, dir, se); got != "ok" {
			t.Errorf("%s: %s", se.name, got)
			continue
		}
		if len(before.Diff(kitetest.Snapshot(t, dir))) == 0 {
			t.Errorf("%s: allowed, yet the fixture did not change", se.name)
		}
	}
}

// TestDryRunChangesNothing: with everything allowed but dry-run on, no
// call changes the disk. (Readers still read: zip.read of an archive the
// dry run did not write fails with "no such file", which is correct.)
func TestDryRunChangesNothing(t *testing.T) {
	outcomes, before, after := runGolden(t, libkite.Config{Permissions: libkite.AllowAllPermissions(), DryRun: true}, false)
	for name, got := range outcomes {
		if got != "ok" && !strings.Contains(got, "no such file") {
			t.Errorf("%s under dry-run: %s", name, got)
		}
	}
	kitetest.SameSnapshot(t, before, after) // the disk is unchanged
}
