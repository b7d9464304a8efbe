package table_test

import (
	"fmt"
	"testing"

	"github.com/project-starkite/starkite/libkite/modules/table"
)

func benchTable(b *testing.B, cell func(r, c int) string) *table.Table {
	b.Helper()
	t := table.NewTable([]string{"id", "name", "status", "region", "note"})
	for r := range 1000 {
		row := make([]string, 5)
		for c := range row {
			row[c] = cell(r, c)
		}
		if err := t.AddRow(row); err != nil {
			b.Fatal(err)
		}
	}
	return t
}

// BenchmarkRender1000 renders a 1,000-row, 5-column ASCII table.
func BenchmarkRender1000(b *testing.B) {
	t := benchTable(b, func(r, c int) string { return fmt.Sprintf("cell-%d-%d", r, c*r%97) })
	b.SetBytes(int64(len(t.Render())))
	for b.Loop() {
		_ = t.Render()
	}
}

// BenchmarkRender1000Wide renders the same shape with CJK and emoji cells.
func BenchmarkRender1000Wide(b *testing.B) {
	t := benchTable(b, func(r, c int) string { return fmt.Sprintf("東京-%d-🚀%d", r, c) })
	b.SetBytes(int64(len(t.Render())))
	for b.Loop() {
		_ = t.Render()
	}
}
