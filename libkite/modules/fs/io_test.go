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
)

// tree is the fixture of the I/O tests:
//
//	a.txt "hello"  b.log "log"  c.txt "c"  .hidden "h"
//	sub/file1.txt  sub/deeper/x.bin  empty/
//	link -> a.txt  dirlink -> sub  dangling -> nowhere
func tree(t *testing.T, dir string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "a.txt"), "hello")
	writeFile(t, filepath.Join(dir, "b.log"), "log")
	writeFile(t, filepath.Join(dir, "c.txt"), "c")
	writeFile(t, filepath.Join(dir, ".hidden"), "h")
	writeFile(t, filepath.Join(dir, "sub", "file1.txt"), "f1")
	writeFile(t, filepath.Join(dir, "sub", "deeper", "x.bin"), "\x00\x01\xff")
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
	symlink(t, "a.txt", filepath.Join(dir, "link"))
	symlink(t, "sub", filepath.Join(dir, "dirlink"))
	symlink(t, "nowhere", filepath.Join(dir, "dangling"))
}

func TestQueries(t *testing.T) {
	inDir(t, nil, tree, []evalCase{
		// exists
		{expr: `path(D + "/a.txt").exists()`, want: "True"},
		{expr: `path(D + "/nope").exists()`, want: "False"},
		{name: "dangling link does not exist", expr: `path(D + "/dangling").exists()`, want: "False"},
		{expr: `path(D + "/link").exists()`, want: "True"},
		{expr: `path("").exists()`, want: "False"},
		{expr: `path(D + "/a.txt/x").exists()`, want: "False"},
		{expr: `path(D).exists(1)`, err: "fs.path.exists: unexpected positional argument at index 0"},
		{expr: `path(D).try_exists()`, want: "Result(ok=True, value=True)"},
		{expr: `exists(D + "/a.txt")`, want: "True"},
		{expr: `exists(D + "/nope")`, want: "False"},
		{name: "global exists accepts a Path", expr: `exists(path(D) / "a.txt")`, want: "True"},
		{expr: `exists()`, err: "exists: missing required argument: path"},
		{expr: `exists(1)`, err: "exists: for parameter path: got int, want string or fs.path"},
		{expr: `exists("a", "b")`, err: "exists: unexpected positional argument at index 1"},
		// is_file / is_dir / is_symlink
		{expr: `path(D + "/a.txt").is_file()`, want: "True"},
		{expr: `path(D + "/link").is_file()`, want: "True"},
		{expr: `path(D + "/sub").is_file()`, want: "False"},
		{expr: `path(D + "/nope").is_file()`, want: "False"},
		{expr: `path(D + "/sub").is_dir()`, want: "True"},
		{expr: `path(D + "/dirlink").is_dir()`, want: "True"},
		{expr: `path(D + "/a.txt").is_dir()`, want: "False"},
		{expr: `path(D + "/nope").is_dir()`, want: "False"},
		{expr: `path(D + "/link").is_symlink()`, want: "True"},
		{expr: `path(D + "/dangling").is_symlink()`, want: "True"},
		{expr: `path(D + "/dirlink").is_symlink()`, want: "True"},
		{expr: `path(D + "/a.txt").is_symlink()`, want: "False"},
		{expr: `path(D + "/nope").is_symlink()`, want: "False"},
		{expr: `path(D).is_dir(x=1)`, err: "fs.path.is_dir: unknown keyword argument: x"},
		{expr: `[path(D).try_is_file().value, path(D).try_is_dir().value, path(D).try_is_symlink().value]`, want: "[False, True, False]"},
		// stat
		{expr: `path(D + "/a.txt").stat()["size"]`, want: "5"},
		{expr: `list(path(D + "/a.txt").stat().keys())`, want: `["name", "size", "mode", "is_dir", "mod_time"]`},
		{expr: `[path(D + "/a.txt").stat()[k] for k in ["name", "mode", "is_dir"]]`, want: `["a.txt", "-rw-r--r--", False]`},
		{expr: `[path(D + "/sub").stat()[k] for k in ["name", "mode", "is_dir"]]`, want: `["sub", "drwxr-xr-x", True]`},
		{name: "stat follows links, name is the given one", expr: `[path(D + "/link").stat()[k] for k in ["name", "size", "mode"]]`, want: `["link", 5, "-rw-r--r--"]`},
		{expr: `path(D + "/nope").stat()`, err: "stat $D/nope: no such file or directory"},
		{expr: `path(D + "/dangling").stat()`, err: "stat $D/dangling: no such file or directory"},
		{expr: `path(D + "/nope").try_stat()`, want: `Result(ok=False, error="stat $D/nope: no such file or directory")`},
		{expr: `path(D).stat(1)`, err: "fs.path.stat: unexpected positional argument at index 0"},
		// owner / group
		{expr: `type(path(D + "/a.txt").owner())`, want: "string"},
		{expr: `path(D + "/nope").owner()`, err: "stat $D/nope: no such file or directory"},
		{expr: `path(D + "/nope").try_group().ok`, want: "False"},
		{expr: `path(D).owner(1)`, err: "fs.path.owner: unexpected positional argument at index 0"},
		// disk_usage
		{expr: `list(path(D).disk_usage().keys())`, want: `["total", "used", "free"]`},
		{expr: `[u["total"] > 0, u["free"] > 0, u["used"] == u["total"] - u["free"]]`, pre: `u = path("/").disk_usage()`, want: "[True, True, True]"},
		{expr: `path(D + "/nope").disk_usage()`, err: "statfs $D/nope: no such file or directory"},
		{expr: `path(D).try_disk_usage().ok`, want: "True"},
		{expr: `path(D).disk_usage(1)`, err: "fs.path.disk_usage: unexpected positional argument at index 0"},
	})

	t.Run("stat mod_time", func(t *testing.T) {
		dir := tempDir(t)
		f := filepath.Join(dir, "f")
		writeFile(t, f, "x")
		when := time.Date(2021, 3, 4, 5, 6, 7, 890, time.UTC)
		if err := os.Chtimes(f, when, when); err != nil {
			t.Fatal(err)
		}
		got, msg := eval(t, nil, "", `path(`+lit(f)+`).stat()["mod_time"]`)
		if want := when.Local().Format(time.RFC3339); msg != "" || got != want {
			t.Fatalf("mod_time = %q (%s), want %q", got, msg, want)
		}
	})

	t.Run("owner and group names", func(t *testing.T) {
		dir := tempDir(t)
		me, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		grp, err := user.LookupGroupId(strconv.Itoa(os.Getgid()))
		if err != nil {
			t.Skip("no group name:", err)
		}
		got, msg := eval(t, nil, "", `[path(`+lit(dir)+`).owner(), path(`+lit(dir)+`).try_owner().value, path(`+lit(dir)+`).group()]`)
		want := "[" + lit(me.Username) + ", " + lit(me.Username) + ", " + lit(grp.Name) + "]"
		if msg != "" || got != want {
			t.Fatalf("= %s (%s), want %s", got, msg, want)
		}
	})
}

