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
	runCases(t, nil, []evalCase{
		{expr: `hash.text("hello").data`, want: `b"hello"`},
		{expr: `hash.text(s="hi").data`, want: `b"hi"`},
		{expr: `hash.text(b"x")`, err: `hash.text: for parameter s: got bytes, want string`},
		{expr: `hash.text(1)`, err: `hash.text: for parameter s: got int, want string`},
		{expr: `hash.text()`, err: `hash.text: missing required argument: s`},
		{expr: `hash.text("a", "b")`, err: `hash.text: unexpected positional argument at index 1`},
		{expr: `hash.bytes("hello").data`, want: `b"hello"`},
		{expr: `hash.bytes(b"\x00\x01").data`, want: `b"\x00\x01"`},
		{expr: `hash.bytes(1)`, err: `hash.bytes: argument must be bytes or string, got int`},
		{expr: `hash.bytes(None)`, err: `hash.bytes: argument must be bytes or string, got NoneType`},
		{expr: `hash.bytes(data=b"x", other=1)`, err: `hash.bytes: unknown keyword argument: other`},
		{expr: `hash.file("/x").path`, want: `/x`},
		{expr: `hash.file(1)`, err: `hash.file: for parameter path: got int, want string`},
		{expr: `hash.try_text("hello").value.md5()`, want: md5Hello},
		{expr: `hash.try_bytes(b"hello").value.md5()`, want: md5Hello},
		{expr: `hash.try_bytes(1)`, want: `Result(ok=False, error="hash.bytes: argument must be bytes or string, got int")`},
		{expr: `hash.try_file("/no/such").value.path`, want: `/no/such`},
		{expr: `dir(hash)`, want: `["bytes", "file", "text", "try_bytes", "try_file", "try_text"]`},
	})
}

func TestModule(t *testing.T) {
	m := hash.New()
	if m.Name() != "hash" || len(m.Aliases()) != 0 || m.Description() == "" {
		t.Fatal("module metadata")
	}
}

func TestDigests(t *testing.T) {
	runCases(t, nil, []evalCase{
		{expr: `hash.text("hello").md5()`, want: md5Hello},
		{expr: `hash.text("").md5()`, want: md5Empty},
		{expr: `hash.text("hello").sha1()`, want: sha1Hello},
		{expr: `hash.text("hello").sha256()`, want: sha256Hello},
		{expr: `hash.text("hello").sha512()`, want: sha512Hello},
		{expr: `hash.text("").sha256()`, want: sha256Empty},
		{expr: `[len(hash.text("x").md5()), len(hash.text("x").sha1()), len(hash.text("x").sha256()), len(hash.text("x").sha512())]`, want: `[32, 40, 64, 128]`},
		{expr: `hash.bytes("hello").md5() == hash.text("hello").md5()`, want: `True`},
		{expr: `len(hash.bytes(b"\x00\x01\x02").md5())`, want: `32`},
		{expr: `hash.bytes(b"\x00\x01\x02").sha1()`, want: hexOf(sha1.New, "\x00\x01\x02")},
		{expr: `hash.text("é").sha256()`, want: hexOf(sha256.New, "é")},
		{expr: `hash.text("a").md5() != hash.text("b").md5()`, want: `True`},
		{expr: `hash.text("x").md5(1)`, err: `hash.source.md5: takes no arguments`},
		{expr: `hash.text("x").sha512(k=1)`, err: `hash.source.sha512: takes no arguments`},
		{expr: `hash.text("hello").try_md5()`, want: `Result(ok=True, value="` + md5Hello + `")`},
		{expr: `hash.text("hello").try_sha1()`, want: `Result(ok=True, value="` + sha1Hello + `")`},
		{expr: `hash.text("hello").try_sha256()`, want: `Result(ok=True, value="` + sha256Hello + `")`},
		{expr: `hash.text("hello").try_sha512()`, want: `Result(ok=True, value="` + sha512Hello + `")`},
		{expr: `hash.text("x").try_sha1(1)`, want: `Result(ok=False, error="hash.source.sha1: takes no arguments")`},
	})
}

