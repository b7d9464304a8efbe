package zip_test

import (
	"crypto/rand"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite/kitetest"
)

// BenchmarkWriteAll archives 16 files of 256 KiB (half random, half
// text) found by a ** pattern.
func BenchmarkWriteAll(b *testing.B) {
	dir := b.TempDir()
	src := filepath.Join(dir, "src")
	var total int64
	for i := range 16 {
		rnd := make([]byte, 128<<10)
		rand.Read(rnd)
		content := string(rnd) + strings.Repeat("zip benchmark\n", (128<<10)/14+1)[:128<<10]
		sub := filepath.Join(src, fmt.Sprintf("d%d", i%4))
		kitetest.MkdirAll(b, sub)
		kitetest.WriteFile(b, filepath.Join(sub, fmt.Sprintf("f%02d.dat", i)), content)
		total += int64(len(content))
	}
	arc := filepath.Join(dir, "out.zip")
	rt := kit.Runtime(b, nil)
	b.SetBytes(total)
	for b.Loop() {
		if _, err := rt.Eval(b.Context(), `zip.file(`+lit(arc)+`).write_all(match=`+lit(src+"/**/*.dat")+`, base_dir=`+lit(src)+`)`); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadAll(b *testing.B) {
	dir := b.TempDir()
	var files []string
	for i := range 16 {
		files = append(files, lit(kitetest.WriteFile(b, filepath.Join(dir, fmt.Sprintf("f%02d.txt", i)), strings.Repeat("line of text\n", 20000))))
	}
	arc := filepath.Join(dir, "out.zip")
	rt := kit.Runtime(b, nil)
	if _, err := rt.Eval(b.Context(), `zip.file(`+lit(arc)+`).write_all(files=[`+strings.Join(files, ", ")+`])`); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(16 * 13 * 20000)
	for b.Loop() {
		if _, err := rt.Eval(b.Context(), `zip.file(`+lit(arc)+`).read_all()`); err != nil {
			b.Fatal(err)
		}
	}
}
