package sql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// Stmt is a sql.stmt value: a statement prepared once and run many times
// with different parameters. One prepared on a database may be used by
// many threads; one prepared in a transaction is closed with it.
type Stmt struct {
	db     *DB
	tx     *Tx // nil: prepared on the database
	query  string
	st     *sql.Stmt // nil in a dry run: the statement is not prepared
	closed atomic.Bool
}

var (
	_ starlark.HasAttrs = (*Stmt)(nil)
	_ handle            = (*Stmt)(nil)
)

var stmtMethods = libkite.Methods{
	"exec":      execMethod,
	"query":     queryMethod,
	"query_one": queryOneMethod,
	"close":     stmtClose,
}

func (s *Stmt) String() string {
	str := "<sql.stmt " + strconv.Quote(s.query)
	if s.closed.Load() {
		str += " closed"
	}
	return str + ">"
}
func (s *Stmt) Type() string          { return "sql.stmt" }
func (s *Stmt) Freeze()               {}
func (s *Stmt) Truth() starlark.Bool  { return true }
func (s *Stmt) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: sql.stmt") }
func (s *Stmt) AttrNames() []string   { return stmtMethods.Names("closed", "sql") }

func (s *Stmt) Attr(name string) (starlark.Value, error) {
	switch name {
	case "sql":
		return starlark.String(s.query), nil
	case "closed":
		return starlark.Bool(s.closed.Load()), nil
	}
	return stmtMethods.Attr(s, "sql.stmt", name), nil
}

func (s *Stmt) database() *DB { return s.db }

func (s *Stmt) runner() (runner, error) {
	var owner handle = s.db
	if s.tx != nil {
		owner = s.tx
	}
	r, err := owner.runner()
	if err != nil {
		return nil, err
	}
	if s.closed.Load() {
		return nil, errors.New("statement is closed")
	}
	if r == nil {
		return nil, nil
	}
	if s.st == nil { // dry run: run the text on the owner
		return r, nil
	}
	if s.tx != nil {
		return stmtRunner{s.st, s.tx}, nil
	}
	return stmtRunner{st: s.st}, nil
}

// stmtRunner runs a prepared statement; the query text is ignored.
type stmtRunner struct {
	st *sql.Stmt
	tx *Tx // the owning transaction, if any
}

func (r stmtRunner) ExecContext(ctx context.Context, _ string, args ...any) (sql.Result, error) {
	res, err := r.st.ExecContext(ctx, args...)
	if r.tx != nil {
		err = r.tx.noteDone(err)
	}
	return res, err
}

func (r stmtRunner) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	rows, err := r.st.QueryContext(ctx, args...)
	if r.tx != nil {
		err = r.tx.noteDone(err)
	}
	return rows, err
}

// prepare: db.prepare(query) / tx.prepare(query) → sql.stmt.
func prepareMethod(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var query string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "query", &query); err != nil {
		return nil, err
	}
	h := fn.Receiver().(handle)
	d := h.database()
	_, inTx := h.(*Tx)
	if err := checkStatements(query, inTx); err != nil {
		return nil, errorf(fn, "%v", err)
	}
	r, err := h.runner()
	if err != nil {
		return nil, errorf(fn, "%v", err)
	}
	s := &Stmt{db: d, query: query}
	if t, ok := h.(*Tx); ok {
		s.tx = t
	}
	if r != nil && !d.dry {
		ctx, stop := d.callCtx(thread)
		defer stop()
		var st *sql.Stmt
		if s.tx != nil {
			st, err = s.tx.tx.PrepareContext(ctx, query)
			err = s.tx.noteDone(err)
		} else {
			st, err = d.db.PrepareContext(ctx, query)
		}
		if err != nil {
			return nil, d.wrap(fn, err)
		}
		s.st = st
	}
	if s.tx != nil {
		if err := s.tx.addStmt(s); err != nil {
			s.release()
			return nil, errorf(fn, "%v", err)
		}
	} else if !d.addStmt(s) {
		s.release()
		return nil, errorf(fn, "%v", errDBClosed)
	}
	return s, nil
}

// close: stmt.close() → None; closing twice is allowed.
func stmtClose(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	s := fn.Receiver().(*Stmt)
	if s.release() && s.tx == nil {
		s.db.removeStmt(s)
	}
	return starlark.None, nil
}

// release closes the prepared statement; false if it already was.
func (s *Stmt) release() bool {
	if s.closed.Swap(true) {
		return false
	}
	if s.st != nil {
		s.st.Close()
	}
	return true
}
