package time_test

import (
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	kitetime "github.com/project-starkite/starkite/libkite/modules/time"
)

// member returns the builtin time.<name> as a script sees it.
func member(b *testing.B, name string) *starlark.Builtin {
	b.Helper()
	d, err := kitetime.New().Load(&libkite.ModuleConfig{})
	if err != nil {
		b.Fatal(err)
	}
	v, err := d["time"].(starlark.HasAttrs).Attr(name)
	if err != nil || v == nil {
		b.Fatalf("time.%s: %v", name, err)
	}
	return v.(*starlark.Builtin)
}

func BenchmarkParse(b *testing.B) {
	parse := member(b, "parse")
	thread := &starlark.Thread{}
	args := starlark.Tuple{starlark.String("2006-01-02T15:04:05Z07:00"), starlark.String("2026-03-11T14:30:00+02:00")}
	for b.Loop() {
		if _, err := starlark.Call(thread, parse, args, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormat(b *testing.B) {
	parse, format := member(b, "parse"), member(b, "format")
	thread := &starlark.Thread{}
	t, err := starlark.Call(thread, parse, starlark.Tuple{starlark.String("2006-01-02"), starlark.String("2026-03-11")}, nil)
	if err != nil {
		b.Fatal(err)
	}
	args := starlark.Tuple{t, starlark.String("2006-01-02T15:04:05Z07:00")}
	for b.Loop() {
		if _, err := starlark.Call(thread, format, args, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStringStrftime(b *testing.B) {
	parse := member(b, "parse")
	thread := &starlark.Thread{}
	t, err := starlark.Call(thread, parse, starlark.Tuple{starlark.String("2006-01-02"), starlark.String("2026-03-11")}, nil)
	if err != nil {
		b.Fatal(err)
	}
	str, _ := t.(starlark.HasAttrs).Attr("string")
	args := starlark.Tuple{starlark.String("%Y/%m/%d %H:%M:%S")}
	for b.Loop() {
		if _, err := starlark.Call(thread, str, args, nil); err != nil {
			b.Fatal(err)
		}
	}
}
