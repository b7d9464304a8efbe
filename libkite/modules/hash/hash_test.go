package hash_test

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	gohash "hash"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/hash"
)

const (
	md5Hello    = "5d41402abc4b2a76b9719d911017c592"
	md5Empty    = "d41d8cd98f00b204e9800998ecf8427e"
	sha1Hello   = "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
	sha256Hello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	sha512Hello = "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca72323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043"
	sha256Empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

func TestFactories(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `hash.text("hello").data`, Want: `b"hello"`},
		{Expr: `hash.text(s="hi").data`, Want: `b"hi"`},
		{Expr: `hash.text(b"x")`, Err: `hash.text: for parameter s: got bytes, want string`},
		{Expr: `hash.text(1)`, Err: `hash.text: for parameter s: got int, want string`},
		{Expr: `hash.text()`, Err: `hash.text: missing required argument: s`},
		{Expr: `hash.text("a", "b")`, Err: `hash.text: unexpected positional argument at index 1`},
		{Expr: `hash.bytes("hello").data`, Want: `b"hello"`},
		{Expr: `hash.bytes(b"\x00\x01").data`, Want: `b"\x00\x01"`},
		{Expr: `hash.bytes(1)`, Err: `hash.bytes: argument must be bytes or string, got int`},
		{Expr: `hash.bytes(None)`, Err: `hash.bytes: argument must be bytes or string, got NoneType`},
		{Expr: `hash.bytes(data=b"x", other=1)`, Err: `hash.bytes: unknown keyword argument: other`},
		{Expr: `hash.file("/x").path`, Want: `/x`},
		{Expr: `hash.file(1)`, Err: `hash.file: for parameter path: got int, want string`},
		{Expr: `hash.try_text("hello").value.md5()`, Want: md5Hello},
		{Expr: `hash.try_bytes(b"hello").value.md5()`, Want: md5Hello},
		{Expr: `hash.try_bytes(1)`, Want: `Result(ok=False, error="hash.bytes: argument must be bytes or string, got int")`},
		{Expr: `hash.try_file("/no/such").value.path`, Want: `/no/such`},
		{Expr: `dir(hash)`, Want: `["bytes", "file", "text", "try_bytes", "try_file", "try_text"]`},
	})
}

func TestModule(t *testing.T) {
	m := hash.New()
	if m.Name() != "hash" || len(m.Aliases()) != 0 || m.Description() == "" {
		t.Fatal("module metadata")
	}
}

func TestDigests(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `hash.text("hello").md5()`, Want: md5Hello},
		{Expr: `hash.text("").md5()`, Want: md5Empty},
		{Expr: `hash.text("hello").sha1()`, Want: sha1Hello},
		{Expr: `hash.text("hello").sha256()`, Want: sha256Hello},
		{Expr: `hash.text("hello").sha512()`, Want: sha512Hello},
		{Expr: `hash.text("").sha256()`, Want: sha256Empty},
		{Expr: `[len(hash.text("x").md5()), len(hash.text("x").sha1()), len(hash.text("x").sha256()), len(hash.text("x").sha512())]`, Want: `[32, 40, 64, 128]`},
		{Expr: `hash.bytes("hello").md5() == hash.text("hello").md5()`, Want: `True`},
		{Expr: `len(hash.bytes(b"\x00\x01\x02").md5())`, Want: `32`},
		{Expr: `hash.bytes(b"\x00\x01\x02").sha1()`, Want: hexOf(sha1.New, "\x00\x01\x02")},
		{Expr: `hash.text("é").sha256()`, Want: hexOf(sha256.New, "é")},
		{Expr: `hash.text("a").md5() != hash.text("b").md5()`, Want: `True`},
		{Expr: `hash.text("x").md5(1)`, Err: `hash.source.md5: takes no arguments`},
		{Expr: `hash.text("x").sha512(k=1)`, Err: `hash.source.sha512: takes no arguments`},
		{Expr: `hash.text("hello").try_md5()`, Want: `Result(ok=True, value="` + md5Hello + `")`},
		{Expr: `hash.text("hello").try_sha1()`, Want: `Result(ok=True, value="` + sha1Hello + `")`},
		{Expr: `hash.text("hello").try_sha256()`, Want: `Result(ok=True, value="` + sha256Hello + `")`},
		{Expr: `hash.text("hello").try_sha512()`, Want: `Result(ok=True, value="` + sha512Hello + `")`},
		{Expr: `hash.text("x").try_sha1(1)`, Want: `Result(ok=False, error="hash.source.sha1: takes no arguments")`},
	})
}