func TestObjects(t *testing.T) {
	runCases(t, nil, []evalCase{
		{expr: `type(hash.text("x")), type(hash.bytes(b"x")), type(hash.file("x"))`, want: `("hash.source", "hash.source", "hash.file")`},
		{expr: `str(hash.text("hello"))`, want: `hash.source(5 bytes)`},
		{expr: `str(hash.file("/a b"))`, want: `hash.file("/a b")`},
		{expr: `bool(hash.text("x")), bool(hash.text("")), bool(hash.file("x")), bool(hash.file(""))`, want: `(True, False, True, False)`},
		{expr: `{hash.text("x"): 1}`, err: `unhashable type: hash.source`},
		{expr: `{hash.file("x"): 1}`, err: `unhashable type: hash.file`},
		{expr: `dir(hash.text("x"))`, want: `["data", "md5", "sha1", "sha256", "sha512", "try_md5", "try_sha1", "try_sha256", "try_sha512"]`},
		{expr: `dir(hash.file("x"))`, want: `["md5", "path", "sha1", "sha256", "sha512", "try_md5", "try_sha1", "try_sha256", "try_sha512"]`},
		{expr: `hash.file("x").try_path`, err: `hash.file has no .try_path field or method (did you mean .path?)`},
		{expr: `hash.text("x").sha3()`, err: `hash.source has no .sha3 field or method (did you mean .sha1?)`},
	})
}

func hexOf(newHash func() gohash.Hash, s string) string {
	h := newHash()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

func TestFiles(t *testing.T) {
	dir := tempDir(t)
	hello := writeFile(t, filepath.Join(dir, "hello.txt"), "hello")
	empty := writeFile(t, filepath.Join(dir, "empty.txt"), "")
	missing := filepath.Join(dir, "missing")
	runCases(t, nil, []evalCase{
		{expr: `hash.file(` + lit(hello) + `).md5()`, want: md5Hello},
		{expr: `hash.file(` + lit(hello) + `).sha1()`, want: sha1Hello},
		{expr: `hash.file(` + lit(hello) + `).sha256()`, want: sha256Hello},
		{expr: `hash.file(` + lit(hello) + `).sha512()`, want: sha512Hello},
		{expr: `hash.file(` + lit(empty) + `).md5()`, want: md5Empty},
		{expr: `hash.file(` + lit(hello) + `).try_md5()`, want: `Result(ok=True, value="` + md5Hello + `")`},
		{expr: `hash.file(` + lit(hello) + `).try_sha1()`, want: `Result(ok=True, value="` + sha1Hello + `")`},
		{expr: `hash.file(` + lit(hello) + `).try_sha256()`, want: `Result(ok=True, value="` + sha256Hello + `")`},
		{expr: `hash.file(` + lit(hello) + `).try_sha512()`, want: `Result(ok=True, value="` + sha512Hello + `")`},
		{expr: `hash.file(` + lit(missing) + `).md5()`, err: `hash.file.md5: open ` + missing + `: no such file or directory`},
		{expr: `hash.file(` + lit(missing) + `).sha512()`, err: `hash.file.sha512: open ` + missing + `: no such file or directory`},
		{expr: `hash.file(` + lit(missing) + `).try_sha256()`, want: `Result(ok=False, error="hash.file.sha256: open ` + missing + `: no such file or directory")`},
		{expr: `hash.file(` + lit(dir) + `).sha1()`, err: `hash.file.sha1: read ` + dir + `: is a directory`},
		{expr: `hash.file("").md5()`, err: `hash.file.md5: open : no such file or directory`},
		{expr: `hash.file(` + lit(hello) + `).md5(1)`, err: `hash.file.md5: takes no arguments`},
	})
	t.Run("relative path named as given", func(t *testing.T) {
		t.Chdir(dir)
		got, _, _ := eval(t, nil, "", `hash.file("hello.txt").md5()`)
		_, msg, _ := eval(t, nil, "", `hash.file("nope").md5()`)
		if got != md5Hello || msg != "hash.file.md5: open nope: no such file or directory" {
			t.Fatalf("= %q, %q", got, msg)
		}
	})
}

// TestLargeFile digests a multi-megabyte file (streamed) with every
// algorithm and compares with the standard library.
func TestLargeFile(t *testing.T) {
	dir := tempDir(t)
	data := make([]byte, 8<<20+3)
	rand.Read(data)
	p := writeFile(t, filepath.Join(dir, "big.bin"), string(data))
	want := map[string]string{}
	for name, sum := range map[string][]byte{
		"md5": func() []byte { s := md5.Sum(data); return s[:] }(), "sha1": func() []byte { s := sha1.Sum(data); return s[:] }(),
		"sha256": func() []byte { s := sha256.Sum256(data); return s[:] }(), "sha512": func() []byte { s := sha512.Sum512(data); return s[:] }(),
	} {
		want[name] = hex.EncodeToString(sum)
	}
	rt := newRuntime(t, nil)
	for name, w := range want {
		v, err := rt.Eval(t.Context(), `hash.file(`+lit(p)+`).`+name+`()`)
		if err != nil || strings.Trim(v.String(), `"`) != w {
			t.Fatalf("%s = %v, %v; want %s", name, v, err, w)
		}
	}
}

func TestPermissions(t *testing.T) {
	dir := tempDir(t)
	hello := writeFile(t, filepath.Join(dir, "hello.txt"), "hello")
	before := snapshot(t, dir)
	deny := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	for _, m := range []string{"md5", "sha1", "sha256", "sha512"} {
		t.Run(m, func(t *testing.T) {
			_, msg, err := eval(t, deny, "", `hash.file(`+lit(hello)+`).`+m+`()`)
			if !libkite.IsPermissionError(err) || !strings.HasPrefix(msg, denied("read", "read_file", hello)) {
				t.Fatalf("error = %q (%T)", msg, err)
			}
			got, _, _ := eval(t, deny, "", `hash.file(`+lit(hello)+`).try_`+m+`()`)
			if !strings.HasPrefix(got, `Result(ok=False, error="permission denied: fs.read read_file(`) {
				t.Fatalf("try_ = %s", got)
			}
		})
	}
	t.Run("dry run still checks", func(t *testing.T) {
		cfg := &libkite.Config{DryRun: true, Permissions: libkite.DenyAllPermissions()}
		_, msg, err := eval(t, cfg, "", `hash.file(`+lit(hello)+`).md5()`)
		if !libkite.IsPermissionError(err) || !strings.HasPrefix(msg, denied("read", "read_file", hello)) {
			t.Fatalf("error = %q", msg)
		}
	})
	runCases(t, deny, []evalCase{
		{name: "in-memory allowed", expr: `hash.text("hello").md5()`, want: md5Hello},
	})
	sameSnapshot(t, before, snapshot(t, dir))
}

func TestDryRun(t *testing.T) {
	dir := tempDir(t)
	hello := writeFile(t, filepath.Join(dir, "hello.txt"), "hello")
	missing := filepath.Join(dir, "missing")
	dry := &libkite.Config{DryRun: true}
	runCases(t, dry, []evalCase{
		{expr: `hash.file(` + lit(hello) + `).md5()`, want: strings.Repeat("0", 32)},
		{expr: `hash.file(` + lit(hello) + `).sha1()`, want: strings.Repeat("0", 40)},
		{expr: `hash.file(` + lit(missing) + `).sha256()`, want: strings.Repeat("0", 64)},
		{expr: `hash.file(` + lit(missing) + `).try_sha512()`, want: `Result(ok=True, value="` + strings.Repeat("0", 128) + `")`},
		{name: "in-memory unaffected", expr: `hash.text("hello").md5()`, want: md5Hello},
	})
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("dry run created a file")
	}
}

