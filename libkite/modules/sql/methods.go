package sql

import (
	"context"
	"database/sql"

	"go.starlark.net/starlark"
)

// handle is what runs statements: a database, a transaction or a
// prepared statement.
type handle interface {
	starlark.Value
	database() *DB
	// runner returns what runs the statements, nil when nothing does (a
	// dry run that opened no connection), or why the handle cannot run
	// any (closed, transaction finished).
	runner() (runner, error)
}

// runner is the part of *sql.DB and *sql.Tx the methods use.
type runner interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// call is one exec/query call, its arguments checked and bound.
type call struct {
	h     handle
	db    *DB
	r     runner
	query string
	args  []any
}

// bindCall reads `(query, *params, **named)` (a statement's own SQL
// replaces query) and checks the handle can run it.
func bindCall(fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (*call, error) {
	h := fn.Receiver().(handle)
	c := &call{h: h, db: h.database()}
	if s, ok := h.(*Stmt); ok {
		c.query = s.query
	} else {
		if len(args) == 0 {
			return nil, errorf(fn, "missing required argument: query")
		}
		q, ok := args[0].(starlark.String)
		if !ok {
			return nil, errorf(fn, "query must be a string, got %s", args[0].Type())
		}
		c.query, args = string(q), args[1:]
		_, inTx := h.(*Tx)
		if err := checkStatements(c.query, inTx); err != nil {
			return nil, errorf(fn, "%v", err)
		}
	}
	var err error
	if c.args, err = bindArgs(args, kwargs); err != nil {
		return nil, errorf(fn, "%v", err)
	}
	if c.r, err = h.runner(); err != nil {
		return nil, errorf(fn, "%v", err)
	}
	return c, nil
}

// exec: h.exec(query, *params, **named) → rows affected. In a dry run
// nothing runs and the result is 0.
func execMethod(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	c, err := bindCall(fn, args, kwargs)
	if err != nil {
		return nil, err
	}
	if c.r == nil || c.db.dry {
		return starlark.MakeInt(0), nil
	}
	ctx, stop := c.db.callCtx(thread)
	defer stop()
	res, err := c.r.ExecContext(ctx, c.query, c.args...)
	if err != nil {
		return nil, c.db.wrap(fn, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, c.db.wrap(fn, err)
	}
	if c.db.guard != nil && !changesRows(c.query) {
		// SQLite reports the connection's last data change for any
		// other statement
		n = 0
	}
	return starlark.MakeInt64(n), nil
}

// query: h.query(query, *params, **named) → list of dicts.
func queryMethod(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return runQuery(thread, fn, args, kwargs, false)
}

// query_one: h.query_one(query, *params, **named) → the first row as a
// dict, or None.
func queryOneMethod(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return runQuery(thread, fn, args, kwargs, true)
}

func runQuery(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, one bool) (starlark.Value, error) {
	c, err := bindCall(fn, args, kwargs)
	if err != nil {
		return nil, err
	}
	if c.r == nil { // dry run without a connection
		if one {
			return starlark.None, nil
		}
		return starlark.NewList(nil), nil
	}
	ctx, stop := c.db.callCtx(thread)
	defer stop()
	rows, err := c.r.QueryContext(ctx, c.query, c.args...)
	if err != nil {
		return nil, c.db.wrap(fn, err)
	}
	v, err := readRows(rows, one)
	if err != nil {
		return nil, c.db.wrap(fn, err)
	}
	return v, nil
}
