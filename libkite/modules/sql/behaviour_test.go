package sql_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/project-starkite/starkite/libkite/kitetest"
)

// schema is the table most tests use.
const schema = `
db.exec("""create table items(
    id integer primary key,
    name text not null,
    qty integer,
    price real,
    data blob,
    flag boolean,
    made datetime)""")
`

func TestSchemaCreation(t *testing.T) {
	path, p := dbFile(t)
	out := mustRun(t, nil, `
db = sql.open("sqlite", `+p+`)
print(db.exec("create table a(id integer primary key, name text unique)"))
print(db.exec("create index a_name on a(name)"))
print(db.exec("create table b(id integer primary key, a_id integer references a(id))"))
print([r["name"] for r in db.query("select name from sqlite_master where type = 'table' order by name")])
print(db.query_one("pragma foreign_keys"), db.query_one("pragma journal_mode"), db.query_one("pragma busy_timeout"))
r = db.try_exec("insert into b(a_id) values (42)")
print(r.ok, r.error)
db.close()
`)
	want := []string{"0", "0", "0", `["a", "b"]`,
		`{"foreign_keys": 1} {"journal_mode": "wal"} {"timeout": 5000}`,
		`False sql.db.exec: constraint failed: FOREIGN KEY constraint failed (787)`}
	if got := lines(out); len(got) != len(want) {
		t.Fatalf("output:\n%s", out)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("line %d = %q, want %q", i, got[i], want[i])
			}
		}
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	if n := count(t, path, "a"); n != 0 {
		t.Fatalf("rows in a = %d", n)
	}
}

func TestInsert10000InOneTransaction(t *testing.T) {
	path, p := dbFile(t)
	out := mustRun(t, nil, `
db = sql.open("sqlite", `+p+`)
`+schema+`
tx = db.begin()
total = 0
for i in range(10000):
    total += tx.exec("insert into items(name, qty, price) values (?, ?, ?)", "item-%d" % i, i, i * 0.5)
tx.commit()
print(total, db.query_one("select count(*) as n, sum(qty) as s from items"), tx.active)
`)
	if out != `10000 {"n": 10000, "s": 49995000} False` {
		t.Fatalf("output: %s", out)
	}
	if n := count(t, path, "items"); n != 10000 {
		t.Fatalf("rows on disk = %d", n)
	}
}

func TestBindEveryType(t *testing.T) {
	_, p := dbFile(t)
	out := mustRun(t, nil, `
db = sql.open("sqlite", `+p+`)
db.exec("create table v(id integer primary key, x)")
evil = "x'); drop table v; --"
values = [
    None, True, False, 0, -1, 9223372036854775807, -9223372036854775808,
    0.0, -1.25, 1e300, "", "plain", "héllo wörld ✓ 日本", evil,
    'quote " and \\ backslash', "a\x00b", b"", b"\x00\xff\x01", b"bytes",
]
for v in values:
    db.exec("insert into v(x) values (?)", v)
got = [r["x"] for r in db.query("select x from v order by id")]
for want, have in zip(values, got):
    w = int(want) if type(want) == "bool" else want
    if type(w) != type(have) or w != have:
        fail("round trip of %r gave %r" % (want, have))
print(len(got), db.query_one("select count(*) as n from v where x = ?", evil))
print(db.query_one("select typeof(x) as t from v where id = 18"))
r = db.try_exec("insert into v(x) values (?)", 9223372036854775808)
print(r.error)
r = db.try_exec("insert into v(x) values (?)", -9223372036854775809)
print(r.error)
print(db.try_exec("insert into v(x) values (?, ?)", 1, [1]).error)
print(db.try_exec("insert into v(x) values (:x)", x={"a": 1}).error)
print(db.try_query("select ?", (1,)).error)
print(db.try_query_one("select ?", sql).error)
print(db.query_one("select ? as t", time.parse("2006-01-02T15:04:05Z07:00", "2024-05-06T07:08:09.5+02:00")))
print(db.query_one("select count(*) as n from v"))
`)
	want := []string{
		`19 {"n": 1}`,
		`{"t": "blob"}`,
		`sql.db.exec: cannot bind parameter 1 (int 9223372036854775808 out of 64-bit range)`,
		`sql.db.exec: cannot bind parameter 1 (int -9223372036854775809 out of 64-bit range)`,
		`sql.db.exec: cannot bind parameter 2 of type list`,
		`sql.db.exec: cannot bind parameter "x" of type dict`,
		`sql.db.query: cannot bind parameter 1 of type tuple`,
		`sql.db.query_one: cannot bind parameter 1 of type module`,
		`{"t": "2024-05-06T07:08:09.5+02:00"}`,
		`{"n": 19}`,
	}
	checkLines(t, out, want)
}

