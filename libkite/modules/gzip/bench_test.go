package gzip_test

import (
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite/kitetest"
)

// benchData is 4 MiB, half random and half text, so compression has
// real work on both kinds of input.
func benchData() string {
	b := make([]byte, 2<<20)
	rand.Read(b)
	return string(b) + strings.Repeat("kite gzip benchmark line\n", (2<<20)/25+1)[:2<<20]
}

func BenchmarkFileCompress(b *testing.B) {
	dir := b.TempDir()
	data := benchData()
	src := kitetest.WriteFile(b, filepath.Join(dir, "src.bin"), data)
	dst := filepath.Join(dir, "src.bin.gz")
	rt := kit.Runtime(b, nil)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := rt.Eval(b.Context(), `gzip.file(`+lit(dst)+`).compress(`+lit(src)+`)`); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFileDecompress(b *testing.B) {
	dir := b.TempDir()
	data := benchData()
	src := kitetest.WriteFile(b, filepath.Join(dir, "src.bin"), data)
	gz := filepath.Join(dir, "src.bin.gz")
	out := filepath.Join(dir, "out.bin")
	rt := kit.Runtime(b, nil)
	if _, err := rt.Eval(b.Context(), `gzip.file(`+lit(gz)+`).compress(`+lit(src)+`)`); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := rt.Eval(b.Context(), `gzip.file(`+lit(gz)+`).decompress(`+lit(out)+`)`); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSourceCompress(b *testing.B) {
	rt := kit.Runtime(b, nil)
	if err := rt.Execute(b.Context(), `data = "kite gzip benchmark line\n" * 40000`); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(25 * 40000)
	for b.Loop() {
		if _, err := rt.Eval(b.Context(), `gzip.text(data).compress()`); err != nil {
			b.Fatal(err)
		}
	}
}
