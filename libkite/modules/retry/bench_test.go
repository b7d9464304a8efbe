package retry_test

import (
	"context"
	"testing"
)

// BenchmarkRetryZeroDelay: retry.do of a function failing twice before
// succeeding, with no wait between attempts (3 attempts per op).
func BenchmarkRetryZeroDelay(b *testing.B) {
	rt := kit.Runtime(b, nil)
	src := `
def run():
    calls = []
    def f():
        calls.append(1)
        return Result(ok=len(calls) > 2, value=len(calls), error="not yet")
    return retry.do(f, max_attempts=5, delay="0s")
`
	if err := rt.Execute(context.Background(), src); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v, err := rt.Call(ctx, "run", nil, nil)
		if err != nil || v.String()[:26] != "RetryResult(ok=True, attem" {
			b.Fatal(v, err)
		}
	}
	b.ReportMetric(float64(3*b.N)/b.Elapsed().Seconds(), "attempts/s")
}

// BenchmarkBackoffZeroDelay: retry.with_backoff exhausting 5 attempts
// with zero delay (jitter on).
func BenchmarkBackoffZeroDelay(b *testing.B) {
	rt := kit.Runtime(b, nil)
	if err := rt.Execute(context.Background(), "def run():\n    return retry.with_backoff(lambda: False, delay=\"0s\", max_delay=\"0s\")\n"); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rt.Call(ctx, "run", nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(5*b.N)/b.Elapsed().Seconds(), "attempts/s")
}
