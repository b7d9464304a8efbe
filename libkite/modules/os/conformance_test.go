//go:build unix

package os_test

import (
	"context"
	stdos "os"
	"path/filepath"
	"testing"

	"github.com/project-starkite/starkite/libkite"
)

// conformanceFile is the repository's .star conformance suite for os.
var conformanceFile = filepath.Join("..", "..", "..", "tests", "os_test.star")

func TestConformance(t *testing.T) {
	src, err := stdos.ReadFile(conformanceFile)
	if err != nil {
		t.Fatalf("conformance suite: %v", err)
	}
	start, _ := stdos.Getwd()
	t.Chdir(start)
	t.Cleanup(func() {
		for _, v := range []string{"KITE_CONFORMANCE_VAR", "KITE_CONFORMANCE_EMPTY", "KITE_CONFORMANCE_CHILD"} {
			stdos.Unsetenv(v)
		}
	})
	rt, out := newRuntime(t, &libkite.Config{ScriptPath: conformanceFile})
	results, err := rt.ExecuteTests(context.Background(), string(src))
	if err != nil {
		t.Fatalf("ExecuteTests: %v\noutput: %s", err, out)
	}
	if len(results) < 20 {
		t.Fatalf("ran %d tests, want the whole suite", len(results))
	}
	for _, r := range results {
		if !r.Passed || r.Skipped {
			t.Errorf("%s: passed=%v skipped=%v: %v", r.Name, r.Passed, r.Skipped, r.Error)
		}
	}
}