func TestObjects(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `type(hash.text("x")), type(hash.bytes(b"x")), type(hash.file("x"))`, Want: `("hash.source", "hash.source", "hash.file")`},
		{Expr: `str(hash.text("hello"))`, Want: `hash.source(5 bytes)`},
		{Expr: `str(hash.file("/a b"))`, Want: `hash.file("/a b")`},
		{Expr: `bool(hash.text("x")), bool(hash.text("")), bool(hash.file("x")), bool(hash.file(""))`, Want: `(True, False, True, False)`},
		{Expr: `{hash.text("x"): 1}`, Err: `unhashable type: hash.source`},
		{Expr: `{hash.file("x"): 1}`, Err: `unhashable type: hash.file`},
		{Expr: `dir(hash.text("x"))`, Want: `["data", "md5", "sha1", "sha256", "sha512", "try_md5", "try_sha1", "try_sha256", "try_sha512"]`},
		{Expr: `dir(hash.file("x"))`, Want: `["md5", "path", "sha1", "sha256", "sha512", "try_md5", "try_sha1", "try_sha256", "try_sha512"]`},
		{Expr: `hash.file("x").try_path`, Err: `hash.file has no .try_path field or method (did you mean .path?)`},
		{Expr: `hash.text("x").sha3()`, Err: `hash.source has no .sha3 field or method (did you mean .sha1?)`},
	})
}

func hexOf(newHash func() gohash.Hash, s string) string {
	h := newHash()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

func TestFiles(t *testing.T) {
	dir := kitetest.TempDir(t)
	hello := kitetest.WriteFile(t, filepath.Join(dir, "hello.txt"), "hello")
	empty := kitetest.WriteFile(t, filepath.Join(dir, "empty.txt"), "")
	missing := filepath.Join(dir, "missing")
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `hash.file(` + lit(hello) + `).md5()`, Want: md5Hello},
		{Expr: `hash.file(` + lit(hello) + `).sha1()`, Want: sha1Hello},
		{Expr: `hash.file(` + lit(hello) + `).sha256()`, Want: sha256Hello},
		{Expr: `hash.file(` + lit(hello) + `).sha512()`, Want: sha512Hello},
		{Expr: `hash.file(` + lit(empty) + `).md5()`, Want: md5Empty},
		{Expr: `hash.file(` + lit(hello) + `).try_md5()`, Want: `Result(ok=True, value="` + md5Hello + `")`},
		{Expr: `hash.file(` + lit(hello) + `).try_sha1()`, Want: `Result(ok=True, value="` + sha1Hello + `")`},
		{Expr: `hash.file(` + lit(hello) + `).try_sha256()`, Want: `Result(ok=True, value="` + sha256Hello + `")`},
		{Expr: `hash.file(` + lit(hello) + `).try_sha512()`, Want: `Result(ok=True, value="` + sha512Hello + `")`},
		{Expr: `hash.file(` + lit(missing) + `).md5()`, Err: `hash.file.md5: open ` + missing + `: no such file or directory`},
		{Expr: `hash.file(` + lit(missing) + `).sha512()`, Err: `hash.file.sha512: open ` + missing + `: no such file or directory`},
		{Expr: `hash.file(` + lit(missing) + `).try_sha256()`, Want: `Result(ok=False, error="hash.file.sha256: open ` + missing + `: no such file or directory")`},
		{Expr: `hash.file(` + lit(dir) + `).sha1()`, Err: `hash.file.sha1: read ` + dir + `: is a directory`},
		{Expr: `hash.file("").md5()`, Err: `hash.file.md5: open : no such file or directory`},
		{Expr: `hash.file(` + lit(hello) + `).md5(1)`, Err: `hash.file.md5: takes no arguments`},
	})
	t.Run("relative path named as given", func(t *testing.T) {
		t.Chdir(dir)
		got, _, _ := kit.Eval(t, nil, "", `hash.file("hello.txt").md5()`)
		_, msg, _ := kit.Eval(t, nil, "", `hash.file("nope").md5()`)
		if got != md5Hello || msg != "hash.file.md5: open nope: no such file or directory" {
			t.Fatalf("= %q, %q", got, msg)
		}
	})
}

