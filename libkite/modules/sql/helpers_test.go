package sql_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/concur"
	kitesql "github.com/project-starkite/starkite/libkite/modules/sql"
	kitetime "github.com/project-starkite/starkite/libkite/modules/time"
)

// kit builds the runtimes of these tests: sql, plus concur for the
// concurrent-reader tests and time for binding time values.
var kit = kitetest.Modules{kitesql.New, concur.New, kitetime.New}

var lit = kitetest.Lit

// run executes src on a fresh runtime under cfg and returns what it
// printed and the message of its error ("" on success).
func run(t *testing.T, cfg *libkite.Config, src string) (out, errMsg string) {
	t.Helper()
	rt, o := kit.New(t, cfg)
	err := rt.Execute(context.Background(), src)
	return o.String(), kitetest.ErrMsg(err)
}

// mustRun is run that fails the test on a script error.
func mustRun(t *testing.T, cfg *libkite.Config, src string) string {
	t.Helper()
	out, msg := run(t, cfg, src)
	if msg != "" {
		t.Fatalf("script failed: %s\noutput:\n%s", msg, out)
	}
	return out
}

// dbFile is a database path in a fresh temp dir, and its Starlark literal.
func dbFile(t *testing.T) (path, literal string) {
	t.Helper()
	p := filepath.Join(kitetest.TempDir(t), "test.db")
	return p, lit(p)
}

// goDB opens path with database/sql directly, to look at a database
// behind the module's back.
func goDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// count returns the number of rows of table in the database at path.
func count(t *testing.T, path, table string) int {
	t.Helper()
	var n int
	if err := goDB(t, path).QueryRow("select count(*) from " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// lines splits printed output into lines.
func lines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }
