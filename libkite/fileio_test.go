package libkite_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
)

func fileThreadRuntime(t *testing.T, opts ...libkite.ConfigOption) *libkite.Runtime {
	t.Helper()
	rt, err := libkite.New(libkite.NewConfig(append([]libkite.ConfigOption{libkite.WithoutSignalHandlers()}, opts...)...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

func TestWriteFileReplacesAtomicallyAndKeepsMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	if err := os.WriteFile(p, []byte("old content"), 0o600); err != nil {
		t.Fatal(err)
	}
	th := fileThreadRuntime(t, libkite.WithPermissions(libkite.AllowAllPermissions())).NewThread("t")
	if err := libkite.WriteFile(th, p, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	info, _ := os.Stat(p)
	if string(got) != "new" || info.Mode().Perm() != 0o600 {
		t.Fatalf("content %q mode %v, want \"new\" -rw-------", got, info.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestWriteFileNewFileGetsPermLessUmask(t *testing.T) {
	p := filepath.Join(t.TempDir(), "new.txt")
	th := fileThreadRuntime(t).NewThread("t")
	if err := libkite.WriteFile(th, p, []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm()&^0o640 != 0 {
		t.Fatalf("mode %v exceeds 0640", info.Mode())
	}
}

func TestWriteFileThroughSymlinkWritesTarget(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target.txt")
	link := filepath.Join(dir, "link.txt")
	os.WriteFile(target, []byte("a"), 0o644)
	if err := os.Symlink("target.txt", link); err != nil {
		t.Fatal(err)
	}
	th := fileThreadRuntime(t).NewThread("t")
	if err := libkite.WriteFile(th, link, []byte("b"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatal("symlink was replaced by a regular file")
	}
	if got, _ := os.ReadFile(target); string(got) != "b" {
		t.Fatalf("target = %q", got)
	}
}

func TestWriteFileDeniedAndDryRunTouchNothing(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.txt")
	os.WriteFile(p, []byte("keep"), 0o644)

	denied := fileThreadRuntime(t, libkite.WithPermissions(libkite.DenyAllPermissions())).NewThread("t")
	err := libkite.WriteFile(denied, p, []byte("lost"), 0o644)
	if !libkite.IsPermissionError(err) {
		t.Fatalf("err = %v, want a permission error", err)
	}
	if w := libkite.WrapError("mod.fn", err); w != err {
		t.Fatalf("WrapError prefixed a permission error: %v", w)
	}
	dry := fileThreadRuntime(t, libkite.WithDryRun(true)).NewThread("t")
	if err := libkite.WriteFile(dry, filepath.Join(dir, "new.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := libkite.WriteFile(dry, p, []byte("lost"), 0o644); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	got, _ := os.ReadFile(p)
	if len(entries) != 1 || string(got) != "keep" {
		t.Fatalf("dir %v, content %q: denied or dry-run write changed the disk", entries, got)
	}
}

func TestAtomicFileAbortKeepsOldContent(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.txt")
	os.WriteFile(p, []byte("old"), 0o644)
	f, err := libkite.CreateAtomic(p, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("half-written"))
	f.Abort()
	f.Abort() // idempotent
	if got, _ := os.ReadFile(p); string(got) != "old" {
		t.Fatalf("content after Abort = %q", got)
	}
}

func TestReadAndWriteErrorsNameTheGivenPath(t *testing.T) {
	th := fileThreadRuntime(t).NewThread("t")
	_, err := libkite.ReadFile(th, "no/such/file.txt")
	if err == nil || err.Error() != "open no/such/file.txt: no such file or directory" {
		t.Fatalf("ReadFile error = %v", err)
	}
	err = libkite.WriteFile(th, "no/such/dir/f.txt", nil, 0o644)
	if err == nil || !strings.HasPrefix(err.Error(), "open no/such/dir/f.txt: ") || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("WriteFile error = %v", err)
	}
	if err := libkite.WriteFile(th, "", nil, 0o644); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("WriteFile(\"\") error = %v", err)
	}
	if err := libkite.WrapError("x.y", err); !strings.HasPrefix(err.Error(), "x.y: open ") {
		t.Fatalf("WrapError = %v", err)
	}
}

func TestWriteFileKeepsHardLinks(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, []byte("old"), 0o644)
	if err := os.Link(a, b); err != nil {
		t.Skip("hard links unsupported here:", err)
	}
	th := fileThreadRuntime(t).NewThread("t")
	if err := libkite.WriteFile(th, a, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(b); string(got) != "new" {
		t.Fatalf("other name sees %q: the hard link was detached", got)
	}
}

func TestWriteFileNeverCreatesADanglingLinkTarget(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "created-through-link")
	link := filepath.Join(dir, "link")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	th := fileThreadRuntime(t).NewThread("t")
	_ = libkite.WriteFile(th, link, []byte("x"), 0o644)
	if _, err := os.Lstat(outside); err == nil {
		t.Fatal("write through a dangling symlink created its target, a path no check saw")
	}
	// in place (no sibling possible) must refuse too
	f, err := libkite.CreateAtomic(link, 0o644)
	if err == nil {
		f.Abort()
	}
	if _, err := os.Lstat(outside); err == nil {
		t.Fatal("CreateAtomic created the dangling link's target")
	}
}
