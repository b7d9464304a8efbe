package inventory_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite/modules/inventory"
)

// benchInventory is 1,000 hosts in YAML.
var benchInventory = func() string {
	var b strings.Builder
	envs := []string{"prod", "staging", "dev", "test"}
	for i := range 1000 {
		fmt.Fprintf(&b, "- name: host%d\n  address: 10.0.%d.%d\n  env: %s\n  cpu: %d\n  tags: [a, b]\n", i, i/256, i%256, envs[i%4], 2<<(i%4))
	}
	return b.String()
}()

func benchFilter(b *testing.B, expr string, want string) {
	_, pre := fixture(b, "bench.yaml", benchInventory)
	rt := kit.Runtime(b, nil)
	src := pre + "\ndef run():\n    return " + expr + "\n"
	if err := rt.Execute(context.Background(), src); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v, err := rt.Call(ctx, "run", nil, nil)
		if err != nil || v.String() != want {
			b.Fatal(v, err)
		}
	}
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkFilterMatch1k: keyword filter over 1,000 items.
func BenchmarkFilterMatch1k(b *testing.B) {
	benchFilter(b, `inventory.filter(inv, env="prod", cpu=2)`, "<inventory 250 items>")
}

// BenchmarkFilterPredicate1k: predicate filter over 1,000 items (each
// call gets a fresh copy of its item).
func BenchmarkFilterPredicate1k(b *testing.B) {
	benchFilter(b, `inventory.filter(inv, lambda h: h["cpu"] >= 8)`, "<inventory 500 items>")
}

// BenchmarkParse1k: parsing a 1,000-item YAML inventory.
func BenchmarkParse1k(b *testing.B) {
	data := []byte(benchInventory)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := inventory.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
