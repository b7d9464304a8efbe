package regexp_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kiteregexp "github.com/project-starkite/starkite/libkite/modules/regexp"
)

var kit = kitetest.Modules{kiteregexp.New}

type C = kitetest.Case

func TestModule(t *testing.T) {
	kit.RunCases(t, nil, []C{
		{Expr: `type(regexp)`, Want: "module"},
		{Expr: `dir(regexp)`, Want: `["compile", "find", "find_all", "match", "replace", "split", "try_compile", "try_find", "try_find_all", "try_match", "try_replace", "try_split"]`},
		{Expr: `regexp.try_nope`, ErrContains: true, Err: `module has no .try_nope field or method`},
	})
}

func TestMatch(t *testing.T) {
	kit.RunCases(t, nil, []C{
		{Expr: `regexp.match("ell", "hello")`, Want: "True"},
		{Expr: `regexp.match("xyz", "hello")`, Want: "False"},
		{Expr: `regexp.match("\\d+", "abc123")`, Want: "True"},
		{Expr: `regexp.match("^abc", "xabc")`, Want: "False"},
		{Expr: `regexp.match("^abc$", "abc")`, Want: "True"},
		{Expr: `regexp.match("\\bcat\\b", "a cat sat")`, Want: "True"},
		{Expr: `regexp.match("\\bcat\\b", "concatenate")`, Want: "False"},
		{Expr: `regexp.match("(?i)HELLO", "hello")`, Want: "True"},
		{Expr: `regexp.match("a\\.b", "axb")`, Want: "False"},
		{Expr: `regexp.match("a\\.b", "a.b")`, Want: "True"},
		{Expr: `regexp.match("\\$5", "cost $5")`, Want: "True"},
		{Expr: `regexp.match("", "")`, Want: "True"},
		{Expr: `regexp.match(pattern="b", s="abc")`, Want: "True"},
		{Name: "keyword wins", Expr: `regexp.match("a", "xyz", s="abc")`, Want: "True"},
		// binding
		{Expr: `regexp.match("a")`, Err: `regexp.match: missing required argument: s`},
		{Expr: `regexp.match("a", "a", "i")`, Err: `regexp.match: unexpected positional argument at index 2`},
		{Expr: `regexp.match("a", "a", flag="i")`, Err: `regexp.match: unknown keyword argument: flag`},
		{Expr: `regexp.match(1, "a")`, Err: `regexp.match: for parameter pattern: got int, want string`},
		{Expr: `regexp.match("a", b"a")`, Err: `regexp.match: for parameter s: got bytes, want string`},
		{Expr: `regexp.match("a", "a", flags=None)`, Err: `regexp.match: for parameter "flags": got NoneType, want string`},
		// errors
		{Expr: `regexp.match("[", "x")`, Err: "error parsing regexp: missing closing ]: `[`"},
		{Expr: `regexp.match("(a", "x", flags="i")`, Err: "error parsing regexp: missing closing ): `(a`"},
		{Expr: `regexp.match("a{2000}", "x")`, Err: "error parsing regexp: invalid repeat count: `{2000}`"},
		{Expr: `regexp.match("(?<=a)b", "ab")`, ErrContains: true, Err: "error parsing regexp: "},
		{Expr: `regexp.match("(a)\\1", "aa")`, Err: "error parsing regexp: invalid escape sequence: `\\1`"},
	})
}

