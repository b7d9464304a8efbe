package sql_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

func TestDeniedUnderDenyAll(t *testing.T) {
	dir := kitetest.TempDir(t)
	file := filepath.Join(dir, "x.db")
	cfg := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	kitetest.RunPermCases(t, kit.Runtime, []kitetest.PermCase{
		{Name: "file", Cfg: cfg, Expr: `sql.open("sqlite", ` + lit(file) + `)`,
			ErrPrefix: kitetest.Denied("sql.open", "sqlite", file),
			ErrHas:    []string{`grant "sql.open" with --permissions=allow-fs`}},
		{Name: "relative file", Cfg: cfg, Expr: `sql.open("sqlite", "rel.db")`,
			ErrPrefix: kitetest.Denied("sql.open", "sqlite", libkite.CanonicalPath("rel.db"))},
		{Name: "file URI", Cfg: cfg, Expr: `sql.open("sqlite", ` + lit("file://"+file+"?mode=ro") + `)`,
			ErrPrefix: kitetest.Denied("sql.open", "sqlite", file)},
		{Name: "memory", Cfg: cfg, Expr: `sql.open("sqlite", ":memory:")`,
			ErrPrefix: kitetest.Denied("sql.open", "sqlite", ":memory:")},
		{Name: "alias", Cfg: cfg, Expr: `sql.open("sqlite3", ` + lit(file) + `)`,
			ErrPrefix: kitetest.Denied("sql.open", "sqlite", file)},
		{Name: "try_open", Cfg: cfg, Expr: `sql.try_open("sqlite", ` + lit(file) + `)`,
			Want: `Result(ok=False, error="` + strings.ReplaceAll(kitetest.Denied("sql.open", "sqlite", file), `"`, `\"`)},
		{Name: "dry run checks too", Cfg: &libkite.Config{DryRun: true, Permissions: libkite.DenyAllPermissions()},
			Expr: `sql.open("sqlite", ` + lit(file) + `)`, ErrPrefix: kitetest.Denied("sql.open", "sqlite", file)},
		{Name: "drivers is not gated", Cfg: cfg, Expr: `sql.drivers()`, Want: `["sqlite"]`},
	}, func(t *testing.T) {
		if _, err := os.Stat(file); err == nil {
			t.Fatal("a denied open created the file")
		}
	})
}

func TestTiers(t *testing.T) {
	dir := kitetest.TempDir(t)
	outside := kitetest.TempDir(t)
	t.Chdir(dir)
	fsTier := &libkite.Config{Permissions: libkite.AllowFSPermissions()}
	kitetest.WriteFile(t, filepath.Join(outside, "ro.db"), "") // an empty file is an empty database
	kitetest.RunPermCases(t, kit.Runtime, []kitetest.PermCase{
		{Name: "allow-fs opens a file under cwd", Cfg: fsTier, Expr: `sql.open("sqlite", "in.db").exec("create table t(x)")`, Want: "0"},
		// sql.open(sqlite:**) admits any path, but the file is a file: writing
		// one outside $CWD needs fs.write there, which allow-fs does not grant
		{Name: "allow-fs cannot write a database outside cwd", Cfg: fsTier, Expr: `sql.open("sqlite", ` + lit(outside+"/out.db") + `)`,
			ErrPrefix: kitetest.Denied("fs.write", "write", outside+"/out.db")},
		{Name: "allow-fs reads a database anywhere", Cfg: fsTier, Expr: `sql.open("sqlite", "file:` + outside + `/ro.db?mode=ro").driver`, Want: "sqlite"},
		{Name: "allow-fs opens memory", Cfg: fsTier, Expr: `sql.open("sqlite", ":memory:").query_one("select 1 as x")`, Want: `{"x": 1}`},
		{Name: "deny rule carves a hole", Cfg: &libkite.Config{Permissions: libkite.AllowPermissions("sql.open(sqlite:" + outside + "/**)")},
			Expr:      `sql.open("sqlite", ` + lit(outside+"/no.db") + `)`,
			ErrPrefix: `permission denied: sql.open sqlite("` + outside + `/no.db") - blocked by deny rule: sql.open(sqlite:` + outside + `/**)`},
	}, nil)
}

