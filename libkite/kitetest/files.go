package kitetest

import (
	"os"
	"path/filepath"
	"testing"
)

// TempDir is t.TempDir with symlinks resolved, so it is the canonical path
// permission checks and child processes see.
func TempDir(t testing.TB) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// WriteFile creates path (mode 0644, parent directories as needed) holding
// content, and returns path.
func WriteFile(t testing.TB, path, content string) string {
	t.Helper()
	MkdirAll(t, filepath.Dir(path))
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// MkdirAll creates dir and its parents (mode 0755) and returns dir.
func MkdirAll(t testing.TB, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Symlink creates link pointing at target.
func Symlink(t testing.TB, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// ReadFile returns the content of path.
func ReadFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// NoFile fails t now unless nothing exists at path: what a denied or
// simulated write must leave.
func NoFile(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("%s exists, want no file there (stat: %v)", path, err)
	}
}

// WantFile fails t now unless path holds exactly content, with
// permissions no wider than 0644 (what a module's write makes).
func WantFile(t testing.TB, path, content string) {
	t.Helper()
	if got := ReadFile(t, path); got != content {
		t.Fatalf("file = %q, want %q", got, content)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&^0o644 != 0 {
		t.Fatalf("mode = %v, want at most 0644", fi.Mode().Perm())
	}
}
