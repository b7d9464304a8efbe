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
	runCases(t, nil, []evalCase{
		{expr: `base64.text("hello").data`, want: `b"hello"`},
		{expr: `base64.text(s="hi").data`, want: `b"hi"`},
		{expr: `base64.text("é").data == b"\xc3\xa9"`, want: `True`},
		{expr: `base64.text(b"x")`, err: `base64.text: for parameter s: got bytes, want string`},
		{expr: `base64.text(1)`, err: `base64.text: for parameter s: got int, want string`},
		{expr: `base64.text(None)`, err: `base64.text: for parameter s: got NoneType, want string`},
		{expr: `base64.text()`, err: `base64.text: missing required argument: s`},
		{expr: `base64.text("a", "b")`, err: `base64.text: unexpected positional argument at index 1`},
		{expr: `base64.text("a", x=1)`, err: `base64.text: unknown keyword argument: x`},
		{expr: `base64.bytes(b"hello").data`, want: `b"hello"`},
		{expr: `base64.bytes("hello").data`, want: `b"hello"`},
		{expr: `base64.bytes(data=b"\x00").data`, want: `b"\x00"`},
		{expr: `base64.bytes(1)`, err: `base64.bytes: argument must be bytes or string, got int`},
		{expr: `base64.bytes([1])`, err: `base64.bytes: argument must be bytes or string, got list`},
		{expr: `base64.bytes()`, err: `base64.bytes: missing required argument: data`},
		{expr: `base64.file("/no/such/file").path`, want: `/no/such/file`},
		{expr: `base64.file(path="x").path`, want: `x`},
		{expr: `base64.file(1)`, err: `base64.file: for parameter path: got int, want string`},
		{expr: `base64.file()`, err: `base64.file: missing required argument: path`},
		{expr: `base64.try_text("hello").value.encode()`, want: `aGVsbG8=`},
		{expr: `base64.try_text(1)`, want: `Result(ok=False, error="base64.text: for parameter s: got int, want string")`},
		{expr: `base64.try_bytes(b"hello").value.encode()`, want: `aGVsbG8=`},
		{expr: `base64.try_bytes(1)`, want: `Result(ok=False, error="base64.bytes: argument must be bytes or string, got int")`},
		{expr: `base64.try_file("/no/such/file").value.path`, want: `/no/such/file`},
		{expr: `dir(base64)`, want: `["bytes", "file", "text", "try_bytes", "try_file", "try_text"]`},
		{expr: `type(base64)`, want: `module`},
	})
}

func TestModule(t *testing.T) {
	m := base64.New()
	if m.Name() != "base64" || len(m.Aliases()) != 0 || m.Description() == "" {
		t.Fatal("module metadata")
	}
}

