package base64_test

import (
	"crypto/rand"
	stdb64 "encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/base64"
)

func TestFactories(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `base64.text("hello").data`, Want: `b"hello"`},
		{Expr: `base64.text(s="hi").data`, Want: `b"hi"`},
		{Expr: `base64.text("é").data == b"\xc3\xa9"`, Want: `True`},
		{Expr: `base64.text(b"x")`, Err: `base64.text: for parameter s: got bytes, want string`},
		{Expr: `base64.text(1)`, Err: `base64.text: for parameter s: got int, want string`},
		{Expr: `base64.text(None)`, Err: `base64.text: for parameter s: got NoneType, want string`},
		{Expr: `base64.text()`, Err: `base64.text: missing required argument: s`},
		{Expr: `base64.text("a", "b")`, Err: `base64.text: unexpected positional argument at index 1`},
		{Expr: `base64.text("a", x=1)`, Err: `base64.text: unknown keyword argument: x`},
		{Expr: `base64.bytes(b"hello").data`, Want: `b"hello"`},
		{Expr: `base64.bytes("hello").data`, Want: `b"hello"`},
		{Expr: `base64.bytes(data=b"\x00").data`, Want: `b"\x00"`},
		{Expr: `base64.bytes(1)`, Err: `base64.bytes: argument must be bytes or string, got int`},
		{Expr: `base64.bytes([1])`, Err: `base64.bytes: argument must be bytes or string, got list`},
		{Expr: `base64.bytes()`, Err: `base64.bytes: missing required argument: data`},
		{Expr: `base64.file("/no/such/file").path`, Want: `/no/such/file`},
		{Expr: `base64.file(path="x").path`, Want: `x`},
		{Expr: `base64.file(1)`, Err: `base64.file: for parameter path: got int, want string`},
		{Expr: `base64.file()`, Err: `base64.file: missing required argument: path`},
		{Expr: `base64.try_text("hello").value.encode()`, Want: `aGVsbG8=`},
		{Expr: `base64.try_text(1)`, Want: `Result(ok=False, error="base64.text: for parameter s: got int, want string")`},
		{Expr: `base64.try_bytes(b"hello").value.encode()`, Want: `aGVsbG8=`},
		{Expr: `base64.try_bytes(1)`, Want: `Result(ok=False, error="base64.bytes: argument must be bytes or string, got int")`},
		{Expr: `base64.try_file("/no/such/file").value.path`, Want: `/no/such/file`},
		{Expr: `dir(base64)`, Want: `["bytes", "file", "text", "try_bytes", "try_file", "try_text"]`},
		{Expr: `type(base64)`, Want: `module`},
	})
}

func TestModule(t *testing.T) {
	m := base64.New()
	if m.Name() != "base64" || len(m.Aliases()) != 0 || m.Description() == "" {
		t.Fatal("module metadata")
	}
}

