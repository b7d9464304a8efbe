package sql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// Tx is a sql.tx value: one transaction on one connection. It is meant for
// the thread that began it; calls from several threads are serialised.
type Tx struct {
	db   *DB
	tx   *sql.Tx // nil: a dry run of a driver that opened no connection
	stop func()  // releases the transaction's context

	mu    sync.Mutex
	state txState
	stmts []*Stmt // prepared in the transaction, closed with it
}

type txState uint8

const (
	txActive txState = iota
	txCommitted
	txRolledBack
	txAborted // rolled back by cancellation or close
)

func (s txState) String() string {
	switch s {
	case txCommitted:
		return "committed"
	case txRolledBack:
		return "rolled back"
	case txAborted:
		return "rolled back (cancelled or database closed)"
	}
	return "active"
}

var (
	_ starlark.HasAttrs = (*Tx)(nil)
	_ handle            = (*Tx)(nil)
)

var txMethods = libkite.Methods{
	"exec":      execMethod,
	"query":     queryMethod,
	"query_one": queryOneMethod,
	"prepare":   prepareMethod,
	"commit":    txCommit,
	"rollback":  txRollback,
}

func (t *Tx) String() string {
	return "<sql.tx " + t.db.driver + ":" + t.db.resource + " " + t.currentState().String() + ">"
}
func (t *Tx) Type() string          { return "sql.tx" }
func (t *Tx) Freeze()               {}
func (t *Tx) Truth() starlark.Bool  { return true }
func (t *Tx) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: sql.tx") }
func (t *Tx) AttrNames() []string   { return txMethods.Names("active") }

func (t *Tx) Attr(name string) (starlark.Value, error) {
	if name == "active" {
		return starlark.Bool(t.currentState() == txActive), nil
	}
	return txMethods.Attr(t, "sql.tx", name), nil
}

func (t *Tx) currentState() txState {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state
}

func (t *Tx) database() *DB { return t.db }

// finishedError says why a finished transaction cannot run statements.
type finishedError txState

func (e finishedError) Error() string { return "transaction already " + txState(e).String() }

func (t *Tx) runner() (runner, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state == txActive && t.db.closed.Load() { // close rolled it back
		t.state = txAborted
		t.release()
	}
	if t.state != txActive {
		return nil, finishedError(t.state)
	}
	if t.tx == nil {
		return nil, nil
	}
	return txRunner{t}, nil
}

// txRunner runs statements in t and notices a transaction that
// cancellation or close rolled back behind the script's back.
type txRunner struct{ t *Tx }

func (r txRunner) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := r.t.tx.ExecContext(ctx, query, args...)
	return res, r.t.noteDone(err)
}

func (r txRunner) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := r.t.tx.QueryContext(ctx, query, args...)
	return rows, r.t.noteDone(err)
}

// noteDone turns database/sql's ErrTxDone into the transaction's story.
func (t *Tx) noteDone(err error) error {
	if !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state == txActive {
		t.state = txAborted
		t.release()
	}
	return finishedError(t.state)
}

// addStmt registers s to be closed when t finishes.
func (t *Tx) addStmt(s *Stmt) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state != txActive {
		return finishedError(t.state)
	}
	t.stmts = append(t.stmts, s)
	return nil
}

// release frees the transaction's context and statements (t.mu held).
func (t *Tx) release() {
	for _, s := range t.stmts {
		s.release()
	}
	t.stmts = nil
	if t.stop != nil {
		t.stop()
		t.stop = nil
	}
}

// commit: tx.commit() → None. In a dry run nothing was written, and the
// read transaction is simply ended.
func txCommit(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	t := fn.Receiver().(*Tx)
	if err := t.commit(); err != nil {
		return nil, t.db.wrap(fn, err)
	}
	return starlark.None, nil
}

func (t *Tx) commit() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state != txActive {
		return finishedError(t.state)
	}
	var err error
	switch {
	case t.tx == nil:
	case t.db.dry:
		err = t.tx.Rollback()
	default:
		err = t.tx.Commit()
	}
	t.state = txCommitted
	if errors.Is(err, sql.ErrTxDone) {
		t.state, err = txAborted, finishedError(txAborted)
	} else if err != nil {
		t.state = txAborted
	}
	t.release()
	return err
}

// rollback: tx.rollback() → None. Rolling back a finished transaction
// does nothing, so it is safe in cleanup code.
func txRollback(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	t := fn.Receiver().(*Tx)
	if err := t.rollback(); err != nil {
		return nil, t.db.wrap(fn, err)
	}
	return starlark.None, nil
}

func (t *Tx) rollback() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state != txActive {
		return nil
	}
	t.state = txRolledBack
	var err error
	if t.tx != nil {
		if err = t.tx.Rollback(); errors.Is(err, sql.ErrTxDone) {
			err = nil
		}
	}
	t.release()
	return err
}
