package sql_test

import (
	"testing"

	"github.com/project-starkite/starkite/libkite/kitetest"
)

func TestModuleSurface(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `type(sql)`, Want: "module"},
		{Expr: `dir(sql)`, Want: `["drivers", "open", "try_drivers", "try_open"]`},
		{Expr: `sql.drivers()`, Want: `["sqlite"]`},
		{Expr: `sql.try_drivers()`, Want: `Result(ok=True, value=["sqlite"])`},
		{Expr: `sql.drivers(1)`, Err: "sql.drivers takes no arguments"},
		{Pre: `db = sql.open("sqlite", ":memory:")`, Expr: `(type(db), str(db), db.driver, db.closed, bool(db))`,
			Want: `("sql.db", "<sql.db sqlite::memory:>", "sqlite", False, True)`},
		{Pre: `db = sql.open("sqlite", ":memory:")`, Expr: `dir(db)`,
			Want: `["begin", "close", "closed", "driver", "exec", "prepare", "query", "query_one", "transaction", "try_begin", "try_close", "try_exec", "try_prepare", "try_query", "try_query_one", "try_transaction"]`},
		{Pre: `tx = sql.open("sqlite", ":memory:").begin()`, Expr: `(type(tx), str(tx), tx.active, dir(tx))`,
			Want: `("sql.tx", "<sql.tx sqlite::memory: active>", True, ["active", "commit", "exec", "prepare", "query", "query_one", "rollback", "try_commit", "try_exec", "try_prepare", "try_query", "try_query_one", "try_rollback"])`},
		{Pre: `st = sql.open("sqlite", ":memory:").prepare("select 1")`, Expr: `(type(st), str(st), st.sql, st.closed, dir(st))`,
			Want: `("sql.stmt", "<sql.stmt \"select 1\">", "select 1", False, ["close", "closed", "exec", "query", "query_one", "sql", "try_close", "try_exec", "try_query", "try_query_one"])`},
		{Pre: `db = sql.open("sqlite", ":memory:")`, Expr: `{db: 1}`, Err: "unhashable type: sql.db"},
		{Pre: `db = sql.open("sqlite3", ":memory:")`, Expr: `db.driver`, Want: "sqlite"},
	})
}

func TestOpenErrors(t *testing.T) {
	dir := kitetest.TempDir(t)
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `sql.open("postgres", "postgres://u:secret@db.internal/app")`,
			Err: `sql.open: driver "postgres" not available in this build (available: sqlite)`},
		{Expr: `sql.open("mysql", "u:p@tcp(h:3306)/d")`, Err: `sql.open: driver "mysql" not available in this build (available: sqlite)`},
		{Expr: `sql.open("oracle", "x")`, Err: `sql.open: unknown driver "oracle" (known: mysql, postgres, sqlite)`},
		{Expr: `sql.try_open("oracle", "x")`, Want: `Result(ok=False, error="sql.open: unknown driver \"oracle\" (known: mysql, postgres, sqlite)")`},
		{Expr: `sql.open("sqlite")`, Err: `sql.open: missing required argument: dsn`},
		{Expr: `sql.open("sqlite", 1)`, Err: `sql.open: for parameter dsn: got int, want string`},
		{Expr: `sql.open("sqlite", "")`, Err: `sql.open: empty sqlite DSN (want a file path, a "file:" URI or ":memory:")`},
		{Expr: `sql.open("sqlite", ` + lit(dir+"/missing/x.db") + `)`,
			Err: `sql.open: cannot open "` + dir + `/missing/x.db": directory "` + dir + `/missing" does not exist`},
		{Expr: `sql.open("sqlite", ` + lit(dir+"/x.db?_pragma=foreign_keys(1)") + `)`,
			Err: `sql.open: unsupported sqlite DSN parameter "_pragma" (supported: `, ErrContains: true},
		{Expr: `sql.open("sqlite", ` + lit("file:"+dir+"/x.db?mode=bogus") + `)`,
			Err: `sql.open: invalid sqlite mode "bogus" (want ro, rw, rwc or memory)`},
		{Expr: `sql.open("sqlite", "file://remote/x.db")`, Err: `sql.open: invalid sqlite URI "file://remote/x.db": host "remote" is not local`},
		{Expr: `sql.open("sqlite", ` + lit(dir) + `)`, Err: `sql.open: cannot open "` + dir + `": `, ErrContains: true},
	})
}
