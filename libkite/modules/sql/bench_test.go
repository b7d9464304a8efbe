package sql_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/project-starkite/starkite/libkite/kitetest"
)

// benchScript opens a WAL database file in a temp dir with table t and
// defines the functions the benchmarks call.
const benchScript = `
db = sql.open("sqlite", PATH)
db.exec("create table t(id integer primary key, name text, qty integer, price real)")

def insert(n):
    tx = db.begin()
    for i in range(n):
        tx.exec("insert into t(name, qty, price) values (?, ?, ?)", "item", i, 1.5)
    tx.commit()

def insert_prepared(n):
    tx = db.begin()
    st = tx.prepare("insert into t(name, qty, price) values (?, ?, ?)")
    for i in range(n):
        st.exec("item", i, 1.5)
    tx.commit()

def query(n):
    return len(db.query("select id, name, qty, price from t limit ?", n))
`

const batch = 1000

func benchRuntime(b *testing.B) func(fn string, n int) {
	rt, _ := kit.New(b, nil)
	path := filepath.Join(kitetest.TempDir(b), "bench.db")
	if err := rt.Execute(context.Background(), "PATH = "+lit(path)+"\n"+benchScript); err != nil {
		b.Fatal(err)
	}
	return func(fn string, n int) {
		if _, err := rt.Call(context.Background(), fn, []any{n}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInsertTx: rows inserted from Starlark, 1,000 per transaction,
// one tx.exec per row.
func BenchmarkInsertTx(b *testing.B) {
	call := benchRuntime(b)
	rows := 0
	for b.Loop() {
		call("insert", batch)
		rows += batch
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkInsertTxPrepared: as BenchmarkInsertTx through a statement
// prepared once per transaction.
func BenchmarkInsertTxPrepared(b *testing.B) {
	call := benchRuntime(b)
	rows := 0
	for b.Loop() {
		call("insert_prepared", batch)
		rows += batch
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkQuery: 1,000 rows of four columns read into a list of dicts.
func BenchmarkQuery(b *testing.B) {
	call := benchRuntime(b)
	call("insert_prepared", batch)
	rows := 0
	for b.Loop() {
		call("query", batch)
		rows += batch
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
