package kitetest

import (
	"strconv"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
)

// Denied is how the permissions checker words the denial of function on
// resource under permission ("fs.read", "os.exec", ...) when no allow
// rule matched, as under a deny-all policy. The message may go on (a hint
// at the tier that would grant the call), so compare it as a prefix.
func Denied(permission, function, resource string) string {
	return "permission denied: " + permission + " " + function + "(" + strconv.Quote(resource) + ") - no matching allow rule"
}

// PermCase is one row of a permission table: Expr runs under Cfg. When
// ErrPrefix or ErrHas is set, the call must raise a permission error
// (libkite.IsPermissionError) whose message starts with ErrPrefix and
// contains each of ErrHas; otherwise it must succeed with a result (as
// Eval renders it) that starts with Want.
type PermCase struct {
	Name      string
	Cfg       *libkite.Config
	Expr      string
	ErrPrefix string
	ErrHas    []string
	Want      string
}

// DenialCases are the PermCases of calling each method (no arguments) of
// recv, a Starlark expression, under cfg: recv.m() must be denied with a
// message starting with denial, and its twin recv.try_m() must return a
// failed Result whose error names the same permission and function (the
// part of denial before the resource).
func DenialCases(cfg *libkite.Config, recv string, methods []string, denial string) []PermCase {
	tryWant := `Result(ok=False, error="` + denial[:strings.IndexByte(denial, '(')+1]
	var cases []PermCase
	for _, m := range methods {
		cases = append(cases,
			PermCase{Name: m, Cfg: cfg, Expr: recv + "." + m + "()", ErrPrefix: denial},
			PermCase{Name: "try_" + m, Cfg: cfg, Expr: recv + ".try_" + m + "()", Want: tryWant})
	}
	return cases
}

// RunPermCases runs each case as a subtest on a fresh runtime from
// newRuntime and checks it (see PermCase); after, when not nil, then runs
// in the subtest too, to check the call left no trace.
func RunPermCases(t *testing.T, newRuntime func(testing.TB, *libkite.Config) *libkite.Runtime, cases []PermCase, after func(t *testing.T)) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got, msg, err := Eval(newRuntime(t, c.Cfg), "", c.Expr)
			if c.ErrPrefix != "" || c.ErrHas != nil {
				if !libkite.IsPermissionError(err) || !strings.HasPrefix(msg, c.ErrPrefix) {
					t.Fatalf("error = %q (%T)\nwant a permission error starting %q", msg, err, c.ErrPrefix)
				}
				for _, s := range c.ErrHas {
					if !strings.Contains(msg, s) {
						t.Fatalf("error %q lacks %q", msg, s)
					}
				}
			} else if msg != "" || !strings.HasPrefix(got, c.Want) {
				t.Fatalf("= %s (%s), want prefix %s", got, msg, c.Want)
			}
			if after != nil {
				after(t)
			}
		})
	}
}
