// Package sql is kite's "sql" module: databases through database/sql with
// an embedded pure-Go SQLite (modernc.org/sqlite, no cgo) as the sqlite
// driver (spec: docs/modules/sql.md).
//
// sql.open checks sql.open:<driver>(<resource>) before touching anything;
// the resource is the database file's canonical path (":memory:" for an
// in-memory database) or a network driver's host[:port]. Databases
// (sql.db), transactions (sql.tx) and prepared statements (sql.stmt) are
// objects whose methods each have a try_ twin. Every statement runs under
// the calling thread's context, so cancelling a script interrupts its
// queries and rolls back its transactions; closing the runtime closes
// every database the scripts left open.
package sql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the sql module: the try-enabled namespace {open, drivers}.
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:    "sql",
		Doc:   "SQL databases: embedded SQLite, parameter binding, transactions, prepared statements",
		Try:   true,
		Build: members,
	}
}

func members() starlark.StringDict {
	return starlark.StringDict{
		"open":    starlark.NewBuiltin("sql.open", open),
		"drivers": starlark.NewBuiltin("sql.drivers", drivers),
	}
}

// errorf prefixes an error with the builtin's name.
func errorf(fn *starlark.Builtin, format string, args ...any) error {
	return fmt.Errorf("%s: %s", fn.Name(), fmt.Sprintf(format, args...))
}

// drivers() → sorted list of the driver names this build links.
func drivers(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	names := Drivers()
	list := make([]starlark.Value, len(names))
	for i, n := range names {
		list[i] = starlark.String(n)
	}
	return starlark.NewList(list), nil
}

// open(driver, dsn) → sql.db. perm sql.open:<driver>(<resource>), checked
// before any file or connection is touched (also in a dry run).
func open(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, dsn string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "driver", &name, "dsn", &dsn); err != nil {
		return nil, err
	}
	drv, err := lookupDriver(name)
	if err != nil {
		return nil, errorf(fn, "%v", err)
	}
	var (
		target   *sqliteTarget
		resource string
	)
	switch {
	case drv.goName == sqliteGoDriver && drv.name == "sqlite":
		if target, err = parseSQLite(dsn); err != nil {
			return nil, errorf(fn, "%v", err)
		}
		resource = target.resource()
	case drv.kind == File:
		path, _, _ := strings.Cut(dsn, "?")
		if path == "" {
			return nil, errorf(fn, "empty %s DSN", drv.name)
		}
		resource = libkite.CanonicalPath(path)
	default:
		if resource, err = networkResource(drv.name, dsn); err != nil {
			return nil, errorf(fn, "%v", err)
		}
	}
	if err := libkite.Check(thread, "sql", "open", drv.name, resource); err != nil {
		return nil, err
	}
	if target != nil {
		if err := target.checkFile(libkite.GetPermissions(thread), libkite.DryRun(thread)); err != nil {
			return nil, err
		}
		if err := target.refuseDanglingLink(); err != nil {
			return nil, errorf(fn, "%v", err)
		}
	}
	db := &DB{driver: drv.name, resource: resource, dry: libkite.DryRun(thread)}
	db.ctx, db.cancel = context.WithCancel(context.Background())
	ctx := libkite.Context(thread)
	if target != nil {
		err = db.openSQLite(ctx, target, libkite.GetPermissions(thread))
	} else if !db.dry { // a dry run opens no connection to other drivers
		db.db, err = sql.Open(drv.goName, dsn)
		if err == nil {
			err = db.db.PingContext(ctx)
		}
	}
	if err != nil {
		db.shutdown()
		return nil, errorf(fn, "%v", err)
	}
	if err := db.track(libkite.GetRuntime(thread)); err != nil {
		return nil, errorf(fn, "%v", err)
	}
	return db, nil
}

// openSQLite opens the embedded SQLite database t names; see driverDSN for
// what a dry run opens instead.
func (d *DB) openSQLite(ctx context.Context, t *sqliteTarget, checker *libkite.PermissionChecker) error {
	dsn, memory, err := t.driverDSN(d.dry)
	if err != nil {
		return err
	}
	base, err := sqliteConnector(dsn)
	if err != nil {
		return err
	}
	d.guard = &attachGuard{checker: checker, dry: d.dry}
	d.db = sql.OpenDB(guardedConnector{Connector: base, guard: d.guard})
	d.db.SetMaxOpenConns(maxOpenConns)
	d.db.SetMaxIdleConns(maxIdleConns)
	if memory {
		// an in-memory database lives as long as one connection to it
		d.pin, err = d.db.Conn(ctx)
	} else {
		err = d.db.PingContext(ctx)
	}
	if err != nil {
		if t.memory {
			return err
		}
		return fmt.Errorf("cannot open %q: %v", t.given, err)
	}
	return nil
}

// Pool bounds: SQLite connections each carry a page cache; readers beyond
// the bound wait for a free connection.
const (
	maxOpenConns = 16
	maxIdleConns = 4
)