func TestConversions(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `base64.text("hello").encode()`, Want: `aGVsbG8=`},
		{Expr: `base64.text("Man").encode()`, Want: `TWFu`},
		{Expr: `base64.text("Ma").encode()`, Want: `TWE=`},
		{Expr: `base64.text("M").encode()`, Want: `TQ==`},
		{Expr: `base64.text("").encode()`, Want: ``},
		{Expr: `base64.text("hello").encode_url()`, Want: `aGVsbG8=`},
		{Expr: `base64.bytes(b"\xff\xfe\xfd").encode()`, Want: `//79`},
		{Expr: `base64.bytes(b"\xff\xfe\xfd").encode_url()`, Want: `__79`},
		{Expr: `base64.bytes(b"hello world").encode()`, Want: `aGVsbG8gd29ybGQ=`},
		{Expr: `base64.text("aGVsbG8=").decode()`, Want: `b"hello"`},
		{Expr: `base64.text("").decode()`, Want: `b""`},
		{Expr: `base64.text("TQ==").decode()`, Want: `b"M"`},
		{Name: "newlines ignored", Expr: `base64.text("aGVs\r\nbG8=\n").decode()`, Want: `b"hello"`},
		{Expr: `base64.text("//79").decode()`, Want: `b"\xff\xfe\xfd"`},
		{Expr: `base64.text("__79").decode_url()`, Want: `b"\xff\xfe\xfd"`},
		{Expr: `base64.bytes(b"aGVsbG8=").decode_url()`, Want: `b"hello"`},
		{Name: "round trip binary", Expr: `base64.text(base64.bytes(b"a\x00\n\tb").encode()).decode() == b"a\x00\n\tb"`, Want: `True`},
		{Name: "round trip 100 chars", Expr: `base64.text(base64.text("x" * 100).encode()).decode() == bytes("x" * 100)`, Want: `True`},
		{Expr: `base64.text("!!!not-valid-base64!!!").decode()`, Err: `base64.source.decode: illegal base64 data at input byte 0`},
		{Name: "missing padding", Expr: `base64.text("aGVsbG8").decode()`, Err: `base64.source.decode: illegal base64 data at input byte 4`},
		{Name: "data after padding", Expr: `base64.text("TQ==TQ==").decode()`, Err: `base64.source.decode: illegal base64 data at input byte 4`},
		{Name: "url alphabet in std", Expr: `base64.text("__79").decode()`, Err: `base64.source.decode: illegal base64 data at input byte 0`},
		{Name: "std alphabet in url", Expr: `base64.text("//79").decode_url()`, Err: `base64.source.decode_url: illegal base64 data at input byte 0`},
		{Name: "space not ignored", Expr: `base64.text("aGVs bG8=").decode()`, Err: `base64.source.decode: illegal base64 data at input byte 4`},
		{Expr: `base64.text("x").encode(1)`, Err: `base64.source.encode: takes no arguments`},
		{Expr: `base64.text("x").decode(k=1)`, Err: `base64.source.decode: takes no arguments`},
		{Expr: `base64.text("x").encode_url(1)`, Err: `base64.source.encode_url: takes no arguments`},
		{Expr: `base64.text("x").decode_url(1)`, Err: `base64.source.decode_url: takes no arguments`},
		{Expr: `base64.text("hello").try_encode()`, Want: `Result(ok=True, value="aGVsbG8=")`},
		{Expr: `base64.text("hello").try_encode_url()`, Want: `Result(ok=True, value="aGVsbG8=")`},
		{Expr: `base64.text("aGVsbG8=").try_decode()`, Want: `Result(ok=True, value=b"hello")`},
		{Expr: `base64.text("aGVsbG8=").try_decode_url()`, Want: `Result(ok=True, value=b"hello")`},
		{Expr: `base64.text("!!!not-valid-base64!!!").try_decode()`, Want: `Result(ok=False, error="base64.source.decode: illegal base64 data at input byte 0")`},
		{Expr: `base64.text("!!!invalid!!!").try_decode_url()`, Want: `Result(ok=False, error="base64.source.decode_url: illegal base64 data at input byte 0")`},
		{Expr: `base64.text("x").try_encode(1)`, Want: `Result(ok=False, error="base64.source.encode: takes no arguments")`},
	})
}

func TestObjects(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `type(base64.text("x"))`, Want: `base64.source`},
		{Expr: `type(base64.bytes(b"x"))`, Want: `base64.source`},
		{Expr: `str(base64.text("hello"))`, Want: `base64.source(5 bytes)`},
		{Expr: `repr(base64.text(""))`, Want: `base64.source(0 bytes)`},
		{Expr: `bool(base64.text("x")), bool(base64.text(""))`, Want: `(True, False)`},
		{Expr: `{base64.text("x"): 1}`, Err: `unhashable type: base64.source`},
		{Expr: `dir(base64.text("x"))`, Want: `["data", "decode", "decode_url", "encode", "encode_url", "try_decode", "try_decode_url", "try_encode", "try_encode_url"]`},
		{Expr: `base64.text("x").try_data`, Err: `base64.source has no .try_data field or method (did you mean .data?)`},
		{Expr: `base64.text("x").nope`, Err: `base64.source has no .nope field or method`},
		{Expr: `type(base64.file("x"))`, Want: `base64.file`},
		{Expr: `str(base64.file("a\"b"))`, Want: `base64.file("a\"b")`},
		{Expr: `bool(base64.file("x")), bool(base64.file(""))`, Want: `(True, False)`},
		{Expr: `{base64.file("x"): 1}`, Err: `unhashable type: base64.file`},
		{Expr: `dir(base64.file("x"))`, Want: `["decode", "decode_url", "encode", "encode_url", "path", "try_decode", "try_decode_url", "try_encode", "try_encode_url"]`},
		{Expr: `base64.file("x").encode(1)`, Err: `base64.file.encode: takes no arguments`},
		{Expr: `base64.file("x").try_decode_url(1)`, Want: `Result(ok=False, error="base64.file.decode_url: takes no arguments")`},
	})
}

