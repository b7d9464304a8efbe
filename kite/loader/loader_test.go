package loader

import (
	"sort"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	baseloader "github.com/project-starkite/starkite/libkite/loader"
)

// TestAllRegistryStrict is the edition collision guard (editions.md §4):
// building the all-in-one registry must not panic and loading it must not
// report duplicate modules, exports or aliases.
func TestAllRegistryStrict(t *testing.T) {
	var r *libkite.Registry
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("NewAllRegistry panicked: %v", p)
			}
		}()
		r = NewAllRegistry(&libkite.ModuleConfig{})
	}()
	if _, err := r.LoadAll(); err != nil {
		t.Fatalf("LoadAll: %v", err)
	}
	if _, err := r.Predeclared(); err != nil {
		t.Fatalf("Predeclared: %v", err)
	}

	// Every base module is present.
	have := map[string]bool{}
	for _, n := range r.Names() {
		have[n] = true
	}
	base := baseloader.NewDefaultRegistry(nil).Names()
	sort.Strings(base)
	for _, n := range base {
		if !have[n] {
			t.Errorf("base module %q missing from the all-in-one registry", n)
		}
	}
	// and the cloud and AI editions'
	for _, n := range []string{"k8s", "ai", "mcp"} {
		if !have[n] {
			t.Errorf("%s missing from the all-in-one registry", n)
		}
	}
	// nothing else: the 27 base modules + k8s + ai + mcp
	if n := len(r.Names()); n != len(base)+3 || n != 30 {
		t.Errorf("all-in-one registry has %d modules %v, want 30 (27 base + k8s, ai, mcp)", n, r.Names())
	}

	// A runtime can be built from it (nil config is accepted too).
	rt, err := libkite.New(&libkite.Config{Registry: NewAllRegistry(nil), NoSignals: true})
	if err != nil {
		t.Fatalf("libkite.New: %v", err)
	}
	rt.Close()
}
