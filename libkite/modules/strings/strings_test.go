package strings_test

import (
	"path/filepath"
	stdstrings "strings"
	"testing"
	"testing/quick"
	"unicode/utf8"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"

	"github.com/project-starkite/starkite/libkite/kitetest"
	kitestrings "github.com/project-starkite/starkite/libkite/modules/strings"
)

var kit = kitetest.Modules{kitestrings.New}

type C = kitetest.Case

func TestModule(t *testing.T) {
	kit.RunCases(t, nil, []C{
		{Expr: `type(strings)`, Want: "module"},
		{Expr: `str(strings)`, Want: `<module "strings">`},
		{Expr: `dir(strings)`, Want: `["center", "cut", "equal", "has_any", "ljust", "quote", "rjust", "unquote"]`},
		{Name: "no try_ forms", Expr: `hasattr(strings, "try_ljust")`, Want: "False"},
		{Expr: `strings.try_ljust("a", 2)`, Err: `module has no .try_ljust field or method (did you mean .ljust?)`},
	})
}

func TestPadding(t *testing.T) {
	kit.RunCases(t, nil, []C{
		{Expr: `strings.ljust("id", 5)`, Want: "id   "},
		{Expr: `strings.rjust("7", 3, "0")`, Want: "007"},
		{Expr: `strings.center("ab", 6, "=")`, Want: "==ab=="},
		{Expr: `strings.center("ab", 5)`, Want: " ab  "},
		{Expr: `strings.center("ab", 7, "-")`, Want: "--ab---"},
		{Expr: `strings.center("", 3, "*")`, Want: "***"},
		{Expr: `strings.ljust("toolong", 3)`, Want: "toolong"},
		{Expr: `strings.rjust("abc", 3)`, Want: "abc"},
		{Expr: `strings.center("abc", -5)`, Want: "abc"},
		{Expr: `strings.ljust("ab", 4, "xy")`, Want: "abxyxy"},
		{Expr: `strings.rjust("ab", 4, "xy")`, Want: "xyxyab"},
		{Expr: `strings.center("a", 4, "xy")`, Want: "xyaxyxy"},
		{Expr: `strings.ljust("ab", 10, "")`, Want: "ab"},
		{Expr: `strings.center("é", 4, "*")`, Want: "*é**"},
		{Expr: `strings.rjust("日本", 4, "・")`, Want: "・・日本"},
		{Expr: `strings.ljust(s="a", width=3, fillchar=".")`, Want: "a.."},
		{Name: "keyword wins over positional", Expr: `strings.ljust("a", 3, width=4)`, Want: "a   "},
		{Name: "keyword wins for first param", Expr: `strings.cut("a-b", "-", s="x-y")`, Want: `("x", "y", True)`},
		{Expr: `strings.ljust("a")`, Err: `strings.ljust: missing required argument: width`},
		{Expr: `strings.ljust(width=3)`, Err: `strings.ljust: missing required argument: s`},
		{Expr: `strings.ljust("a", 3, " ", 1)`, Err: `strings.ljust: unexpected positional argument at index 3`},
		{Expr: `strings.rjust("a", 3, fill="x")`, Err: `strings.rjust: unknown keyword argument: fill`},
		{Expr: `strings.ljust("a", "3")`, Err: `strings.ljust: for parameter width: got string, want int`},
		{Expr: `strings.ljust("a", 3.0)`, Err: `strings.ljust: for parameter width: got float, want int`},
		{Expr: `strings.ljust("a", True)`, Err: `strings.ljust: for parameter width: got bool, want int`},
		{Expr: `strings.ljust(1, 3)`, Err: `strings.ljust: for parameter s: got int, want string`},
		{Expr: `strings.ljust(b"a", 3)`, Err: `strings.ljust: for parameter s: got bytes, want string`},
		{Expr: `strings.center("a", 3, None)`, Err: `strings.center: for parameter fillchar: got NoneType, want string`},
		{Expr: `strings.ljust("a", 1 << 70)`, ErrContains: true, Err: `strings.ljust: for parameter width: `},
		{Expr: `strings.ljust("a", 1 << 40)`, Err: `strings.ljust: excessive padding (1099511627775 * 1 bytes)`},
		{Expr: `strings.center("a", 1 << 28, "0123456789")`, Err: `strings.center: excessive padding (268435455 * 10 bytes)`},
	})
}

func TestPadGo(t *testing.T) {
	for _, c := range []struct {
		s, fill string
		width   int
		mode    kitestrings.PadMode
		want    string
	}{
		{"x", "-", 4, kitestrings.PadLeft, "x---"},
		{"x", "-", 4, kitestrings.PadRight, "---x"},
		{"x", "-", 4, kitestrings.PadCenter, "-x--"},
		{"x", "-", 5, kitestrings.PadCenter, "--x--"},
		{"\xff", "-", 2, kitestrings.PadLeft, "\xff-"}, // invalid byte = one code point
	} {
		got, err := kitestrings.Pad(c.s, c.width, c.fill, c.mode)
		if err != nil || got != c.want {
			t.Errorf("Pad(%q, %d, %q, %d) = %q, %v; want %q", c.s, c.width, c.fill, c.mode, got, err, c.want)
		}
	}
}

