package table_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/table"
)

var kit = kitetest.Modules{table.New}

const hostUp = `t = table.new(["Host", "Up"])
t.add_row("web-1", True)
t.add_row("db", 0)`

func TestModule(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `dir(table)`, Want: `["new", "print"]`},
		{Expr: `str(table)`, Want: `<module "table">`},
		{Expr: `table.try_new`, Err: "module has no .try_new field or method", ErrContains: true},
		// new
		{Expr: `type(table.new(["a"]))`, Want: "table"},
		{Expr: `table.new(["a", "b"], x=1)`, Want: "<table 2 cols, 0 rows>"},
		{Expr: `table.new()`, Err: "new: expected 1 argument (headers), got 0"},
		{Expr: `table.new(headers=["a"])`, Err: "new: expected 1 argument (headers), got 0"},
		{Expr: `table.new(["a"], ["b"])`, Err: "new: expected 1 argument (headers), got 2"},
		{Expr: `table.new(("a",))`, Err: "new: argument must be a list, got tuple"},
		{Expr: `table.new("a")`, Err: "new: argument must be a list, got string"},
		{Expr: `table.new(["a", 1])`, Err: "headers must be strings"},
		// print
		{Expr: `table.print()`, Err: "print: expected 1 argument (table), got 0"},
		{Expr: `table.print(1)`, Err: "print: argument must be a table, got int"},
		{Pre: hostUp, Expr: `table.print(t, t)`, Err: "print: expected 1 argument (table), got 2"},
		{Pre: hostUp, Expr: `table.print(t)`, Want: "None"},
	})
}

func TestObject(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Pre: hostUp, Expr: `t.render()`, Want: "Host  | Up  \n------+-----\nweb-1 | True\ndb    | 0   \n"},
		{Pre: hostUp, Expr: `str(t)`, Want: "<table 2 cols, 2 rows>"},
		{Pre: hostUp, Expr: `repr(t)`, Want: "<table 2 cols, 2 rows>"},
		{Pre: hostUp, Expr: `t.row_count`, Want: "2"},
		{Pre: hostUp, Expr: `bool(t)`, Want: "True"},
		{Expr: `bool(table.new(["a"]))`, Want: "False"},
		{Pre: hostUp, Expr: `dir(t)`, Want: `["add_row", "render", "row_count"]`},
		{Pre: hostUp, Expr: `{t: 1}`, Err: "unhashable type: table"},
		{Pre: hostUp, Expr: `t.try_render`, Err: "table has no .try_render field or method", ErrContains: true},
		{Pre: hostUp, Expr: `t.nope`, Err: "table has no .nope field or method", ErrContains: true},
		{Name: "cells via str", Pre: `t = table.new(["a", "b", "c", "d"])` + "\n" + `t.add_row(3, None, True, [1, "x"])`,
			Expr: `t.render()`, Want: "a | b    | c    | d       \n--+------+------+---------\n3 | None | True | [1, \"x\"]\n"},
		{Name: "kwargs ignored", Pre: `t = table.new(["a"])` + "\n" + `t.add_row("x", y=1)`, Expr: `t.render()`, Want: "a\n-\nx\n"},
		{Name: "short row", Pre: `t = table.new(["aa", "bb", "cc"])` + "\n" + `t.add_row("x")`,
			Expr: `t.render()`, Want: "aa | bb | cc\n---+----+---\nx \n"},
		{Name: "empty row", Pre: `t = table.new(["aa", "b"])` + "\n" + `t.add_row()`,
			Expr: `t.render()`, Want: "aa | b\n---+--\n\n"},
		{Name: "no rows", Expr: `table.new(["Name", "Value"]).render()`, Want: "Name | Value\n-----+------\n"},
		{Name: "zero headers", Expr: `table.new([]).render()`, Want: "\n\n"},
		{Name: "zero headers, empty row", Pre: `t = table.new([])` + "\n" + `t.add_row()`, Expr: `t.render()`, Want: "\n\n\n"},
		{Name: "empty header", Expr: `table.new(["", "x"]).render()`, Want: " | x\n-+--\n"},
		{Name: "too many values", Pre: `t = table.new(["a"])`, Expr: `t.add_row(1, 2)`, Err: "add_row: got 2 values, table has 1 columns"},
		{Name: "too many, zero headers", Pre: `t = table.new([])`, Expr: `t.add_row("x")`, Err: "add_row: got 1 values, table has 0 columns"},
		{Name: "render takes no arguments", Pre: hostUp, Expr: `t.render(1)`, Err: "table.render takes no arguments"},
		{Name: "headers list copied", Pre: "h = [\"a\"]\nt = table.new(h)\nh.append(\"b\")", Expr: `str(t)`, Want: "<table 1 cols, 0 rows>"},
		{Name: "wide unicode aligned by display width", Pre: "t = table.new([\"名前\", \"x\"])\nt.add_row(\"ab\", \"é\")\nt.add_row(\"🚀\", \"日本\")",
			Expr: `t.render()`, Want: "名前 | x   \n-----+-----\nab   | é   \n🚀   | 日本\n"},
	})
}