func TestReadWrite(t *testing.T) {
	inDir(t, nil, tree, []evalCase{
		// read_text / read_bytes
		{expr: `path(D + "/a.txt").read_text()`, want: "hello"},
		{name: "read_text ignores args", expr: `path(D + "/a.txt").read_text(1, x=2)`, want: "hello"},
		{expr: `path(D + "/link").read_text()`, want: "hello"},
		{expr: `path(D + "/nope").read_text()`, err: "open $D/nope: no such file or directory"},
		{expr: `path(D + "/sub").read_text()`, err: "read $D/sub: is a directory"},
		{expr: `path("").read_text()`, err: "open : no such file or directory"},
		{expr: `path(D + "/nope").try_read_text()`, want: `Result(ok=False, error="open $D/nope: no such file or directory")`},
		{expr: `[r.ok, r.value, r.error] `, pre: `r = path(D + "/nope").try_read_text()`, want: `[False, None, "open $D/nope: no such file or directory"]`},
		{expr: `[r.ok, r.value, r.error]`, pre: `r = path(D + "/a.txt").try_read_text()`, want: `[True, "hello", ""]`},
		{expr: `path(D + "/sub/deeper/x.bin").read_bytes()`, want: `b"\x00\x01\xff"`},
		{name: "read_text takes bytes verbatim", expr: `len(path(D + "/sub/deeper/x.bin").read_text())`, want: "3"},
		{expr: `path(D + "/nope").read_bytes()`, err: "open $D/nope: no such file or directory"},
		{expr: `path(D + "/a.txt").try_read_bytes().value`, want: `b"hello"`},
		{expr: `read_text(D + "/a.txt")`, want: "hello"},
		{expr: `read_text(path(D + "/a.txt"))`, want: "hello"},
		{expr: `read_bytes(D + "/a.txt")`, want: `b"hello"`},
		{expr: `read_text(D + "/nope")`, err: "open $D/nope: no such file or directory"},
		{expr: `read_text()`, err: "read_text: missing required argument: path"},
		{expr: `read_bytes(D, D)`, err: "read_bytes: unexpected positional argument at index 1"},
		{expr: `read_text(path=D + "/a.txt")`, want: "hello"},
		// write_text / write_bytes (methods)
		{expr: `p.read_text()`, pre: `p = path(D + "/new.txt"); p.write_text("hi")`, want: "hi"},
		{expr: `p.read_text()`, pre: `p = path(D + "/a.txt"); p.write_text("x")`, want: "x"},
		{expr: `p.stat()["mode"]`, pre: `p = path(D + "/new"); p.write_text("x", mode=0o600)`, want: "-rw-------"},
		{name: "mode only on creation", expr: `p.stat()["mode"]`, pre: `p = path(D + "/a.txt"); p.chmod(0o600); p.write_text("x", mode=0o644)`, want: "-rw-------"},
		{name: "write through a link writes its target", expr: `[path(D + "/a.txt").read_text(), path(D + "/link").is_symlink()]`,
			pre: `path(D + "/link").write_text("via link")`, want: `["via link", True]`},
		{name: "write through a dangling link is refused", expr: `path(D + "/dangling").write_text("x")`,
			err: "open $D/dangling: too many levels of symbolic links"},
		{expr: `path(D + "/nope/x").write_text("x")`, err: "open $D/nope/x: no such file or directory"},
		{expr: `path(D + "/sub").write_text("x")`, errSub: true, err: "$D/sub: is a directory"},
		{expr: `path(D + "/a.txt").write_text(b"x")`, err: "fs.path.write_text: for parameter content: got bytes, want string"},
		{expr: `path(D + "/a.txt").write_text("x", 0o600)`, err: "fs.path.write_text: unexpected positional argument at index 1"},
		{expr: `path(D + "/a.txt").write_text("x", mode="0644")`, err: "fs.path.write_text: for parameter \"mode\": got string, want int"},
		{expr: `path(D + "/a.txt").write_text("x", mode=True)`, err: "fs.path.write_text: for parameter \"mode\": got bool, want int"},
		{expr: `path(D + "/a.txt").write_text("x", mode=-1)`, err: "fs.path.write_text: invalid mode -1 (want 0 to 0o7777)"},
		{expr: `path(D + "/a.txt").write_text()`, err: "fs.path.write_text: missing required argument: content"},
		{expr: `path(D + "/a.txt").write_text("x", encoding="utf8")`, err: "fs.path.write_text: unknown keyword argument: encoding"},
		{expr: `path(D + "/nope/x").try_write_text("x").error != ""`, want: "True"},
		{expr: `path(D + "/w").try_write_text("x")`, want: "Result(ok=True, value=None)"},
		{expr: `p.read_bytes()`, pre: `p = path(D + "/bin"); p.write_bytes(b"\x00\x01\xff")`, want: `b"\x00\x01\xff"`},
		{expr: `p.read_text()`, pre: `p = path(D + "/s"); p.write_bytes("str ok")`, want: "str ok"},
		{expr: `p.stat()["mode"]`, pre: `p = path(D + "/m"); p.write_bytes(b"", mode=0o640)`, want: "-rw-r-----"},
		{expr: `path(D + "/x").write_bytes(1)`, err: "fs.path.write_bytes: content must be bytes or string, got int"},
		{expr: `path(D + "/x").try_write_bytes(None).error`, want: "fs.path.write_bytes: content must be bytes or string, got NoneType"},
		// global write_text / write_bytes
		{expr: `read_text(D + "/g")`, pre: `write_text(D + "/g", "global")`, want: "global"},
		{expr: `read_bytes(D + "/g")`, pre: `write_text(D + "/g", b"\x00b")`, want: `b"\x00b"`},
		{expr: `read_text(D + "/g")`, pre: `write_bytes(D + "/g", "s")`, want: "s"},
		{expr: `read_text(D + "/g")`, pre: `write_text(path(D) / "g", "p")`, want: "p"},
		{expr: `path(D + "/g").stat()["mode"]`, pre: `write_text(D + "/g", "x", mode=0o600)`, want: "-rw-------"},
		{name: "non-int mode ignored", expr: `path(D + "/g").stat()["mode"]`, pre: `write_text(D + "/g", "x", mode="0600")`, want: "-rw-r--r--"},
		{name: "other keywords and surplus positionals ignored", expr: `read_text(D + "/g")`, pre: `write_text(D + "/g", "x", "y", bogus=1)`, want: "x"},
		{expr: `write_text(D + "/g")`, err: "write_text: expected at least 2 arguments (path, content)"},
		{expr: `write_bytes()`, err: "write_bytes: expected at least 2 arguments (path, content)"},
		{name: "positional only", expr: `write_text(path=D + "/g", content="x")`, err: "write_text: expected at least 2 arguments (path, content)"},
		{expr: `write_text(D + "/g", 1)`, err: "write_text: content must be bytes or string, got int"},
		{expr: `write_bytes(1, "x")`, err: "write_bytes: path: got int, want string or fs.path"},
		{expr: `write_text(D + "/g", "x", mode=1 << 20)`, err: "write_text: invalid mode 1048576 (want 0 to 0o7777)"},
		{expr: `write_text(D + "/g", "x", mode=1 << 70)`, err: "write_text: invalid mode 1180591620717411303424 (want 0 to 0o7777)"},
		{expr: `write_text(D + "/nope/g", "x")`, err: "open $D/nope/g: no such file or directory"},
		// append
		{expr: `p.read_text()`, pre: `p = path(D + "/a.txt"); p.append_text(" world")`, want: "hello world"},
		{expr: `p.read_text()`, pre: `p = path(D + "/n"); p.append_text("a"); p.append_text("b")`, want: "ab"},
		{expr: `p.stat()["mode"]`, pre: `p = path(D + "/n"); p.append_text("a")`, want: "-rw-r--r--"},
		{expr: `path(D + "/a.txt").append_text(b"x")`, err: "fs.path.append_text: for parameter content: got bytes, want string"},
		{expr: `p.read_bytes()`, pre: `p = path(D + "/a.txt"); p.append_bytes(b"\xff"); p.append_bytes("!")`, want: `b"hello\xff!"`},
		{expr: `path(D + "/a.txt").append_bytes([])`, err: "fs.path.append_bytes: content must be bytes or string, got list"},
		{expr: `path(D + "/nope/x").append_text("x")`, err: "open $D/nope/x: no such file or directory"},
		{expr: `path(D + "/dangling").append_text("x")`, err: "open $D/dangling: too many levels of symbolic links"},
		{expr: `[path(D + "/a.txt").try_append_text("!").ok, path(D + "/a.txt").try_append_bytes(b"?").ok, read_text(D + "/a.txt")]`, want: `[True, True, "hello!?"]`},
	})

	t.Run("streaming copy of a large file", func(t *testing.T) {
		dir := tempDir(t)
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
		got, msg := eval(t, nil, "", `path(`+lit(src)+`).copy_to(`+lit(dst)+`).string`)
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
		dir := tempDir(t)
		a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		writeFile(t, a, "old")
		if err := os.Link(a, b); err != nil {
			t.Fatal(err)
		}
		if _, msg := eval(t, nil, "", `path(`+lit(a)+`).write_text("new")`); msg != "" {
			t.Fatal(msg)
		}
		if readFile(t, b) != "new" {
			t.Fatal("hard link lost")
		}
	})

	t.Run("relative paths name the given path", func(t *testing.T) {
		dir := tempDir(t)
		tree(t, dir)
		t.Chdir(dir)
		runCases(t, nil, []evalCase{
			{expr: `path("nope.txt").read_text()`, err: "open nope.txt: no such file or directory"},
			{expr: `read_text("a.txt")`, want: "hello"},
			{expr: `path("sub").listdir()`, want: `[path("sub/deeper"), path("sub/file1.txt")]`},
			{expr: `glob("*.txt")`, want: `["a.txt", "c.txt"]`},
			{expr: `glob("./*.txt")`, want: `["a.txt", "c.txt"]`},
			{expr: `path(".").glob("*.log")`, want: `[path("b.log")]`},
			{expr: `path("sub").walk()[0][0]`, want: `path("sub")`},
			{expr: `path("nope").walk()`, err: "lstat nope: no such file or directory"},
			{expr: `path("a.txt").rename("nope/x")`, err: "rename a.txt nope/x: no such file or directory"},
			{expr: `path("new").hardlink_to("nope")`, err: "link nope new: no such file or directory"},
			{expr: `path("sub").mkdir()`, err: "mkdir sub: file exists"},
		})
	})
}

