//go:build unix

package fs_test

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/project-starkite/starkite/libkite/kitetest"
)

// tree is the fixture of the I/O tests:
//
//	a.txt "hello"  b.log "log"  c.txt "c"  .hidden "h"
//	sub/file1.txt  sub/deeper/x.bin  empty/
//	link -> a.txt  dirlink -> sub  dangling -> nowhere
func tree(t *testing.T, dir string) {
	t.Helper()
	kitetest.WriteFile(t, filepath.Join(dir, "a.txt"), "hello")
	kitetest.WriteFile(t, filepath.Join(dir, "b.log"), "log")
	kitetest.WriteFile(t, filepath.Join(dir, "c.txt"), "c")
	kitetest.WriteFile(t, filepath.Join(dir, ".hidden"), "h")
	kitetest.WriteFile(t, filepath.Join(dir, "sub", "file1.txt"), "f1")
	kitetest.WriteFile(t, filepath.Join(dir, "sub", "deeper", "x.bin"), "\x00\x01\xff")
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a.txt", "b.log", "c.txt", ".hidden"} {
		if err := os.Chmod(filepath.Join(dir, p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"sub", "empty"} {
		if err := os.Chmod(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	kitetest.Symlink(t, "a.txt", filepath.Join(dir, "link"))
	kitetest.Symlink(t, "sub", filepath.Join(dir, "dirlink"))
	kitetest.Symlink(t, "nowhere", filepath.Join(dir, "dangling"))
}

func TestQueries(t *testing.T) {
	inDir(t, nil, tree, []kitetest.Case{
		// exists
		{Expr: `path(D + "/a.txt").exists()`, Want: "True"},
		{Expr: `path(D + "/nope").exists()`, Want: "False"},
		{Name: "dangling link does not exist", Expr: `path(D + "/dangling").exists()`, Want: "False"},
		{Expr: `path(D + "/link").exists()`, Want: "True"},
		{Expr: `path("").exists()`, Want: "False"},
		{Expr: `path(D + "/a.txt/x").exists()`, Want: "False"},
		{Expr: `path(D).exists(1)`, Err: "fs.path.exists: unexpected positional argument at index 0"},
		{Expr: `path(D).try_exists()`, Want: "Result(ok=True, value=True)"},
		{Expr: `exists(D + "/a.txt")`, Want: "True"},
		{Expr: `exists(D + "/nope")`, Want: "False"},
		{Name: "global exists accepts a Path", Expr: `exists(path(D) / "a.txt")`, Want: "True"},
		{Expr: `exists()`, Err: "exists: missing required argument: path"},
		{Expr: `exists(1)`, Err: "exists: for parameter path: got int, want string or fs.path"},
		{Expr: `exists("a", "b")`, Err: "exists: unexpected positional argument at index 1"},
		// is_file / is_dir / is_symlink
		{Expr: `path(D + "/a.txt").is_file()`, Want: "True"},
		{Expr: `path(D + "/link").is_file()`, Want: "True"},
		{Expr: `path(D + "/sub").is_file()`, Want: "False"},
		{Expr: `path(D + "/nope").is_file()`, Want: "False"},
		{Expr: `path(D + "/sub").is_dir()`, Want: "True"},
		{Expr: `path(D + "/dirlink").is_dir()`, Want: "True"},
		{Expr: `path(D + "/a.txt").is_dir()`, Want: "False"},
		{Expr: `path(D + "/nope").is_dir()`, Want: "False"},
		{Expr: `path(D + "/link").is_symlink()`, Want: "True"},
		{Expr: `path(D + "/dangling").is_symlink()`, Want: "True"},
		{Expr: `path(D + "/dirlink").is_symlink()`, Want: "True"},
		{Expr: `path(D + "/a.txt").is_symlink()`, Want: "False"},
		{Expr: `path(D + "/nope").is_symlink()`, Want: "False"},
		{Expr: `path(D).is_dir(x=1)`, Err: "fs.path.is_dir: unknown keyword argument: x"},
		{Expr: `[path(D).try_is_file().value, path(D).try_is_dir().value, path(D).try_is_symlink().value]`, Want: "[False, True, False]"},
		// stat
		{Expr: `path(D + "/a.txt").stat()["size"]`, Want: "5"},
		{Expr: `list(path(D + "/a.txt").stat().keys())`, Want: `["name", "size", "mode", "is_dir", "mod_time"]`},
		{Expr: `[path(D + "/a.txt").stat()[k] for k in ["name", "mode", "is_dir"]]`, Want: `["a.txt", "-rw-r--r--", False]`},
		{Expr: `[path(D + "/sub").stat()[k] for k in ["name", "mode", "is_dir"]]`, Want: `["sub", "drwxr-xr-x", True]`},
		{Name: "stat follows links, name is the given one", Expr: `[path(D + "/link").stat()[k] for k in ["name", "size", "mode"]]`, Want: `["link", 5, "-rw-r--r--"]`},
		{Expr: `path(D + "/nope").stat()`, Err: "stat $D/nope: no such file or directory"},
		{Expr: `path(D + "/dangling").stat()`, Err: "stat $D/dangling: no such file or directory"},
		{Expr: `path(D + "/nope").try_stat()`, Want: `Result(ok=False, error="stat $D/nope: no such file or directory")`},
		{Expr: `path(D).stat(1)`, Err: "fs.path.stat: unexpected positional argument at index 0"},
		// owner / group
		{Expr: `type(path(D + "/a.txt").owner())`, Want: "string"},
		{Expr: `path(D + "/nope").owner()`, Err: "stat $D/nope: no such file or directory"},
		{Expr: `path(D + "/nope").try_group().ok`, Want: "False"},
		{Expr: `path(D).owner(1)`, Err: "fs.path.owner: unexpected positional argument at index 0"},
		// disk_usage
		{Expr: `list(path(D).disk_usage().keys())`, Want: `["total", "used", "free"]`},
		{Expr: `[u["total"] > 0, u["free"] > 0, u["used"] == u["total"] - u["free"]]`, Pre: `u = path("/").disk_usage()`, Want: "[True, True, True]"},
		{Expr: `path(D + "/nope").disk_usage()`, Err: "statfs $D/nope: no such file or directory"},
		{Expr: `path(D).try_disk_usage().ok`, Want: "True"},
		{Expr: `path(D).disk_usage(1)`, Err: "fs.path.disk_usage: unexpected positional argument at index 0"},
	})

	t.Run("stat mod_time", func(t *testing.T) {
		dir := kitetest.TempDir(t)
		f := filepath.Join(dir, "f")
		kitetest.WriteFile(t, f, "x")
		when := time.Date(2021, 3, 4, 5, 6, 7, 890, time.UTC)
		if err := os.Chtimes(f, when, when); err != nil {
			t.Fatal(err)
		}
		got, msg, _ := kit.Eval(t, nil, "", `path(`+lit(f)+`).stat()["mod_time"]`)
		if want := when.Local().Format(time.RFC3339); msg != "" || got != want {
			t.Fatalf("mod_time = %q (%s), want %q", got, msg, want)
		}
	})

	t.Run("owner and group names", func(t *testing.T) {
		dir := kitetest.TempDir(t)
		me, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		grp, err := user.LookupGroupId(strconv.Itoa(os.Getgid()))
		if err != nil {
			t.Skip("no group name:", err)
		}
		got, msg, _ := kit.Eval(t, nil, "", `[path(`+lit(dir)+`).owner(), path(`+lit(dir)+`).try_owner().value, path(`+lit(dir)+`).group()]`)
		want := "[" + lit(me.Username) + ", " + lit(me.Username) + ", " + lit(grp.Name) + "]"
		if msg != "" || got != want {
			t.Fatalf("= %s (%s), want %s", got, msg, want)
		}
	})
}

func TestReadWrite(t *testing.T) {
	inDir(t, nil, tree, []kitetest.Case{
		// read_text / read_bytes
		{Expr: `path(D + "/a.txt").read_text()`, Want: "hello"},
		{Name: "read_text ignores args", Expr: `path(D + "/a.txt").read_text(1, x=2)`, Want: "hello"},
		{Expr: `path(D + "/link").read_text()`, Want: "hello"},
		{Expr: `path(D + "/nope").read_text()`, Err: "open $D/nope: no such file or directory"},
		{Expr: `path(D + "/sub").read_text()`, Err: "read $D/sub: is a directory"},
		{Expr: `path("").read_text()`, Err: "open : no such file or directory"},
		{Expr: `path(D + "/nope").try_read_text()`, Want: `Result(ok=False, error="open $D/nope: no such file or directory")`},
		{Expr: `[r.ok, r.value, r.error] `, Pre: `r = path(D + "/nope").try_read_text()`, Want: `[False, None, "open $D/nope: no such file or directory"]`},
		{Expr: `[r.ok, r.value, r.error]`, Pre: `r = path(D + "/a.txt").try_read_text()`, Want: `[True, "hello", ""]`},
		{Expr: `path(D + "/sub/deeper/x.bin").read_bytes()`, Want: `b"\x00\x01\xff"`},
		{Name: "read_text takes bytes verbatim", Expr: `len(path(D + "/sub/deeper/x.bin").read_text())`, Want: "3"},
		{Expr: `path(D + "/nope").read_bytes()`, Err: "open $D/nope: no such file or directory"},
		{Expr: `path(D + "/a.txt").try_read_bytes().value`, Want: `b"hello"`},
		{Expr: `read_text(D + "/a.txt")`, Want: "hello"},
		{Expr: `read_text(path(D + "/a.txt"))`, Want: "hello"},
		{Expr: `read_bytes(D + "/a.txt")`, Want: `b"hello"`},
		{Expr: `read_text(D + "/nope")`, Err: "open $D/nope: no such file or directory"},
		{Expr: `read_text()`, Err: "read_text: missing required argument: path"},
		{Expr: `read_bytes(D, D)`, Err: "read_bytes: unexpected positional argument at index 1"},
		{Expr: `read_text(path=D + "/a.txt")`, Want: "hello"},
		// write_text / write_bytes (methods)
		{Expr: `p.read_text()`, Pre: `p = path(D + "/new.txt"); p.write_text("hi")`, Want: "hi"},
		{Expr: `p.read_text()`, Pre: `p = path(D + "/a.txt"); p.write_text("x")`, Want: "x"},
		{Expr: `p.stat()["mode"]`, Pre: `p = path(D + "/new"); p.write_text("x", mode=0o600)`, Want: "-rw-------"},
		{Name: "mode only on creation", Expr: `p.stat()["mode"]`, Pre: `p = path(D + "/a.txt"); p.chmod(0o600); p.write_text("x", mode=0o644)`, Want: "-rw-------"},
		{Name: "write through a link writes its target", Expr: `[path(D + "/a.txt").read_text(), path(D + "/link").is_symlink()]`,
			Pre: `path(D + "/link").write_text("via link")`, Want: `["via link", True]`},
		{Name: "write through a dangling link is refused", Expr: `path(D + "/dangling").write_text("x")`,
			Err: "open $D/dangling: too many levels of symbolic links"},
		{Expr: `path(D + "/nope/x").write_text("x")`, Err: "open $D/nope/x: no such file or directory"},
		{Expr: `path(D + "/sub").write_text("x")`, ErrContains: true, Err: "$D/sub: is a directory"},
		{Expr: `path(D + "/a.txt").write_text(b"x")`, Err: "fs.path.write_text: for parameter content: got bytes, want string"},
		{Expr: `path(D + "/a.txt").write_text("x", 0o600)`, Err: "fs.path.write_text: unexpected positional argument at index 1"},
		{Expr: `path(D + "/a.txt").write_text("x", mode="0644")`, Err: "fs.path.write_text: for parameter \"mode\": got string, want int"},
		{Expr: `path(D + "/a.txt").write_text("x", mode=True)`, Err: "fs.path.write_text: for parameter \"mode\": got bool, want int"},
		{Expr: `path(D + "/a.txt").write_text("x", mode=-1)`, Err: "fs.path.write_text: invalid mode -1 (want 0 to 0o7777)"},
		{Expr: `path(D + "/a.txt").write_text()`, Err: "fs.path.write_text: missing required argument: content"},
		{Expr: `path(D + "/a.txt").write_text("x", encoding="utf8")`, Err: "fs.path.write_text: unknown keyword argument: encoding"},
		{Expr: `path(D + "/nope/x").try_write_text("x").error != ""`, Want: "True"},
		{Expr: `path(D + "/w").try_write_text("x")`, Want: "Result(ok=True, value=None)"},
		{Expr: `p.read_bytes()`, Pre: `p = path(D + "/bin"); p.write_bytes(b"\x00\x01\xff")`, Want: `b"\x00\x01\xff"`},
		{Expr: `p.read_text()`, Pre: `p = path(D + "/s"); p.write_bytes("str ok")`, Want: "str ok"},
		{Expr: `p.stat()["mode"]`, Pre: `p = path(D + "/m"); p.write_bytes(b"", mode=0o640)`, Want: "-rw-r-----"},
		{Expr: `path(D + "/x").write_bytes(1)`, Err: "fs.path.write_bytes: content must be bytes or string, got int"},
		{Expr: `path(D + "/x").try_write_bytes(None).error`, Want: "fs.path.write_bytes: content must be bytes or string, got NoneType"},
		// global write_text / write_bytes
		{Expr: `read_text(D + "/g")`, Pre: `write_text(D + "/g", "global")`, Want: "global"},
		{Expr: `read_bytes(D + "/g")`, Pre: `write_text(D + "/g", b"\x00b")`, Want: `b"\x00b"`},
		{Expr: `read_text(D + "/g")`, Pre: `write_bytes(D + "/g", "s")`, Want: "s"},
		{Expr: `read_text(D + "/g")`, Pre: `write_text(path(D) / "g", "p")`, Want: "p"},
		{Expr: `path(D + "/g").stat()["mode"]`, Pre: `write_text(D + "/g", "x", mode=0o600)`, Want: "-rw-------"},
		{Name: "non-int mode ignored", Expr: `path(D + "/g").stat()["mode"]`, Pre: `write_text(D + "/g", "x", mode="0600")`, Want: "-rw-r--r--"},
		{Name: "other keywords and surplus positionals ignored", Expr: `read_text(D + "/g")`, Pre: `write_text(D + "/g", "x", "y", bogus=1)`, Want: "x"},
		{Expr: `write_text(D + "/g")`, Err: "write_text: expected at least 2 arguments (path, content)"},
		{Expr: `write_bytes()`, Err: "write_bytes: expected at least 2 arguments (path, content)"},
		{Name: "positional only", Expr: `write_text(path=D + "/g", content="x")`, Err: "write_text: expected at least 2 arguments (path, content)"},
		{Expr: `write_text(D + "/g", 1)`, Err: "write_text: content must be bytes or string, got int"},
		{Expr: `write_bytes(1, "x")`, Err: "write_bytes: path: got int, want string or fs.path"},
		{Expr: `write_text(D + "/g", "x", mode=1 << 20)`, Err: "write_text: invalid mode 1048576 (want 0 to 0o7777)"},
		{Expr: `write_text(D + "/g", "x", mode=1 << 70)`, Err: "write_text: invalid mode 1180591620717411303424 (want 0 to 0o7777)"},
		{Expr: `write_text(D + "/nope/g", "x")`, Err: "open $D/nope/g: no such file or directory"},
		// append
		{Expr: `p.read_text()`, Pre: `p = path(D + "/a.txt"); p.append_text(" world")`, Want: "hello world"},
		{Expr: `p.read_text()`, Pre: `p = path(D + "/n"); p.append_text("a"); p.append_text("b")`, Want: "ab"},
		{Expr: `p.stat()["mode"]`, Pre: `p = path(D + "/n"); p.append_text("a")`, Want: "-rw-r--r--"},
		{Expr: `path(D + "/a.txt").append_text(b"x")`, Err: "fs.path.append_text: for parameter content: got bytes, want string"},
		{Expr: `p.read_bytes()`, Pre: `p = path(D + "/a.txt"); p.append_bytes(b"\xff"); p.append_bytes("!")`, Want: `b"hello\xff!"`},
		{Expr: `path(D + "/a.txt").append_bytes([])`, Err: "fs.path.append_bytes: content must be bytes or string, got list"},
		{Expr: `path(D + "/nope/x").append_text("x")`, Err: "open $D/nope/x: no such file or directory"},
		{Expr: `path(D + "/dangling").append_text("x")`, Err: "open $D/dangling: too many levels of symbolic links"},
		{Expr: `[path(D + "/a.txt").try_append_text("!").ok, path(D + "/a.txt").try_append_bytes(b"?").ok, read_text(D + "/a.txt")]`, Want: `[True, True, "hello!?"]`},
	})

	t.Run("streaming copy of a large file", func(t *testing.T) {
		dir := kitetest.TempDir(t)
		src, dst := filepath.Join(dir, "big"), filepath.Join(dir, "copy")
		f, err := os.Create(src)
		if err != nil {
			t.Fatal(err)
		}
		chunk := bytes.Repeat([]byte("0123456789abcdef"), 1<<12) // 64 KiB
		h := sha256.New()
		for range 256 { // 16 MiB
			f.Write(chunk)
			h.Write(chunk)
		}
		f.Close()
		got, msg, _ := kit.Eval(t, nil, "", `path(`+lit(src)+`).copy_to(`+lit(dst)+`).string`)
		if msg != "" || got != dst {
			t.Fatal(got, msg)
		}
		in, _ := os.Open(dst)
		defer in.Close()
		h2 := sha256.New()
		io.Copy(h2, in)
		if !bytes.Equal(h.Sum(nil), h2.Sum(nil)) {
			t.Fatal("copy differs")
		}
	})

	t.Run("write keeps hard links", func(t *testing.T) {
		dir := kitetest.TempDir(t)
		a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		kitetest.WriteFile(t, a, "old")
		if err := os.Link(a, b); err != nil {
			t.Fatal(err)
		}
		if _, msg, _ := kit.Eval(t, nil, "", `path(`+lit(a)+`).write_text("new")`); msg != "" {
			t.Fatal(msg)
		}
		if kitetest.ReadFile(t, b) != "new" {
			t.Fatal("hard link lost")
		}
	})

	t.Run("relative paths name the given path", func(t *testing.T) {
		dir := kitetest.TempDir(t)
		tree(t, dir)
		t.Chdir(dir)
		kit.RunCases(t, nil, []kitetest.Case{
			{Expr: `path("nope.txt").read_text()`, Err: "open nope.txt: no such file or directory"},
			{Expr: `read_text("a.txt")`, Want: "hello"},
			{Expr: `path("sub").listdir()`, Want: `[path("sub/deeper"), path("sub/file1.txt")]`},
			{Expr: `glob("*.txt")`, Want: `["a.txt", "c.txt"]`},
			{Expr: `glob("./*.txt")`, Want: `["a.txt", "c.txt"]`},
			{Expr: `path(".").glob("*.log")`, Want: `[path("b.log")]`},
			{Expr: `path("sub").walk()[0][0]`, Want: `path("sub")`},
			{Expr: `path("nope").walk()`, Err: "lstat nope: no such file or directory"},
			{Expr: `path("a.txt").rename("nope/x")`, Err: "rename a.txt nope/x: no such file or directory"},
			{Expr: `path("new").hardlink_to("nope")`, Err: "link nope new: no such file or directory"},
			{Expr: `path("sub").mkdir()`, Err: "mkdir sub: file exists"},
		})
	})
}

func TestFileOps(t *testing.T) {
	var asRoot = os.Getuid() == 0
	cases := []kitetest.Case{
		// touch
		{Expr: `[p.is_file(), p.read_text()]`, Pre: `p = path(D + "/t"); p.touch()`, Want: `[True, ""]`},
		{Expr: `p.read_text()`, Pre: `p = path(D + "/a.txt"); p.touch()`, Want: "hello"},
		{Name: "touch updates mtime", Expr: `p.stat()["mod_time"] > "2001"`, Pre: `p = path(D + "/old"); p.touch()`, Want: "True"},
		{Expr: `path(D + "/a.txt").touch(exist_ok=False)`, Err: "file already exists: $D/a.txt"},
		{Expr: `p.is_file()`, Pre: `p = path(D + "/t"); p.touch(exist_ok=False)`, Want: "True"},
		{Expr: `path(D + "/nope/t").touch()`, Err: "open $D/nope/t: no such file or directory"},
		{Name: "touch never creates through a dangling link", Expr: `path(D + "/dangling").touch()`, Err: "chtimes $D/dangling: no such file or directory"},
		{Expr: `path(D + "/t").touch(True)`, Err: "fs.path.touch: unexpected positional argument at index 0"},
		{Expr: `path(D + "/t").touch(exist_ok=1)`, Err: "fs.path.touch: for parameter \"exist_ok\": got int, want bool"},
		{Expr: `path(D + "/t").try_touch().ok`, Want: "True"},
		// mkdir
		{Expr: `p.is_dir()`, Pre: `p = path(D + "/new"); p.mkdir()`, Want: "True"},
		{Expr: `path(D + "/sub").mkdir()`, Err: "mkdir $D/sub: file exists"},
		{Expr: `path(D + "/x/y").mkdir()`, Err: "mkdir $D/x/y: no such file or directory"},
		{Expr: `p.is_dir()`, Pre: `p = path(D + "/x/y/z"); p.mkdir(parents=True)`, Want: "True"},
		{Expr: `path(D + "/sub").mkdir(parents=True)`, Want: "None"},
		{Expr: `path(D + "/a.txt").mkdir(parents=True)`, Err: "mkdir $D/a.txt: not a directory"},
		{Expr: `p.stat()["mode"]`, Pre: `p = path(D + "/m"); p.mkdir(mode=0o700)`, Want: "drwx------"},
		{Expr: `path(D + "/m").mkdir(True)`, Err: "fs.path.mkdir: unexpected positional argument at index 0"},
		{Expr: `path(D + "/m").mkdir(mode=0o77777)`, Err: "fs.path.mkdir: invalid mode 32767 (want 0 to 0o7777)"},
		{Expr: `[path(D + "/m").try_mkdir().ok, path(D + "/m").try_mkdir().ok, path(D + "/m").try_remove().ok, path(D + "/m").exists()]`, Want: "[True, False, True, False]"},
		// remove
		{Expr: `p.exists()`, Pre: `p = path(D + "/a.txt"); p.remove()`, Want: "False"},
		{Expr: `p.exists()`, Pre: `p = path(D + "/empty"); p.remove()`, Want: "False"},
		{Expr: `path(D + "/sub").remove()`, Err: "remove $D/sub: directory not empty"},
		{Expr: `path(D + "/nope").remove()`, Err: "remove $D/nope: no such file or directory"},
		{Name: "remove a link keeps its target", Expr: `[path(D + "/link").is_symlink(), path(D + "/a.txt").read_text()]`, Pre: `path(D + "/link").remove()`, Want: `[False, "hello"]`},
		{Name: "remove a dir link keeps the dir", Expr: `[path(D + "/dirlink").exists(), path(D + "/sub").is_dir()]`, Pre: `path(D + "/dirlink").remove()`, Want: `[False, True]`},
		{Expr: `path(D + "/a.txt").remove(1)`, Err: "fs.path.remove: unexpected positional argument at index 0"},
		// rename
		{Expr: `[r.string == D + "/z", type(r), path(D + "/a.txt").exists(), read_text(D + "/z")]`, Pre: `r = path(D + "/a.txt").rename(D + "/z")`, Want: `[True, "fs.path", False, "hello"]`},
		{Expr: `path(D + "/a.txt").rename(path(D + "/z")).string == D + "/z"`, Want: "True"},
		{Name: "rename a link moves the link", Expr: `[path(D + "/l2").readlink(), path(D + "/a.txt").exists()]`, Pre: `path(D + "/link").rename(D + "/l2")`, Want: `[path("a.txt"), True]`},
		{Expr: `path(D + "/nope").rename(D + "/z")`, Err: "rename $D/nope $D/z: no such file or directory"},
		{Expr: `path(D + "/a.txt").rename(1)`, Err: "fs.path.rename: for parameter target: got int, want string or fs.path"},
		{Expr: `path(D + "/a.txt").rename()`, Err: "fs.path.rename: missing required argument: target"},
		{Expr: `path(D + "/a.txt").try_rename(D + "/z").value.name`, Want: "z"},
		// move_to
		{Expr: `[r.string == D + "/sub/m", path(D + "/a.txt").exists(), read_text(D + "/sub/m")]`, Pre: `r = path(D + "/a.txt").move_to(D + "/sub/m")`, Want: `[True, False, "hello"]`},
		{Expr: `path(D + "/nope").move_to(D + "/z")`, Err: "rename $D/nope $D/z: no such file or directory"},
		{Expr: `path(D + "/a.txt").try_move_to(D + "/z").ok`, Want: "True"},
		// copy_to
		{Expr: `[r.string == D + "/cp", read_text(D + "/cp"), read_text(D + "/a.txt")]`, Pre: `r = path(D + "/a.txt").copy_to(D + "/cp")`, Want: `[True, "hello", "hello"]`},
		{Name: "copy truncates the target", Expr: `read_text(D + "/a.txt")`, Pre: `path(D + "/c.txt").copy_to(D + "/a.txt")`, Want: "c"},
		{Expr: `path(D + "/c.txt").copy_to(path(D) / "cp").name`, Want: "cp"},
		{Expr: `path(D + "/a.txt").copy_to(D + "/a.txt")`, Err: "copy $D/a.txt $D/a.txt: source and target are the same file"},
		{Expr: `path(D + "/link").copy_to(D + "/a.txt")`, Err: "copy $D/link $D/a.txt: source and target are the same file"},
		{Expr: `path(D + "/sub").copy_to(D + "/cp")`, Err: "read $D/sub: is a directory"},
		{Name: "failed copy creates nothing", Expr: `path(D + "/cp").exists()`, Pre: `path(D + "/sub").try_copy_to(D + "/cp")`, Want: "False"},
		{Expr: `path(D + "/nope").copy_to(D + "/cp")`, Err: "open $D/nope: no such file or directory"},
		{Expr: `path(D + "/a.txt").copy_to(D + "/nope/cp")`, Err: "open $D/nope/cp: no such file or directory"},
		{Expr: `path(D + "/a.txt").copy_to(D + "/dangling")`, Err: "open $D/dangling: too many levels of symbolic links"},
		{Expr: `path(D + "/a.txt").copy_to(D + "/sub")`, Err: "open $D/sub: is a directory"},
		{Expr: `path(D + "/a.txt").try_copy_to(D + "/cp").value.name`, Want: "cp"},
		// truncate
		{Expr: `p.read_text()`, Pre: `p = path(D + "/a.txt"); p.append_text(" world"); p.truncate(5)`, Want: "hello"},
		{Expr: `p.read_bytes()`, Pre: `p = path(D + "/a.txt"); p.truncate(7)`, Want: `b"hello\x00\x00"`},
		{Expr: `path(D + "/a.txt").truncate(-1)`, Err: "truncate $D/a.txt: invalid argument"},
		{Expr: `path(D + "/nope").truncate(0)`, Err: "truncate $D/nope: no such file or directory"},
		{Expr: `path(D + "/a.txt").truncate("1")`, Err: "fs.path.truncate: for parameter size: got string, want int"},
		{Expr: `path(D + "/a.txt").truncate()`, Err: "fs.path.truncate: missing required argument: size"},
		{Expr: `path(D + "/a.txt").try_truncate(0).ok`, Want: "True"},
		// chmod
		{Expr: `p.stat()["mode"]`, Pre: `p = path(D + "/a.txt"); p.chmod(0o755)`, Want: "-rwxr-xr-x"},
		{Expr: `"x" in p.stat()["mode"]`, Pre: `p = path(D + "/a.txt"); p.chmod(0o755)`, Want: "True"},
		{Expr: `p.stat()["mode"]`, Pre: `p = path(D + "/a.txt"); p.chmod(0o4750)`, Want: "urwxr-x---"},
		{Expr: `p.stat()["mode"]`, Pre: `p = path(D + "/sub"); p.chmod(0o1777)`, Want: "dtrwxrwxrwx"},
		{Name: "chmod follows links", Expr: `path(D + "/a.txt").stat()["mode"]`, Pre: `path(D + "/link").chmod(0o600)`, Want: "-rw-------"},
		{Expr: `path(D + "/nope").chmod(0o644)`, Err: "chmod $D/nope: no such file or directory"},
		{Expr: `path(D + "/a.txt").chmod("755")`, Err: "fs.path.chmod: for parameter mode: got string, want int"},
		{Expr: `path(D + "/a.txt").chmod(0o10000)`, Err: "fs.path.chmod: invalid mode 4096 (want 0 to 0o7777)"},
		{Expr: `path(D + "/a.txt").try_chmod(0o600).ok`, Want: "True"},
		// chown
		{Expr: `path(D + "/a.txt").chown()`, Want: "None"},
		{Expr: `path(D + "/a.txt").chown(uid=-1, gid=-1)`, Want: "None"},
		{Expr: `path(D + "/a.txt").chown(uid=` + strconv.Itoa(os.Getuid()) + `, gid=` + strconv.Itoa(os.Getgid()) + `)`, Want: "None"},
		{Expr: `path(D + "/nope").chown()`, Err: "chown $D/nope: no such file or directory"},
		{Expr: `path(D + "/a.txt").chown(0)`, Err: "fs.path.chown: unexpected positional argument at index 0"},
		{Expr: `path(D + "/a.txt").chown(uid="root")`, Err: "fs.path.chown: for parameter \"uid\": got string, want int"},
		{Expr: `path(D + "/a.txt").try_chown().ok`, Want: "True"},
		// symlink_to / readlink
		{Expr: `[l.is_symlink(), l.read_text(), l.readlink().string]`, Pre: `l = path(D + "/l"); l.symlink_to(D + "/a.txt")`, Want: `[True, "hello", "$D/a.txt"]`},
		{Expr: `[l.readlink(), l.read_text()]`, Pre: `l = path(D + "/sub/l"); l.symlink_to("file1.txt")`, Want: `[path("file1.txt"), "f1"]`},
		{Name: "dangling target allowed", Expr: `[l.is_symlink(), l.exists()]`, Pre: `l = path(D + "/l"); l.symlink_to("no/where")`, Want: `[True, False]`},
		{Expr: `path(D + "/link").symlink_to("a.txt")`, Err: "symlink a.txt $D/link: file exists"},
		{Expr: `path(D + "/nope/l").symlink_to("a.txt")`, Err: "symlink a.txt $D/nope/l: no such file or directory"},
		{Expr: `path(D + "/l").symlink_to(1)`, Err: "fs.path.symlink_to: for parameter target: got int, want string or fs.path"},
		{Expr: `path(D + "/l").try_symlink_to("x").ok`, Want: "True"},
		{Expr: `path(D + "/link").readlink()`, Want: `path("a.txt")`},
		{Expr: `path(D + "/dangling").readlink()`, Want: `path("nowhere")`},
		{Expr: `path(D + "/a.txt").readlink()`, Err: "readlink $D/a.txt: invalid argument"},
		{Expr: `path(D + "/nope").readlink()`, Err: "readlink $D/nope: no such file or directory"},
		{Expr: `path(D + "/a.txt").try_readlink().ok`, Want: "False"},
		{Expr: `path(D + "/link").readlink(1)`, Err: "fs.path.readlink: unexpected positional argument at index 0"},
		// hardlink_to
		{Expr: `[h.exists(), h.read_text(), h.is_symlink()]`, Pre: `h = path(D + "/h"); h.hardlink_to(D + "/a.txt")`, Want: `[True, "hello", False]`},
		{Name: "hardlink through a symlink links the file", Expr: `[h.is_symlink(), h.read_text()]`, Pre: `h = path(D + "/h"); h.hardlink_to(D + "/link")`, Want: `[False, "hello"]`},
		{Expr: `path(D + "/b.log").hardlink_to(D + "/a.txt")`, Err: "link $D/a.txt $D/b.log: file exists"},
		{Expr: `path(D + "/h").hardlink_to(D + "/nope")`, Err: "link $D/nope $D/h: no such file or directory"},
		{Expr: `path(D + "/h").hardlink_to()`, Err: "fs.path.hardlink_to: missing required argument: target"},
		{Expr: `path(D + "/h").try_hardlink_to(D + "/a.txt").ok`, Want: "True"},
	}
	if !asRoot {
		cases = append(cases, kitetest.Case{Expr: `path(D + "/a.txt").chown(uid=0)`, Err: "chown $D/a.txt: operation not permitted"})
	}
	old := func(t *testing.T, dir string) {
		tree(t, dir)
		kitetest.WriteFile(t, filepath.Join(dir, "old"), "")
		when := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := os.Chtimes(filepath.Join(dir, "old"), when, when); err != nil {
			t.Fatal(err)
		}
	}
	inDir(t, nil, old, cases)

	t.Run("dangling links never create their target", func(t *testing.T) {
		dir := kitetest.TempDir(t)
		outside := filepath.Join(kitetest.TempDir(t), "created")
		kitetest.Symlink(t, outside, filepath.Join(dir, "d"))
		kit.Eval(t, nil, "D = "+lit(dir), `[p.try_touch(), p.try_append_text("x"), p.try_write_text("x"), path(D + "/a").try_copy_to(D + "/d"), p.try_mkdir()]`)
		if _, err := os.Lstat(outside); err == nil {
			t.Fatal("a write through a dangling link created its target")
		}
	})

	t.Run("touch sets times to now", func(t *testing.T) {
		dir := kitetest.TempDir(t)
		f := filepath.Join(dir, "f")
		kitetest.WriteFile(t, f, "x")
		past := time.Now().Add(-time.Hour)
		os.Chtimes(f, past, past)
		if _, msg, _ := kit.Eval(t, nil, "", `path(`+lit(f)+`).touch()`); msg != "" {
			t.Fatal(msg)
		}
		fi, _ := os.Stat(f)
		if time.Since(fi.ModTime()) > time.Minute {
			t.Fatalf("mtime %v not updated", fi.ModTime())
		}
	})
}

func TestListing(t *testing.T) {
	inDir(t, nil, tree, []kitetest.Case{
		// listdir
		{Expr: `[e.name for e in path(D).listdir()]`, Want: `[".hidden", "a.txt", "b.log", "c.txt", "dangling", "dirlink", "empty", "link", "sub"]`},
		{Expr: `[type(e) for e in path(D + "/sub").listdir()]`, Want: `["fs.path", "fs.path"]`},
		{Expr: `path(D + "/sub").listdir()[0].string == D + "/sub/deeper"`, Want: "True"},
		{Name: "entries are p / name", Expr: `path(D + "/sub/").listdir()[1].string == D + "/sub/file1.txt"`, Want: "True"},
		{Expr: `path(D + "/empty").listdir()`, Want: "[]"},
		{Name: "listdir follows a dir link", Expr: `[e.name for e in path(D + "/dirlink").listdir()]`, Want: `["deeper", "file1.txt"]`},
		{Name: "listdir ignores args", Expr: `len(path(D + "/sub").listdir(1))`, Want: "2"},
		{Expr: `path(D + "/nope").listdir()`, Err: "open $D/nope: no such file or directory"},
		{Expr: `path(D + "/a.txt").listdir()`, Err: "open $D/a.txt: not a directory"},
		{Expr: `len(path(D).try_listdir().value)`, Want: "9"},
		// Path.glob
		{Expr: `[e.name for e in path(D).glob("*.txt")]`, Want: `["a.txt", "c.txt"]`},
		{Expr: `type(path(D).glob("*.txt")[0])`, Want: "fs.path"},
		{Expr: `path(D).glob("*.none")`, Want: "[]"},
		{Name: "** is not recursive", Expr: `[e.string[len(D):] for e in path(D).glob("**/*.txt")]`, Want: `["/dirlink/file1.txt", "/sub/file1.txt"]`},
		{Expr: `[e.string[len(D):] for e in path(D).glob("s?b/*")]`, Want: `["/sub/deeper", "/sub/file1.txt"]`},
		{Expr: `[e.name for e in path(D).glob("[ab]*")]`, Want: `["a.txt", "b.log"]`},
		{Expr: `path(D).glob("[")`, Err: "syntax error in pattern"},
		{Expr: `path(D).try_glob("*.log").value[0].name`, Want: "b.log"},
		{Expr: `path(D).glob()`, Err: "fs.path.glob: missing required argument: pattern"},
		// global glob
		{Expr: `[g[len(D):] for g in glob(D + "/*.txt")]`, Want: `["/a.txt", "/c.txt"]`},
		{Expr: `type(glob(D + "/*"))`, Want: "list"},
		{Expr: `glob(D + "/*.none")`, Want: "[]"},
		{Expr: `glob("")`, Want: "[]"},
		{Expr: `glob("[")`, Err: "syntax error in pattern"},
		{Expr: `glob(1)`, Err: "glob: for parameter pattern: got int, want string"},
		{Expr: `type(glob("/etc/*.conf"))`, Want: "list"},
		// walk
		{Expr: `[(w[0].string[len(D):], w[1], w[2]) for w in path(D).walk()]`, Want: `[("", ["empty", "sub"], [".hidden", "a.txt", "b.log", "c.txt", "dangling", "dirlink", "link"]), ("/empty", [], []), ("/sub", ["deeper"], ["file1.txt"]), ("/sub/deeper", [], ["x.bin"])]`},
		{Name: "root is the Path itself", Expr: `path(D).walk()[0][0] == path(D)`, Want: "True"},
		{Expr: `[type(path(D).walk()), type(path(D).walk()[0]), len(path(D).walk()[0])]`, Want: `["list", "tuple", 3]`},
		{Expr: `path(D + "/a.txt").walk()`, Want: "[]"},
		{Name: "root symlink not followed", Expr: `path(D + "/dirlink").walk()`, Want: "[]"},
		{Name: "trailing slash follows the root link", Expr: `[(w[0].string[len(D):], w[1], w[2]) for w in path(D + "/dirlink/").walk()]`,
			Want: `[("/dirlink/", ["deeper"], ["file1.txt"]), ("/dirlink/deeper", [], ["x.bin"])]`},
		{Expr: `path(D + "/nope").walk()`, Err: "lstat $D/nope: no such file or directory"},
		{Name: "walk ignores args", Expr: `len(path(D + "/sub").walk(1, x=2))`, Want: "2"},
		{Expr: `path(D + "/nope").try_walk().ok`, Want: "False"},
	})
}