func TestConversions(t *testing.T) {
	runCases(t, nil, []evalCase{
		{expr: `base64.text("hello").encode()`, want: `aGVsbG8=`},
		{expr: `base64.text("Man").encode()`, want: `TWFu`},
		{expr: `base64.text("Ma").encode()`, want: `TWE=`},
		{expr: `base64.text("M").encode()`, want: `TQ==`},
		{expr: `base64.text("").encode()`, want: ``},
		{expr: `base64.text("hello").encode_url()`, want: `aGVsbG8=`},
		{expr: `base64.bytes(b"\xff\xfe\xfd").encode()`, want: `//79`},
		{expr: `base64.bytes(b"\xff\xfe\xfd").encode_url()`, want: `__79`},
		{expr: `base64.bytes(b"hello world").encode()`, want: `aGVsbG8gd29ybGQ=`},
		{expr: `base64.text("aGVsbG8=").decode()`, want: `b"hello"`},
		{expr: `base64.text("").decode()`, want: `b""`},
		{expr: `base64.text("TQ==").decode()`, want: `b"M"`},
		{name: "newlines ignored", expr: `base64.text("aGVs\r\nbG8=\n").decode()`, want: `b"hello"`},
		{expr: `base64.text("//79").decode()`, want: `b"\xff\xfe\xfd"`},
		{expr: `base64.text("__79").decode_url()`, want: `b"\xff\xfe\xfd"`},
		{expr: `base64.bytes(b"aGVsbG8=").decode_url()`, want: `b"hello"`},
		{name: "round trip binary", expr: `base64.text(base64.bytes(b"a\x00\n\tb").encode()).decode() == b"a\x00\n\tb"`, want: `True`},
		{name: "round trip 100 chars", expr: `base64.text(base64.text("x" * 100).encode()).decode() == bytes("x" * 100)`, want: `True`},
		{expr: `base64.text("!!!not-valid-base64!!!").decode()`, err: `base64.source.decode: illegal base64 data at input byte 0`},
		{name: "missing padding", expr: `base64.text("aGVsbG8").decode()`, err: `base64.source.decode: illegal base64 data at input byte 4`},
		{name: "data after padding", expr: `base64.text("TQ==TQ==").decode()`, err: `base64.source.decode: illegal base64 data at input byte 4`},
		{name: "url alphabet in std", expr: `base64.text("__79").decode()`, err: `base64.source.decode: illegal base64 data at input byte 0`},
		{name: "std alphabet in url", expr: `base64.text("//79").decode_url()`, err: `base64.source.decode_url: illegal base64 data at input byte 0`},
		{name: "space not ignored", expr: `base64.text("aGVs bG8=").decode()`, err: `base64.source.decode: illegal base64 data at input byte 4`},
		{expr: `base64.text("x").encode(1)`, err: `base64.source.encode: takes no arguments`},
		{expr: `base64.text("x").decode(k=1)`, err: `base64.source.decode: takes no arguments`},
		{expr: `base64.text("x").encode_url(1)`, err: `base64.source.encode_url: takes no arguments`},
		{expr: `base64.text("x").decode_url(1)`, err: `base64.source.decode_url: takes no arguments`},
		{expr: `base64.text("hello").try_encode()`, want: `Result(ok=True, value="aGVsbG8=")`},
		{expr: `base64.text("hello").try_encode_url()`, want: `Result(ok=True, value="aGVsbG8=")`},
		{expr: `base64.text("aGVsbG8=").try_decode()`, want: `Result(ok=True, value=b"hello")`},
		{expr: `base64.text("aGVsbG8=").try_decode_url()`, want: `Result(ok=True, value=b"hello")`},
		{expr: `base64.text("!!!not-valid-base64!!!").try_decode()`, want: `Result(ok=False, error="base64.source.decode: illegal base64 data at input byte 0")`},
		{expr: `base64.text("!!!invalid!!!").try_decode_url()`, want: `Result(ok=False, error="base64.source.decode_url: illegal base64 data at input byte 0")`},
		{expr: `base64.text("x").try_encode(1)`, want: `Result(ok=False, error="base64.source.encode: takes no arguments")`},
	})
}

func TestObjects(t *testing.T) {
	runCases(t, nil, []evalCase{
		{expr: `type(base64.text("x"))`, want: `base64.source`},
		{expr: `type(base64.bytes(b"x"))`, want: `base64.source`},
		{expr: `str(base64.text("hello"))`, want: `base64.source(5 bytes)`},
		{expr: `repr(base64.text(""))`, want: `base64.source(0 bytes)`},
		{expr: `bool(base64.text("x")), bool(base64.text(""))`, want: `(True, False)`},
		{expr: `{base64.text("x"): 1}`, err: `unhashable type: base64.source`},
		{expr: `dir(base64.text("x"))`, want: `["data", "decode", "decode_url", "encode", "encode_url", "try_decode", "try_decode_url", "try_encode", "try_encode_url"]`},
		{expr: `base64.text("x").try_data`, err: `base64.source has no .try_data field or method (did you mean .data?)`},
		{expr: `base64.text("x").nope`, err: `base64.source has no .nope field or method`},
		{expr: `type(base64.file("x"))`, want: `base64.file`},
		{expr: `str(base64.file("a\"b"))`, want: `base64.file("a\"b")`},
		{expr: `bool(base64.file("x")), bool(base64.file(""))`, want: `(True, False)`},
		{expr: `{base64.file("x"): 1}`, err: `unhashable type: base64.file`},
		{expr: `dir(base64.file("x"))`, want: `["decode", "decode_url", "encode", "encode_url", "path", "try_decode", "try_decode_url", "try_encode", "try_encode_url"]`},
		{expr: `base64.file("x").encode(1)`, err: `base64.file.encode: takes no arguments`},
		{expr: `base64.file("x").try_decode_url(1)`, want: `Result(ok=False, error="base64.file.decode_url: takes no arguments")`},
	})
}