func TestFlags(t *testing.T) {
	kit.RunCases(t, nil, []C{
		{Expr: `regexp.find("hello", "Say HELLO", flags="i").text`, Want: "HELLO"},
		{Expr: `regexp.find_all("^\\w+", "one\ntwo", flags="m")`, Want: `[one, two]`},
		{Expr: `regexp.find_all("^\\w+", "one\ntwo")`, Want: `[one]`},
		{Expr: `regexp.match("a.b", "a\nb")`, Want: "False"},
		{Expr: `regexp.match("a.b", "a\nb", flags="s")`, Want: "True"},
		{Expr: `regexp.find("a.+b", "aXXb aYb").text`, Want: "aXXb aYb"},
		{Expr: `regexp.find("a.+b", "aXXb aYb", flags="U").text`, Want: "aXXb"},
		{Expr: `regexp.find("A.+B", "aXXb aYb", flags="Ui").text`, Want: "aXXb"},
		{Expr: `regexp.match("A", "a", flags="iimsU")`, Want: "True"},
		{Expr: `regexp.match("a", "a", flags="")`, Want: "True"},
		{Expr: `regexp.match("a", "a", flags="z")`, Err: `regexp: unknown flag "z" (valid: i, m, s, U)`},
		{Expr: `regexp.match("a", "a", flags="u")`, Err: `regexp: unknown flag "u" (valid: i, m, s, U)`},
		{Expr: `regexp.match("a", "a", flags="ié")`, Err: `regexp: unknown flag "é" (valid: i, m, s, U)`},
		{Name: "flag checked before pattern", Expr: `regexp.match("[", "a", flags="iz")`, Err: `regexp: unknown flag "z" (valid: i, m, s, U)`},
		{Expr: `regexp.try_match("a", "a", flags="x").ok`, Want: "False"},
		{Expr: `regexp.compile("HELLO", flags="i").match("hello")`, Want: "True"},
		{Expr: `regexp.compile("HELLO", flags="i").pattern`, Want: "HELLO"},
	})
}

func TestFind(t *testing.T) {
	kit.RunCases(t, nil, []C{
		{Expr: `regexp.find("\\d+", "abc123def")`, Want: "123"},
		{Pre: `m = regexp.find("\\d+", "abc123def")`, Expr: `(m.text, m.start, m.end)`, Want: `("123", 3, 6)`},
		{Name: "byte offsets", Pre: `m = regexp.find("b", "éb")`, Expr: `(m.start, m.end)`, Want: `(2, 3)`},
		{Expr: `regexp.find("\\d+", "abc")`, Want: "None"},
		{Pre: `m = regexp.find("(\\w+)@(\\w+)", "mail bob@host now")`, Expr: `(m.group(), m.group(0), m.group(1), m.group(n=2))`, Want: `("bob@host", "bob@host", "bob", "host")`},
		{Pre: `m = regexp.find("(?P<user>\\w+)@(?P<host>\\w+)", "bob@host")`, Expr: `(m.group(name="user"), m.group(name="host"))`, Want: `("bob", "host")`},
		{Pre: `m = regexp.find("(a)(x)?", "ab")`, Expr: `(m.groups, m.group(2), m.group(n=0, name=""))`, Want: `(("a", "a", None), None, "a")`},
		{Name: "empty match is a Match", Pre: `m = regexp.find("a*", "b")`, Expr: `(m != None, m.text, m.start, m.end, bool(m))`, Want: `(True, "", 0, 0, True)`},
		{Expr: `regexp.find("(?i)(x)|(y)", "Y").groups`, Want: `("Y", None, "Y")`},
		// Match object
		{Pre: `m = regexp.find("b+", "abbc")`, Expr: `(type(m), str(m), repr(m), str([m]), dir(m))`,
			Want: `("regexp.match", "bb", "bb", "[bb]", ["end", "group", "groups", "start", "text"])`},
		{Expr: `{regexp.find("a", "a"): 1}`, Err: "unhashable type: regexp.match"},
		{Expr: `regexp.find("a", "a").try_group`, ErrContains: true, Err: "regexp.match has no .try_group field or method"},
		{Expr: `regexp.find("a", "a").nope`, Err: "regexp.match has no .nope field or method"},
		// group errors
		{Pre: `m = regexp.find("(a)(?P<n>b)", "ab")`, Expr: `m.group(1, name="n")`, Err: `regexp.match.group: cannot specify both n and name`},
		{Pre: `m = regexp.find("(a)(?P<n>b)", "ab")`, Expr: `m.group(name="zz")`, Err: `regexp.match.group: no group named "zz"`},
		{Pre: `m = regexp.find("(a)", "a")`, Expr: `m.group(5)`, Err: `regexp.match.group: index 5 out of range [0, 2)`},
		{Pre: `m = regexp.find("(a)", "a")`, Expr: `m.group(-1)`, Err: `regexp.match.group: index -1 out of range [0, 2)`},
		{Pre: `m = regexp.find("(a)", "a")`, Expr: `m.group(1 << 40)`, Err: `regexp.match.group: index 1099511627776 out of range [0, 2)`},
		{Pre: `m = regexp.find("(a)", "a")`, Expr: `m.group("a")`, Err: `regexp.match.group: for parameter n: got string, want int`},
		{Pre: `m = regexp.find("(a)", "a")`, Expr: `m.group(0, "a")`, Err: `regexp.match.group: unexpected positional argument at index 1`},
		{Pre: `m = regexp.find("(a)", "a")`, Expr: `m.group(True)`, Err: `regexp.match.group: for parameter n: got bool, want int`},
		{Pre: `m = regexp.find("(?P<n>a)", "a")`, Expr: `m.group(n=0, name="n")`, Want: "a"},
	})
}

