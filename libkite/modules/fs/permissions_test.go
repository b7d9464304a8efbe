//go:build unix

package fs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
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
	dir := tempDir(t)
	tree(t, dir)
	before := snapshot(t, dir)
	cfg := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	pre := "D = " + lit(dir)
	for _, g := range gatedCalls {
		t.Run(g.expr, func(t *testing.T) {
			want := denial(dir, g)
			_, msg := eval(t, cfg, pre, g.expr)
			if !strings.HasPrefix(msg, want+"no matching allow rule") {
				t.Fatalf("error = %q\nwant prefix %q", msg, want)
			}
			if !strings.Contains(g.expr, ").") {
				return // a global: no try_ form
			}
			tryExpr := strings.Replace(g.expr, ").", ").try_", 1)
			got, msg := eval(t, cfg, pre+"\nr = "+tryExpr, "[r.ok, r.value, r.error.startswith("+lit(want)+")]")
			if msg != "" || got != "[False, None, True]" {
				t.Fatalf("%s = %s (%s)", tryExpr, got, msg)
			}
		})
	}
	t.Run("ungated calls still work", func(t *testing.T) {
		got, msg := eval(t, cfg, "", `[path("/a/b.txt").stem, path("a").join("b").string, path("~x").try_expanduser().ok, path("a").resolve().is_absolute()]`)
		if msg != "" || got != `["b", "a/b", False, True]` {
			t.Fatal(got, msg)
		}
	})
	if after := snapshot(t, dir); after != before {
		t.Fatalf("denied calls changed the disk:\nbefore\n%s\nafter\n%s", before, after)
	}
}

// TestDryRun: mutating calls return what they would after their check and
// leave the disk alone; reads still read.
func TestDryRun(t *testing.T) {
	dir := tempDir(t)
	tree(t, dir)
	before := snapshot(t, dir)
	cfg := &libkite.Config{DryRun: true}
	pre := "D = " + lit(dir)
	for _, g := range gatedCalls {
		if !g.mutates {
			continue
		}
		t.Run(g.expr, func(t *testing.T) {
			got, msg := eval(t, cfg, pre, g.expr)
			if want := strings.ReplaceAll(g.dryValue, "$D", dir); msg != "" || got != want {
				t.Fatalf("= %s (%s), want %s", got, msg, want)
			}
		})
	}
	runCases(t, cfg, []evalCase{
		{name: "reads still read", pre: pre, expr: `[read_text(D + "/a.txt"), path(D + "/link").is_symlink(), len(path(D).listdir())]`, want: `["hello", True, 9]`},
		{name: "errors a real run would hit are skipped", pre: pre, expr: `[path(D + "/nope/x").write_text("x"), path(D + "/sub").remove(), path(D + "/nope").rename("x").string]`, want: `[None, None, "x"]`},
		{name: "argument errors still raise", pre: pre, expr: `path(D + "/a.txt").write_bytes(1)`, err: "fs.path.write_bytes: content must be bytes or string, got int"},
		{name: "try_ in dry run", pre: pre, expr: `path(D + "/x").try_touch()`, want: "Result(ok=True, value=None)"},
	})
	t.Run("permission checked before simulating", func(t *testing.T) {
		cfg := &libkite.Config{DryRun: true, Permissions: libkite.DenyAllPermissions()}
		for _, g := range gatedCalls {
			if !g.mutates {
				continue
			}
			if _, msg := eval(t, cfg, pre, g.expr); !strings.HasPrefix(msg, denial(dir, g)) {
				t.Errorf("%s: error = %q", g.expr, msg)
			}
		}
	})
	if after := snapshot(t, dir); after != before {
		t.Fatalf("dry run changed the disk:\nbefore\n%s\nafter\n%s", before, after)
	}
}