func TestFiles(t *testing.T) {
	dir := tempDir(t)
	hello := writeFile(t, filepath.Join(dir, "hello.txt"), "hello\n")
	encoded := writeFile(t, filepath.Join(dir, "enc.txt"), "aGVsbG8=\n")
	urlEnc := writeFile(t, filepath.Join(dir, "url.txt"), "__79")
	wrapped := writeFile(t, filepath.Join(dir, "wrapped.txt"), "aGVs\r\nbG8g\r\nd29y\r\nbGQ=\r\n")
	bad := writeFile(t, filepath.Join(dir, "bad.txt"), "aGVs\nbG8=\nTQ==\n")
	empty := writeFile(t, filepath.Join(dir, "empty.txt"), "")
	missing := filepath.Join(dir, "missing.txt")
	runCases(t, nil, []evalCase{
		{name: "encode keeps trailing newline", expr: `base64.file(` + lit(hello) + `).encode()`, want: `aGVsbG8K`},
		{expr: `base64.file(` + lit(hello) + `).encode_url()`, want: `aGVsbG8K`},
		{name: "decode tolerates trailing newline", expr: `base64.file(` + lit(encoded) + `).decode()`, want: `b"hello"`},
		{expr: `base64.file(` + lit(urlEnc) + `).decode_url()`, want: `b"\xff\xfe\xfd"`},
		{name: "CRLF wrapped", expr: `base64.file(` + lit(wrapped) + `).decode()`, want: `b"hello world"`},
		{expr: `base64.file(` + lit(empty) + `).encode()`, want: ``},
		{expr: `base64.file(` + lit(empty) + `).decode()`, want: `b""`},
		{name: "bad offset counts newlines", expr: `base64.file(` + lit(bad) + `).decode()`, err: `base64.file.decode: illegal base64 data at input byte 10`},
		{expr: `base64.file(` + lit(urlEnc) + `).decode()`, err: `base64.file.decode: illegal base64 data at input byte 0`},
		{expr: `base64.file(` + lit(missing) + `).encode()`, err: `base64.file.encode: open ` + missing + `: no such file or directory`},
		{expr: `base64.file(` + lit(missing) + `).decode_url()`, err: `base64.file.decode_url: open ` + missing + `: no such file or directory`},
		{expr: `base64.file(` + lit(dir) + `).encode()`, err: `base64.file.encode: read ` + dir + `: is a directory`},
		{expr: `base64.file(` + lit(dir) + `).decode()`, err: `base64.file.decode: read ` + dir + `: is a directory`},
		{expr: `base64.file("").encode()`, err: `base64.file.encode: open : no such file or directory`},
		{expr: `base64.file(` + lit(hello) + `).try_encode()`, want: `Result(ok=True, value="aGVsbG8K")`},
		{expr: `base64.file(` + lit(encoded) + `).try_decode()`, want: `Result(ok=True, value=b"hello")`},
		{expr: `base64.file(` + lit(hello) + `).try_encode_url()`, want: `Result(ok=True, value="aGVsbG8K")`},
		{expr: `base64.file(` + lit(missing) + `).try_decode()`, want: `Result(ok=False, error="base64.file.decode: open ` + missing + `: no such file or directory")`},
	})

	t.Run("relative path named as given", func(t *testing.T) {
		t.Chdir(dir)
		_, msg, _ := eval(t, nil, "", `base64.file("nope.txt").encode()`)
		if msg != "base64.file.encode: open nope.txt: no such file or directory" {
			t.Fatalf("error = %q", msg)
		}
		got, msg, _ := eval(t, nil, "", `base64.file("hello.txt").encode()`)
		if got != "aGVsbG8K" || msg != "" {
			t.Fatalf("= %q, %q", got, msg)
		}
	})
}