// checkLines compares printed output with want, line by line.
func checkLines(t *testing.T, out string, want []string) {
	t.Helper()
	got := lines(out)
	for i := range max(len(got), len(want)) {
		g, w := "<none>", "<none>"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("line %d = %s\n        want %s", i+1, g, w)
		}
	}
}

func TestColumnTypes(t *testing.T) {
	_, p := dbFile(t)
	out := mustRun(t, nil, `
db = sql.open("sqlite", `+p+`)
`+schema+`
db.exec("insert into items(name, qty, price, data, flag, made) values (?, ?, ?, ?, ?, ?)", "a", 3, 2.5, b"\x01", True, "2024-01-02 03:04:05")
db.exec("insert into items(name, flag, made) values (?, ?, ?)", "b", False, "2024-01-02T03:04:05.25+02:00")
for r in db.query("select * from items order by id"):
    print(r)
print(db.query("select 1 as n, 1.5 as f, 'x' as s, x'00ff' as b, null as z, true as t"))
print(db.query("select i.id, j.id, i.id as id_2 from items i join items j on i.id = j.id order by i.id"))
print(db.query("select name from items where 0"), db.query_one("select name from items where 0"))
print(list(db.query_one("select qty, name, id from items").keys()))
`)
	checkLines(t, out, []string{
		`{"id": 1, "name": "a", "qty": 3, "price": 2.5, "data": b"\x01", "flag": True, "made": "2024-01-02T03:04:05Z"}`,
		`{"id": 2, "name": "b", "qty": None, "price": None, "data": None, "flag": False, "made": "2024-01-02T03:04:05.25+02:00"}`,
		`[{"n": 1, "f": 1.5, "s": "x", "b": b"\x00\xff", "z": None, "t": 1}]`,
		`[{"id": 1, "id_2": 1, "id_2_2": 1}, {"id": 2, "id_2": 2, "id_2_2": 2}]`,
		`[] None`,
		`["qty", "name", "id"]`,
	})
}

func TestNamedParameters(t *testing.T) {
	_, p := dbFile(t)
	out := mustRun(t, nil, `
db = sql.open("sqlite", `+p+`)
`+schema+`
db.exec("insert into items(name, qty) values (:name, :qty)", name="colon", qty=1)
db.exec("insert into items(name, qty) values (@name, @qty)", qty=2, name="at")
db.exec("insert into items(name, qty) values ($name, $qty)", name="dollar", qty=3)
db.exec("insert into items(name, qty) values (?, :qty)", "mixed", qty=4)
print(db.query("select name, qty from items where qty >= :lo order by qty", lo=2))
print(db.query_one("select name from items where name = :n", n="colon' or '1'='1"))
print(db.try_exec("insert into items(name) values (:missing)").error)
`)
	checkLines(t, out, []string{
		`[{"name": "at", "qty": 2}, {"name": "dollar", "qty": 3}, {"name": "mixed", "qty": 4}]`,
		`None`,
		`sql.db.exec: missing named argument "missing"`,
	})
}

func TestExecRowsAffected(t *testing.T) {
	_, p := dbFile(t)
	out := mustRun(t, nil, `
db = sql.open("sqlite", `+p+`)
`+schema+`
print(db.exec("insert into items(name) values ('a'), ('b'), ('c')"))
print(db.exec("update items set qty = 1 where name != 'a'"))
print(db.exec("create table other(x)"))
print(db.exec("select 1"))
print(db.exec("  -- comment\n /* block */ delete from items where name = 'a'"))
print(db.exec("with t(n) as (select 'c') delete from items where name in (select n from t)"))
print(db.exec("create table s1(x); create table s2(y); insert into s1 values (1)"))
print(db.query("select name from sqlite_master where name like 's_' order by name"))
`)
	checkLines(t, out, []string{"3", "2", "0", "0", "1", "1", "0", `[{"name": "s1"}, {"name": "s2"}]`})
}

