package sql

import (
	"strings"
	"testing"
)

func TestCheckAttach(t *testing.T) {
	for _, c := range []struct {
		sql string
		ok  bool
	}{
		{"attach 'x.db' as y", true},
		{`ATTACH DATABASE "x.db" AS y`, true},
		{"attach [x.db] as y", true},
		{"attach x as y", true},
		{"attach ? as y", false},
		{"attach :f as y", false},
		{"attach $f as y", false},
		{"attach 'a' || 'b' as y", false},
		{"attach (select 'x') as y", false},
		{"attach", false},
		{"select 'attach ? as y'", true},
		{"select 1; attach ? as y", false},
		{"select 1;\n-- attach ? as x\nselect 2", true},
		{"/* attach ? as x */ select 1", true},
		{"explain query plan attach ? as x", false},
		{"explain attach 'x' as x", true},
		{"create table attach_log(x)", true},
		{"select 1 as attach", true},
		{"select 'it''s'; attach 'x' as y", true},
		{"select 'unterminated; attach ? as y", true},
	} {
		err := checkStatements(c.sql, false)
		if (err == nil) != c.ok {
			t.Errorf("%q: err = %v, want ok=%v", c.sql, err, c.ok)
		}
	}
}

func TestTransactionStatements(t *testing.T) {
	for _, c := range []struct {
		sql      string
		db, inTx bool // allowed on a database, in a transaction
	}{
		{"begin", false, false},
		{"BEGIN IMMEDIATE TRANSACTION", false, false},
		{"commit", false, false},
		{"end transaction", false, false},
		{"rollback", false, false},
		{"rollback to sp", false, true},
		{"ROLLBACK TRANSACTION TO SAVEPOINT sp", false, true},
		{"savepoint sp", false, true},
		{"release sp", false, true},
		{"insert into t values (1); commit", false, false},
		{"select 'begin; commit'", true, true},
		{"create table t(x); create trigger tr after insert on t begin delete from t; end; insert into t values (1)", true, true},
		{"create temp trigger tr after insert on t begin update t set x = case when x > 0 then 1 else 0 end; end", true, true},
		{"create trigger tr after insert on t begin select 1; end; commit", false, false},
		{"select 1 as \"begin\"", true, true},
	} {
		if err := checkStatements(c.sql, false); (err == nil) != c.db {
			t.Errorf("db %q: err = %v", c.sql, err)
		}
		if err := checkStatements(c.sql, true); (err == nil) != c.inTx {
			t.Errorf("tx %q: err = %v", c.sql, err)
		}
	}
}

func TestChangesRows(t *testing.T) {
	for q, want := range map[string]bool{
		"insert into t values (1)":           true,
		"  UPDATE t set x = 1":               true,
		"-- c\ndelete from t":                true,
		"/* c */ replace into t values (1)":  true,
		"with x as (select 1) insert into t": true,
		"create table t(x)":                  false,
		"select 1":                           false,
		"pragma foreign_keys":                false,
		"":                                   false,
		"/* unterminated":                    false,
	} {
		if got := changesRows(q); got != want {
			t.Errorf("changesRows(%q) = %v", q, got)
		}
	}
}

func TestParseSQLite(t *testing.T) {
	for _, c := range []struct {
		dsn, path string
		memory    bool
		err       string
	}{
		{dsn: ":memory:", memory: true},
		{dsn: "file::memory:?cache=shared", err: `unsupported sqlite DSN parameter "cache"`},
		{dsn: "file:x?mode=memory", memory: true},
		{dsn: "/a/b.db", path: "/a/b.db"},
		{dsn: "/a/b.db?_fk=1&mode=ro", path: "/a/b.db"},
		{dsn: "file:/a/b.db", path: "/a/b.db"},
		{dsn: "file:///a/b%20c.db", path: "/a/b c.db"},
		{dsn: "file://localhost/a/b.db#frag", path: "/a/b.db"},
		{dsn: "file://host/a.db", err: `host "host" is not local`},
		{dsn: "file:", err: "names no file"},
		{dsn: "/a.db?vfs=memdb", err: `unsupported sqlite DSN parameter "vfs"`},
		{dsn: "/a.db?%zz", err: "invalid sqlite DSN parameters"},
	} {
		got, err := parseSQLite(c.dsn)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: err = %v, want %q", c.dsn, err, c.err)
			}
		case err != nil:
			t.Errorf("%q: %v", c.dsn, err)
		case got.memory != c.memory || got.path != c.path:
			t.Errorf("%q → memory=%v path=%q", c.dsn, got.memory, got.path)
		}
	}
}

func TestNetworkResources(t *testing.T) {
	for _, c := range []struct{ driver, dsn, want string }{
		{"postgres", "postgres://user:secret@db.internal:5432/app?sslmode=disable", "db.internal:5432"},
		{"postgres", "postgresql://db.internal/app", "db.internal"},
		{"postgres", "postgres:///app", "localhost:5432"},
		{"postgres", "host=db.internal port=6432 user=u password=secret dbname=app", "db.internal:6432"},
		{"postgres", "user=u password='s e'", "localhost:5432"},
		{"mysql", "user:secret@tcp(db.internal:3306)/app?parseTime=true", "db.internal:3306"},
		{"mysql", "user:p@ss@word@tcp(10.0.0.1:3307)/app", "10.0.0.1:3307"},
		{"mysql", "user@unix(/run/mysqld/mysqld.sock)/app", "unix:/run/mysqld/mysqld.sock"},
		{"mysql", "user:secret@/app", "127.0.0.1:3306"},
		{"mysql", "mysql://user:secret@db:3306/app", "db:3306"},
	} {
		got, err := networkResource(c.driver, c.dsn)
		if err != nil || got != c.want {
			t.Errorf("%s %q → %q, %v; want %q", c.driver, c.dsn, got, err, c.want)
		}
		if strings.Contains(got, "secret") {
			t.Errorf("resource %q leaks the password", got)
		}
	}
}
