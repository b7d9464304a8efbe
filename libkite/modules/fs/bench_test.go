//go:build unix

package fs_test

import (
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	kitefs "github.com/project-starkite/starkite/libkite/modules/fs"
)

// BenchmarkPathJoin: p.join("nginx", "nginx.conf") as a script calls it
// (attribute lookup binds the method, then the call).
func BenchmarkPathJoin(b *testing.B) {
	p := kitefs.NewPath("/etc")
	thread := &starlark.Thread{Name: "bench"}
	args := starlark.Tuple{starlark.String("nginx"), starlark.String("nginx.conf")}
	for b.Loop() {
		m, _ := p.Attr("join")
		v, err := starlark.Call(thread, m, args, nil)
		if err != nil || v.(*kitefs.Path).Text() != "/etc/nginx/nginx.conf" {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkSlash: p / "x".
func BenchmarkSlash(b *testing.B) {
	p := kitefs.NewPath("/var/log")
	x := starlark.String("app.log")
	for b.Loop() {
		if _, err := starlark.Binary(syntax.SLASH, p, x); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProperties: the pure properties read on every path handled.
func BenchmarkProperties(b *testing.B) {
	p := kitefs.NewPath("/var/log/app.tar.gz")
	for b.Loop() {
		for _, name := range []string{"name", "stem", "suffix", "parent"} {
			if v, err := p.Attr(name); v == nil || err != nil {
				b.Fatal(name, err)
			}
		}
	}
}