func TestCutEqualHasAny(t *testing.T) {
	kit.RunCases(t, nil, []C{
		{Expr: `strings.cut("key=value=x", "=")`, Want: `("key", "value=x", True)`},
		{Expr: `strings.cut("novalue", "=")`, Want: `("novalue", "", False)`},
		{Expr: `strings.cut("abc", "")`, Want: `("", "abc", True)`},
		{Expr: `strings.cut("a::b", "::")`, Want: `("a", "b", True)`},
		{Expr: `strings.cut(s="a-b", sep="-")`, Want: `("a", "b", True)`},
		{Expr: `strings.cut("a")`, Err: `strings.cut: missing required argument: sep`},
		{Expr: `strings.cut("a", 1)`, Err: `strings.cut: for parameter sep: got int, want string`},

		{Expr: `strings.equal("GoLang", "golang")`, Want: "True"},
		{Expr: `strings.equal("ǅ", "ǆ")`, Want: "True"},
		{Expr: `strings.equal("Straße", "STRASSE")`, Want: "False"},
		{Expr: `strings.equal("go", "gone")`, Want: "False"},
		{Expr: `strings.equal("", "")`, Want: "True"},
		{Expr: `strings.equal(s="A", t="a")`, Want: "True"},
		{Expr: `strings.equal("a", u="a")`, Err: `strings.equal: unknown keyword argument: u`},
		{Expr: `strings.equal("a", None)`, Err: `strings.equal: for parameter t: got NoneType, want string`},

		{Expr: `strings.has_any("hello", "aeiou")`, Want: "True"},
		{Expr: `strings.has_any("rhythm", "aeiou")`, Want: "False"},
		{Expr: `strings.has_any("abc", "")`, Want: "False"},
		{Expr: `strings.has_any("", "abc")`, Want: "False"},
		{Expr: `strings.has_any("naïve", "ï")`, Want: "True"},
		{Expr: `strings.has_any("abc", chars="xyzc")`, Want: "True"},
		{Expr: `strings.has_any("abc", "a", "b")`, Err: `strings.has_any: unexpected positional argument at index 2`},
	})
}

func TestQuote(t *testing.T) {
	kit.RunCases(t, nil, []C{
		{Expr: `strings.quote("a\tb")`, Want: `"a\tb"`},
		{Expr: `len(strings.quote("a\tb"))`, Want: "6"},
		{Expr: `strings.quote("say \"hi\" \\ bye")`, Want: `"say \"hi\" \\ bye"`},
		{Expr: `strings.quote("line\nnext\r\x00\x7f")`, Want: `"line\nnext\r\x00\x7f"`},
		{Expr: `strings.quote("héllo 日本 ✓")`, Want: `"héllo 日本 ✓"`},
		{Expr: `strings.quote("\u200b")`, Want: `"\u200b"`},
		{Expr: `strings.quote("")`, Want: `""`},
		{Expr: `strings.quote(1)`, Err: `strings.quote: for parameter s: got int, want string`},

		{Expr: `strings.unquote("\"a\\tb\"")`, Want: "a\tb"},
		{Expr: `strings.unquote("\"\\u00e9\\x41\"")`, Want: "éA"},
		{Expr: "strings.unquote(\"`raw \\\\n`\")", Want: `raw \n`},
		{Expr: `strings.unquote("'x'")`, Want: "x"},
		{Expr: `strings.unquote("'\\n'")`, Want: "\n"},
		{Expr: `strings.unquote("'ab'")`, Err: "invalid syntax"},
		{Expr: `strings.unquote("plain")`, Err: "invalid syntax"},
		{Expr: `strings.unquote("\"unterminated")`, Err: "invalid syntax"},
		{Expr: `strings.unquote("\"bad \\q escape\"")`, Err: "invalid syntax"},
		{Expr: `strings.unquote("")`, Err: "invalid syntax"},
		{Expr: `strings.unquote()`, Err: `strings.unquote: missing required argument: s`},
		{Name: "round trip", Pre: `x = "a\n\tb \"q\" \\ é \x01"`, Expr: `strings.unquote(strings.quote(x)) == x`, Want: "True"},
	})
}

// member returns the strings module's builtin name.
func member(t testing.TB, name string) starlark.Value {
	t.Helper()
	d, err := kitestrings.New().Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	return d["strings"].(*libkite.ModuleValue).Members()[name]
}

// TestQuoteRoundTrip checks unquote(quote(x)) == x for arbitrary byte
// strings, invalid UTF-8 included (which a script literal cannot hold, so
// the builtins are called directly).
func TestQuoteRoundTrip(t *testing.T) {
	quote, unquote := member(t, "quote"), member(t, "unquote")
	thread := new(starlark.Thread)
	f := func(b []byte) bool {
		q, err := starlark.Call(thread, quote, starlark.Tuple{starlark.String(b)}, nil)
		if err != nil {
			return false
		}
		if !utf8.ValidString(string(q.(starlark.String))) {
			return false // quote's output is always valid UTF-8 (ASCII escapes)
		}
		back, err := starlark.Call(thread, unquote, starlark.Tuple{q}, nil)
		return err == nil && string(back.(starlark.String)) == string(b)
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 2000}); err != nil {
		t.Fatal(err)
	}
	for _, x := range []string{"\xff\xfe", "\x00", "\u2028", "😀", stdstrings.Repeat("\t", 3), "\"'`"} {
		if !f([]byte(x)) {
			t.Errorf("round trip failed for %q", x)
		}
	}
}

func TestConformance(t *testing.T) {
	file := filepath.Join("..", "..", "..", "tests", "strings_test.star")
	kitetest.RunConformance(t, kit.Runtime(t, nil), file, 8)
}

func BenchmarkCenter(b *testing.B) {
	for b.Loop() {
		if _, err := kitestrings.Pad("header", 40, "=", kitestrings.PadCenter); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScriptLjust measures a padding call from a script (binding
// included): 1000 calls per iteration.
func BenchmarkScriptLjust(b *testing.B) {
	rt := kit.Runtime(b, nil)
	src := "def f():\n    for i in range(1000):\n        strings.ljust(str(i), 8, \".\")\nf()\n"
	for b.Loop() {
		if _, msg, _ := kitetest.Eval(rt, src, "None"); msg != "" {
			b.Fatal(msg)
		}
	}
}