func TestRollbackLeavesNoRows(t *testing.T) {
	path, p := dbFile(t)
	out := mustRun(t, nil, `
db = sql.open("sqlite", `+p+`)
`+schema+`
tx = db.begin()
for i in range(100):
    tx.exec("insert into items(name) values (?)", "r%d" % i)
print(tx.query_one("select count(*) as n from items"), db.query_one("select count(*) as n from items"))
tx.rollback()
print(str(tx), tx.active, db.query_one("select count(*) as n from items"))
tx.rollback()  # no-op on a finished transaction
print(tx.try_exec("insert into items(name) values ('x')").error)
print(tx.try_query("select 1").error)
print(tx.try_commit().error)
tx2 = db.begin()
tx2.exec("insert into items(name) values ('kept')")
tx2.commit()
print(tx2, tx2.try_commit().error, tx2.try_query_one("select 1").error)
`)
	checkLines(t, out, []string{
		`{"n": 100} {"n": 0}`,
		`<sql.tx sqlite:` + path + ` rolled back> False {"n": 0}`,
		`sql.tx.exec: transaction already rolled back`,
		`sql.tx.query: transaction already rolled back`,
		`sql.tx.commit: transaction already rolled back`,
		`<sql.tx sqlite:` + path + ` committed> sql.tx.commit: transaction already committed sql.tx.query_one: transaction already committed`,
	})
	if n := count(t, path, "items"); n != 1 {
		t.Fatalf("rows on disk = %d, want 1", n)
	}
}

func TestTransactionFunction(t *testing.T) {
	path, p := dbFile(t)
	out := mustRun(t, nil, `
db = sql.open("sqlite", `+p+`)
`+schema+`
def add(tx):
    tx.exec("insert into items(name) values ('committed')")
    return tx.query_one("select count(*) as n from items")["n"]
print(db.transaction(add))

def boom(tx):
    tx.exec("insert into items(name) values ('lost')")
    fail("boom")
r = db.try_transaction(boom)
print(r.ok, r.error)

def bad_sql(tx):
    tx.exec("insert into items(name) values ('lost too')")
    tx.exec("insert into nowhere values (1)")
print(db.try_transaction(bad_sql).error)

def manual(tx):
    tx.exec("insert into items(name) values ('manual')")
    tx.rollback()
    return "done"
print(db.transaction(manual))
print(db.transaction(fn = lambda tx: tx.exec("insert into items(name) values ('lambda')")))
print([r["name"] for r in db.query("select name from items order by id")])
print(db.try_transaction(1).error)
`)
	checkLines(t, out, []string{
		`1`,
		`False boom`,
		`sql.tx.exec: SQL logic error: no such table: nowhere (1)`,
		`done`,
		`1`,
		`["committed", "lambda"]`,
		`sql.db.transaction: for parameter fn: got int, want callable`,
	})
	if n := count(t, path, "items"); n != 2 {
		t.Fatalf("rows on disk = %d", n)
	}
}

func TestPrepare(t *testing.T) {
	_, p := dbFile(t)
	out := mustRun(t, nil, `
db = sql.open("sqlite", `+p+`)
`+schema+`
ins = db.prepare("insert into items(name, qty) values (?, :qty)")
for i in range(5):
    ins.exec("n%d" % i, qty=i)
sel = db.prepare("select name from items where qty >= ? order by qty")
print(sel.query(3), sel.query_one(4), sel.query_one(99))
ins.close()
ins.close()
print(ins, ins.closed, ins.try_exec("x", qty=1).error)
tx = db.begin()
tins = tx.prepare("insert into items(name) values (?)")
tins.exec("in-tx")
print(tx.query_one("select count(*) as n from items"))
tx.commit()
print(tins.try_exec("after").error)
print(db.try_prepare("select * from nowhere").error)
print(db.try_prepare().error)
`)
	checkLines(t, out, []string{
		`[{"name": "n3"}, {"name": "n4"}] {"name": "n4"} None`,
		`<sql.stmt "insert into items(name, qty) values (?, :qty)" closed> True sql.stmt.exec: statement is closed`,
		`{"n": 6}`,
		`sql.stmt.exec: transaction already committed`,
		`sql.db.prepare: SQL logic error: no such table: nowhere (1)`,
		`sql.db.prepare: missing required argument: query`,
	})
}