func TestFiles(t *testing.T) {
	dir := kitetest.TempDir(t)
	hello := kitetest.WriteFile(t, filepath.Join(dir, "hello.txt"), "hello\n")
	encoded := kitetest.WriteFile(t, filepath.Join(dir, "enc.txt"), "aGVsbG8=\n")
	urlEnc := kitetest.WriteFile(t, filepath.Join(dir, "url.txt"), "__79")
	wrapped := kitetest.WriteFile(t, filepath.Join(dir, "wrapped.txt"), "aGVs\r\nbG8g\r\nd29y\r\nbGQ=\r\n")
	bad := kitetest.WriteFile(t, filepath.Join(dir, "bad.txt"), "aGVs\nbG8=\nTQ==\n")
	empty := kitetest.WriteFile(t, filepath.Join(dir, "empty.txt"), "")
	missing := filepath.Join(dir, "missing.txt")
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "encode keeps trailing newline", Expr: `base64.file(` + lit(hello) + `).encode()`, Want: `aGVsbG8K`},
		{Expr: `base64.file(` + lit(hello) + `).encode_url()`, Want: `aGVsbG8K`},
		{Name: "decode tolerates trailing newline", Expr: `base64.file(` + lit(encoded) + `).decode()`, Want: `b"hello"`},
		{Expr: `base64.file(` + lit(urlEnc) + `).decode_url()`, Want: `b"\xff\xfe\xfd"`},
		{Name: "CRLF wrapped", Expr: `base64.file(` + lit(wrapped) + `).decode()`, Want: `b"hello world"`},
		{Expr: `base64.file(` + lit(empty) + `).encode()`, Want: ``},
		{Expr: `base64.file(` + lit(empty) + `).decode()`, Want: `b""`},
		{Name: "bad offset counts newlines", Expr: `base64.file(` + lit(bad) + `).decode()`, Err: `base64.file.decode: illegal base64 data at input byte 10`},
		{Expr: `base64.file(` + lit(urlEnc) + `).decode()`, Err: `base64.file.decode: illegal base64 data at input byte 0`},
		{Expr: `base64.file(` + lit(missing) + `).encode()`, Err: `base64.file.encode: open ` + missing + `: no such file or directory`},
		{Expr: `base64.file(` + lit(missing) + `).decode_url()`, Err: `base64.file.decode_url: open ` + missing + `: no such file or directory`},
		{Expr: `base64.file(` + lit(dir) + `).encode()`, Err: `base64.file.encode: read ` + dir + `: is a directory`},
		{Expr: `base64.file(` + lit(dir) + `).decode()`, Err: `base64.file.decode: read ` + dir + `: is a directory`},
		{Expr: `base64.file("").encode()`, Err: `base64.file.encode: open : no such file or directory`},
		{Expr: `base64.file(` + lit(hello) + `).try_encode()`, Want: `Result(ok=True, value="aGVsbG8K")`},
		{Expr: `base64.file(` + lit(encoded) + `).try_decode()`, Want: `Result(ok=True, value=b"hello")`},
		{Expr: `base64.file(` + lit(hello) + `).try_encode_url()`, Want: `Result(ok=True, value="aGVsbG8K")`},
		{Expr: `base64.file(` + lit(missing) + `).try_decode()`, Want: `Result(ok=False, error="base64.file.decode: open ` + missing + `: no such file or directory")`},
	})

	t.Run("relative path named as given", func(t *testing.T) {
		t.Chdir(dir)
		_, msg, _ := kit.Eval(t, nil, "", `base64.file("nope.txt").encode()`)
		if msg != "base64.file.encode: open nope.txt: no such file or directory" {
			t.Fatalf("error = %q", msg)
		}
		got, msg, _ := kit.Eval(t, nil, "", `base64.file("hello.txt").encode()`)
		if got != "aGVsbG8K" || msg != "" {
			t.Fatalf("= %q, %q", got, msg)
		}
	})
}

