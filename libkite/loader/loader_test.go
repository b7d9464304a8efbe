package loader_test

import (
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/loader"
)

func TestDefaultRegistry(t *testing.T) {
	reg := loader.NewDefaultRegistry(nil)
	if _, err := reg.LoadAll(); err != nil {
		t.Fatalf("LoadAll: %v", err)
	}
	names := strings.Join(reg.Names(), " ")
	for _, want := range []string{"json", "os", "runtime", "vars"} {
		if _, ok := reg.GetLoaded(want); !ok {
			t.Errorf("module %s missing (have %s)", want, names)
		}
	}
	pre, _ := reg.Predeclared()
	for _, alias := range []string{"env", "hostname", "exec", "try_exec", "var_str", "var_names"} {
		if pre[alias] == nil {
			t.Errorf("global alias %s missing", alias)
		}
	}
}

func TestBaseModulesComposeStrictly(t *testing.T) {
	reg := libkite.NewRegistry(nil)
	reg.SetStrict(true)
	loader.RegisterAll(reg) // panics on a duplicate name
	if _, err := reg.LoadAll(); err != nil {
		t.Fatalf("base modules collide in strict mode: %v", err)
	}
}