// TestTargetsChecked: copy/move check both ends; rename and hardlink_to
// (kite) check the target too.
func TestTargetsChecked(t *testing.T) {
	dir := tempDir(t)
	tree(t, dir)
	other := tempDir(t)
	cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{
		"fs.read(" + dir + "/**)", "fs.write(" + dir + "/**)", "fs.delete(" + dir + "/**)",
	}}}
	pre := "D = " + lit(dir) + "\nO = " + lit(other)
	deny := func(cat, fn, res string) string {
		return `permission denied: fs.` + cat + ` ` + fn + `("` + res + `") - no matching allow rule`
	}
	runCases(t, cfg, []evalCase{
		{pre: pre, expr: `path(D + "/a.txt").copy_to(O + "/x")`, err: deny("write", "copy", other+"/x"), errSub: true},
		{pre: pre, expr: `path(O + "/x").copy_to(D + "/x")`, err: deny("write", "copy", other+"/x"), errSub: true},
		{pre: pre, expr: `path(D + "/a.txt").move_to(O + "/x")`, err: deny("write", "move", other+"/x"), errSub: true},
		{pre: pre, expr: `path(D + "/a.txt").rename(O + "/x")`, err: deny("write", "rename", other+"/x"), errSub: true},
		{pre: pre, expr: `path(D + "/h").hardlink_to(O + "/x")`, err: deny("write", "hardlink", other+"/x"), errSub: true},
		{pre: pre, expr: `path(D + "/a.txt").copy_to(D + "/x").name`, want: "x"},
	})
	if entries, _ := os.ReadDir(other); len(entries) != 0 {
		t.Fatalf("denied calls wrote into %s: %v", other, entries)
	}
}

