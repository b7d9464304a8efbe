//go:build unix

package fs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// gated is one disk-touching call: the permission it must ask for.
type gated struct {
	expr               string
	category, function string
	resource           string // "$D"-relative canonical resource
	mutates            bool
	dryValue           string // what a dry run returns (mutating calls)
}

// gatedCalls lists every disk-touching call: the 29 Path I/O methods and
// the six I/O globals. Paths run in the tree fixture.
var gatedCalls = []gated{
	{expr: `exists(D + "/a.txt")`, category: "read", function: "exists", resource: "$D/a.txt"},
	{expr: `read_text(D + "/a.txt")`, category: "read", function: "read_file", resource: "$D/a.txt"},
	{expr: `read_bytes(D + "/a.txt")`, category: "read", function: "read_bytes", resource: "$D/a.txt"},
	{expr: `glob(D + "/*.txt")`, category: "read", function: "glob", resource: "$D/*.txt"},
	{expr: `write_text(D + "/new", "x")`, category: "write", function: "write", resource: "$D/new", mutates: true, dryValue: "None"},
	{expr: `write_bytes(D + "/a.txt", b"x")`, category: "write", function: "write", resource: "$D/a.txt", mutates: true, dryValue: "None"},

	{expr: `path(D + "/link").exists()`, category: "read", function: "exists", resource: "$D/a.txt"},
	{expr: `path(D + "/link").is_file()`, category: "read", function: "is_file", resource: "$D/a.txt"},
	{expr: `path(D + "/dirlink").is_dir()`, category: "read", function: "is_dir", resource: "$D/sub"},
	{expr: `path(D + "/link").is_symlink()`, category: "read", function: "is_symlink", resource: "$D/link"},
	{expr: `path(D + "/sub/../a.txt").stat()`, category: "read", function: "file_stat", resource: "$D/a.txt"},
	{expr: `path(D + "/a.txt").owner()`, category: "read", function: "owner", resource: "$D/a.txt"},
	{expr: `path(D + "/a.txt").group()`, category: "read", function: "group", resource: "$D/a.txt"},
	{expr: `path(D + "/link").read_text()`, category: "read", function: "read_file", resource: "$D/a.txt"},
	{expr: `path(D + "/a.txt").read_bytes()`, category: "read", function: "read_bytes", resource: "$D/a.txt"},
	{expr: `path(D + "/link").readlink()`, category: "read", function: "readlink", resource: "$D/link"},
	{expr: `path(D + "/sub").listdir()`, category: "read", function: "listdir", resource: "$D/sub"},
	{expr: `path(D).glob("*.txt")`, category: "read", function: "glob", resource: "$D"},
	{expr: `path(D + "/sub").walk()`, category: "read", function: "walk", resource: "$D/sub"},
	{expr: `path(D).disk_usage()`, category: "read", function: "disk_usage", resource: "$D"},

	{expr: `path(D + "/a.txt").write_text("x")`, category: "write", function: "write", resource: "$D/a.txt", mutates: true, dryValue: "None"},
	{expr: `path(D + "/new").write_bytes(b"x")`, category: "write", function: "write", resource: "$D/new", mutates: true, dryValue: "None"},
	{expr: `path(D + "/link").append_text("x")`, category: "write", function: "write", resource: "$D/a.txt", mutates: true, dryValue: "None"},
	{expr: `path(D + "/new").append_bytes(b"x")`, category: "write", function: "write", resource: "$D/new", mutates: true, dryValue: "None"},
	{expr: `path(D + "/a.txt").touch()`, category: "write", function: "touch", resource: "$D/a.txt", mutates: true, dryValue: "None"},
	{expr: `path(D + "/newdir").mkdir(parents=True)`, category: "write", function: "mkdir", resource: "$D/newdir", mutates: true, dryValue: "None"},
	{expr: `path(D + "/link").remove()`, category: "delete", function: "remove", resource: "$D/link", mutates: true, dryValue: "None"},
	{expr: `path(D + "/a.txt").rename(D + "/renamed")`, category: "write", function: "rename", resource: "$D/a.txt", mutates: true, dryValue: `path("$D/renamed")`},
	{expr: `path(D + "/a.txt").copy_to(D + "/copy")`, category: "write", function: "copy", resource: "$D/a.txt", mutates: true, dryValue: `path("$D/copy")`},
	{expr: `path(D + "/a.txt").move_to(D + "/moved")`, category: "write", function: "move", resource: "$D/a.txt", mutates: true, dryValue: `path("$D/moved")`},
	{expr: `path(D + "/a.txt").truncate(0)`, category: "write", function: "truncate", resource: "$D/a.txt", mutates: true, dryValue: "None"},
	{expr: `path(D + "/a.txt").chmod(0o700)`, category: "write", function: "chmod", resource: "$D/a.txt", mutates: true, dryValue: "None"},
	{expr: `path(D + "/a.txt").chown(uid=-1)`, category: "write", function: "chown", resource: "$D/a.txt", mutates: true, dryValue: "None"},
	{expr: `path(D + "/newlink").symlink_to("a.txt")`, category: "write", function: "symlink", resource: "$D/newlink", mutates: true, dryValue: "None"},
	{expr: `path(D + "/hard").hardlink_to(D + "/a.txt")`, category: "write", function: "hardlink", resource: "$D/hard", mutates: true, dryValue: "None"},
}

