//go:build unix

package fs_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kitefs "github.com/project-starkite/starkite/libkite/modules/fs"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
)

func newRuntime(t testing.TB, cfg *libkite.Config) (*libkite.Runtime, *kitetest.Output) {
	t.Helper()
	return kitetest.New(t, cfg, kitefs.New(), kiteos.New())
}

// eval runs pre (statements) then evaluates expr on a fresh runtime. It
// returns the text of a str result (repr of anything else) and the exact
// message a script would see on error ("" on success).
func eval(t testing.TB, cfg *libkite.Config, pre, expr string) (string, string) {
	t.Helper()
	rt, _ := newRuntime(t, cfg)
	err := rt.Execute(context.Background(), pre+"\nout = "+expr+"\n")
	if err != nil {
		var ee *starlark.EvalError
		if errors.As(err, &ee) {
			return "", ee.Msg
		}
		return "", err.Error()
	}
	v, _ := rt.GetGlobalVal("out")
	if s, ok := v.(starlark.String); ok {
		return string(s), ""
	}
	return v.String(), ""
}

// evalCase is one table row: pre runs first, then expr is evaluated. want
// is the str result's text (repr for other types); err is the exact error
// message, or with errSub set a substring of it.
type evalCase struct {
	name, pre, expr string
	want            string
	err             string
	errSub          bool
}

func runCases(t *testing.T, cfg *libkite.Config, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		name := c.name
		if name == "" {
			name = c.expr
		}
		t.Run(name, func(t *testing.T) {
			got, msg := eval(t, cfg, c.pre, c.expr)
			checkCase(t, c, got, msg)
		})
	}
}

func checkCase(t *testing.T, c evalCase, got, msg string) {
	t.Helper()
	if c.errSub {
		if c.err == "" || !strings.Contains(msg, c.err) {
			t.Fatalf("error = %q, want it to contain %q", msg, c.err)
		}
		return
	}
	if msg != c.err {
		t.Fatalf("error = %q, want %q", msg, c.err)
	}
	if got != c.want {
		t.Fatalf("=\n%s\nwant\n%s", got, c.want)
	}
}

// inDir runs cases with a fresh temporary directory each, named D in the
// script (and substituted for "$D" in pre, expr, want and err); fixture
// builds files before the script runs.
func inDir(t *testing.T, cfg *libkite.Config, fixture func(t *testing.T, dir string), cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		name := c.name
		if name == "" {
			name = c.expr
		}
		t.Run(name, func(t *testing.T) {
			dir := tempDir(t)
			if fixture != nil {
				fixture(t, dir)
			}
			sub := func(s string) string { return strings.ReplaceAll(s, "$D", dir) }
			c.want, c.err = sub(c.want), sub(c.err)
			got, msg := eval(t, cfg, "D = "+lit(dir)+"\n"+sub(c.pre), sub(c.expr))
			checkCase(t, c, got, msg)
		})
	}
}

// lit quotes s as a Starlark string literal.
func lit(s string) string { return starlark.String(s).String() }

// tempDir is t.TempDir with symlinks resolved (so it is canonical).
func tempDir(t testing.TB) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t testing.TB, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// snapshot describes every entry under root: type, permissions, size,
// modification time, content digest and link target. Two equal snapshots
// mean nothing on disk changed.
func snapshot(t testing.TB, root string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %s %d %d", p, fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			sum := sha256.Sum256(b)
			line += " " + hex.EncodeToString(sum[:8])
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
