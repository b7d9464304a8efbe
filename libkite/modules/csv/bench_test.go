package csv_test

import (
	"fmt"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite/modules/csv"
)

// benchCSV is ~40 KB: a header and 1000 records with a quoted field.
var benchCSV = func() string {
	var b strings.Builder
	b.WriteString("id,name,price,note\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "%d,item-%d,%d.25,\"a, \"\"quoted\"\" note\"\n", i, i, i)
	}
	return b.String()
}()

func BenchmarkRead(b *testing.B) {
	b.SetBytes(int64(len(benchCSV)))
	for b.Loop() {
		if _, err := csv.Read([]byte(benchCSV), csv.ReadOptions{Sep: ","}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadHeader(b *testing.B) {
	b.SetBytes(int64(len(benchCSV)))
	for b.Loop() {
		if _, err := csv.Read([]byte(benchCSV), csv.ReadOptions{Sep: ",", Header: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteDicts(b *testing.B) {
	rows, err := csv.Read([]byte(benchCSV), csv.ReadOptions{Header: true})
	if err != nil {
		b.Fatal(err)
	}
	elems := make([]starlark.Value, rows.Len())
	for i := range elems {
		elems[i] = rows.Index(i)
	}
	b.SetBytes(int64(len(benchCSV)))
	for b.Loop() {
		if _, err := csv.Write(elems, ",", nil); err != nil {
			b.Fatal(err)
		}
	}
}