func TestFindAll(t *testing.T) {
	kit.RunCases(t, nil, []C{
		{Expr: `[m.text for m in regexp.find_all("\\d+", "a1b22c333")]`, Want: `["1", "22", "333"]`},
		{Expr: `[(m.start, m.end) for m in regexp.find_all("\\d+", "a1b22")]`, Want: `[(1, 2), (3, 5)]`},
		{Expr: `regexp.find_all("\\d+", "abc")`, Want: `[]`},
		{Expr: `regexp.find_all("\\d", "12345", 2)`, Want: `[1, 2]`},
		{Expr: `regexp.find_all("\\d", "12345", n=2)`, Want: `[1, 2]`},
		{Expr: `regexp.find_all("\\d", "12345", n=0)`, Want: `[]`},
		{Expr: `regexp.find_all("\\d", "12345", n=-3)`, Want: `[1, 2, 3, 4, 5]`},
		{Expr: `[m.text for m in regexp.find_all("a*", "baaac")]`, Want: `["", "aaa", ""]`},
		{Expr: `[m.groups for m in regexp.find_all("(\\w)=(\\d)?", "a=1 b=")]`, Want: `[("a=1", "a", "1"), ("b=", "b", None)]`},
		{Expr: `regexp.find_all("\\d", "1", "2")`, Err: `regexp.find_all: for parameter n: got string, want int`},
		{Expr: `regexp.find_all("\\d", "1", 2, "i")`, Err: `regexp.find_all: unexpected positional argument at index 3`},
	})
}

func TestReplace(t *testing.T) {
	kit.RunCases(t, nil, []C{
		{Expr: `regexp.replace("o", "foo boo", "0")`, Want: "f00 b00"},
		{Expr: `regexp.replace("(\\w+)@(\\w+)", "bob@host", "$2 at $1")`, Want: "host at bob"},
		{Expr: `regexp.replace("(\\w+)", "ab", "${1}x")`, Want: "abx"},
		{Expr: `regexp.replace("(\\w+)", "ab", "$1x")`, Want: ""},
		{Expr: `regexp.replace("(?P<w>\\w+)", "ab", "<$w>")`, Want: "<ab>"},
		{Expr: `regexp.replace("(?P<w>\\w+)", "ab", "<${w}>")`, Want: "<ab>"},
		{Expr: `regexp.replace("a", "a", "$$")`, Want: "$"},
		{Expr: `regexp.replace("a", "a", "$9")`, Want: ""},
		{Expr: `regexp.replace("x*", "abc", "-")`, Want: "-a-b-c-"},
		{Expr: `regexp.replace("A", "aA", "_", flags="i")`, Want: "__"},
		{Expr: `regexp.replace("a", "b")`, Err: `regexp.replace: missing required argument: repl`},
		{Expr: `regexp.replace("a", "b", 1)`, Err: `regexp.replace: for parameter repl: got int, want string`},
	})
}