// TestLargeFiles streams multi-megabyte files through encode and decode
// and compares with the standard library.
func TestLargeFiles(t *testing.T) {
	dir := tempDir(t)
	data := make([]byte, 6<<20+5)
	rand.Read(data)
	raw := filepath.Join(dir, "raw.bin")
	writeFile(t, raw, string(data))
	std := stdb64.StdEncoding.EncodeToString(data)
	url := stdb64.URLEncoding.EncodeToString(data)
	// MIME-style 76-column lines with CRLF
	var wrapped strings.Builder
	for i := 0; i < len(std); i += 76 {
		wrapped.WriteString(std[i:min(i+76, len(std))] + "\r\n")
	}
	enc := writeFile(t, filepath.Join(dir, "enc.txt"), wrapped.String())
	encURL := writeFile(t, filepath.Join(dir, "url.txt"), url)
	corrupt := []byte(wrapped.String())
	corrupt[len(corrupt)/2] = '*'
	bad := writeFile(t, filepath.Join(dir, "bad.txt"), string(corrupt))
	_, stdErr := stdb64.StdEncoding.DecodeString(string(corrupt))

	rt := newRuntime(t, nil)
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
	dir := tempDir(t)
	hello := writeFile(t, filepath.Join(dir, "hello.txt"), "hello")
	before := snapshot(t, dir)
	deny := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	for _, m := range []string{"encode", "encode_url", "decode", "decode_url"} {
		t.Run(m, func(t *testing.T) {
			_, msg, err := eval(t, deny, "", `base64.file(`+lit(hello)+`).`+m+`()`)
			if !libkite.IsPermissionError(err) || !strings.HasPrefix(msg, denied("read", "read_file", hello)) {
				t.Fatalf("error = %q (%T)", msg, err)
			}
			got, _, _ := eval(t, deny, "", `base64.file(`+lit(hello)+`).try_`+m+`()`)
			if !strings.HasPrefix(got, `Result(ok=False, error="permission denied: fs.read read_file(`) {
				t.Fatalf("try_ = %s", got)
			}
		})
	}
	runCases(t, deny, []evalCase{
		{name: "in-memory allowed", expr: `base64.text(base64.text("hi").encode()).decode()`, want: `b"hi"`},
		{name: "factory does no I/O", expr: `base64.try_file(` + lit(hello) + `).ok`, want: `True`},
	})
	t.Run("allow rule scoped to the file", func(t *testing.T) {
		cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"fs.read(read_file:" + hello + ")"}}}
		got, msg, _ := eval(t, cfg, "", `base64.file(`+lit(hello)+`).encode()`)
		if got != "aGVsbG8=" || msg != "" {
			t.Fatalf("= %q, %q", got, msg)
		}
		_, msg, _ = eval(t, cfg, "", `base64.file(`+lit(dir+"/other")+`).encode()`)
		if !strings.HasPrefix(msg, denied("read", "read_file", dir+"/other")) {
			t.Fatalf("error = %q", msg)
		}
	})
	sameSnapshot(t, before, snapshot(t, dir))
}

func TestDryRun(t *testing.T) {
	dir := tempDir(t)
	hello := writeFile(t, filepath.Join(dir, "hello.txt"), "aGVsbG8=")
	missing := filepath.Join(dir, "missing")
	dry := &libkite.Config{DryRun: true}
	// spec: the placeholder is returned before the permission check
	dryDeny := &libkite.Config{DryRun: true, Permissions: libkite.DenyAllPermissions()}
	for _, cfg := range []*libkite.Config{dry, dryDeny} {
		runCases(t, cfg, []evalCase{
			{expr: `base64.file(` + lit(hello) + `).encode()`, want: ``},
			{expr: `base64.file(` + lit(hello) + `).encode_url()`, want: ``},
			{expr: `base64.file(` + lit(hello) + `).decode()`, want: `b""`},
			{expr: `base64.file(` + lit(missing) + `).decode_url()`, want: `b""`},
			{expr: `base64.file(` + lit(missing) + `).try_decode()`, want: `Result(ok=True, value=b"")`},
			{name: "argument errors still raised", expr: `base64.file(` + lit(hello) + `).encode(1)`, err: `base64.file.encode: takes no arguments`},
			{name: "in-memory unaffected", expr: `base64.text("hello").encode()`, want: `aGVsbG8=`},
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
	suite, err := filepath.Abs(filepath.Join("..", "..", "..", "tests", "base64_test.star"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("trusted", func(t *testing.T) {
		rt := newRuntime(t, &libkite.Config{ScriptPath: suite})
		kitetest.RunConformance(t, rt, suite, 10)
	})
	t.Run("allow-all from repo root", func(t *testing.T) {
		t.Chdir(filepath.Join(filepath.Dir(suite), ".."))
		rt := newRuntime(t, &libkite.Config{ScriptPath: "tests/base64_test.star", Permissions: libkite.AllowAllPermissions()})
		kitetest.RunConformance(t, rt, "tests/base64_test.star", 10)
	})
}