func denial(dir string, g gated) string {
	return `permission denied: fs.` + g.category + ` ` + g.function + `("` + strings.ReplaceAll(g.resource, "$D", dir) + `") - `
}

func TestGatedCallsCoverEveryIOMethod(t *testing.T) {
	seen := map[string]bool{}
	for _, g := range gatedCalls {
		if i := strings.Index(g.expr, ")."); i >= 0 {
			seen[strings.SplitN(g.expr[i+2:], "(", 2)[0]] = true
		}
	}
	for _, m := range ioMethods {
		if !seen[m] {
			t.Errorf("no gated call for %s", m)
		}
	}
}

// TestDenyAll: every disk-touching call asks first and, denied, changes
// nothing; its try_ form reports the same denial.
func TestDenyAll(t *testing.T) {
	dir := kitetest.TempDir(t)
	tree(t, dir)
	before := kitetest.Snapshot(t, dir)
	cfg := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	pre := "D = " + lit(dir)
	for _, g := range gatedCalls {
		t.Run(g.expr, func(t *testing.T) {
			want := denial(dir, g)
			_, msg, _ := kit.Eval(t, cfg, pre, g.expr)
			if !strings.HasPrefix(msg, want+"no matching allow rule") {
				t.Fatalf("error = %q\nwant prefix %q", msg, want)
			}
			if !strings.Contains(g.expr, ").") {
				return // a global: no try_ form
			}
			tryExpr := strings.Replace(g.expr, ").", ").try_", 1)
			got, msg, _ := kit.Eval(t, cfg, pre+"\nr = "+tryExpr, "[r.ok, r.value, r.error.startswith("+lit(want)+")]")
			if msg != "" || got != "[False, None, True]" {
				t.Fatalf("%s = %s (%s)", tryExpr, got, msg)
			}
		})
	}
	t.Run("ungated calls still work", func(t *testing.T) {
		got, msg, _ := kit.Eval(t, cfg, "", `[path("/a/b.txt").stem, path("a").join("b").string, path("~x").try_expanduser().ok, path("a").resolve().is_absolute()]`)
		if msg != "" || got != `["b", "a/b", False, True]` {
			t.Fatal(got, msg)
		}
	})
	kitetest.SameSnapshot(t, before, kitetest.Snapshot(t, dir))
}

