package wasm_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/wasm"
)

// TestReadManifest: defaults, both argument forms, and the test plugin's
// own manifest.
func TestReadManifest(t *testing.T) {
	dir := kitetest.TempDir(t)
	kitetest.WriteFile(t, filepath.Join(dir, "module.yaml"), `name: mini
type: wasm
functions:
  - name: f
    args: [int, {name: s, type: string}, json]
    returns: bytes
  - name: g
`)
	m, err := wasm.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Wasm != "mini.wasm" || m.WasmPath() != filepath.Join(dir, "mini.wasm") || m.MemoryLimitMB != 64 ||
		m.Timeout != 10*time.Second || len(m.Capabilities) != 0 || m.Dir != dir {
		t.Fatalf("defaults: %+v", m)
	}
	f, ok := m.Function("f")
	want := []wasm.Arg{{Type: wasm.Int}, {Name: "s", Type: wasm.String}, {Type: wasm.JSON}}
	if !ok || len(f.Args) != 3 || f.Args[0] != want[0] || f.Args[1] != want[1] || f.Args[2] != want[2] || f.Returns != wasm.Bytes {
		t.Fatalf("f = %+v", f)
	}
	if g, _ := m.Function("g"); g.Returns != wasm.None || len(g.Args) != 0 {
		t.Fatalf("g = %+v", g)
	}
	m, err = wasm.ReadManifest("testdata/plugin")
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "textplug" || len(m.Functions) != 15 || !m.HasCapability("read_file") || m.HasCapability("nope") {
		t.Fatalf("test manifest: %+v", m)
	}
}