// TestCanonicalisation: with rules granting one directory, neither "..",
// nor symlinks, nor relative paths reach outside it; calls on a link
// itself inside the directory are allowed and never touch its target.
func TestCanonicalisation(t *testing.T) {
	root := tempDir(t)
	allowed, outside := filepath.Join(root, "allowed"), filepath.Join(root, "outside")
	writeFile(t, filepath.Join(allowed, "file"), "mine")
	writeFile(t, filepath.Join(outside, "secret"), "secret")
	symlink(t, "../outside", filepath.Join(allowed, "out"))
	symlink(t, "../outside/secret", filepath.Join(allowed, "secretlink"))
	symlink(t, "../outside/new", filepath.Join(allowed, "dangling"))
	cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{
		"fs.read(" + allowed + ")", "fs.read(" + allowed + "/**)", "fs.write(" + allowed + "/**)", "fs.delete(" + allowed + "/**)",
	}}}
	A := "A = " + lit(allowed)
	deny := func(cat, fn, res string) string {
		return `permission denied: fs.` + cat + ` ` + fn + `("` + res + `") - no matching allow rule`
	}
	secret := filepath.Join(outside, "secret")
	runCases(t, cfg, []evalCase{
		{name: "inside", pre: A, expr: `path(A + "/file").read_text()`, want: "mine"},
		{name: "dot-dot", pre: A, expr: `path(A + "/../outside/secret").read_text()`, err: deny("read", "read_file", secret), errSub: true},
		{name: "dot-dot global", pre: A, expr: `read_text(A + "/sub/../../outside/secret")`, err: deny("read", "read_file", secret), errSub: true},
		{name: "file symlink", pre: A, expr: `path(A + "/secretlink").read_bytes()`, err: deny("read", "read_bytes", secret), errSub: true},
		{name: "dir symlink", pre: A, expr: `read_text(A + "/out/secret")`, err: deny("read", "read_file", secret), errSub: true},
		{name: "exists through a link", pre: A, expr: `exists(A + "/secretlink")`, err: deny("read", "exists", secret), errSub: true},
		{name: "stat through a link", pre: A, expr: `path(A + "/secretlink").stat()`, err: deny("read", "file_stat", secret), errSub: true},
		{name: "listdir through a link", pre: A, expr: `path(A + "/out").listdir()`, err: deny("read", "listdir", outside), errSub: true},
		{name: "walk through a link", pre: A, expr: `path(A + "/out/").walk()`, errSub: true, err: deny("read", "walk", outside)},
		{name: "walk of the link itself", pre: A, expr: `path(A + "/out").walk()`, want: "[]"},
		{name: "glob pattern through a link", pre: A, expr: `path(A).glob("out/*")`, err: deny("read", "glob", outside+"/*"), errSub: true},
		{name: "glob pattern with dot-dot", pre: A, expr: `path(A).glob("../outside/*")`, err: deny("read", "glob", outside+"/*"), errSub: true},
		{name: "global glob through a link", pre: A, expr: `glob(A + "/out/*")`, err: deny("read", "glob", outside+"/*"), errSub: true},
		{name: "glob inside", pre: A, expr: `[p.name for p in path(A).glob("*")]`, want: `["dangling", "file", "out", "secretlink"]`},
		{name: "write through a link", pre: A, expr: `path(A + "/secretlink").write_text("x")`, err: deny("write", "write", secret), errSub: true},
		{name: "append through a dir link", pre: A, expr: `path(A + "/out/secret").append_text("x")`, err: deny("write", "write", secret), errSub: true},
		{name: "chmod through a link", pre: A, expr: `path(A + "/secretlink").chmod(0o777)`, err: deny("write", "chmod", secret), errSub: true},
		{name: "truncate through a link", pre: A, expr: `path(A + "/secretlink").truncate(0)`, err: deny("write", "truncate", secret), errSub: true},
		{name: "mkdir through a link", pre: A, expr: `path(A + "/out/new").mkdir()`, err: deny("write", "mkdir", outside+"/new"), errSub: true},
		{name: "remove through a dir link", pre: A, expr: `path(A + "/out/secret").remove()`, err: deny("delete", "remove", secret), errSub: true},
		{name: "copy from a link", pre: A, expr: `path(A + "/secretlink").copy_to(A + "/stolen")`, err: deny("write", "copy", secret), errSub: true},
		{name: "hardlink to a link's target", pre: A, expr: `path(A + "/h").hardlink_to(A + "/secretlink")`, err: deny("write", "hardlink", secret), errSub: true},
		{name: "rename out through a link", pre: A, expr: `path(A + "/file").rename(A + "/out/stolen")`, err: deny("write", "rename", outside+"/stolen"), errSub: true},
		// the link itself lives inside: allowed, target untouched
		{name: "is_symlink of the link", pre: A, expr: `path(A + "/secretlink").is_symlink()`, want: "True"},
		{name: "readlink of the link", pre: A, expr: `path(A + "/secretlink").readlink()`, want: `path("../outside/secret")`},
		{name: "walk lists links as files", pre: A, expr: `path(A).walk()`, want: `[(path("` + allowed + `"), [], ["dangling", "file", "out", "secretlink"])]`},
		{name: "writes through a dangling link are refused", pre: A, expr: `[path(A + "/dangling").try_write_text("x").error, path(A + "/dangling").try_append_text("x").error, path(A + "/dangling").try_touch().error, path(A + "/file").try_copy_to(A + "/dangling").error]`,
			want: `["open ` + allowed + `/dangling: too many levels of symbolic links", "open ` + allowed + `/dangling: too many levels of symbolic links", "chtimes ` + allowed + `/dangling: no such file or directory", "open ` + allowed + `/dangling: too many levels of symbolic links"]`},
	})

	t.Run("relative paths", func(t *testing.T) {
		t.Chdir(allowed)
		runCases(t, cfg, []evalCase{
			{expr: `read_text("file")`, want: "mine"},
			{expr: `read_text("../outside/secret")`, err: deny("read", "read_file", secret), errSub: true},
			{expr: `path("secretlink").read_text()`, err: deny("read", "read_file", secret), errSub: true},
			{expr: `glob("../outside/*")`, err: deny("read", "glob", outside+"/*"), errSub: true},
		})
	})

	t.Run("deny rule", func(t *testing.T) {
		cfg := &libkite.Config{Permissions: libkite.AllowPermissions("fs.read(" + outside + "/**)")}
		runCases(t, cfg, []evalCase{
			{pre: A, expr: `path(A + "/secretlink").read_text()`, err: `permission denied: fs.read read_file("` + secret + `") - blocked by deny rule: fs.read(` + outside + `/**)`},
			{pre: A, expr: `path(A + "/file").read_text()`, want: "mine"},
		})
	})

	// the link-level mutations run last: they change the fixture
	runCases(t, cfg, []evalCase{
		{name: "rename the link", pre: A, expr: `path(A + "/secretlink").rename(A + "/renamed").readlink()`, want: `path("../outside/secret")`},
		{name: "remove the link", pre: A, expr: `[path(A + "/renamed").remove(), path(A + "/renamed").is_symlink()]`, want: "[None, False]"},
		{name: "symlink_to anywhere creates the link only", pre: A + "\nl = path(A + \"/l2\")\nl.symlink_to(" + lit(secret) + ")",
			expr: `[l.is_symlink(), l.readlink().string == ` + lit(secret) + `, l.try_read_text().error.startswith("permission denied")]`, want: "[True, True, True]"},
		{name: "remove the new link", pre: A, expr: `path(A + "/l2").remove()`, want: "None"},
	})
	if readFile(t, secret) != "secret" {
		t.Fatal("the target was modified")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Fatalf("files created outside: %v", entries)
	}
}
