package gzip_test

import (
	"bytes"
	stdgzip "compress/gzip"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/gzip"
)

func gz(t testing.TB, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := stdgzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func gunzip(t testing.TB, data []byte) string {
	t.Helper()
	r, err := stdgzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func blit(b string) string { return starlark.Bytes(b).String() }

func TestFactories(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `gzip.text("hello").data`, Want: `b"hello"`},
		{Expr: `gzip.text(b"x")`, Err: `gzip.text: for parameter s: got bytes, want string`},
		{Expr: `gzip.text()`, Err: `gzip.text: missing required argument: s`},
		{Expr: `gzip.bytes(b"\x00\x01").data`, Want: `b"\x00\x01"`},
		{Expr: `gzip.bytes("abc").data`, Want: `b"abc"`},
		{Expr: `gzip.bytes(1)`, Err: `gzip.bytes: argument must be bytes or string, got int`},
		{Expr: `gzip.file(1)`, Err: `gzip.file: for parameter path: got int, want string`},
		{Expr: `type(gzip.try_file("/x.gz").value)`, Want: `gzip.file`},
		{Expr: `type(gzip.try_text("x").value)`, Want: `gzip.source`},
		{Expr: `type(gzip.try_bytes(b"x").value)`, Want: `gzip.source`},
		{Expr: `gzip.try_bytes(1)`, Want: `Result(ok=False, error="gzip.bytes: argument must be bytes or string, got int")`},
		{Expr: `dir(gzip)`, Want: `["bytes", "file", "text", "try_bytes", "try_file", "try_text"]`},
	})
}

func TestModule(t *testing.T) {
	m := gzip.New()
	if m.Name() != "gzip" || len(m.Aliases()) != 0 || m.Description() == "" {
		t.Fatal("module metadata")
	}
}

func TestObjects(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `type(gzip.text("x")), type(gzip.bytes(b"x")), type(gzip.file("x"))`, Want: `("gzip.source", "gzip.source", "gzip.file")`},
		{Expr: `str(gzip.text("hello"))`, Want: `gzip.source(5 bytes)`},
		{Expr: `str(gzip.file("/t/x.gz"))`, Want: `gzip.file("/t/x.gz")`},
		{Expr: `bool(gzip.text("x")), bool(gzip.text("")), bool(gzip.file("x")), bool(gzip.file(""))`, Want: `(True, False, True, False)`},
		{Expr: `{gzip.text("x"): 1}`, Err: `unhashable type: gzip.source`},
		{Expr: `{gzip.file("x"): 1}`, Err: `unhashable type: gzip.file`},
		{Expr: `dir(gzip.text("x"))`, Want: `["compress", "data", "decompress", "try_compress", "try_decompress"]`},
		{Expr: `dir(gzip.file("x"))`, Want: `["compress", "decompress", "try_compress", "try_decompress"]`},
		{Name: "no path property", Expr: `hasattr(gzip.file("x"), "path")`, Want: `False`},
	})
}