func TestFrozen(t *testing.T) {
	// Globals of a finished Execute are frozen; later programs see them.
	rt := kit.Runtime(t, nil)
	if err := rt.Execute(context.Background(), "T = table.new([\"a\"])\nT.add_row(\"x\")"); err != nil {
		t.Fatal(err)
	}
	got, msg, _ := kitetest.Eval(rt, "", `(T.row_count, T.render())`)
	if msg != "" || got != `(1, "a\n-\nx\n")` {
		t.Fatalf("frozen table read = %s, %q", got, msg)
	}
	_, msg, _ = kitetest.Eval(rt, "", `T.add_row("y")`)
	if msg != "add_row: cannot modify frozen table" {
		t.Fatalf("add_row on frozen table: error %q", msg)
	}
}

func TestPrint(t *testing.T) {
	rt, out := kit.New(t, nil)
	err := rt.Execute(context.Background(), hostUp+"\ntable.print(t)\nprint(\"after\")")
	if err != nil {
		t.Fatal(err)
	}
	want := "Host  | Up  \n------+-----\nweb-1 | True\ndb    | 0   \nafter"
	if got := out.String(); got != want {
		t.Fatalf("printed\n%q\nwant\n%q", got, want)
	}
}

func TestDisplayWidth(t *testing.T) {
	cases := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"a\tb", 3},            // ASCII: one column per byte
		{"é", 1},               // precomposed
		{"e\u0301", 1},         // combining acute
		{"日本語", 6},             // CJK
		{"한국", 4},              // Hangul syllables
		{"\u1100\u1161", 2},    // conjoining jamo: L + V
		{"ｱ", 1},               // halfwidth katakana
		{"Ａ", 2},               // fullwidth Latin
		{"🚀", 2},               // emoji
		{"👍🏽", 2},              // emoji + skin tone
		{"👨\u200d👩\u200d👧", 2}, // ZWJ family
		{"🇯🇵", 2},              // flag: regional indicator pair
		{"🇯🇵🇫🇷", 4},            // two flags
		{"❤", 1},               // text presentation
		{"❤\ufe0f", 2},         // emoji presentation via VS16
		{"#\ufe0f\u20e3", 2},   // keycap
		{"\u200b", 0},          // zero width space
		{"か\u3099", 2},         // combining kana voiced mark inside a wide block
		{"\u00ad", 0},          // soft hyphen (Cf)
		{"\u0085", 0},          // C1 control
		{"Ω", 1},               // ambiguous width → narrow
		{"\U00020000", 2},      // CJK Extension B
		{"\xff", 1},            // invalid UTF-8: one replacement column
	}
	for _, c := range cases {
		if got := table.DisplayWidth(c.in); got != c.want {
			t.Errorf("DisplayWidth(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestRenderASCIIIsByteWidth(t *testing.T) {
	// For ASCII the layout is the spec's byte-width rule exactly.
	tbl := table.NewTable([]string{"id", "description"})
	if err := tbl.AddRow([]string{"1", "a much longer value than the header"}); err != nil {
		t.Fatal(err)
	}
	if err := tbl.AddRow([]string{"12345"}); err != nil {
		t.Fatal(err)
	}
	want := "id    | description                        \n" +
		"------+------------------------------------\n" +
		"1     | a much longer value than the header\n" +
		"12345\n"
	if got := tbl.Render(); got != want {
		t.Fatalf("Render =\n%q\nwant\n%q", got, want)
	}
	for _, line := range strings.Split(strings.TrimSuffix(want, "\n"), "\n")[:3] {
		if len(line) != len(strings.Split(want, "\n")[0]) {
			t.Fatalf("line %q has the wrong length", line)
		}
	}
}

func TestConformance(t *testing.T) {
	file := filepath.Join("..", "..", "..", "tests", "table_test.star")
	rt := kit.Runtime(t, &libkite.Config{ScriptPath: file})
	kitetest.RunConformance(t, rt, file, 6)
}

func TestRenderLongPadding(t *testing.T) {
	long := strings.Repeat("x", 75)
	tbl := table.NewTable([]string{"h", "i"})
	if err := tbl.AddRow([]string{long, "y"}); err != nil {
		t.Fatal(err)
	}
	want := "h" + strings.Repeat(" ", 74) + " | i\n" + strings.Repeat("-", 75) + "-+--\n" + long + " | y\n"
	if got := tbl.Render(); got != want {
		t.Fatalf("Render =\n%q\nwant\n%q", got, want)
	}
}
