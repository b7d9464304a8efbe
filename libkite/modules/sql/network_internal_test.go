package sql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// fakeDriver stands in for a network driver: it counts connections and
// answers every query with one row {"dsn": <the DSN>}.
type fakeDriver struct{ conns atomic.Int32 }

func (d *fakeDriver) Open(dsn string) (driver.Conn, error) {
	d.conns.Add(1)
	return &fakeConn{dsn: dsn}, nil
}

type fakeConn struct{ dsn string }

func (c *fakeConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("no prepare") }
func (c *fakeConn) Close() error                        { return nil }
func (c *fakeConn) Begin() (driver.Tx, error)           { return fakeTx{}, nil }
func (c *fakeConn) ExecContext(context.Context, string, []driver.NamedValue) (driver.Result, error) {
	return driver.RowsAffected(2), nil
}
func (c *fakeConn) QueryContext(context.Context, string, []driver.NamedValue) (driver.Rows, error) {
	return &fakeRows{dsn: c.dsn}, nil
}

type fakeTx struct{}

func (fakeTx) Commit() error   { return nil }
func (fakeTx) Rollback() error { return nil }

type fakeRows struct {
	dsn  string
	done bool
}

func (r *fakeRows) Columns() []string { return []string{"dsn"} }
func (r *fakeRows) Close() error      { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	r.done, dest[0] = true, r.dsn
	return nil
}

var fake = &fakeDriver{}

func init() { sql.Register("kitefake", fake) }

// withFakePostgres links the fake driver as "postgres" for one test.
func withFakePostgres(t *testing.T) {
	registry.Lock()
	saved := registry.m
	registry.m = map[string]*driverInfo{}
	for k, v := range saved {
		registry.m[k] = v
	}
	registry.Unlock()
	t.Cleanup(func() {
		registry.Lock()
		registry.m = saved
		registry.Unlock()
	})
	RegisterDriver("postgres", "kitefake", Network)
	RegisterDriver("sqlite", "kitefake", Network) // ignored
}

func TestRegisteredNetworkDriver(t *testing.T) {
	withFakePostgres(t)
	mods := kitetest.Modules{New}
	dsn := "postgres://app:secret@db.internal:5432/app"
	kitetest.RunCases(t, mods.With(nil), []kitetest.Case{
		{Expr: `sql.drivers()`, Want: `["postgres", "sqlite"]`},
		{Expr: `sql.open("mysql", "x")`, Err: `sql.open: driver "mysql" not available in this build (available: postgres, sqlite)`},
		{Pre: `db = sql.open("postgresql", ` + kitetest.Lit(dsn) + `)`, Expr: `(str(db), db.driver)`,
			Want: `("<sql.db postgres:db.internal:5432>", "postgres")`},
		{Pre: `db = sql.open("postgres", ` + kitetest.Lit(dsn) + `)`,
			Expr: `(db.exec("update t set x = 1"), db.query("select 1"), db.transaction(lambda tx: tx.query_one("select 1")))`,
			Want: `(2, [{"dsn": "` + dsn + `"}], {"dsn": "` + dsn + `"})`},
		{Expr: `sql.open("sqlite", ":memory:").query_one("select sqlite_version() is not null as ok")`, Want: `{"ok": 1}`},
	})
	scoped := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"sql.open(postgres:db.internal:*)"}}}
	kitetest.RunPermCases(t, func(t testing.TB, cfg *libkite.Config) *libkite.Runtime { return mods.Runtime(t, cfg) }, []kitetest.PermCase{
		{Name: "allowed host", Cfg: scoped, Expr: `sql.open("postgres", ` + kitetest.Lit(dsn) + `).driver`, Want: "postgres"},
		{Name: "other host", Cfg: scoped, Expr: `sql.open("postgres", "host=evil.example port=5432 password=secret")`,
			ErrPrefix: kitetest.Denied("sql.open", "postgres", "evil.example:5432"),
			ErrHas:    []string{"--permissions=allow-net"}},
		{Name: "deny-all", Cfg: &libkite.Config{Permissions: libkite.DenyAllPermissions()},
			Expr: `sql.open("postgres", ` + kitetest.Lit(dsn) + `)`, ErrPrefix: kitetest.Denied("sql.open", "postgres", "db.internal:5432")},
	}, nil)

	before := fake.conns.Load()
	got, msg, _ := mods.Eval(t, &libkite.Config{DryRun: true}, `db = sql.open("postgres", `+kitetest.Lit(dsn)+`)`,
		`(db.exec("delete from t"), db.query("select 1"), db.query_one("select 1"), db.transaction(lambda tx: tx.exec("x")), db.prepare("x").query())`)
	if msg != "" || got != `(0, [], None, 0, [])` {
		t.Fatalf("dry run = %s (%s)", got, msg)
	}
	if n := fake.conns.Load(); n != before {
		t.Fatalf("dry run made %d connections", n-before)
	}
	if strings.Contains(got, "secret") {
		t.Fatal("password leaked")
	}
}
