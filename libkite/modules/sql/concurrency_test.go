package sql_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// TestConcurrentReadersWhileWriting: goroutines query one db through
// rt.Call while another writes in transactions; WAL lets every reader
// see a consistent committed count at every moment.
func TestConcurrentReadersWhileWriting(t *testing.T) {
	_, p := dbFile(t)
	rt, _ := kit.New(t, nil)
	err := rt.Execute(context.Background(), `
db = sql.open("sqlite", `+p+`)
db.exec("create table t(id integer primary key, batch integer)")

def write(batch):
    tx = db.begin()
    for i in range(50):
        tx.exec("insert into t(batch) values (?)", batch)
    tx.commit()

def read():
    r = db.query_one("select count(*) as n, count(distinct batch) as b from t")
    return r["n"] - 50 * r["b"]  # 0 unless a half-written batch is visible
`)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 64)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for reads := 0; ; reads++ {
				select {
				case <-stop:
					if reads == 0 {
						errs <- errors.New("reader never ran")
					}
					return
				default:
				}
				v, err := rt.Call(ctx, "read", nil, nil)
				if err != nil {
					errs <- err
					return
				}
				if v.(starlark.Int) != starlark.MakeInt(0) {
					errs <- fmt.Errorf("reader saw a partial batch: %v", v)
					return
				}
			}
		}()
	}
	for b := range 40 {
		if _, err := rt.Call(ctx, "write", []any{b}, nil); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	v, err := rt.Eval(ctx, `db.query_one("select count(*) as n from t")["n"]`)
	if err != nil || v.String() != "2000" {
		t.Fatalf("rows = %v, %v", v, err)
	}
}

// TestConcurrentReadersConcur: concur workers share one db from Starlark.
func TestConcurrentReadersConcur(t *testing.T) {
	_, p := dbFile(t)
	out := mustRun(t, nil, `
db = sql.open("sqlite", `+p+`)
db.exec("create table t(n integer)")
db.transaction(lambda tx: [tx.exec("insert into t values (?)", i) for i in range(1000)])
def total(lo):
    return db.query_one("select sum(n) as s from t where n >= ?", lo)["s"]
print(concur.map(list(range(0, 1000, 100)), total, workers=8))
st = db.prepare("select count(*) as c from t where n < ?")
print(concur.map([10, 20, 30, 40], lambda k: st.query_one(k)["c"], workers=4))
`)
	checkLines(t, out, []string{
		"[499500, 494550, 479600, 454650, 419700, 374750, 319800, 254850, 179900, 94950]",
		"[10, 20, 30, 40]",
	})
}

// TestCancellationRollsBack: cancelling a script's context interrupts a
// running query and rolls back its open transaction.
func TestCancellationRollsBack(t *testing.T) {
	path, p := dbFile(t)
	rt, _ := kit.New(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	err := rt.Execute(ctx, `
db = sql.open("sqlite", `+p+`)
db.exec("create table t(x)")
tx = db.begin()
tx.exec("insert into t values (1)")
tx.query("with recursive c(n) as (select 1 union all select n + 1 from c) select count(*) from c")
`)
	if err == nil || !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "interrupted") {
		t.Fatalf("err = %v, want a cancellation", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancellation took %v", d)
	}
	// the write lock is free again and the insert is gone
	db := goDB(t, path)
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "begin immediate"); err != nil {
		t.Fatalf("write lock still held: %v", err)
	}
	conn.ExecContext(context.Background(), "rollback")
	if n := count(t, path, "t"); n != 0 {
		t.Fatalf("rows = %d after cancellation", n)
	}
	v, err := rt.Eval(context.Background(), `tx.try_exec("insert into t values (2)").error`)
	if err != nil || v.(starlark.String) != "sql.tx.exec: transaction already rolled back (cancelled or database closed)" {
		t.Fatalf("tx after cancel: %v, %v", v, err)
	}
}

// TestRuntimeCloseClosesEverything: databases, statements and open
// transactions a script leaves behind are closed (rolled back) with the
// runtime, and no goroutine outlives it.
func TestRuntimeCloseClosesEverything(t *testing.T) {
	path, p := dbFile(t)
	before := runtime.NumGoroutine()
	rt, err := libkite.New(&libkite.Config{Registry: registry(), NoSignals: true})
	if err != nil {
		t.Fatal(err)
	}
	err = rt.Execute(context.Background(), `
db = sql.open("sqlite", `+p+`)
db.exec("create table t(x)")
st = db.prepare("insert into t values (?)")
tx = db.begin()
tx.exec("insert into t values (1)")
tx.prepare("select 1")
mem = sql.open("sqlite", ":memory:")
mem.begin()
`)
	if err != nil {
		t.Fatal(err)
	}
	rt.Close()
	v, _ := rt.GetGlobalVal("db")
	if !strings.HasSuffix(v.String(), " closed>") {
		t.Fatalf("db after runtime close: %s", v)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after close:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("insert into t values (2)"); err != nil {
		t.Fatalf("database still locked: %v", err)
	}
	if n := count(t, path, "t"); n != 1 {
		t.Fatalf("rows = %d, want only the later insert", n)
	}
}

func registry() *libkite.Registry {
	reg := libkite.NewRegistry(nil)
	for _, m := range kit {
		reg.Register(m())
	}
	return reg
}
