package wasm_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kitejson "github.com/project-starkite/starkite/libkite/modules/json"
	"github.com/project-starkite/starkite/libkite/modules/wasm"
)

// plugins makes a modules root: textplug (a plugin), json (a plugin
// named like a built-in), broken (a bad plugin manifest), notes (a
// module.yaml of another type), empty (a bare directory) and a file.
func plugins(t *testing.T, root string) {
	t.Helper()
	for name, edits := range map[string][]string{"textplug": nil, "json": {"name: textplug", "name: json"}} {
		dir := pluginDir(t, edits...)
		if err := os.Rename(dir, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	kitetest.WriteFile(t, filepath.Join(root, "broken", "module.yaml"), "name: broken\ntype: wasm\nfunctions:\n  - name: f\n    args: [list]\n")
	kitetest.WriteFile(t, filepath.Join(root, "notes", "module.yaml"), "name: notes\ntype: star\n")
	kitetest.MkdirAll(t, filepath.Join(root, "empty"))
	kitetest.WriteFile(t, filepath.Join(root, "README"), "not a plugin")
}

func TestDiscover(t *testing.T) {
	root := kitetest.TempDir(t)
	plugins(t, root)
	ps, errs := wasm.Discover(root, wasm.WithCacheDir(compiledCache()))
	var names []string
	for _, p := range ps {
		names = append(names, string(p.Name()))
		defer p.Close()
	}
	if strings.Join(names, " ") != "json textplug" {
		t.Fatalf("plugins = %v", names)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), filepath.Join(root, "broken", "module.yaml")+`: functions[0] (f): args[0]: unknown type "list"`) {
		t.Fatalf("errors = %v", errs)
	}
	t.Run("missing root", func(t *testing.T) {
		ps, errs := wasm.Discover(filepath.Join(root, "nope"))
		if len(ps) != 0 || len(errs) != 0 {
			t.Fatal(ps, errs)
		}
	})
	t.Run("default root", func(t *testing.T) {
		home := kitetest.TempDir(t)
		t.Setenv("HOME", home)
		dir := kitetest.MkdirAll(t, filepath.Join(home, ".starkite", "modules"))
		if err := os.Rename(pluginDir(t), filepath.Join(dir, "textplug")); err != nil {
			t.Fatal(err)
		}
		ps, errs := wasm.Discover("")
		if len(ps) != 1 || len(errs) != 0 || ps[0].Manifest().Dir != filepath.Join(dir, "textplug") {
			t.Fatal(ps, errs)
		}
		ps[0].Close()
	})
}

func TestRegisterPlugins(t *testing.T) {
	root := kitetest.TempDir(t)
	plugins(t, root)
	reg := libkite.NewRegistry(nil)
	reg.Register(kitejson.New())
	errs := wasm.RegisterPlugins(reg, root, wasm.WithCacheDir(compiledCache()))
	defer reg.Close()
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "broken") ||
		errs[1].Error() != filepath.Join(root, "json")+`: a module named "json" is already registered` {
		t.Fatalf("errors = %v", errs)
	}
	if strings.Join(reg.Names(), " ") != "json textplug" {
		t.Fatalf("names = %v", reg.Names())
	}
	r, _ := kitetest.New(t, &libkite.Config{Registry: reg})
	if err := r.Execute(context.Background(), `out = [textplug.add(1, 2), json.encode(textplug.sum([1, 2]))]`); err != nil {
		t.Fatal(err)
	}
	if v, _ := r.GetGlobalVal("out"); v.String() != `[3, "3"]` {
		t.Fatalf("out = %v", v)
	}
}
