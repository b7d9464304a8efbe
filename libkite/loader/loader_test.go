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
	// the 27 base modules
	for _, want := range []string{"os", "fs", "io", "runtime", "vars", "json", "yaml", "csv", "base64", "hash", "gzip", "zip", "template",
		"strings", "regexp", "fmt", "time", "uuid", "log", "table", "concur", "retry", "test", "inventory", "http", "ssh", "sql"} {
		if _, ok := reg.GetLoaded(want); !ok {
			t.Errorf("module %s missing (have %s)", want, names)
		}
	}
	pre, _ := reg.Predeclared()
	for _, alias := range []string{"env", "setenv", "cwd", "chdir", "hostname", "pid", "ppid", "exec", "try_exec", "which",
		"username", "userid", "groupid", "home", "user",
		"path", "read_text", "read_bytes", "write_text", "write_bytes", "exists", "glob",
		"var_str", "var_int", "var_bool", "var_float", "var_list", "var_dict", "var_names",
		"printf", "println", "sprintf",
		"assert", "assert_equal", "assert_not_equal", "assert_contains", "assert_true", "assert_false", "skip"} {
		if pre[alias] == nil {
			t.Errorf("global alias %s missing", alias)
		}
	}
	for _, absent := range []string{"var", "try_read_text", "try_write_text", "try_path"} {
		if pre[absent] != nil {
			t.Errorf("global %s must not exist (builtins.md §2)", absent)
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