func TestFileOps(t *testing.T) {
	var asRoot = os.Getuid() == 0
	cases := []evalCase{
		// touch
		{expr: `[p.is_file(), p.read_text()]`, pre: `p = path(D + "/t"); p.touch()`, want: `[True, ""]`},
		{expr: `p.read_text()`, pre: `p = path(D + "/a.txt"); p.touch()`, want: "hello"},
		{name: "touch updates mtime", expr: `p.stat()["mod_time"] > "2001"`, pre: `p = path(D + "/old"); p.touch()`, want: "True"},
		{expr: `path(D + "/a.txt").touch(exist_ok=False)`, err: "file already exists: $D/a.txt"},
		{expr: `p.is_file()`, pre: `p = path(D + "/t"); p.touch(exist_ok=False)`, want: "True"},
		{expr: `path(D + "/nope/t").touch()`, err: "open $D/nope/t: no such file or directory"},
		{name: "touch never creates through a dangling link", expr: `path(D + "/dangling").touch()`, err: "chtimes $D/dangling: no such file or directory"},
		{expr: `path(D + "/t").touch(True)`, err: "fs.path.touch: unexpected positional argument at index 0"},
		{expr: `path(D + "/t").touch(exist_ok=1)`, err: "fs.path.touch: for parameter \"exist_ok\": got int, want bool"},
		{expr: `path(D + "/t").try_touch().ok`, want: "True"},
		// mkdir
		{expr: `p.is_dir()`, pre: `p = path(D + "/new"); p.mkdir()`, want: "True"},
		{expr: `path(D + "/sub").mkdir()`, err: "mkdir $D/sub: file exists"},
		{expr: `path(D + "/x/y").mkdir()`, err: "mkdir $D/x/y: no such file or directory"},
		{expr: `p.is_dir()`, pre: `p = path(D + "/x/y/z"); p.mkdir(parents=True)`, want: "True"},
		{expr: `path(D + "/sub").mkdir(parents=True)`, want: "None"},
		{expr: `path(D + "/a.txt").mkdir(parents=True)`, err: "mkdir $D/a.txt: not a directory"},
		{expr: `p.stat()["mode"]`, pre: `p = path(D + "/m"); p.mkdir(mode=0o700)`, want: "drwx------"},
		{expr: `path(D + "/m").mkdir(True)`, err: "fs.path.mkdir: unexpected positional argument at index 0"},
		{expr: `path(D + "/m").mkdir(mode=0o77777)`, err: "fs.path.mkdir: invalid mode 32767 (want 0 to 0o7777)"},
		{expr: `[path(D + "/m").try_mkdir().ok, path(D + "/m").try_mkdir().ok, path(D + "/m").try_remove().ok, path(D + "/m").exists()]`, want: "[True, False, True, False]"},
		// remove
		{expr: `p.exists()`, pre: `p = path(D + "/a.txt"); p.remove()`, want: "False"},
		{expr: `p.exists()`, pre: `p = path(D + "/empty"); p.remove()`, want: "False"},
		{expr: `path(D + "/sub").remove()`, err: "remove $D/sub: directory not empty"},
		{expr: `path(D + "/nope").remove()`, err: "remove $D/nope: no such file or directory"},
		{name: "remove a link keeps its target", expr: `[path(D + "/link").is_symlink(), path(D + "/a.txt").read_text()]`, pre: `path(D + "/link").remove()`, want: `[False, "hello"]`},
		{name: "remove a dir link keeps the dir", expr: `[path(D + "/dirlink").exists(), path(D + "/sub").is_dir()]`, pre: `path(D + "/dirlink").remove()`, want: `[False, True]`},
		{expr: `path(D + "/a.txt").remove(1)`, err: "fs.path.remove: unexpected positional argument at index 0"},
		// rename
		{expr: `[r.string == D + "/z", type(r), path(D + "/a.txt").exists(), read_text(D + "/z")]`, pre: `r = path(D + "/a.txt").rename(D + "/z")`, want: `[True, "fs.path", False, "hello"]`},
		{expr: `path(D + "/a.txt").rename(path(D + "/z")).string == D + "/z"`, want: "True"},
		{name: "rename a link moves the link", expr: `[path(D + "/l2").readlink(), path(D + "/a.txt").exists()]`, pre: `path(D + "/link").rename(D + "/l2")`, want: `[path("a.txt"), True]`},
		{expr: `path(D + "/nope").rename(D + "/z")`, err: "rename $D/nope $D/z: no such file or directory"},
		{expr: `path(D + "/a.txt").rename(1)`, err: "fs.path.rename: for parameter target: got int, want string or fs.path"},
		{expr: `path(D + "/a.txt").rename()`, err: "fs.path.rename: missing required argument: target"},
		{expr: `path(D + "/a.txt").try_rename(D + "/z").value.name`, want: "z"},
		// move_to
		{expr: `[r.string == D + "/sub/m", path(D + "/a.txt").exists(), read_text(D + "/sub/m")]`, pre: `r = path(D + "/a.txt").move_to(D + "/sub/m")`, want: `[True, False, "hello"]`},
		{expr: `path(D + "/nope").move_to(D + "/z")`, err: "rename $D/nope $D/z: no such file or directory"},
		{expr: `path(D + "/a.txt").try_move_to(D + "/z").ok`, want: "True"},
		// copy_to
		{expr: `[r.string == D + "/cp", read_text(D + "/cp"), read_text(D + "/a.txt")]`, pre: `r = path(D + "/a.txt").copy_to(D + "/cp")`, want: `[True, "hello", "hello"]`},
		{name: "copy truncates the target", expr: `read_text(D + "/a.txt")`, pre: `path(D + "/c.txt").copy_to(D + "/a.txt")`, want: "c"},
		{expr: `path(D + "/c.txt").copy_to(path(D) / "cp").name`, want: "cp"},
		{expr: `path(D + "/a.txt").copy_to(D + "/a.txt")`, err: "copy $D/a.txt $D/a.txt: source and target are the same file"},
		{expr: `path(D + "/link").copy_to(D + "/a.txt")`, err: "copy $D/link $D/a.txt: source and target are the same file"},
		{expr: `path(D + "/sub").copy_to(D + "/cp")`, err: "read $D/sub: is a directory"},
		{name: "failed copy creates nothing", expr: `path(D + "/cp").exists()`, pre: `path(D + "/sub").try_copy_to(D + "/cp")`, want: "False"},
		{expr: `path(D + "/nope").copy_to(D + "/cp")`, err: "open $D/nope: no such file or directory"},
		{expr: `path(D + "/a.txt").copy_to(D + "/nope/cp")`, err: "open $D/nope/cp: no such file or directory"},
		{expr: `path(D + "/a.txt").copy_to(D + "/dangling")`, err: "open $D/dangling: too many levels of symbolic links"},
		{expr: `path(D + "/a.txt").copy_to(D + "/sub")`, err: "open $D/sub: is a directory"},
		{expr: `path(D + "/a.txt").try_copy_to(D + "/cp").value.name`, want: "cp"},
		// truncate
		{expr: `p.read_text()`, pre: `p = path(D + "/a.txt"); p.append_text(" world"); p.truncate(5)`, want: "hello"},
		{expr: `p.read_bytes()`, pre: `p = path(D + "/a.txt"); p.truncate(7)`, want: `b"hello\x00\x00"`},
		{expr: `path(D + "/a.txt").truncate(-1)`, err: "truncate $D/a.txt: invalid argument"},
		{expr: `path(D + "/nope").truncate(0)`, err: "truncate $D/nope: no such file or directory"},
		{expr: `path(D + "/a.txt").truncate("1")`, err: "fs.path.truncate: for parameter size: got string, want int"},
		{expr: `path(D + "/a.txt").truncate()`, err: "fs.path.truncate: missing required argument: size"},
		{expr: `path(D + "/a.txt").try_truncate(0).ok`, want: "True"},
		// chmod
		{expr: `p.stat()["mode"]`, pre: `p = path(D + "/a.txt"); p.chmod(0o755)`, want: "-rwxr-xr-x"},
		{expr: `"x" in p.stat()["mode"]`, pre: `p = path(D + "/a.txt"); p.chmod(0o755)`, want: "True"},
		{expr: `p.stat()["mode"]`, pre: `p = path(D + "/a.txt"); p.chmod(0o4750)`, want: "urwxr-x---"},
		{expr: `p.stat()["mode"]`, pre: `p = path(D + "/sub"); p.chmod(0o1777)`, want: "dtrwxrwxrwx"},
		{name: "chmod follows links", expr: `path(D + "/a.txt").stat()["mode"]`, pre: `path(D + "/link").chmod(0o600)`, want: "-rw-------"},
		{expr: `path(D + "/nope").chmod(0o644)`, err: "chmod $D/nope: no such file or directory"},
		{expr: `path(D + "/a.txt").chmod("755")`, err: "fs.path.chmod: for parameter mode: got string, want int"},
		{expr: `path(D + "/a.txt").chmod(0o10000)`, err: "fs.path.chmod: invalid mode 4096 (want 0 to 0o7777)"},
		{expr: `path(D + "/a.txt").try_chmod(0o600).ok`, want: "True"},
		// chown
		{expr: `path(D + "/a.txt").chown()`, want: "None"},
		{expr: `path(D + "/a.txt").chown(uid=-1, gid=-1)`, want: "None"},
		{expr: `path(D + "/a.txt").chown(uid=` + strconv.Itoa(os.Getuid()) + `, gid=` + strconv.Itoa(os.Getgid()) + `)`, want: "None"},
		{expr: `path(D + "/nope").chown()`, err: "chown $D/nope: no such file or directory"},
		{expr: `path(D + "/a.txt").chown(0)`, err: "fs.path.chown: unexpected positional argument at index 0"},
		{expr: `path(D + "/a.txt").chown(uid="root")`, err: "fs.path.chown: for parameter \"uid\": got string, want int"},
		{expr: `path(D + "/a.txt").try_chown().ok`, want: "True"},
		// symlink_to / readlink
		{expr: `[l.is_symlink(), l.read_text(), l.readlink().string]`, pre: `l = path(D + "/l"); l.symlink_to(D + "/a.txt")`, want: `[True, "hello", "$D/a.txt"]`},
		{expr: `[l.readlink(), l.read_text()]`, pre: `l = path(D + "/sub/l"); l.symlink_to("file1.txt")`, want: `[path("file1.txt"), "f1"]`},
		{name: "dangling target allowed", expr: `[l.is_symlink(), l.exists()]`, pre: `l = path(D + "/l"); l.symlink_to("no/where")`, want: `[True, False]`},
		{expr: `path(D + "/link").symlink_to("a.txt")`, err: "symlink a.txt $D/link: file exists"},
		{expr: `path(D + "/nope/l").symlink_to("a.txt")`, err: "symlink a.txt $D/nope/l: no such file or directory"},
		{expr: `path(D + "/l").symlink_to(1)`, err: "fs.path.symlink_to: for parameter target: got int, want string or fs.path"},
		{expr: `path(D + "/l").try_symlink_to("x").ok`, want: "True"},
		{expr: `path(D + "/link").readlink()`, want: `path("a.txt")`},
		{expr: `path(D + "/dangling").readlink()`, want: `path("nowhere")`},
		{expr: `path(D + "/a.txt").readlink()`, err: "readlink $D/a.txt: invalid argument"},
		{expr: `path(D + "/nope").readlink()`, err: "readlink $D/nope: no such file or directory"},
		{expr: `path(D + "/a.txt").try_readlink().ok`, want: "False"},
		{expr: `path(D + "/link").readlink(1)`, err: "fs.path.readlink: unexpected positional argument at index 0"},
		// hardlink_to
		{expr: `[h.exists(), h.read_text(), h.is_symlink()]`, pre: `h = path(D + "/h"); h.hardlink_to(D + "/a.txt")`, want: `[True, "hello", False]`},
		{name: "hardlink through a symlink links the file", expr: `[h.is_symlink(), h.read_text()]`, pre: `h = path(D + "/h"); h.hardlink_to(D + "/link")`, want: `[False, "hello"]`},
		{expr: `path(D + "/b.log").hardlink_to(D + "/a.txt")`, err: "link $D/a.txt $D/b.log: file exists"},
		{expr: `path(D + "/h").hardlink_to(D + "/nope")`, err: "link $D/nope $D/h: no such file or directory"},
		{expr: `path(D + "/h").hardlink_to()`, err: "fs.path.hardlink_to: missing required argument: target"},
		{expr: `path(D + "/h").try_hardlink_to(D + "/a.txt").ok`, want: "True"},
	}
	if !asRoot {
		cases = append(cases, evalCase{expr: `path(D + "/a.txt").chown(uid=0)`, err: "chown $D/a.txt: operation not permitted"})
	}
	old := func(t *testing.T, dir string) {
		tree(t, dir)
		writeFile(t, filepath.Join(dir, "old"), "")
		when := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		if err := os.Chtimes(filepath.Join(dir, "old"), when, when); err != nil {
			t.Fatal(err)
		}
	}
	inDir(t, nil, old, cases)

	t.Run("dangling links never create their target", func(t *testing.T) {
		dir := tempDir(t)
		outside := filepath.Join(tempDir(t), "created")
		symlink(t, outside, filepath.Join(dir, "d"))
		eval(t, nil, "D = "+lit(dir), `[p.try_touch(), p.try_append_text("x"), p.try_write_text("x"), path(D + "/a").try_copy_to(D + "/d"), p.try_mkdir()]`)
		if _, err := os.Lstat(outside); err == nil {
			t.Fatal("a write through a dangling link created its target")
		}
	})

	t.Run("touch sets times to now", func(t *testing.T) {
		dir := tempDir(t)
		f := filepath.Join(dir, "f")
		writeFile(t, f, "x")
		past := time.Now().Add(-time.Hour)
		os.Chtimes(f, past, past)
		if _, msg := eval(t, nil, "", `path(`+lit(f)+`).touch()`); msg != "" {
			t.Fatal(msg)
		}
		fi, _ := os.Stat(f)
		if time.Since(fi.ModTime()) > time.Minute {
			t.Fatalf("mtime %v not updated", fi.ModTime())
		}
	})
}