// TestLargeFiles streams multi-megabyte files through encode and decode
// and compares with the standard library.
func TestLargeFiles(t *testing.T) {
	dir := kitetest.TempDir(t)
	data := make([]byte, 6<<20+5)
	rand.Read(data)
	raw := filepath.Join(dir, "raw.bin")
	kitetest.WriteFile(t, raw, string(data))
	std := stdb64.StdEncoding.EncodeToString(data)
	url := stdb64.URLEncoding.EncodeToString(data)
	// MIME-style 76-column lines with CRLF
	var wrapped strings.Builder
	for i := 0; i < len(std); i += 76 {
		wrapped.WriteString(std[i:min(i+76, len(std))] + "\r\n")
	}
	enc := kitetest.WriteFile(t, filepath.Join(dir, "enc.txt"), wrapped.String())
	encURL := kitetest.WriteFile(t, filepath.Join(dir, "url.txt"), url)
	corrupt := []byte(wrapped.String())
	corrupt[len(corrupt)/2] = '*'
	bad := kitetest.WriteFile(t, filepath.Join(dir, "bad.txt"), string(corrupt))
	_, stdErr := stdb64.StdEncoding.DecodeString(string(corrupt))

	rt := kit.Runtime(t, nil)
	for _, c := range []struct {
		expr, want, err string
	}{
		{expr: `base64.file(` + lit(raw) + `).encode()`, want: std},
		{expr: `base64.file(` + lit(raw) + `).encode_url()`, want: url},
		{expr: `base64.file(` + lit(enc) + `).decode()`, want: string(data)},
		{expr: `base64.file(` + lit(encURL) + `).decode_url()`, want: string(data)},
		{expr: `base64.file(` + lit(bad) + `).decode()`, err: "base64.file.decode: " + stdErr.Error()},
	} {
		v, err := rt.Eval(t.Context(), c.expr)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("%s: error = %v, want %q", c.expr, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.expr, err)
		}
		var got string
		switch v := v.(type) {
		case starlark.String:
			got = string(v)
		case starlark.Bytes:
			got = string(v)
		default:
			t.Fatalf("%s: result %s", c.expr, v.Type())
		}
		if got != c.want {
			t.Fatalf("%s: result differs (len %d, want %d)", c.expr, len(got), len(c.want))
		}
	}
}

func TestPermissions(t *testing.T) {
	dir := kitetest.TempDir(t)
	hello := kitetest.WriteFile(t, filepath.Join(dir, "hello.txt"), "hello")
	before := kitetest.Snapshot(t, dir)
	deny := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	cases := kitetest.DenialCases(deny, `base64.file(`+lit(hello)+`)`, []string{"encode", "encode_url", "decode", "decode_url"}, kitetest.Denied("fs.read", "read_file", hello))
	kitetest.RunPermCases(t, kit.Runtime, cases, nil)
	kit.RunCases(t, deny, []kitetest.Case{
		{Name: "in-memory allowed", Expr: `base64.text(base64.text("hi").encode()).decode()`, Want: `b"hi"`},
		{Name: "factory does no I/O", Expr: `base64.try_file(` + lit(hello) + `).ok`, Want: `True`},
	})
	t.Run("allow rule scoped to the file", func(t *testing.T) {
		cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"fs.read(read_file:" + hello + ")"}}}
		got, msg, _ := kit.Eval(t, cfg, "", `base64.file(`+lit(hello)+`).encode()`)
		if got != "aGVsbG8=" || msg != "" {
			t.Fatalf("= %q, %q", got, msg)
		}
		_, msg, _ = kit.Eval(t, cfg, "", `base64.file(`+lit(dir+"/other")+`).encode()`)
		if !strings.HasPrefix(msg, kitetest.Denied("fs.read", "read_file", dir+"/other")) {
			t.Fatalf("error = %q", msg)
		}
	})
	kitetest.SameSnapshot(t, before, kitetest.Snapshot(t, dir))
}

func TestDryRun(t *testing.T) {
	dir := kitetest.TempDir(t)
	hello := kitetest.WriteFile(t, filepath.Join(dir, "hello.txt"), "aGVsbG8=")
	missing := filepath.Join(dir, "missing")
	dry := &libkite.Config{DryRun: true}
	// spec: the placeholder is returned before the permission check
	dryDeny := &libkite.Config{DryRun: true, Permissions: libkite.DenyAllPermissions()}
	for _, cfg := range []*libkite.Config{dry, dryDeny} {
		kit.RunCases(t, cfg, []kitetest.Case{
			{Expr: `base64.file(` + lit(hello) + `).encode()`, Want: ``},
			{Expr: `base64.file(` + lit(hello) + `).encode_url()`, Want: ``},
			{Expr: `base64.file(` + lit(hello) + `).decode()`, Want: `b""`},
			{Expr: `base64.file(` + lit(missing) + `).decode_url()`, Want: `b""`},
			{Expr: `base64.file(` + lit(missing) + `).try_decode()`, Want: `Result(ok=True, value=b"")`},
			{Name: "argument errors still raised", Expr: `base64.file(` + lit(hello) + `).encode(1)`, Err: `base64.file.encode: takes no arguments`},
			{Name: "in-memory unaffected", Expr: `base64.text("hello").encode()`, Want: `aGVsbG8=`},
		})
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("dry run created a file")
	}
}

// TestConformance runs tests/base64_test.star in trust mode from this
// directory, then as `kitecmd test --permissions=allow-all tests/` does:
// from the repository root under an allow-all policy.
func TestConformance(t *testing.T) {
	kitetest.RunSuite(t, kit.Runtime, filepath.Join("..", "..", "..", "tests", "base64_test.star"), 10)
}