func TestCloseThenUse(t *testing.T) {
	_, p := dbFile(t)
	out := mustRun(t, nil, `
db = sql.open("sqlite", `+p+`)
`+schema+`
st = db.prepare("select 1")
tx = db.begin()
db.close()
db.close()
print(db, db.closed)
for name, r in [
    ("exec", db.try_exec("select 1")),
    ("query", db.try_query("select 1")),
    ("query_one", db.try_query_one("select 1")),
    ("begin", db.try_begin()),
    ("prepare", db.try_prepare("select 1")),
    ("transaction", db.try_transaction(lambda tx: 1)),
    ("stmt", st.try_query()),
    ("tx", tx.try_exec("select 1")),
]:
    print(name, r.error)
print(tx.active)
`)
	checkLines(t, out, []string{
		`<sql.db sqlite:` + filepath.Join(filepath.Dir(p[1:len(p)-1]), "test.db") + ` closed> True`,
		`exec sql.db.exec: database is closed`,
		`query sql.db.query: database is closed`,
		`query_one sql.db.query_one: database is closed`,
		`begin sql.db.begin: database is closed`,
		`prepare sql.db.prepare: database is closed`,
		`transaction sql.db.transaction: database is closed`,
		`stmt sql.stmt.query: database is closed`,
		`tx sql.tx.exec: transaction already rolled back (cancelled or database closed)`,
		`False`,
	})
}

func TestPathForms(t *testing.T) {
	dir := kitetest.TempDir(t)
	t.Chdir(dir)
	out := mustRun(t, nil, `
a = sql.open("sqlite", "rel.db")
a.exec("create table t(x)")
b = sql.open("sqlite", "file:rel.db")
c = sql.open("sqlite", "file:`+dir+`/rel.db?mode=ro")
d = sql.open("sqlite", "./sub/../rel.db?_busy_timeout=100&_fk=0")
print(a, b, c, d, sep = "\n")
print(c.try_exec("insert into t values (1)").error)
print(d.query_one("pragma foreign_keys"), d.query_one("pragma busy_timeout"))
m1 = sql.open("sqlite", ":memory:")
m2 = sql.open("sqlite", "file::memory:")
m1.exec("create table only_in_m1(x)")
print(m2.try_query("select * from only_in_m1").error)
`)
	checkLines(t, out, []string{
		`<sql.db sqlite:` + dir + `/rel.db>`,
		`<sql.db sqlite:` + dir + `/rel.db>`,
		`<sql.db sqlite:` + dir + `/rel.db>`,
		`<sql.db sqlite:` + dir + `/rel.db>`,
		`sql.db.exec: attempt to write a readonly database (8)`,
		`{"foreign_keys": 0} {"timeout": 100}`,
		`sql.db.query: SQL logic error: no such table: only_in_m1 (1)`,
	})
}

func TestTransactionStatementsRefused(t *testing.T) {
	_, p := dbFile(t)
	out := mustRun(t, nil, `
db = sql.open("sqlite", `+p+`)
`+schema+`
print(db.try_exec("begin").error)
print(db.try_query("select 1; commit").error)
print(db.try_prepare("savepoint a").error)
tx = db.begin()
tx.exec("insert into items(name) values ('kept')")
tx.exec("savepoint a")
tx.exec("insert into items(name) values ('undone')")
tx.exec("rollback to a")
tx.exec("release a")
print(tx.try_exec("commit").error)
tx.commit()
print([r["name"] for r in db.query("select name from items")])
db.exec("create trigger tr after insert on items begin update items set qty = 7 where id = new.id; end")
db.exec("insert into items(name) values ('triggered')")
print(db.query_one("select qty from items where name = 'triggered'"))
`)
	checkLines(t, out, []string{
		"sql.db.exec: transaction statements (BEGIN, COMMIT, ROLLBACK, END, SAVEPOINT, RELEASE) cannot run through a database: use db.begin() or db.transaction(fn)",
		"sql.db.query: transaction statements (BEGIN, COMMIT, ROLLBACK, END, SAVEPOINT, RELEASE) cannot run through a database: use db.begin() or db.transaction(fn)",
		"sql.db.prepare: transaction statements (BEGIN, COMMIT, ROLLBACK, END, SAVEPOINT, RELEASE) cannot run through a database: use db.begin() or db.transaction(fn)",
		"sql.tx.exec: BEGIN, COMMIT, END and ROLLBACK cannot run inside a transaction: use tx.commit() or tx.rollback()",
		`["kept"]`,
		`{"qty": 7}`,
	})
}
