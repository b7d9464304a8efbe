package concur_test

import (
	"context"
	"testing"
)

// BenchmarkConcurMap10k: concur.map over 10,000 trivial items with 8
// workers; reports items/s.
func BenchmarkConcurMap10k(b *testing.B) {
	benchMap(b, 8)
}

// BenchmarkConcurMap10kUnbounded is the same with workers=0 (one
// goroutine per item).
func BenchmarkConcurMap10kUnbounded(b *testing.B) {
	benchMap(b, 0)
}

func benchMap(b *testing.B, workers int) {
	const items = 10000
	rt := kit.Runtime(b, nil)
	src := "def run(w):\n    return concur.map(range(10000), lambda x: x + 1, workers=w)\n"
	if err := rt.Execute(context.Background(), src); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v, err := rt.Call(ctx, "run", []any{workers}, nil)
		if err != nil {
			b.Fatal(err)
		}
		_ = v
	}
	b.ReportMetric(float64(items*b.N)/b.Elapsed().Seconds(), "items/s")
}