func TestPathScopedRule(t *testing.T) {
	root := kitetest.TempDir(t)
	allowed := kitetest.MkdirAll(t, filepath.Join(root, "allowed"))
	other := kitetest.MkdirAll(t, filepath.Join(root, "other"))
	kitetest.Symlink(t, other, filepath.Join(allowed, "escape"))
	t.Chdir(allowed)
	// fs.read/fs.write everywhere, so these cases test the sql.open rule alone
	scoped := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"sql.open(sqlite:" + allowed + "/**)", "fs.read", "fs.write"}}}
	cwdRule := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"sql.open(sqlite:$CWD/**)", "fs.read", "fs.write"}}}
	kitetest.RunPermCases(t, kit.Runtime, []kitetest.PermCase{
		{Name: "inside", Cfg: scoped, Expr: `sql.open("sqlite", ` + lit(allowed+"/a.db") + `).driver`, Want: "sqlite"},
		{Name: "relative inside", Cfg: scoped, Expr: `sql.open("sqlite", "sub/../b.db").driver`, Want: "sqlite"},
		{Name: "$CWD rule", Cfg: cwdRule, Expr: `sql.open("sqlite", "c.db").driver`, Want: "sqlite"},
		{Name: "outside", Cfg: scoped, Expr: `sql.open("sqlite", ` + lit(other+"/a.db") + `)`,
			ErrPrefix: kitetest.Denied("sql.open", "sqlite", other+"/a.db")},
		{Name: "dot-dot out", Cfg: scoped, Expr: `sql.open("sqlite", "../other/a.db")`,
			ErrPrefix: kitetest.Denied("sql.open", "sqlite", other+"/a.db")},
		{Name: "symlink out", Cfg: scoped, Expr: `sql.open("sqlite", "escape/a.db")`,
			ErrPrefix: kitetest.Denied("sql.open", "sqlite", other+"/a.db")},
		{Name: "memory needs its own grant", Cfg: scoped, Expr: `sql.open("sqlite", ":memory:")`,
			ErrPrefix: kitetest.Denied("sql.open", "sqlite", ":memory:")},
		{Name: "attach inside", Cfg: scoped,
			Expr: `sql.open("sqlite", "m.db").exec("attach database ` + "'" + allowed + `/att.db' as x")`, Want: "0"},
		{Name: "attach relative inside", Cfg: scoped, Expr: `sql.open("sqlite", "m.db").exec("attach \"att2.db\" as x")`, Want: "0"},
		{Name: "attach memory", Cfg: scoped, Expr: `sql.open("sqlite", "m.db").exec("attach ':memory:' as x")`, Want: "0"},
		{Name: "attach outside", Cfg: scoped, Expr: `sql.open("sqlite", "m.db").exec("ATTACH '` + other + `/att.db' AS x")`,
			ErrPrefix: kitetest.Denied("sql.open", "sqlite", other+"/att.db")},
		{Name: "attach through a symlink out", Cfg: scoped, Expr: `sql.open("sqlite", "m.db").exec("attach [escape/s.db] as x")`,
			ErrPrefix: kitetest.Denied("sql.open", "sqlite", other+"/s.db")},
		{Name: "attach bare word", Cfg: scoped, Expr: `sql.open("sqlite", "m.db").exec("attach bare as x")`, Want: "0"},
		{Name: "attach outside by URI", Cfg: scoped, Expr: `sql.open("sqlite", "m.db").exec("attach 'file:../other/u.db?mode=rwc' as x")`,
			ErrPrefix: kitetest.Denied("sql.open", "sqlite", other+"/u.db")},
		{Name: "vacuum into outside", Cfg: scoped, Expr: `sql.open("sqlite", "m.db").exec("vacuum into ?", ` + lit(other+"/copy.db") + `)`,
			ErrPrefix: kitetest.Denied("sql.open", "sqlite", other+"/copy.db")},
		{Name: "vacuum", Cfg: scoped, Expr: `sql.open("sqlite", "m.db").exec("vacuum")`, Want: "0"},
		{Name: "try_exec of a denied attach", Cfg: scoped,
			Expr: `sql.open("sqlite", "m.db").try_exec("select 1; attach '../other/att.db' as x").error`,
			Want: kitetest.Denied("sql.open", "sqlite", other+"/att.db")},
		{Name: "attach by parameter refused", Cfg: scoped,
			Expr: `sql.open("sqlite", "m.db").try_exec("attach ? as x", ` + lit(other+"/att.db") + `).error`,
			Want: "sql.db.exec: ATTACH needs the database file as a literal name"},
		{Name: "attach by expression refused", Cfg: scoped,
			Expr: `sql.open("sqlite", "m.db").try_exec("select 1; /* c */ attach '../other/' || 'att.db' as x").error`,
			Want: "sql.db.exec: ATTACH needs the database file as a literal name"},
		{Name: "prepared attach by parameter refused", Cfg: scoped,
			Expr: `sql.open("sqlite", "m.db").try_prepare("explain attach :f as x").error`,
			Want: "sql.db.prepare: ATTACH needs the database file as a literal name"},
		{Name: "vacuum into by parameter is checked", Cfg: scoped, Expr: `sql.open("sqlite", "m.db").exec("vacuum into ?", ` + lit(other+"/copy2.db") + `)`,
			ErrPrefix: kitetest.Denied("sql.open", "sqlite", other+"/copy2.db")},
		{Name: "a column named attach is fine", Cfg: scoped,
			Expr: `sql.open("sqlite", ":memory:" if False else "m.db").query_one("select 1 as attach")`, Want: `{"attach": 1}`},
	}, func(t *testing.T) {
		if es, _ := os.ReadDir(other); len(es) != 0 {
			t.Fatalf("a denied call created %s in the other dir", es[0].Name())
		}
	})
}

