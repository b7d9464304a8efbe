package sql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// DB is a sql.db value: an open database (a database/sql pool, safe for
// concurrent use by concur workers and other threads).
type DB struct {
	driver   string
	resource string // the permission resource: path, ":memory:" or host[:port]
	dry      bool   // opened in a dry run: exec and commit change nothing
	db       *sql.DB
	pin      *sql.Conn // keeps an in-memory database alive
	guard    *attachGuard

	// ctx is cancelled by close: it aborts statements still running and
	// rolls back open transactions.
	ctx    context.Context
	cancel context.CancelFunc

	closed  atomic.Bool
	mu      sync.Mutex
	stmts   map[*Stmt]struct{}
	tracker *tracker
}

var (
	_ starlark.HasAttrs = (*DB)(nil)
	_ handle            = (*DB)(nil)
)

var dbMethods = libkite.Methods{
	"exec":        execMethod,
	"query":       queryMethod,
	"query_one":   queryOneMethod,
	"begin":       dbBegin,
	"transaction": dbTransaction,
	"prepare":     prepareMethod,
	"close":       dbClose,
}

func (d *DB) String() string {
	s := "<sql.db " + d.driver + ":" + d.resource
	if d.closed.Load() {
		s += " closed"
	}
	return s + ">"
}
func (d *DB) Type() string          { return "sql.db" }
func (d *DB) Freeze()               {}
func (d *DB) Truth() starlark.Bool  { return true }
func (d *DB) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: sql.db") }
func (d *DB) AttrNames() []string   { return dbMethods.Names("closed", "driver") }

func (d *DB) Attr(name string) (starlark.Value, error) {
	switch name {
	case "driver":
		return starlark.String(d.driver), nil
	case "closed":
		return starlark.Bool(d.closed.Load()), nil
	}
	return dbMethods.Attr(d, "sql.db", name), nil
}

func (d *DB) database() *DB { return d }

func (d *DB) runner() (runner, error) {
	if d.closed.Load() {
		return nil, errDBClosed
	}
	if d.db == nil {
		return nil, nil
	}
	return d.db, nil
}

var errDBClosed = errors.New("database is closed")

// callCtx is the context of one call: the calling thread's, also ended by
// close. stop releases it.
func (d *DB) callCtx(thread *starlark.Thread) (ctx context.Context, stop func()) {
	tc := libkite.Context(thread)
	if tc.Done() == nil {
		return d.ctx, func() {}
	}
	ctx, cancel := context.WithCancel(tc)
	unhook := context.AfterFunc(d.ctx, cancel)
	return ctx, func() { unhook(); cancel() }
}

// wrap prefixes a driver error with the builtin's name; a refused ATTACH
// surfaces as the permission error itself.
func (d *DB) wrap(fn *starlark.Builtin, err error) error {
	err = d.guard.takeDenial(err)
	if libkite.IsPermissionError(err) {
		return err
	}
	return fmt.Errorf("%s: %w", fn.Name(), err)
}

// close: db.close() → None. Closing twice is allowed. Statements still
// running are interrupted, open transactions rolled back and prepared
// statements closed.
func dbClose(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	d := fn.Receiver().(*DB)
	if err := d.close(); err != nil {
		return nil, errorf(fn, "%v", err)
	}
	return starlark.None, nil
}

func (d *DB) close() error {
	if d.closed.Swap(true) {
		return nil
	}
	if d.tracker != nil {
		d.tracker.remove(d)
	}
	return d.shutdown()
}

// shutdown releases everything d holds.
func (d *DB) shutdown() error {
	if d.cancel != nil {
		d.cancel()
	}
	d.mu.Lock()
	stmts := d.stmts
	d.stmts = nil
	d.mu.Unlock()
	for s := range stmts {
		s.release()
	}
	if d.pin != nil {
		d.pin.Close()
	}
	if d.db != nil {
		return d.db.Close()
	}
	return nil
}

// addStmt registers s to be closed with d; false if d is closed.
func (d *DB) addStmt(s *Stmt) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed.Load() {
		return false
	}
	if d.stmts == nil {
		d.stmts = map[*Stmt]struct{}{}
	}
	d.stmts[s] = struct{}{}
	return true
}

func (d *DB) removeStmt(s *Stmt) {
	d.mu.Lock()
	delete(d.stmts, s)
	d.mu.Unlock()
}

// begin: db.begin() → sql.tx. The transaction lives under the calling
// thread's context: cancelling it (or closing the database or runtime)
// rolls the transaction back.
func dbBegin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	return fn.Receiver().(*DB).begin(thread, fn)
}

func (d *DB) begin(thread *starlark.Thread, fn *starlark.Builtin) (*Tx, error) {
	if _, err := d.runner(); err != nil {
		return nil, errorf(fn, "%v", err)
	}
	t := &Tx{db: d}
	if d.db == nil {
		return t, nil
	}
	ctx, stop := d.callCtx(thread)
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		stop()
		return nil, d.wrap(fn, err)
	}
	t.tx, t.stop = tx, stop
	return t, nil
}

// transaction: db.transaction(fn) → fn's result. fn(tx) runs inside a new
// transaction, committed when fn returns, rolled back when it fails (its
// error is then raised unchanged). A transaction fn already finished
// itself is left as it is.
func dbTransaction(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var body starlark.Callable
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "fn", &body); err != nil {
		return nil, err
	}
	d := fn.Receiver().(*DB)
	tx, err := d.begin(thread, fn)
	if err != nil {
		return nil, err
	}
	v, err := starlark.Call(thread, body, starlark.Tuple{tx}, nil)
	if err != nil {
		tx.rollback()
		return nil, err
	}
	if err := tx.commit(); err != nil {
		var done finishedError
		if !errors.As(err, &done) || txState(done) == txAborted {
			return nil, d.wrap(fn, err)
		}
	}
	return v, nil
}

// tracker closes the databases a runtime's scripts left open when the
// runtime closes.
type tracker struct {
	mu     sync.Mutex
	dbs    map[*DB]struct{}
	closed bool
}

var trackers sync.Map // *libkite.Runtime → *tracker

// track registers d with rt's tracker, if there is a runtime.
func (d *DB) track(rt *libkite.Runtime) error {
	if rt == nil {
		return nil
	}
	v, ok := trackers.Load(rt)
	if !ok {
		var loaded bool
		v, loaded = trackers.LoadOrStore(rt, &tracker{dbs: map[*DB]struct{}{}})
		if !loaded {
			t := v.(*tracker)
			rt.AddCleanup(func() {
				t.closeAll()
				trackers.Delete(rt)
			})
		}
	}
	t := v.(*tracker)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		d.close()
		return errors.New("runtime is closed")
	}
	t.dbs[d] = struct{}{}
	d.tracker = t
	return nil
}

func (t *tracker) remove(d *DB) {
	t.mu.Lock()
	delete(t.dbs, d)
	t.mu.Unlock()
}

func (t *tracker) closeAll() {
	t.mu.Lock()
	t.closed = true
	dbs := t.dbs
	t.dbs = nil
	t.mu.Unlock()
	for d := range dbs {
		d.close()
	}
}