func TestInMemory(t *testing.T) {
	hello := gz(t, "hello")
	two := gz(t, "ab") + gz(t, "cd")
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `type(gzip.text("hello").compress())`, Want: `bytes`},
		{Expr: `gzip.bytes(gzip.text("hello").compress()).decompress()`, Want: `b"hello"`},
		{Expr: `str(gzip.bytes(gzip.text("hello").compress()).decompress())`, Want: `hello`},
		{Name: "empty round trip", Expr: `gzip.bytes(gzip.text("").compress()).decompress()`, Want: `b""`},
		{Name: "binary round trip", Expr: `gzip.bytes(gzip.bytes(b"\x00\x01\x02").compress()).decompress()`, Want: `b"\x00\x01\x02"`},
		{Name: "spec example", Expr: `gzip.bytes(gzip.text("abc").compress(level=9)).decompress() == b"abc"`, Want: `True`},
		{Name: "levels", Expr: `[gzip.bytes(gzip.text("abc" * 50).compress(level=l)).decompress() == bytes("abc" * 50) for l in range(-2, 10)]`,
			Want: `[True, True, True, True, True, True, True, True, True, True, True, True]`},
		{Name: "level 9 not longer than level 1", Expr: `len(gzip.text("x" * 1000).compress(level=9)) <= len(gzip.text("x" * 1000).compress(level=1))`, Want: `True`},
		{Name: "compresses", Expr: `len(gzip.text("x" * 10000).compress()) < 10000`, Want: `True`},
		{Name: "deterministic", Expr: `gzip.text("same").compress() == gzip.text("same").compress()`, Want: `True`},
		{Name: "no name, zero mtime", Expr: `gzip.text("x").compress()[:10]`, Want: `b"\x1f\x8b\b\x00\x00\x00\x00\x00\x00\xff"`},
		{Name: "level 9 header", Expr: `gzip.text("x").compress(level=9)[:10]`, Want: `b"\x1f\x8b\b\x00\x00\x00\x00\x00\x02\xff"`},
		{Name: "decompress foreign stream", Expr: `gzip.bytes(` + blit(hello) + `).decompress()`, Want: `b"hello"`},
		{Name: "members joined", Expr: `gzip.bytes(` + blit(two) + `).decompress()`, Want: `b"abcd"`},
		{Name: "str input", Expr: `gzip.bytes("not gzip data").decompress()`, Err: `gzip.decompress: gzip: invalid header`},
		{Expr: `gzip.text("not gzip data").decompress()`, Err: `gzip.decompress: gzip: invalid header`},
		{Name: "shorter than a header", Expr: `gzip.bytes(b"\x1f\x8b").decompress()`, Err: `gzip.decompress: unexpected EOF`},
		{Name: "empty input", Expr: `gzip.bytes(b"").decompress()`, Err: `gzip.decompress: unexpected EOF`},
		{Name: "truncated body", Expr: `gzip.bytes(` + blit(hello[:len(hello)-6]) + `).decompress()`, Err: `gzip.decompress: unexpected EOF`},
		{Name: "bad checksum", Expr: `gzip.bytes(` + blit(hello[:len(hello)-8]+"\x00\x00\x00\x00"+hello[len(hello)-4:]) + `).decompress()`, Err: `gzip.decompress: gzip: invalid checksum`},
		{Name: "trailing garbage", Expr: `gzip.bytes(` + blit(hello+"junk after the member") + `).decompress()`, Err: `gzip.decompress: gzip: invalid header`},
		{Name: "short trailing garbage", Expr: `gzip.bytes(` + blit(hello+"junk") + `).decompress()`, Err: `gzip.decompress: unexpected EOF`},
		{Expr: `gzip.text("test").compress(level=99)`, Err: `gzip.compress: invalid compression level 99 (must be -2 to 9)`},
		{Expr: `gzip.text("test").compress(level=-3)`, Err: `gzip.compress: invalid compression level -3 (must be -2 to 9)`},
		{Expr: `gzip.text("test").compress(level="9")`, Err: `gzip.compress: for parameter "level": got string, want int`},
		{Expr: `gzip.text("test").compress(level=True)`, Err: `gzip.compress: for parameter "level": got bool, want int`},
		{Name: "level keyword-only", Expr: `gzip.text("x").compress("/x.gz", 9)`, Err: `gzip.compress: unexpected positional argument at index 1`},
		{Expr: `gzip.text("x").compress(fast=True)`, Err: `gzip.compress: unknown keyword argument: fast`},
		{Expr: `gzip.text("x").compress(dest=1)`, Err: `gzip.compress: for parameter "dest": got int, want string`},
		{Expr: `gzip.text("x").decompress("a", "b")`, Err: `gzip.decompress: unexpected positional argument at index 1`},
		{Expr: `gzip.text("x").decompress(level=1)`, Err: `gzip.decompress: unknown keyword argument: level`},
		{Expr: `type(gzip.text("hello").try_compress().value)`, Want: `bytes`},
		{Expr: `gzip.text("test").try_compress(level=99)`, Want: `Result(ok=False, error="gzip.compress: invalid compression level 99 (must be -2 to 9)")`},
		{Expr: `gzip.bytes(` + blit(hello) + `).try_decompress()`, Want: `Result(ok=True, value=b"hello")`},
		{Expr: `gzip.text("not gzip data").try_decompress()`, Want: `Result(ok=False, error="gzip.decompress: gzip: invalid header")`},
	})
}