// TestDanglingLinkRefused: a symbolic link to a missing file is refused
// as a database (opened, attached or vacuumed into). SQLite would follow
// it and create the file it names, which the checks (made on the link's
// own canonical path) never saw: under allow-fs a link planted in $CWD
// would let a script create files anywhere.
func TestDanglingLinkRefused(t *testing.T) {
	root := kitetest.TempDir(t)
	cwd := kitetest.MkdirAll(t, filepath.Join(root, "cwd"))
	other := kitetest.MkdirAll(t, filepath.Join(root, "other"))
	kitetest.Symlink(t, filepath.Join(other, "absent.db"), filepath.Join(cwd, "dangle.db"))
	kitetest.Symlink(t, "loop.db", filepath.Join(cwd, "loop.db"))
	kitetest.Symlink(t, "real.db", filepath.Join(cwd, "live.db")) // leads to a file inside cwd, made below
	t.Chdir(cwd)
	fsTier := &libkite.Config{Permissions: libkite.AllowFSPermissions()}
	dry := &libkite.Config{Permissions: libkite.AllowFSPermissions(), DryRun: true}
	const refused = `cannot open "dangle.db": it is a symbolic link to a missing file`
	mustRun(t, fsTier, `sql.open("sqlite", "real.db").exec("create table t(x)")`)
	kitetest.RunPermCases(t, kit.Runtime, []kitetest.PermCase{
		{Name: "open", Cfg: fsTier, Expr: `sql.try_open("sqlite", "dangle.db").error`, Want: "sql.open: " + refused},
		{Name: "open by URI", Cfg: fsTier, Expr: `sql.try_open("sqlite", "file:dangle.db?mode=rwc").error`, Want: "sql.open: " + refused},
		{Name: "loop", Cfg: fsTier, Expr: `sql.try_open("sqlite", "loop.db").error`,
			Want: `sql.open: cannot open "loop.db": it is a symbolic link to a missing file`},
		{Name: "dry run too", Cfg: dry, Expr: `sql.try_open("sqlite", "dangle.db").error`, Want: "sql.open: " + refused},
		{Name: "attach", Cfg: fsTier, Expr: `sql.open("sqlite", "m.db").try_exec("attach 'dangle.db' as x").error`,
			Want: "sql.db.exec: ATTACH: " + refused},
		{Name: "vacuum into", Cfg: fsTier, Expr: `sql.open("sqlite", "m.db").try_exec("vacuum into 'dangle.db'").error`,
			Want: "sql.db.exec: ATTACH: " + refused},
		{Name: "the permission check comes first", Cfg: &libkite.Config{Permissions: libkite.DenyAllPermissions()},
			Expr: `sql.open("sqlite", "dangle.db")`, ErrPrefix: kitetest.Denied("sql.open", "sqlite", filepath.Join(cwd, "dangle.db"))},
		{Name: "a link to an existing file opens it", Cfg: fsTier, Expr: `sql.open("sqlite", "live.db").query_one("select count(*) as n from t")`,
			Want: `{"n": 0}`},
	}, func(t *testing.T) {
		if es, _ := os.ReadDir(other); len(es) != 0 {
			t.Fatalf("%s was created outside cwd", es[0].Name())
		}
	})
}