func TestSplit(t *testing.T) {
	kit.RunCases(t, nil, []C{
		{Expr: `regexp.split("\\s+", "a  b\tc\nd")`, Want: `["a", "b", "c", "d"]`},
		{Expr: `regexp.split(",", "abc")`, Want: `["abc"]`},
		{Expr: `regexp.split(",", "a,b,c,d", n=2)`, Want: `["a", "b,c,d"]`},
		{Expr: `regexp.split(",", "a,b,c,d", 3)`, Want: `["a", "b", "c,d"]`},
		{Expr: `regexp.split(",", "a,b", n=0)`, Want: `[]`},
		{Expr: `regexp.split("", "abc")`, Want: `["a", "b", "c"]`},
		{Expr: `regexp.split("x*", "axbc")`, Want: `["a", "b", "c"]`},
		{Expr: `regexp.split(",", "")`, Want: `[""]`},
		{Expr: `regexp.split(",", ",a,")`, Want: `["", "a", ""]`},
		{Expr: `regexp.split("X", "axb", flags="i")`, Want: `["a", "b"]`},
		{Expr: `regexp.split(",", "a", n=None)`, Err: `regexp.split: for parameter "n": got NoneType, want int`},
	})
}

func TestPattern(t *testing.T) {
	kit.RunCases(t, nil, []C{
		{Pre: `p = regexp.compile("\\d+")`, Expr: `(type(p), str(p), repr(p), bool(p), p.pattern)`,
			Want: `("regexp.pattern", "regexp.pattern(\"\\\\d+\")", "regexp.pattern(\"\\\\d+\")", True, "\\d+")`},
		{Expr: `str(regexp.compile("a\"b"))`, Want: `regexp.pattern("a\"b")`},
		{Expr: `dir(regexp.compile("a"))`, Want: `["find", "find_all", "group_count", "group_names", "match", "pattern", "replace", "split", "try_find", "try_find_all", "try_match", "try_replace", "try_split"]`},
		{Pre: `p = regexp.compile("(?P<year>\\d{4})-(\\d{2})-(?P<day>\\d{2})")`, Expr: `(p.group_count, p.group_names)`, Want: `(3, ["year", "day"])`},
		{Expr: `(regexp.compile("abc").group_count, regexp.compile("abc").group_names)`, Want: `(0, [])`},
		{Pre: `p = regexp.compile("(\\w)(\\d)")`, Expr: `(p.match("a1"), p.match("zz"), p.find("xa1").groups, [m.text for m in p.find_all("a1b2c3", 2)], p.replace("a1 b2", "$2$1"), p.split("za1yb2x"), p.split("za1yb2x", n=2))`,
			Want: `(True, False, ("a1", "a", "1"), ["a1", "b2"], "1a 2b", ["z", "y", "x"], ["z", "yb2x"])`},
		{Pre: `p = regexp.compile("\\d")`, Expr: `(p.find_all("12", n=0), p.find("x"))`, Want: `([], None)`},
		{Pre: `p = regexp.compile("\\d")`, Expr: `(p.try_find("a5").value.text, p.try_match("5").value, p.try_find_all("12").value, p.try_replace("1", "x").value, p.try_split("a1b").value)`,
			Want: `("5", True, [1, 2], "x", ["a", "b"])`},
		{Pre: `p = regexp.compile("\\d")`, Expr: `p.try_find(1)`, Want: `Result(ok=False, error="regexp.pattern.find: for parameter s: got int, want string")`},
		{Pre: `p = regexp.compile("\\d")`, Expr: `p.try_find("x")`, Want: `Result(ok=True, value=None)`},
		{Pre: `p = regexp.compile("\\d")`, Expr: `p.match("1", flags="i")`, Err: `regexp.pattern.match: unknown keyword argument: flags`},
		{Pre: `p = regexp.compile("\\d")`, Expr: `p.match()`, Err: `regexp.pattern.match: missing required argument: s`},
		{Pre: `p = regexp.compile("\\d")`, Expr: `p.replace("1")`, Err: `regexp.pattern.replace: missing required argument: repl`},
		{Pre: `p = regexp.compile("\\d")`, Expr: `p.nope`, Err: `regexp.pattern has no .nope field or method`},
		{Pre: `p = regexp.compile("\\d")`, Expr: `p.try_pattern`, ErrContains: true, Err: `regexp.pattern has no .try_pattern field or method`},
		{Expr: `{regexp.compile("a"): 1}`, Err: `unhashable type: regexp.pattern`},
		{Expr: `regexp.compile("a", "i")`, Err: `regexp.compile: unexpected positional argument at index 1`},
		{Expr: `regexp.compile()`, Err: `regexp.compile: missing required argument: pattern`},
		{Expr: `regexp.compile("(")`, Err: "error parsing regexp: missing closing ): `(`"},
		{Expr: `regexp.compile("a", flags="q")`, Err: `regexp: unknown flag "q" (valid: i, m, s, U)`},
		{Name: "duplicate names: leftmost wins", Pre: `p = regexp.compile("(?P<a>x)(?P<a>y)")`, Expr: `(p.group_names, p.find("xy").group(name="a"))`, Want: `(["a", "a"], "x")`},
	})
}