// TestDryRun: mutating calls return what they would after their check and
// leave the disk alone; reads still read.
func TestDryRun(t *testing.T) {
	dir := kitetest.TempDir(t)
	tree(t, dir)
	before := kitetest.Snapshot(t, dir)
	cfg := &libkite.Config{DryRun: true}
	pre := "D = " + lit(dir)
	for _, g := range gatedCalls {
		if !g.mutates {
			continue
		}
		t.Run(g.expr, func(t *testing.T) {
			got, msg, _ := kit.Eval(t, cfg, pre, g.expr)
			if want := strings.ReplaceAll(g.dryValue, "$D", dir); msg != "" || got != want {
				t.Fatalf("= %s (%s), want %s", got, msg, want)
			}
		})
	}
	kit.RunCases(t, cfg, []kitetest.Case{
		{Name: "reads still read", Pre: pre, Expr: `[read_text(D + "/a.txt"), path(D + "/link").is_symlink(), len(path(D).listdir())]`, Want: `["hello", True, 9]`},
		{Name: "errors a real run would hit are skipped", Pre: pre, Expr: `[path(D + "/nope/x").write_text("x"), path(D + "/sub").remove(), path(D + "/nope").rename("x").string]`, Want: `[None, None, "x"]`},
		{Name: "argument errors still raise", Pre: pre, Expr: `path(D + "/a.txt").write_bytes(1)`, Err: "fs.path.write_bytes: content must be bytes or string, got int"},
		{Name: "try_ in dry run", Pre: pre, Expr: `path(D + "/x").try_touch()`, Want: "Result(ok=True, value=None)"},
	})
	t.Run("permission checked before simulating", func(t *testing.T) {
		cfg := &libkite.Config{DryRun: true, Permissions: libkite.DenyAllPermissions()}
		for _, g := range gatedCalls {
			if !g.mutates {
				continue
			}
			if _, msg, _ := kit.Eval(t, cfg, pre, g.expr); !strings.HasPrefix(msg, denial(dir, g)) {
				t.Errorf("%s: error = %q", g.expr, msg)
			}
		}
	})
	kitetest.SameSnapshot(t, before, kitetest.Snapshot(t, dir))
}

// TestTargetsChecked: copy/move check both ends; rename and hardlink_to
// (kite) check the target too.
func TestTargetsChecked(t *testing.T) {
	dir := kitetest.TempDir(t)
	tree(t, dir)
	other := kitetest.TempDir(t)
	cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{
		"fs.read(" + dir + "/**)", "fs.write(" + dir + "/**)", "fs.delete(" + dir + "/**)",
	}}}
	pre := "D = " + lit(dir) + "\nO = " + lit(other)
	kit.RunCases(t, cfg, []kitetest.Case{
		{Pre: pre, Expr: `path(D + "/a.txt").copy_to(O + "/x")`, Err: kitetest.Denied("fs.write", "copy", other+"/x"), ErrContains: true},
		{Pre: pre, Expr: `path(O + "/x").copy_to(D + "/x")`, Err: kitetest.Denied("fs.write", "copy", other+"/x"), ErrContains: true},
		{Pre: pre, Expr: `path(D + "/a.txt").move_to(O + "/x")`, Err: kitetest.Denied("fs.write", "move", other+"/x"), ErrContains: true},
		{Pre: pre, Expr: `path(D + "/a.txt").rename(O + "/x")`, Err: kitetest.Denied("fs.write", "rename", other+"/x"), ErrContains: true},
		{Pre: pre, Expr: `path(D + "/h").hardlink_to(O + "/x")`, Err: kitetest.Denied("fs.write", "hardlink", other+"/x"), ErrContains: true},
		{Pre: pre, Expr: `path(D + "/a.txt").copy_to(D + "/x").name`, Want: "x"},
	})
	if entries, _ := os.ReadDir(other); len(entries) != 0 {
		t.Fatalf("denied calls wrote into %s: %v", other, entries)
	}
}