// TestConformance runs tests/hash_test.star in trust mode from this
// directory, then as `kitecmd test --permissions=allow-all tests/` does:
// from the repository root under an allow-all policy.
func TestConformance(t *testing.T) {
	suite, err := filepath.Abs(filepath.Join("..", "..", "..", "tests", "hash_test.star"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("trusted", func(t *testing.T) {
		rt := newRuntime(t, &libkite.Config{ScriptPath: suite})
		kitetest.RunConformance(t, rt, suite, 10)
	})
	t.Run("allow-all from repo root", func(t *testing.T) {
		t.Chdir(filepath.Join(filepath.Dir(suite), ".."))
		rt := newRuntime(t, &libkite.Config{ScriptPath: "tests/hash_test.star", Permissions: libkite.AllowAllPermissions()})
		kitetest.RunConformance(t, rt, "tests/hash_test.star", 10)
	})
}

func BenchmarkFileSHA256(b *testing.B) {
	dir := b.TempDir()
	data := make([]byte, 4<<20)
	rand.Read(data)
	p := writeFile(b, filepath.Join(dir, "bench.bin"), string(data))
	rt := newRuntime(b, nil)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := rt.Eval(b.Context(), `hash.file(`+lit(p)+`).sha256()`); err != nil {
			b.Fatal(err)
		}
	}
}