func TestTry(t *testing.T) {
	kit.RunCases(t, nil, []C{
		{Pre: `r = regexp.try_compile("[")`, Expr: `(r.ok, r.value, "error parsing regexp" in r.error)`, Want: `(False, None, True)`},
		{Expr: `regexp.try_compile("a").value.pattern`, Want: "a"},
		{Expr: `regexp.try_find("\\d", "a1").value.text`, Want: "1"},
		{Expr: `regexp.try_find("\\d", "a")`, Want: `Result(ok=True, value=None)`},
		{Expr: `regexp.try_match("(", "a")`, Want: "Result(ok=False, error=\"error parsing regexp: missing closing ): `(`\")"},
		{Expr: `regexp.try_match("a", "a")`, Want: `Result(ok=True, value=True)`},
		{Expr: `regexp.try_find_all("a", "aa").value`, Want: `[a, a]`},
		{Expr: `regexp.try_replace("a", "aa", "b").value`, Want: "bb"},
		{Expr: `regexp.try_split("a", "bab").value`, Want: `["b", "b"]`},
		{Expr: `regexp.try_split("a")`, Want: `Result(ok=False, error="regexp.split: missing required argument: s")`},
		{Expr: `regexp.try_match("a", "a", flags="z").error`, Want: `regexp: unknown flag "z" (valid: i, m, s, U)`},
	})
}

// TestLinearTime: RE2 has no catastrophic backtracking, so patterns that
// hang backtracking engines run in linear time over large inputs.
func TestLinearTime(t *testing.T) {
	big := strings.Repeat("a", 200_000) + "!"
	start := time.Now()
	kit.RunCases(t, nil, []C{
		{Pre: "s = " + kitetest.Lit(big), Expr: `regexp.match("^(a+)+$", s)`, Want: "False"},
		{Pre: "s = " + kitetest.Lit(big), Expr: `regexp.match("^(a|aa)*$", s)`, Want: "False"},
		{Pre: "s = " + kitetest.Lit(big), Expr: `regexp.match("(x+x+)+y", s)`, Want: "False"},
		{Pre: "s = " + kitetest.Lit(big), Expr: `len(regexp.find_all("a", s))`, Want: "200000"},
		{Pre: "s = " + kitetest.Lit(big), Expr: `len(regexp.replace("a", s, "bb"))`, Want: "400001"},
		{Pre: "s = " + kitetest.Lit(big), Expr: `regexp.find("a!", s).start`, Want: "199999"},
	})
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("large inputs took %v", d)
	}
}

