package libkite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// writeTree creates files (path → content) under a temp dir.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoad(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"lib/util.star":           "def double(x):\n  return 2 * x\n_private = 1\nVERSION = '1.0'\n",
		"modules/greeter.star":    "load('../lib/util.star', 'util')\ndef greet(n):\n  return 'hi ' + n + ' ' + str(util.double(2))\n",
		"modules/pack/main.star":  "def a():\n  return 'a'\nshared = 'main'\n",
		"modules/pack/extra.star": "def b():\n  return 'b'\nshared = 'extra'\n_hidden = 1\n",
		"cycle/one.star":          "load('./two.star', 'two')\nx = 1\n",
		"cycle/two.star":          "load('./one.star', 'one')\ny = 1\n",
		"printer.star":            "print('loading printer')\nz = _config.get('k', 'default')\n",
		"counter.star":            "print('executed')\nn = 1\n",
		"noentry/readme.star.txt": "",
		"envpath/fromenv.star":    "v = 'env'\n",
		"main.star":               "",
	})
	script := filepath.Join(dir, "main.star")
	tests := []struct {
		name, src, want, wantErr string
	}{
		{name: "explicit relative path", src: "load('./lib/util.star', 'util')\nprint(util.double(21), util.VERSION, type(util), util)", want: `42 1.0 module <module "util">`},
		{name: "private names not exported", src: "load('./lib/util.star', 'util')\nprint(hasattr(util, '_private'), dir(util))", want: `False ["VERSION", "double"]`},
		{name: "bare name from modules dir with nested load", src: "load('greeter', 'greeter')\nprint(greeter.greet('bob'))", want: "hi bob 4"},
		{name: "alias binding", src: "load('greeter', g='greeter')\nprint(g.greet('x'))", want: "hi x 4"},
		{name: "module directory merges files", src: "load('pack', 'pack')\nprint(pack.a(), pack.b(), pack.shared, hasattr(pack, '_hidden'))", want: "a b extra False"},
		{name: "wrong symbol", src: "load('./lib/util.star', 'double')", wantErr: "load: name double not found in module ./lib/util.star"},
		{name: "missing file", src: "load('./nope.star', 'nope')", wantErr: "cannot load ./nope.star: file not found: ./nope.star"},
		{name: "missing name", src: "load('nothere', 'nothere')", wantErr: `cannot load nothere: module "nothere" not found in search paths`},
		{name: "cycle detected", src: "load('./cycle/one.star', 'one')", wantErr: "circular dependency detected loading module ./one.star"},
		{name: "print routed and _config empty", src: "load('./printer.star', 'printer')\nprint(printer.z)", want: "loading printer\ndefault"},
		{name: "cached per runtime", src: "load('./counter.star', 'counter')\nload('./counter.star', c2='counter')\nprint(counter == c2)", want: "executed\nTrue"},
		{name: "builtin module by name", src: "load('mymod', m='mymod')\nprint(m.hello())", want: "hi"},
		{name: "STARKITE_MODULE_PATH", src: "load('fromenv', 'fromenv')\nprint(fromenv.v)", want: "env"},
	}
	t.Setenv(libkite.ModulePathEnv, filepath.Join(dir, "envpath"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := libkite.NewRegistry(nil)
			reg.Register(&testModule{name: "mymod", members: starlark.StringDict{"hello": constFn("mymod.hello", "hi")}})
			rt, out := capture(t, &libkite.Config{Registry: reg, ScriptPath: script})
			err := rt.Execute(context.Background(), tt.src)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("output %q, want %q", out.String(), tt.want)
			}
		})
	}
}

func TestLoadedFiles(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"lib/a.star":             "load('./b.star', 'b')\nx = 1\n",
		"lib/b.star":             "y = 2\n",
		"modules/pack/main.star": "z = 3\n",
		"modules/pack/more.star": "w = 4\n",
		"broken.star":            "x = = 1\n",
	})
	rt, err := libkite.New(&libkite.Config{ScriptPath: filepath.Join(dir, "main.star")})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if got := rt.LoadedFiles(); len(got) != 0 {
		t.Fatalf("before any load: %v", got)
	}
	if err := rt.Execute(context.Background(), "load('./lib/a.star', 'a')\nload('pack', 'pack')\nload('./lib/a.star', a2='a')"); err != nil {
		t.Fatal(err)
	}
	if err := rt.Execute(context.Background(), "load('./broken.star', 'broken')"); err == nil {
		t.Fatal("broken.star loaded without error")
	}
	var want []string
	for _, f := range []string{"broken.star", "lib/a.star", "lib/b.star", "modules/pack/main.star", "modules/pack/more.star"} {
		want = append(want, filepath.Join(dir, f))
	}
	if got := rt.LoadedFiles(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("LoadedFiles:\n got %v\nwant %v", got, want)
	}
}