func TestDest(t *testing.T) {
	dir := kitetest.TempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	hello := gz(t, "hello")
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "compress to dest", Expr: `gzip.text("to file").compress(` + lit(p("a.gz")) + `)`, Want: `None`},
		{Name: "compress to dest keyword", Expr: `gzip.text("kw").compress(dest=` + lit(p("b.gz")) + `, level=1)`, Want: `None`},
		{Name: "decompress to dest", Expr: `gzip.bytes(` + blit(hello) + `).decompress(dest=` + lit(p("c.txt")) + `)`, Want: `None`},
		{Name: "try compress to dest", Expr: `gzip.text("t").try_compress(` + lit(p("d.gz")) + `)`, Want: `Result(ok=True, value=None)`},
		{Name: "missing directory", Expr: `gzip.text("x").compress(` + lit(p("no/x.gz")) + `)`, Err: `gzip.compress: open ` + p("no/x.gz") + `: no such file or directory`},
	})
	check := func(name, want string, zipped bool) {
		t.Helper()
		b, err := os.ReadFile(p(name))
		if err != nil {
			t.Fatal(err)
		}
		got := string(b)
		if zipped {
			got = gunzip(t, b)
		}
		if got != want {
			t.Fatalf("%s = %q, want %q", name, got, want)
		}
		if info, _ := os.Stat(p(name)); info.Mode().Perm()&^0o644 != 0 {
			t.Fatalf("%s mode %v", name, info.Mode())
		}
	}
	check("a.gz", "to file", true)
	check("b.gz", "kw", true)
	check("c.txt", "hello", false)
	check("d.gz", "t", true)

	t.Run("failed decompress keeps dest", func(t *testing.T) {
		kitetest.WriteFile(t, p("keep.txt"), "previous")
		before := kitetest.Snapshot(t, dir)
		_, msg, _ := kit.Eval(t, nil, "", `gzip.bytes(`+blit(hello[:len(hello)-6])+`).decompress(`+lit(p("keep.txt"))+`)`)
		if msg != "gzip.decompress: unexpected EOF" {
			t.Fatalf("error = %q", msg)
		}
		kitetest.SameSnapshot(t, before.IgnoringDirTimes(), kitetest.Snapshot(t, dir).IgnoringDirTimes()) // no temp file left behind either
	})
}

