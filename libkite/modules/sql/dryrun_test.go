package sql_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// seed creates path with table t holding rows 1..3 (through database/sql
// directly, in WAL mode like the module) and closes it.
func seed(t *testing.T, path string) {
	t.Helper()
	db := goDB(t, path)
	for _, q := range []string{"pragma journal_mode=wal", "create table t(x integer)", "insert into t values (1), (2), (3)"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
}

var dry = &libkite.Config{DryRun: true}

func TestDryRunMissingFileCreatesNothing(t *testing.T) {
	dir := kitetest.TempDir(t)
	path := filepath.Join(dir, "new.db")
	before := kitetest.Snapshot(t, dir)
	out := mustRun(t, dry, `
db = sql.open("sqlite", `+lit(path)+`)
print(db.exec("create table t(x)"), db.exec("insert into t values (1)"))
print(db.query_one("select 1 + 1 as two"), db.try_query("select * from t").error)
tx = db.begin()
print(tx.exec("insert into t values (2)"))
tx.commit()
st = db.prepare("insert into t values (?)")
print(st.exec(3), db.transaction(lambda tx: tx.exec("delete from t")))
print(db.try_query("attach 'other.db' as o").error)
print(db.exec("attach ':memory:' as m"))
db.close()
`)
	checkLines(t, out, []string{
		"0 0",
		`{"two": 2} sql.db.query: SQL logic error: no such table: t (1)`,
		"0",
		"0 0",
		`sql.db.query: ATTACH "other.db": attaching a database file is not simulated in a dry run`,
		"0",
	})
	kitetest.SameSnapshot(t, before, kitetest.Snapshot(t, dir))
}

func TestDryRunExistingFileChangesNothing(t *testing.T) {
	dir := kitetest.TempDir(t)
	path := filepath.Join(dir, "data.db")
	seed(t, path)
	before := kitetest.Snapshot(t, dir)
	out := mustRun(t, dry, `
db = sql.open("sqlite", `+lit(path)+`)
print(db.exec("insert into t values (4)"), db.exec("delete from t"), db.exec("drop table t"))
print(db.query("select x from t order by x"))
tx = db.begin()
print(tx.exec("delete from t"), tx.query_one("select count(*) as n from t"))
tx.commit()
print(db.transaction(lambda tx: tx.exec("update t set x = 0")))
print(db.prepare("select sum(x) as s from t").query_one())
`)
	checkLines(t, out, []string{
		"0 0 0",
		`[{"x": 1}, {"x": 2}, {"x": 3}]`,
		`0 {"n": 3}`,
		"0",
		`{"s": 6}`,
	})
	kitetest.SameSnapshot(t, before, kitetest.Snapshot(t, dir))
	if n := count(t, path, "t"); n != 3 {
		t.Fatalf("rows = %d", n)
	}
}

// TestDryRunWhileInUse: with a writer holding the database open (its
// -wal file present), a dry run reads the live data read-only.
func TestDryRunWhileInUse(t *testing.T) {
	dir := kitetest.TempDir(t)
	path := filepath.Join(dir, "busy.db")
	seed(t, path)
	w := goDB(t, path)
	w.SetMaxOpenConns(1)
	if _, err := w.Exec("insert into t values (10)"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("writer has no -wal file: %v", err)
	}
	out := mustRun(t, dry, `
db = sql.open("sqlite", `+lit(path)+`)
print(db.query_one("select sum(x) as s from t"), db.exec("delete from t"))
`)
	checkLines(t, out, []string{`{"s": 16} 0`})
	if n := count(t, path, "t"); n != 4 {
		t.Fatalf("rows = %d", n)
	}
}

// TestDryRunAllowedPolicy: the dry run still passes the permission check
// of a granted open and creates nothing.
func TestDryRunAllowedPolicy(t *testing.T) {
	dir := kitetest.TempDir(t)
	rt := kit.Runtime(t, &libkite.Config{DryRun: true, Permissions: &libkite.PermissionConfig{
		Allow: []string{"sql.open(sqlite:" + dir + "/**)", "fs.read"}}}) // a dry run only reads
	err := rt.Execute(context.Background(), `sql.open("sqlite", `+lit(dir+"/x.db")+`).exec("create table t(x)")`)
	if err != nil {
		t.Fatal(err)
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Fatalf("dry run created %s", es[0].Name())
	}
}
