package gzip_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/gzip"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
)

func newRuntime(t testing.TB, cfg *libkite.Config) *libkite.Runtime {
	t.Helper()
	rt, _ := kitetest.New(t, cfg, gzip.New(), kiteos.New())
	return rt
}

// eval runs pre then evaluates expr on a fresh runtime. It returns the
// text of a str result (repr of anything else) or the message of the
// error the script raised, and the raw error.
func eval(t testing.TB, cfg *libkite.Config, pre, expr string) (string, string, error) {
	t.Helper()
	rt := newRuntime(t, cfg)
	err := rt.Execute(context.Background(), pre+"\nout = "+expr+"\n")
	if err != nil {
		var ee *starlark.EvalError
		if errors.As(err, &ee) {
			return "", ee.Msg, err
		}
		return "", err.Error(), err
	}
	v, _ := rt.GetGlobalVal("out")
	if s, ok := v.(starlark.String); ok {
		return string(s), "", nil
	}
	return v.String(), "", nil
}

// evalCase: want is the text of a str result (repr otherwise); err the
// exact error message.
type evalCase struct {
	name, pre, expr string
	want, err       string
}

func runCases(t *testing.T, cfg *libkite.Config, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		name := c.name
		if name == "" {
			name = c.expr
		}
		t.Run(name, func(t *testing.T) {
			got, msg, _ := eval(t, cfg, c.pre, c.expr)
			if msg != c.err {
				t.Fatalf("error = %q\nwant    %q", msg, c.err)
			}
			if got != c.want {
				t.Fatalf("= %q\nwant %q", got, c.want)
			}
		})
	}
}

// lit renders s as a Starlark string literal.
func lit(s string) string { return starlark.String(s).String() }

// tempDir is t.TempDir with symlinks resolved (permission resources are
// canonical paths).
func tempDir(t testing.TB) string {
	t.Helper()
	d, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func writeFile(t testing.TB, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// snapshot maps every path under dir to its mode and content.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		v := info.Mode().String()
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += ":" + string(b)
		}
		m[p] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sameSnapshot(t testing.TB, before, after map[string]string) {
	t.Helper()
	for p, v := range after {
		if w, ok := before[p]; !ok {
			t.Errorf("%s appeared", p)
		} else if w != v {
			t.Errorf("%s changed", p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("%s disappeared", p)
		}
	}
}

// denied is the message of a denial under a deny-all policy.
func denied(category, function, resource string) string {
	return "permission denied: fs." + category + " " + function + "(" + starlark.String(resource).String() + ") - no matching allow rule"
}
