package main

import (
	"testing"

	"github.com/project-starkite/starkite/libkite/kitetest"
)

// TestStartupSkipsUnusedWork: `kite exec 'print(1)'` runs no garbage
// collection while the packages initialise (basekite/startup), and the
// JSON Schema metaschemas mcp-go links are not compiled
// (third_party/jsonschema). Timings live in scripts/bench-startup.sh;
// this checks the mechanisms, which fail loudly when lost.
func TestStartupSkipsUnusedWork(t *testing.T) {
	tr := kitetest.InitTrace(t, buildKite(t), "exec", "print(1)")
	if tr.GCs != 0 {
		t.Errorf("kite exec 'print(1)' ran %d garbage collections; want 0 (is basekite/startup imported and startup.Done first in main?)", tr.GCs)
	}
	const js = "github.com/santhosh-tekuri/jsonschema/v6"
	if rec, ok := tr.Packages[js]; ok && rec.Bytes > 100_000 {
		t.Errorf("%s allocated %d bytes at start-up: metaschemas compiled eagerly (is the replace to third_party/jsonschema in kite/go.mod?)", js, rec.Bytes)
	}
	if _, ok := tr.Packages["k8s.io/client-go/kubernetes/scheme"]; !ok {
		t.Errorf("no init record for client-go's scheme: the trace is not what this test expects")
	}
}