// TestManifestErrors: each mistake is reported with the file and field.
func TestManifestErrors(t *testing.T) {
	const fn = "\nfunctions:\n  - name: f\n"
	cases := []struct{ name, yaml, err string }{
		{"empty", ``, "empty manifest"},
		{"not yaml", "name: [", "yaml: line 1: did not find expected node content"},
		{"unknown key", "name: p\ntype: wasm\nmemory: 3" + fn, `line 3: unknown field "memory"`},
		{"unknown function key", "name: p\ntype: wasm" + fn + "    return: int\n", `line 5: unknown field "return"`},
		{"unknown arg key", "name: p\ntype: wasm" + fn + "    args: [{name: a, kind: int}]\n", `line 5: unknown argument field "kind" (want name, type)`},
		{"missing name", "type: wasm" + fn, "name: required"},
		{"bad name", "name: 9lives\ntype: wasm" + fn, `name: "9lives" is not an identifier`},
		{"dashed name", "name: my-plug\ntype: wasm" + fn, `name: "my-plug" is not an identifier`},
		{"missing type", "name: p" + fn, "type: required"},
		{"other type", "name: p\ntype: star" + fn, `type: "star" is not a WebAssembly plugin (want "wasm")`},
		{"wasm outside", "name: p\ntype: wasm\nwasm: ../x.wasm" + fn, `wasm: "../x.wasm" must be a path inside the plugin directory`},
		{"wasm absolute", "name: p\ntype: wasm\nwasm: /x.wasm" + fn, `wasm: "/x.wasm" must be a path inside`},
		{"memory zero", "name: p\ntype: wasm\nmemory_limit_mb: 0" + fn, "memory_limit_mb: 0 out of range (1 to 4096)"},
		{"memory too big", "name: p\ntype: wasm\nmemory_limit_mb: 4097" + fn, "memory_limit_mb: 4097 out of range"},
		{"memory not int", "name: p\ntype: wasm\nmemory_limit_mb: lots" + fn, "line 3: cannot unmarshal !!str `lots` into int"},
		{"bad timeout", "name: p\ntype: wasm\ntimeout: 10" + fn, `timeout: "10" is not a positive Go duration`},
		{"negative timeout", "name: p\ntype: wasm\ntimeout: -1s" + fn, `timeout: "-1s" is not a positive Go duration`},
		{"unknown capability", "name: p\ntype: wasm\ncapabilities: [read_file, exec]" + fn, `capabilities[1]: unknown capability "exec" (want env, read_file, write_file, http_request)`},
		{"duplicate capability", "name: p\ntype: wasm\ncapabilities: [env, env]" + fn, `capabilities[1]: "env" listed twice`},
		{"no functions", "name: p\ntype: wasm\n", "functions: at least one function is required"},
		{"function without name", "name: p\ntype: wasm\nfunctions:\n  - returns: int\n", "functions[0]: name: required"},
		{"bad function name", "name: p\ntype: wasm\nfunctions:\n  - name: f-g\n", `functions[0]: name: "f-g" is not an identifier`},
		{"try_ function", "name: p\ntype: wasm\nfunctions:\n  - name: try_it\n", `functions[0]: name: "try_it": the try_ prefix is reserved`},
		{"reserved function", "name: p\ntype: wasm\nfunctions:\n  - name: read_file\n", `functions[0]: name: "read_file" is reserved`},
		{"duplicate function", "name: p\ntype: wasm" + fn + "  - name: f\n", `functions[1]: duplicate function "f"`},
		{"unknown arg type", "name: p\ntype: wasm" + fn + "    args: [int, strin]\n", `functions[0] (f): args[1]: unknown type "strin" (want int, float, bool, string, bytes or json)`},
		{"none arg", "name: p\ntype: wasm" + fn + "    args: [none]\n", `functions[0] (f): args[0]: unknown type "none"`},
		{"unknown return type", "name: p\ntype: wasm" + fn + "    returns: list\n", `functions[0] (f): returns: unknown type "list" (want int, float, bool, string, bytes or json or none)`},
		{"unnamed mapping arg", "name: p\ntype: wasm" + fn + "    args: [{type: int}]\n", `functions[0] (f): args[0]: name: required in the {name, type} form`},
		{"bad arg name", "name: p\ntype: wasm" + fn + "    args: [{name: 1x, type: int}]\n", `functions[0] (f): args[0]: name: "1x" is not an identifier`},
		{"duplicate arg", "name: p\ntype: wasm" + fn + "    args: [{name: a, type: int}, {name: a, type: int}]\n", `functions[0] (f): args[1]: duplicate argument name "a"`},
		{"arg list of lists", "name: p\ntype: wasm" + fn + "    args: [[int]]\n", "line 5: an argument is a type name or {name, type}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := kitetest.TempDir(t)
			path := kitetest.WriteFile(t, filepath.Join(dir, "module.yaml"), c.yaml)
			_, err := wasm.ReadManifest(dir)
			if err == nil || !strings.HasPrefix(err.Error(), path+": ") || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("err = %v\nwant %q after %q", err, c.err, path+": ")
			}
		})
	}
	t.Run("missing", func(t *testing.T) {
		dir := kitetest.TempDir(t)
		if _, err := wasm.ReadManifest(dir); err == nil || !strings.Contains(err.Error(), "module.yaml: no such file") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestIsPlugin: a module.yaml of type wasm, nothing else.
func TestIsPlugin(t *testing.T) {
	root := kitetest.TempDir(t)
	for name, content := range map[string]string{"plugin": "type: wasm\n", "star": "type: star\n", "broken": "type: [\n"} {
		kitetest.WriteFile(t, filepath.Join(root, name, "module.yaml"), content)
	}
	kitetest.MkdirAll(t, filepath.Join(root, "empty"))
	for dir, want := range map[string]bool{"plugin": true, "star": false, "broken": false, "empty": false, "missing": false} {
		if got := wasm.IsPlugin(filepath.Join(root, dir)); got != want {
			t.Errorf("IsPlugin(%s) = %v, want %v", dir, got, want)
		}
	}
	if !wasm.IsPlugin("testdata/plugin") {
		t.Error("IsPlugin(testdata/plugin) = false")
	}
}
