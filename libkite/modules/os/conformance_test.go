//go:build unix

package os_test

import (
	stdos "os"
	"path/filepath"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// conformanceFile is the repository's .star conformance suite for os.
var conformanceFile = filepath.Join("..", "..", "..", "tests", "os_test.star")

func TestConformance(t *testing.T) {
	start, _ := stdos.Getwd()
	t.Chdir(start)
	t.Cleanup(func() {
		for _, v := range []string{"KITE_CONFORMANCE_VAR", "KITE_CONFORMANCE_EMPTY", "KITE_CONFORMANCE_CHILD"} {
			stdos.Unsetenv(v)
		}
	})
	rt, _ := kit.New(t, &libkite.Config{ScriptPath: conformanceFile})
	kitetest.RunConformance(t, rt, conformanceFile, 20)
}