func TestFiles(t *testing.T) {
	dir := kitetest.TempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	kitetest.WriteFile(t, p("src.txt"), "file content\n")
	kitetest.WriteFile(t, p("x.txt.gz"), gz(t, "derived"))
	kitetest.WriteFile(t, p("X.GZ"), gz(t, "upper"))
	kitetest.WriteFile(t, p("bad.gz"), "this is not gzip")
	kitetest.WriteFile(t, p("short.gz"), "\x1f\x8b\x08")
	kitetest.WriteFile(t, p("empty.gz"), "")
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `gzip.file(` + lit(p("out.gz")) + `).compress(` + lit(p("src.txt")) + `)`, Want: `None`},
		{Expr: `gzip.file(` + lit(p("out.gz")) + `).decompress(` + lit(p("back.txt")) + `)`, Want: `None`},
		{Expr: `gzip.file(` + lit(p("out9.gz")) + `).compress(source=` + lit(p("src.txt")) + `, level=9)`, Want: `None`},
		{Name: "derived dest", Expr: `gzip.file(` + lit(p("x.txt.gz")) + `).decompress()`, Want: `None`},
		{Name: "suffix is case-sensitive", Expr: `gzip.file(` + lit(p("X.GZ")) + `).decompress()`,
			Err: `gzip.file.decompress: cannot derive output path (no .gz suffix); specify destination explicitly`},
		{Expr: `gzip.file(` + lit(p("X.GZ")) + `).decompress(` + lit(p("upper.txt")) + `)`, Want: `None`},
		{Expr: `gzip.file(` + lit(p("out.gz")) + `).compress()`, Err: `gzip.file.compress: missing required argument: source`},
		{Expr: `gzip.file(` + lit(p("out.gz")) + `).compress("a", 9)`, Err: `gzip.file.compress: unexpected positional argument at index 1`},
		{Expr: `gzip.file(` + lit(p("out.gz")) + `).compress(` + lit(p("src.txt")) + `, level=10)`,
			Err: `gzip.file.compress: invalid compression level 10 (must be -2 to 9)`},
		{Expr: `gzip.file(` + lit(p("o.gz")) + `).compress(` + lit(p("missing.txt")) + `)`,
			Err: `gzip.file.compress: open ` + p("missing.txt") + `: no such file or directory`},
		{Name: "directory source", Expr: `gzip.file(` + lit(p("o.gz")) + `).compress(` + lit(dir) + `)`,
			Err: `gzip.file.compress: read ` + dir + `: is a directory`},
		{Expr: `gzip.file(` + lit(p("missing.gz")) + `).decompress()`,
			Err: `gzip.file.decompress: open ` + p("missing.gz") + `: no such file or directory`},
		{Expr: `gzip.file(` + lit(p("bad.gz")) + `).decompress(` + lit(p("bad.txt")) + `)`, Err: `gzip.file.decompress: gzip: invalid header`},
		{Expr: `gzip.file(` + lit(p("short.gz")) + `).decompress()`, Err: `gzip.file.decompress: unexpected EOF`},
		{Expr: `gzip.file(` + lit(p("empty.gz")) + `).decompress()`, Err: `gzip.file.decompress: unexpected EOF`},
		{Expr: `gzip.file(` + lit(p("out.gz")) + `).decompress(` + lit(p("no/dir/x")) + `)`,
			Err: `gzip.file.decompress: open ` + p("no/dir/x") + `: no such file or directory`},
		{Expr: `gzip.file(` + lit(p("t.gz")) + `).try_compress(` + lit(p("src.txt")) + `)`, Want: `Result(ok=True, value=None)`},
		{Expr: `gzip.file(` + lit(p("t.gz")) + `).try_decompress(` + lit(p("t.txt")) + `)`, Want: `Result(ok=True, value=None)`},
		{Expr: `gzip.file(` + lit(p("bad.gz")) + `).try_decompress(` + lit(p("b2.txt")) + `)`, Want: `Result(ok=False, error="gzip.file.decompress: gzip: invalid header")`},
		{Expr: `gzip.file(` + lit(p("t.gz")) + `).try_compress()`, Want: `Result(ok=False, error="gzip.file.compress: missing required argument: source")`},
	})
	for name, want := range map[string]string{"back.txt": "file content\n", "x.txt": "derived", "upper.txt": "upper", "t.txt": "file content\n"} {
		if b, err := os.ReadFile(p(name)); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", name, b, err, want)
		}
	}
	for _, name := range []string{"bad.txt", "b2.txt", "short", "empty", "o.gz"} {
		if _, err := os.Stat(p(name)); err == nil {
			t.Errorf("failed call left %s", name)
		}
	}
	b, _ := os.ReadFile(p("out9.gz"))
	if gunzip(t, b) != "file content\n" {
		t.Error("level 9 output")
	}

	t.Run("failed decompress keeps existing dest", func(t *testing.T) {
		kitetest.WriteFile(t, p("keep.txt"), "previous")
		before := kitetest.Snapshot(t, dir)
		_, msg, _ := kit.Eval(t, nil, "", `gzip.file(`+lit(p("bad.gz"))+`).decompress(`+lit(p("keep.txt"))+`)`)
		if msg != "gzip.file.decompress: gzip: invalid header" {
			t.Fatalf("error = %q", msg)
		}
		kitetest.SameSnapshot(t, before.IgnoringDirTimes(), kitetest.Snapshot(t, dir).IgnoringDirTimes())
	})
	t.Run("compress in place", func(t *testing.T) {
		kitetest.WriteFile(t, p("inplace"), "same file")
		if _, msg, _ := kit.Eval(t, nil, "", `gzip.file(`+lit(p("inplace"))+`).compress(`+lit(p("inplace"))+`)`); msg != "" {
			t.Fatal(msg)
		}
		b, _ := os.ReadFile(p("inplace"))
		if gunzip(t, b) != "same file" {
			t.Fatal("in-place compress")
		}
	})
	t.Run("relative paths named as given", func(t *testing.T) {
		t.Chdir(dir)
		_, msg, _ := kit.Eval(t, nil, "", `gzip.file("r.gz").compress("nope.txt")`)
		if msg != "gzip.file.compress: open nope.txt: no such file or directory" {
			t.Fatalf("error = %q", msg)
		}
		got, msg, _ := kit.Eval(t, nil, `gzip.file("r.gz").compress("src.txt")`+"\n"+`gzip.file("r.gz").decompress("r.txt")`, `str(gzip.bytes(gzip.text("").compress()).decompress()) + "ok"`)
		if msg != "" || got != "ok" {
			t.Fatalf("%q %q", got, msg)
		}
		if b, _ := os.ReadFile(p("r.txt")); string(b) != "file content\n" {
			t.Fatalf("r.txt = %q", b)
		}
	})
}

