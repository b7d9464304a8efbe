package wasm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/wasm"
)

// TestValidate: install-time checks of a plugin against its code.
func TestValidate(t *testing.T) {
	ctx := context.Background()
	t.Run("valid", func(t *testing.T) {
		m, err := wasm.Validate(ctx, pluginDir(t), wasm.WithCacheDir(compiledCache()))
		if err != nil || m == nil || m.Name != "textplug" {
			t.Fatalf("Validate = %v, %v", m, err)
		}
	})
	cases := []struct {
		name  string
		edits []string
		want  []string
	}{
		{"signature mismatch",
			[]string{"args: [{name: a, type: int}, {name: b, type: int}]", "args: [{name: a, type: int}]"},
			[]string{"function add: textplug.wasm exports add as (i64, i64) -> (i64), but its manifest types need (i64) -> (i64)"}},
		{"result mismatch",
			[]string{"args: [bool]\n    returns: bool", "args: [bool]\n    returns: int"},
			[]string{"function neg: textplug.wasm exports neg as (i32) -> (i32), but its manifest types need (i32) -> (i64)"}},
		{"not exported",
			[]string{"  - name: spin\n", "  - name: spin\n  - name: nothere\n    args: [string]\n"},
			[]string{"function nothere: textplug.wasm does not export nothere"}},
		{"undeclared capability",
			[]string{"capabilities: [read_file, env, http_request, write_file]", "capabilities: [env, write_file]"},
			[]string{"imports capability callback kite.read_file but module.yaml does not declare it in capabilities",
				"imports capability callback kite.http_request but module.yaml does not declare it"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := pluginDir(t, c.edits...)
			_, err := wasm.Validate(ctx, dir, wasm.WithCacheDir(compiledCache()))
			if err == nil || !strings.HasPrefix(err.Error(), "textplug: "+dir+"/textplug.wasm is not a valid plugin:\n") {
				t.Fatalf("err = %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v\nwant it to contain %q", err, w)
				}
			}
		})
	}
	t.Run("bad manifest", func(t *testing.T) {
		dir := pluginDir(t, "type: wasm", "type: wasm\nextra: 1")
		if _, err := wasm.Validate(ctx, dir, wasm.WithCacheDir(compiledCache())); err == nil || !strings.Contains(err.Error(), `unknown field "extra"`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("not wasm", func(t *testing.T) {
		dir := kitetest.TempDir(t)
		kitetest.WriteFile(t, dir+"/module.yaml", manifest(t))
		kitetest.WriteFile(t, dir+"/textplug.wasm", "\x00asm garbage")
		if _, err := wasm.Validate(ctx, dir, wasm.WithCacheDir(compiledCache())); err == nil || !strings.HasPrefix(err.Error(), "textplug: compiling textplug.wasm: ") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestMismatchAtRunTime: a function whose export does not match its
// manifest fails when called; the others work.
func TestMismatchAtRunTime(t *testing.T) {
	p := open(t, nil, "args: [{name: a, type: int}, {name: b, type: int}]", "args: [{name: a, type: int}]")
	kitetest.RunCases(t, with(p, nil), []kitetest.Case{
		{Expr: `textplug.add(1)`, Err: "textplug.add: textplug.wasm exports add as (i64, i64) -> (i64), but its manifest types need (i64) -> (i64)"},
		{Expr: `textplug.upper("x")`, Want: "X"},
	})
}

// rawWasm assembles a small module by hand: it imports env.foo () -> (),
// kite.env with the wrong signature () -> () and kite.read_file
// (i32, i32) -> (i64), and exports f () -> () and h (i32, i32) -> () but
// no kite_alloc.
func rawWasm() []byte {
	section := func(id byte, body ...byte) []byte { return append([]byte{id, byte(len(body))}, body...) }
	name := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	var imports []byte
	for _, imp := range []struct {
		mod, name string
		typ       byte
	}{{"env", "foo", 0}, {"kite", "env", 0}, {"kite", "read_file", 1}} {
		imports = append(imports, name(imp.mod)...)
		imports = append(imports, name(imp.name)...)
		imports = append(imports, 0x00, imp.typ)
	}
	exports := append(append(name("f"), 0x00, 3), append(name("h"), 0x00, 4)...)
	var b []byte
	b = append(b, 0x00, 'a', 's', 'm', 1, 0, 0, 0)
	b = append(b, section(1, 3, // types
		0x60, 0, 0, // () -> ()
		0x60, 2, 0x7f, 0x7f, 1, 0x7e, // (i32, i32) -> (i64)
		0x60, 2, 0x7f, 0x7f, 0, // (i32, i32) -> ()
	)...)
	b = append(b, section(2, append([]byte{3}, imports...)...)...)
	b = append(b, section(3, 2, 0, 2)...)
	b = append(b, section(7, append([]byte{2}, exports...)...)...)
	b = append(b, section(10, 2, 2, 0, 0x0b, 2, 0, 0x0b)...)
	return b
}

// TestValidateImports: foreign imports, wrong host signatures, missing
// kite_alloc; at run time the same module problems fail every call.
func TestValidateImports(t *testing.T) {
	dir := kitetest.TempDir(t)
	kitetest.WriteFile(t, dir+"/module.yaml", `name: raw
type: wasm
functions:
  - name: f
  - name: h
    args: [string]
  - name: g
`)
	kitetest.WriteFile(t, dir+"/raw.wasm", string(rawWasm()))
	_, err := wasm.Validate(context.Background(), dir, wasm.WithCacheDir(""))
	prefix := "raw: " + dir + "/raw.wasm is not a valid plugin:\n"
	if err == nil || !strings.HasPrefix(err.Error(), prefix) {
		t.Fatalf("err = %v", err)
	}
	for _, w := range []string{
		"imports env.foo: only wasi_snapshot_preview1 and kite functions may be imported",
		"imports kite.env as () -> (), want (i32, i32) -> (i64)",
		"imports kite.read_file, which returns data through kite_alloc, but does not export it",
		"function h: h passes strings, bytes or json but raw.wasm does not export kite_alloc",
		"function g: raw.wasm does not export g",
		"imports capability callback kite.read_file but module.yaml does not declare it in capabilities",
	} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("err = %v\nwant it to contain %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "function f:") {
		t.Errorf("f is fine, but: %v", err)
	}
	p, err := wasm.Open(dir, wasm.WithCacheDir(""))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	_, msg, _ := eval(t, p, nil, `raw.f()`)
	if !strings.HasPrefix(msg, "raw.f: imports env.foo: only") || strings.Contains(msg, "capabilities") {
		t.Fatalf("error = %q", msg)
	}
}