// TestCanonicalisation: with rules granting one directory, neither "..",
// nor symlinks, nor relative paths reach outside it; calls on a link
// itself inside the directory are allowed and never touch its target.
func TestCanonicalisation(t *testing.T) {
	root := kitetest.TempDir(t)
	allowed, outside := filepath.Join(root, "allowed"), filepath.Join(root, "outside")
	kitetest.WriteFile(t, filepath.Join(allowed, "file"), "mine")
	kitetest.WriteFile(t, filepath.Join(outside, "secret"), "secret")
	kitetest.Symlink(t, "../outside", filepath.Join(allowed, "out"))
	kitetest.Symlink(t, "../outside/secret", filepath.Join(allowed, "secretlink"))
	kitetest.Symlink(t, "../outside/new", filepath.Join(allowed, "dangling"))
	cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{
		"fs.read(" + allowed + ")", "fs.read(" + allowed + "/**)", "fs.write(" + allowed + "/**)", "fs.delete(" + allowed + "/**)",
	}}}
	A := "A = " + lit(allowed)
	secret := filepath.Join(outside, "secret")
	kit.RunCases(t, cfg, []kitetest.Case{
		{Name: "inside", Pre: A, Expr: `path(A + "/file").read_text()`, Want: "mine"},
		{Name: "dot-dot", Pre: A, Expr: `path(A + "/../outside/secret").read_text()`, Err: kitetest.Denied("fs.read", "read_file", secret), ErrContains: true},
		{Name: "dot-dot global", Pre: A, Expr: `read_text(A + "/sub/../../outside/secret")`, Err: kitetest.Denied("fs.read", "read_file", secret), ErrContains: true},
		{Name: "file symlink", Pre: A, Expr: `path(A + "/secretlink").read_bytes()`, Err: kitetest.Denied("fs.read", "read_bytes", secret), ErrContains: true},
		{Name: "dir symlink", Pre: A, Expr: `read_text(A + "/out/secret")`, Err: kitetest.Denied("fs.read", "read_file", secret), ErrContains: true},
		{Name: "exists through a link", Pre: A, Expr: `exists(A + "/secretlink")`, Err: kitetest.Denied("fs.read", "exists", secret), ErrContains: true},
		{Name: "stat through a link", Pre: A, Expr: `path(A + "/secretlink").stat()`, Err: kitetest.Denied("fs.read", "file_stat", secret), ErrContains: true},
		{Name: "listdir through a link", Pre: A, Expr: `path(A + "/out").listdir()`, Err: kitetest.Denied("fs.read", "listdir", outside), ErrContains: true},
		{Name: "walk through a link", Pre: A, Expr: `path(A + "/out/").walk()`, ErrContains: true, Err: kitetest.Denied("fs.read", "walk", outside)},
		{Name: "walk of the link itself", Pre: A, Expr: `path(A + "/out").walk()`, Want: "[]"},
		{Name: "glob pattern through a link", Pre: A, Expr: `path(A).glob("out/*")`, Err: kitetest.Denied("fs.read", "glob", outside+"/*"), ErrContains: true},
		{Name: "glob pattern with dot-dot", Pre: A, Expr: `path(A).glob("../outside/*")`, Err: kitetest.Denied("fs.read", "glob", outside+"/*"), ErrContains: true},
		{Name: "global glob through a link", Pre: A, Expr: `glob(A + "/out/*")`, Err: kitetest.Denied("fs.read", "glob", outside+"/*"), ErrContains: true},
		{Name: "glob inside", Pre: A, Expr: `[p.name for p in path(A).glob("*")]`, Want: `["dangling", "file", "out", "secretlink"]`},
		{Name: "write through a link", Pre: A, Expr: `path(A + "/secretlink").write_text("x")`, Err: kitetest.Denied("fs.write", "write", secret), ErrContains: true},
		{Name: "append through a dir link", Pre: A, Expr: `path(A + "/out/secret").append_text("x")`, Err: kitetest.Denied("fs.write", "write", secret), ErrContains: true},
		{Name: "chmod through a link", Pre: A, Expr: `path(A + "/secretlink").chmod(0o777)`, Err: kitetest.Denied("fs.write", "chmod", secret), ErrContains: true},
		{Name: "truncate through a link", Pre: A, Expr: `path(A + "/secretlink").truncate(0)`, Err: kitetest.Denied("fs.write", "truncate", secret), ErrContains: true},
		{Name: "mkdir through a link", Pre: A, Expr: `path(A + "/out/new").mkdir()`, Err: kitetest.Denied("fs.write", "mkdir", outside+"/new"), ErrContains: true},
		{Name: "remove through a dir link", Pre: A, Expr: `path(A + "/out/secret").remove()`, Err: kitetest.Denied("fs.delete", "remove", secret), ErrContains: true},
		{Name: "copy from a link", Pre: A, Expr: `path(A + "/secretlink").copy_to(A + "/stolen")`, Err: kitetest.Denied("fs.write", "copy", secret), ErrContains: true},
		{Name: "hardlink to a link's target", Pre: A, Expr: `path(A + "/h").hardlink_to(A + "/secretlink")`, Err: kitetest.Denied("fs.write", "hardlink", secret), ErrContains: true},
		{Name: "rename out through a link", Pre: A, Expr: `path(A + "/file").rename(A + "/out/stolen")`, Err: kitetest.Denied("fs.write", "rename", outside+"/stolen"), ErrContains: true},
		// the link itself lives inside: allowed, target untouched
		{Name: "is_symlink of the link", Pre: A, Expr: `path(A + "/secretlink").is_symlink()`, Want: "True"},
		{Name: "readlink of the link", Pre: A, Expr: `path(A + "/secretlink").readlink()`, Want: `path("../outside/secret")`},
		{Name: "walk lists links as files", Pre: A, Expr: `path(A).walk()`, Want: `[(path("` + allowed + `"), [], ["dangling", "file", "out", "secretlink"])]`},
		{Name: "writes through a dangling link are refused", Pre: A, Expr: `[path(A + "/dangling").try_write_text("x").error, path(A + "/dangling").try_append_text("x").error, path(A + "/dangling").try_touch().error, path(A + "/file").try_copy_to(A + "/dangling").error]`,
			Want: `["open ` + allowed + `/dangling: too many levels of symbolic links", "open ` + allowed + `/dangling: too many levels of symbolic links", "chtimes ` + allowed + `/dangling: no such file or directory", "open ` + allowed + `/dangling: too many levels of symbolic links"]`},
	})

	t.Run("relative paths", func(t *testing.T) {
		t.Chdir(allowed)
		kit.RunCases(t, cfg, []kitetest.Case{
			{Expr: `read_text("file")`, Want: "mine"},
			{Expr: `read_text("../outside/secret")`, Err: kitetest.Denied("fs.read", "read_file", secret), ErrContains: true},
			{Expr: `path("secretlink").read_text()`, Err: kitetest.Denied("fs.read", "read_file", secret), ErrContains: true},
			{Expr: `glob("../outside/*")`, Err: kitetest.Denied("fs.read", "glob", outside+"/*"), ErrContains: true},
		})
	})

	t.Run("deny rule", func(t *testing.T) {
		cfg := &libkite.Config{Permissions: libkite.AllowPermissions("fs.read(" + outside + "/**)")}
		kit.RunCases(t, cfg, []kitetest.Case{
			{Pre: A, Expr: `path(A + "/secretlink").read_text()`, Err: `permission denied: fs.read read_file("` + secret + `") - blocked by deny rule: fs.read(` + outside + `/**)`},
			{Pre: A, Expr: `path(A + "/file").read_text()`, Want: "mine"},
		})
	})

	// the link-level mutations run last: they change the fixture
	kit.RunCases(t, cfg, []kitetest.Case{
		{Name: "rename the link", Pre: A, Expr: `path(A + "/secretlink").rename(A + "/renamed").readlink()`, Want: `path("../outside/secret")`},
		{Name: "remove the link", Pre: A, Expr: `[path(A + "/renamed").remove(), path(A + "/renamed").is_symlink()]`, Want: "[None, False]"},
		{Name: "symlink_to anywhere creates the link only", Pre: A + "\nl = path(A + \"/l2\")\nl.symlink_to(" + lit(secret) + ")",
			Expr: `[l.is_symlink(), l.readlink().string == ` + lit(secret) + `, l.try_read_text().error.startswith("permission denied")]`, Want: "[True, True, True]"},
		{Name: "remove the new link", Pre: A, Expr: `path(A + "/l2").remove()`, Want: "None"},
	})
	if kitetest.ReadFile(t, secret) != "secret" {
		t.Fatal("the target was modified")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Fatalf("files created outside: %v", entries)
	}
}