// TestLargeFiles streams multi-megabyte files both ways.
func TestLargeFiles(t *testing.T) {
	dir := kitetest.TempDir(t)
	data := make([]byte, 8<<20)
	rand.Read(data[:4<<20]) // half random, half compressible
	src := kitetest.WriteFile(t, filepath.Join(dir, "big.bin"), string(data))
	gzPath := filepath.Join(dir, "big.bin.gz")
	rt := kit.Runtime(t, nil)
	if _, err := rt.Eval(t.Context(), `gzip.file(`+lit(gzPath)+`).compress(`+lit(src)+`, level=1)`); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(gzPath)
	if err != nil {
		t.Fatal(err)
	}
	if gunzip(t, b) != string(data) {
		t.Fatal("compressed file does not round-trip")
	}
	os.Remove(src)
	if _, err := rt.Eval(t.Context(), `gzip.file(`+lit(gzPath)+`).decompress()`); err != nil {
		t.Fatal(err)
	}
	if back, _ := os.ReadFile(src); !bytes.Equal(back, data) {
		t.Fatal("decompressed file differs")
	}
	// in memory, through a source
	v, err := rt.Eval(t.Context(), `len(gzip.bytes(gzip.text("kite" * 2000000).compress()).decompress())`)
	if err != nil || v.String() != "8000000" {
		t.Fatalf("in-memory round trip: %v, %v", v, err)
	}
}

func TestPermissions(t *testing.T) {
	dir := kitetest.TempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	kitetest.WriteFile(t, p("src.txt"), "data")
	kitetest.WriteFile(t, p("in.gz"), gz(t, "zipped"))
	kitetest.WriteFile(t, p("existing.gz"), "old")
	before := kitetest.Snapshot(t, dir)
	deny := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	readOnly := &libkite.Config{Permissions: libkite.AllowPermissions("fs.write")}
	cases := []kitetest.PermCase{
		{Name: "source compress dest", Cfg: deny, Expr: `gzip.text("x").compress(` + lit(p("existing.gz")) + `)`, ErrPrefix: kitetest.Denied("fs.write", "write", p("existing.gz"))},
		{Name: "source decompress dest", Cfg: deny, Expr: `gzip.bytes(` + blit(gz(t, "x")) + `).decompress(dest=` + lit(p("new.txt")) + `)`, ErrPrefix: kitetest.Denied("fs.write", "write", p("new.txt"))},
		{Name: "file compress reads first", Cfg: deny, Expr: `gzip.file(` + lit(p("existing.gz")) + `).compress(` + lit(p("src.txt")) + `)`, ErrPrefix: kitetest.Denied("fs.read", "read_file", p("src.txt"))},
		{Name: "file decompress reads first", Cfg: deny, Expr: `gzip.file(` + lit(p("in.gz")) + `).decompress(` + lit(p("out.txt")) + `)`, ErrPrefix: kitetest.Denied("fs.read", "read_file", p("in.gz"))},
		{Name: "file compress write denied", Cfg: readOnly, Expr: `gzip.file(` + lit(p("existing.gz")) + `).compress(` + lit(p("src.txt")) + `)`, ErrPrefix: "permission denied: fs.write write(" + lit(p("existing.gz")) + ") - blocked by deny rule: fs.write"},
		{Name: "file decompress write denied", Cfg: readOnly, Expr: `gzip.file(` + lit(p("in.gz")) + `).decompress()`, ErrPrefix: "permission denied: fs.write write(" + lit(p("in")) + ") - blocked by deny rule: fs.write"},
		{Name: "dry run still checks", Cfg: &libkite.Config{DryRun: true, Permissions: libkite.DenyAllPermissions()},
			Expr: `gzip.file(` + lit(p("in.gz")) + `).decompress(` + lit(p("out.txt")) + `)`, ErrPrefix: kitetest.Denied("fs.read", "read_file", p("in.gz"))},
	}
	kitetest.RunPermCases(t, kit.Runtime, cases, nil)
	kit.RunCases(t, deny, []kitetest.Case{
		{Name: "level checked before permission", Expr: `gzip.file(` + lit(p("x.gz")) + `).compress(` + lit(p("src.txt")) + `, level=99)`,
			Err: `gzip.file.compress: invalid compression level 99 (must be -2 to 9)`},
		{Name: "in-memory allowed", Expr: `gzip.bytes(gzip.text("hi").compress()).decompress()`, Want: `b"hi"`},
		{Name: "try form captures denial", Expr: `gzip.file(` + lit(p("in.gz")) + `).try_decompress().error.startswith("permission denied: fs.read read_file(")`, Want: `True`},
		{Name: "source try form captures denial", Expr: `gzip.text("x").try_compress(` + lit(p("y.gz")) + `).error.startswith("permission denied: fs.write write(")`, Want: `True`},
	})
	kitetest.SameSnapshot(t, before, kitetest.Snapshot(t, dir))
}