func TestCompileCache(t *testing.T) {
	kiteregexp.ResetCache()
	a, err := kiteregexp.Compile(`\d+`, "")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := kiteregexp.Compile(`\d+`, "")
	c, _ := kiteregexp.Compile(`\d+`, "i")
	if a != b {
		t.Error("same pattern and flags compiled twice")
	}
	if a == c {
		t.Error("flags ignored by the cache key")
	}
	if !c.MatchString("7") || c.String() != `(?i)\d+` {
		t.Errorf("flagged pattern = %s", c)
	}
	if _, err := kiteregexp.Compile("[", ""); err == nil {
		t.Error("bad pattern compiled")
	}
	if n := kiteregexp.CacheLen(); n != 2 {
		t.Errorf("cache holds %d entries, want 2 (errors are not cached)", n)
	}
	for i := range 3 * kiteregexp.CacheSize {
		if _, err := kiteregexp.Compile(fmt.Sprintf("p%d", i), ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := kiteregexp.CacheLen(); n != kiteregexp.CacheSize {
		t.Errorf("cache holds %d entries, want the bound %d", n, kiteregexp.CacheSize)
	}
	// recently used entries survive eviction
	hot, _ := kiteregexp.Compile("hot", "")
	for i := range kiteregexp.CacheSize - 1 {
		kiteregexp.Compile(fmt.Sprintf("q%d", i), "")
	}
	if again, _ := kiteregexp.Compile("hot", ""); again != hot {
		t.Error("recent entry evicted")
	}
}

// TestConcurrentUse shares the cache and compiled patterns between
// threads (run with -race).
func TestConcurrentUse(t *testing.T) {
	d, err := kiteregexp.New().Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	mod := d["regexp"].(*libkite.ModuleValue).Members()
	p, err := starlark.Call(new(starlark.Thread), mod["compile"], starlark.Tuple{starlark.String(`(\w+)=(\d+)`)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	find, _ := p.(starlark.HasAttrs).Attr("find")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			th := new(starlark.Thread)
			for i := range 200 {
				s := starlark.String(fmt.Sprintf("k%d=%d", g, i))
				pat := starlark.String(fmt.Sprintf(`k%d=(\d+)`, i%40))
				if _, err := starlark.Call(th, mod["match"], starlark.Tuple{pat, s}, nil); err != nil {
					t.Error(err)
					return
				}
				m, err := starlark.Call(th, find, starlark.Tuple{s}, nil)
				if err != nil || m.String() != string(s) {
					t.Errorf("find = %v, %v", m, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestConformance(t *testing.T) {
	file := filepath.Join("..", "..", "..", "tests", "regexp_test.star")
	kitetest.RunConformance(t, kit.Runtime(t, nil), file, 10)
}

// BenchmarkMatchCached is the module hot path: regexp.match with a
// pattern already in the compile cache (binding + lookup + match).
func BenchmarkMatchCached(b *testing.B) {
	d, _ := kiteregexp.New().Load(nil)
	match := d["regexp"].(*libkite.ModuleValue).Members()["match"]
	th := new(starlark.Thread)
	args := starlark.Tuple{starlark.String(`^\w+@[\w.]+\.com$`), starlark.String("someone@example.com")}
	for b.Loop() {
		if v, err := starlark.Call(th, match, args, nil); err != nil || v != starlark.True {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkPatternFindAll: a compiled Pattern's find_all over 10 KB.
func BenchmarkPatternFindAll(b *testing.B) {
	d, _ := kiteregexp.New().Load(nil)
	th := new(starlark.Thread)
	p, _ := starlark.Call(th, d["regexp"].(*libkite.ModuleValue).Members()["compile"], starlark.Tuple{starlark.String(`(\w+)=(\d+)`)}, nil)
	findAll, _ := p.(starlark.HasAttrs).Attr("find_all")
	text := strings.Repeat("key=123 ", 1250)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := starlark.Call(th, findAll, starlark.Tuple{starlark.String(text)}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScriptMatchLoop: 1000 regexp.match calls from a script.
func BenchmarkScriptMatchLoop(b *testing.B) {
	rt := kit.Runtime(b, nil)
	src := "def f():\n    n = 0\n    for i in range(1000):\n        if regexp.match(\"^item-\\\\d+$\", \"item-%d\" % i):\n            n += 1\n    return n\n"
	for b.Loop() {
		if got, msg, _ := kitetest.Eval(rt, src, "f()"); got != "1000" {
			b.Fatal(got, msg)
		}
	}
}
