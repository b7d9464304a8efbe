//go:build unix

package fs_test

import (
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kitefs "github.com/project-starkite/starkite/libkite/modules/fs"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
)

// kit builds the runtimes of these tests: fs and os loaded.
var kit = kitetest.Modules{kitefs.New, kiteos.New}

// lit quotes s as a Starlark string literal.
var lit = kitetest.Lit

// inDir runs cases with a fresh temporary directory each, named D in the
// script (and substituted for "$D" in pre, expr, want and err); fixture
// builds files before the script runs.
func inDir(t *testing.T, cfg *libkite.Config, fixture func(t *testing.T, dir string), cases []kitetest.Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.TestName(), func(t *testing.T) {
			dir := kitetest.TempDir(t)
			if fixture != nil {
				fixture(t, dir)
			}
			sub := func(s string) string { return strings.ReplaceAll(s, "$D", dir) }
			c.Want, c.Err = sub(c.Want), sub(c.Err)
			got, msg, _ := kit.Eval(t, cfg, "D = "+lit(dir)+"\n"+sub(c.Pre), sub(c.Expr))
			c.Check(t, got, msg)
		})
	}
}