func TestDryRun(t *testing.T) {
	dir := kitetest.TempDir(t)
	p := func(name string) string { return filepath.Join(dir, name) }
	kitetest.WriteFile(t, p("src.txt"), "data")
	kitetest.WriteFile(t, p("in.gz"), gz(t, "zipped"))
	kitetest.WriteFile(t, p("existing.gz"), "old")
	before := kitetest.Snapshot(t, dir)
	kit.RunCases(t, &libkite.Config{DryRun: true}, []kitetest.Case{
		{Expr: `gzip.text("x").compress(` + lit(p("existing.gz")) + `)`, Want: `None`},
		{Expr: `gzip.text("x").try_compress(` + lit(p("new.gz")) + `)`, Want: `Result(ok=True, value=None)`},
		{Expr: `gzip.bytes(` + blit(gz(t, "x")) + `).decompress(` + lit(p("new.txt")) + `)`, Want: `None`},
		{Name: "without dest compresses normally", Expr: `gzip.bytes(gzip.text("x").compress()).decompress()`, Want: `b"x"`},
		{Expr: `gzip.file(` + lit(p("existing.gz")) + `).compress(` + lit(p("src.txt")) + `)`, Want: `None`},
		{Name: "nothing read", Expr: `gzip.file(` + lit(p("o.gz")) + `).compress(` + lit(p("missing.txt")) + `)`, Want: `None`},
		{Expr: `gzip.file(` + lit(p("in.gz")) + `).decompress()`, Want: `None`},
		{Expr: `gzip.file(` + lit(p("in.gz")) + `).try_decompress(` + lit(p("o.txt")) + `)`, Want: `Result(ok=True, value=None)`},
		{Name: "level still validated", Expr: `gzip.text("x").compress(` + lit(p("new.gz")) + `, level=42)`, Err: `gzip.compress: invalid compression level 42 (must be -2 to 9)`},
		{Name: "suffix still required", Expr: `gzip.file(` + lit(p("src.txt")) + `).decompress()`, Err: `gzip.file.decompress: cannot derive output path (no .gz suffix); specify destination explicitly`},
	})
	kitetest.SameSnapshot(t, before, kitetest.Snapshot(t, dir))
}

// TestConformance runs tests/gzip_test.star in trust mode from this
// directory, then as `kitecmd test --permissions=allow-all tests/` does:
// from the repository root under an allow-all policy.
func TestConformance(t *testing.T) {
	kitetest.RunSuite(t, kit.Runtime, filepath.Join("..", "..", "..", "tests", "gzip_test.star"), 10)
}
