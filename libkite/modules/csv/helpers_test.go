package csv_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/csv"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
)

func newRuntime(t testing.TB, cfg *libkite.Config) *libkite.Runtime {
	t.Helper()
	rt, _ := kitetest.New(t, cfg, csv.New(), kiteos.New())
	return rt
}

// run executes pre (statements) then evaluates expr in a fresh runtime.
// It returns the text of a str result (repr of anything else) or the
// error message the script would see, and the raw error.
func run(t testing.TB, cfg *libkite.Config, pre, expr string) (string, string, error) {
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

type evalCase struct {
	name, pre, expr string
	want            string // text of a str result, repr otherwise
	err             string // exact error message
}

func runCases(t *testing.T, cfg *libkite.Config, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		name := c.name
		if name == "" {
			name = c.expr
		}
		t.Run(name, func(t *testing.T) {
			got, msg, _ := run(t, cfg, c.pre, c.expr)
			if msg != c.err {
				t.Fatalf("error = %q, want %q", msg, c.err)
			}
			if got != c.want {
				t.Fatalf("=\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// quote renders s as a Starlark string literal.
func quote(s string) string { return starlark.String(s).String() }

// writeFile creates dir/name holding content and returns its path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