func TestListing(t *testing.T) {
	inDir(t, nil, tree, []evalCase{
		// listdir
		{expr: `[e.name for e in path(D).listdir()]`, want: `[".hidden", "a.txt", "b.log", "c.txt", "dangling", "dirlink", "empty", "link", "sub"]`},
		{expr: `[type(e) for e in path(D + "/sub").listdir()]`, want: `["fs.path", "fs.path"]`},
		{expr: `path(D + "/sub").listdir()[0].string == D + "/sub/deeper"`, want: "True"},
		{name: "entries are p / name", expr: `path(D + "/sub/").listdir()[1].string == D + "/sub/file1.txt"`, want: "True"},
		{expr: `path(D + "/empty").listdir()`, want: "[]"},
		{name: "listdir follows a dir link", expr: `[e.name for e in path(D + "/dirlink").listdir()]`, want: `["deeper", "file1.txt"]`},
		{name: "listdir ignores args", expr: `len(path(D + "/sub").listdir(1))`, want: "2"},
		{expr: `path(D + "/nope").listdir()`, err: "open $D/nope: no such file or directory"},
		{expr: `path(D + "/a.txt").listdir()`, err: "open $D/a.txt: not a directory"},
		{expr: `len(path(D).try_listdir().value)`, want: "9"},
		// Path.glob
		{expr: `[e.name for e in path(D).glob("*.txt")]`, want: `["a.txt", "c.txt"]`},
		{expr: `type(path(D).glob("*.txt")[0])`, want: "fs.path"},
		{expr: `path(D).glob("*.none")`, want: "[]"},
		{name: "** is not recursive", expr: `[e.string[len(D):] for e in path(D).glob("**/*.txt")]`, want: `["/dirlink/file1.txt", "/sub/file1.txt"]`},
		{expr: `[e.string[len(D):] for e in path(D).glob("s?b/*")]`, want: `["/sub/deeper", "/sub/file1.txt"]`},
		{expr: `[e.name for e in path(D).glob("[ab]*")]`, want: `["a.txt", "b.log"]`},
		{expr: `path(D).glob("[")`, err: "syntax error in pattern"},
		{expr: `path(D).try_glob("*.log").value[0].name`, want: "b.log"},
		{expr: `path(D).glob()`, err: "fs.path.glob: missing required argument: pattern"},
		// global glob
		{expr: `[g[len(D):] for g in glob(D + "/*.txt")]`, want: `["/a.txt", "/c.txt"]`},
		{expr: `type(glob(D + "/*"))`, want: "list"},
		{expr: `glob(D + "/*.none")`, want: "[]"},
		{expr: `glob("")`, want: "[]"},
		{expr: `glob("[")`, err: "syntax error in pattern"},
		{expr: `glob(1)`, err: "glob: for parameter pattern: got int, want string"},
		{expr: `type(glob("/etc/*.conf"))`, want: "list"},
		// walk
		{expr: `[(w[0].string[len(D):], w[1], w[2]) for w in path(D).walk()]`, want: `[("", ["empty", "sub"], [".hidden", "a.txt", "b.log", "c.txt", "dangling", "dirlink", "link"]), ("/empty", [], []), ("/sub", ["deeper"], ["file1.txt"]), ("/sub/deeper", [], ["x.bin"])]`},
		{name: "root is the Path itself", expr: `path(D).walk()[0][0] == path(D)`, want: "True"},
		{expr: `[type(path(D).walk()), type(path(D).walk()[0]), len(path(D).walk()[0])]`, want: `["list", "tuple", 3]`},
		{expr: `path(D + "/a.txt").walk()`, want: "[]"},
		{name: "root symlink not followed", expr: `path(D + "/dirlink").walk()`, want: "[]"},
		{name: "trailing slash follows the root link", expr: `[(w[0].string[len(D):], w[1], w[2]) for w in path(D + "/dirlink/").walk()]`,
			want: `[("/dirlink/", ["deeper"], ["file1.txt"]), ("/dirlink/deeper", [], ["x.bin"])]`},
		{expr: `path(D + "/nope").walk()`, err: "lstat $D/nope: no such file or directory"},
		{name: "walk ignores args", expr: `len(path(D + "/sub").walk(1, x=2))`, want: "2"},
		{expr: `path(D + "/nope").try_walk().ok`, want: "False"},
	})
}