func TestLoadedCodeKeepsPermissions(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"mods/reader.star": "def read():\n  return probe('/etc/hosts')\n",
	})
	probe := starlark.NewBuiltin("probe", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		if err := libkite.Check(th, "fs", "read", "read_file", string(args[0].(starlark.String))); err != nil {
			return nil, err
		}
		return starlark.String("read"), nil
	})
	rt, err := libkite.NewSandboxed(&libkite.Config{ScriptPath: filepath.Join(dir, "main.star"), Globals: map[string]interface{}{"probe": probe}})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	err = rt.Execute(context.Background(), "load('./mods/reader.star', 'reader')\nreader.read()")
	var pe *libkite.PermissionError
	if !errors.As(err, &pe) {
		t.Fatalf("want PermissionError through script error, got %v", err)
	}
	if pe.Origin != "reader" || !strings.HasPrefix(err.Error(), `script error: permission denied (module "reader"): fs.read read_file("/etc/hosts") - no matching allow rule`) {
		t.Errorf("origin/message: %q", err)
	}
	if pe.Suggest != "allow-fs" {
		t.Errorf("suggest = %q", pe.Suggest)
	}
}

func TestCheckPathCanonicalises(t *testing.T) {
	dir := t.TempDir()
	allowed := filepath.Join(dir, "allowed")
	outside := filepath.Join(dir, "outside")
	os.MkdirAll(allowed, 0o755)
	os.MkdirAll(outside, 0o755)
	if err := os.Symlink(outside, filepath.Join(allowed, "link")); err != nil {
		t.Fatal(err)
	}
	checker, err := libkite.NewPermissionChecker(&libkite.PermissionConfig{Allow: []string{"fs.write(" + allowed + "/**)"}})
	if err != nil {
		t.Fatal(err)
	}
	thread := &starlark.Thread{}
	libkite.SetPermissions(thread, checker)
	if libkite.GetPermissions(thread) != checker {
		t.Fatal("GetPermissions")
	}
	cases := map[string]bool{
		filepath.Join(allowed, "new", "file.txt"):     true,
		filepath.Join(allowed, "..", "outside", "x"):  false,
		filepath.Join(allowed, "link", "escape.txt"):  false, // symlink points outside
		filepath.Join(allowed, "sub", "..", "ok.txt"): true,
	}
	for p, want := range cases {
		canon, err := libkite.CheckPath(thread, "fs", "write", "write", p)
		if (err == nil) != want {
			t.Errorf("CheckPath(%s) -> %s allowed=%v, want %v", p, canon, err == nil, want)
		}
	}
	if libkite.Check(nil, "os", "exec", "exec", "x") != nil {
		t.Error("nil thread must allow")
	}
}

// TestLoadOutsideRootsNeedsFSRead: code loads freely from the script's
// tree (deny-all included), but a file outside the load roots is a file
// read: denied under deny-all, allowed by fs.read.
func TestLoadOutsideRootsNeedsFSRead(t *testing.T) {
	root := writeTree(t, map[string]string{
		"proj/main.star":      "",
		"proj/lib/ok.star":    "v = 'in tree'\n",
		"proj/lib/hop.star":   "load('../../outside/evil.star', 'evil')\nv = evil.v\n",
		"outside/evil.star":   "v = 'outside'\n",
		"modpath/shared.star": "v = 'module path'\n",
	})
	proj := filepath.Join(root, "proj")
	t.Chdir(proj)
	t.Setenv(libkite.ModulePathEnv, filepath.Join(root, "modpath"))
	t.Setenv("HOME", t.TempDir())
	outside := libkite.CanonicalPath(filepath.Join(root, "outside", "evil.star"))
	denied := `permission denied: fs.read load("` + outside + `") - no matching allow rule`
	tests := []struct {
		name, src, want, wantErr string
		perms                    *libkite.PermissionConfig
	}{
		{name: "script tree under deny-all", src: "load('./lib/ok.star', 'ok')\nprint(ok.v)", want: "in tree", perms: libkite.DenyAllPermissions()},
		{name: "module path under deny-all", src: "load('shared', 'shared')\nprint(shared.v)", want: "module path", perms: libkite.DenyAllPermissions()},
		{name: "relative escape", src: "load('../outside/evil.star', 'evil')", wantErr: denied, perms: libkite.DenyAllPermissions()},
		{name: "absolute path", src: "load(" + starlark.String(outside).String() + ", 'evil')", wantErr: denied, perms: libkite.DenyAllPermissions()},
		{name: "escape from a loaded module", src: "load('./lib/hop.star', 'hop')", perms: libkite.DenyAllPermissions(),
			wantErr: strings.Replace(denied, "permission denied:", `permission denied (module "hop"):`, 1)},
		{name: "fs.read grants it", src: "load('../outside/evil.star', 'evil')\nprint(evil.v)", want: "outside", perms: libkite.AllowFSPermissions()},
		{name: "a deny rule on the tree holds", src: "load('../outside/evil.star', 'evil')",
			wantErr: `permission denied: fs.read load("` + outside + `") - blocked by deny rule: fs.read(` + filepath.Join(root, "outside") + `/**)`,
			perms:   libkite.AllowPermissions("fs.read(" + filepath.Join(root, "outside") + "/**)")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, out := capture(t, &libkite.Config{ScriptPath: filepath.Join(proj, "main.star"), Permissions: tt.perms})
			err := rt.Execute(context.Background(), tt.src)
			if tt.wantErr != "" {
				if !libkite.IsPermissionError(err) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want a permission error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || out.String() != tt.want {
				t.Fatalf("output %q, err %v; want %q", out.String(), err, tt.want)
			}
		})
	}
}
