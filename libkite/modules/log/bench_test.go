package log_test

import (
	"io"
	"testing"
	stdtime "time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	kitelog "github.com/project-starkite/starkite/libkite/modules/log"
)

// benchLogger returns l.info of a logger(format=format) writing to
// io.Discard, and the keyword arguments of one record with three attrs.
func benchLogger(b *testing.B, format string) (*starlark.Builtin, []starlark.Tuple) {
	b.Helper()
	d, err := kitelog.NewForTest(io.Discard, stdtime.Now).Load(&libkite.ModuleConfig{})
	if err != nil {
		b.Fatal(err)
	}
	thread := &starlark.Thread{}
	ctor, _ := d["log"].(starlark.HasAttrs).Attr("logger")
	l, err := starlark.Call(thread, ctor, nil, []starlark.Tuple{{starlark.String("format"), starlark.String(format)}})
	if err != nil {
		b.Fatal(err)
	}
	info, _ := l.(starlark.HasAttrs).Attr("info")
	attrs := starlark.NewDict(3)
	_ = attrs.SetKey(starlark.String("user"), starlark.String("alice"))
	_ = attrs.SetKey(starlark.String("count"), starlark.MakeInt(42))
	_ = attrs.SetKey(starlark.String("ok"), starlark.True)
	return info.(*starlark.Builtin), []starlark.Tuple{{starlark.String("attrs"), attrs}}
}

func benchLine(b *testing.B, format string) {
	info, kwargs := benchLogger(b, format)
	thread := &starlark.Thread{}
	args := starlark.Tuple{starlark.String("request handled")}
	for b.Loop() {
		if _, err := starlark.Call(thread, info, args, kwargs); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLogLineText(b *testing.B) { benchLine(b, "text") }
func BenchmarkLogLineJSON(b *testing.B) { benchLine(b, "json") }

// BenchmarkLogLineDropped is a record below the logger's level.
func BenchmarkLogLineDropped(b *testing.B) {
	info, kwargs := benchLogger(b, "text")
	debug, _ := info.Receiver().(starlark.HasAttrs).Attr("debug")
	thread := &starlark.Thread{}
	args := starlark.Tuple{starlark.String("dropped")}
	for b.Loop() {
		if _, err := starlark.Call(thread, debug, args, kwargs); err != nil {
			b.Fatal(err)
		}
	}
}