// TestLargeFile digests a multi-megabyte file (streamed) with every
// algorithm and compares with the standard library.
func TestLargeFile(t *testing.T) {
	dir := kitetest.TempDir(t)
	data := make([]byte, 8<<20+3)
	rand.Read(data)
	p := kitetest.WriteFile(t, filepath.Join(dir, "big.bin"), string(data))
	want := map[string]string{}
	for name, sum := range map[string][]byte{
		"md5": func() []byte { s := md5.Sum(data); return s[:] }(), "sha1": func() []byte { s := sha1.Sum(data); return s[:] }(),
		"sha256": func() []byte { s := sha256.Sum256(data); return s[:] }(), "sha512": func() []byte { s := sha512.Sum512(data); return s[:] }(),
	} {
		want[name] = hex.EncodeToString(sum)
	}
	rt := kit.Runtime(t, nil)
	for name, w := range want {
		v, err := rt.Eval(t.Context(), `hash.file(`+lit(p)+`).`+name+`()`)
		if err != nil || strings.Trim(v.String(), `"`) != w {
			t.Fatalf("%s = %v, %v; want %s", name, v, err, w)
		}
	}
}

func TestPermissions(t *testing.T) {
	dir := kitetest.TempDir(t)
	hello := kitetest.WriteFile(t, filepath.Join(dir, "hello.txt"), "hello")
	before := kitetest.Snapshot(t, dir)
	deny := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	cases := kitetest.DenialCases(deny, `hash.file(`+lit(hello)+`)`, []string{"md5", "sha1", "sha256", "sha512"}, kitetest.Denied("fs.read", "read_file", hello))
	cases = append(cases, kitetest.PermCase{Name: "dry run still checks", Cfg: &libkite.Config{DryRun: true, Permissions: libkite.DenyAllPermissions()},
		Expr: `hash.file(` + lit(hello) + `).md5()`, ErrPrefix: kitetest.Denied("fs.read", "read_file", hello)})
	kitetest.RunPermCases(t, kit.Runtime, cases, nil)
	kit.RunCases(t, deny, []kitetest.Case{
		{Name: "in-memory allowed", Expr: `hash.text("hello").md5()`, Want: md5Hello},
	})
	kitetest.SameSnapshot(t, before, kitetest.Snapshot(t, dir))
}

func TestDryRun(t *testing.T) {
	dir := kitetest.TempDir(t)
	hello := kitetest.WriteFile(t, filepath.Join(dir, "hello.txt"), "hello")
	missing := filepath.Join(dir, "missing")
	dry := &libkite.Config{DryRun: true}
	kit.RunCases(t, dry, []kitetest.Case{
		{Expr: `hash.file(` + lit(hello) + `).md5()`, Want: strings.Repeat("0", 32)},
		{Expr: `hash.file(` + lit(hello) + `).sha1()`, Want: strings.Repeat("0", 40)},
		{Expr: `hash.file(` + lit(missing) + `).sha256()`, Want: strings.Repeat("0", 64)},
		{Expr: `hash.file(` + lit(missing) + `).try_sha512()`, Want: `Result(ok=True, value="` + strings.Repeat("0", 128) + `")`},
		{Name: "in-memory unaffected", Expr: `hash.text("hello").md5()`, Want: md5Hello},
	})
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("dry run created a file")
	}
}

// TestConformance runs tests/hash_test.star in trust mode from this
// directory, then as `kitecmd test --permissions=allow-all tests/` does:
// from the repository root under an allow-all policy.
func TestConformance(t *testing.T) {
	kitetest.RunSuite(t, kit.Runtime, filepath.Join("..", "..", "..", "tests", "hash_test.star"), 10)
}

func BenchmarkFileSHA256(b *testing.B) {
	dir := b.TempDir()
	data := make([]byte, 4<<20)
	rand.Read(data)
	p := kitetest.WriteFile(b, filepath.Join(dir, "bench.bin"), string(data))
	rt := kit.Runtime(b, nil)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := rt.Eval(b.Context(), `hash.file(`+lit(p)+`).sha256()`); err != nil {
			b.Fatal(err)
		}
	}
}
