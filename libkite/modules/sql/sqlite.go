package sql

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"

	sqlite "modernc.org/sqlite"

	"github.com/project-starkite/starkite/libkite"
)

// sqliteGoDriver is the database/sql name modernc.org/sqlite registers.
const sqliteGoDriver = "sqlite"

// memoryName is the DSN (and permission resource) of a private
// in-memory database.
const memoryName = ":memory:"

// sqliteDefaults are the connection settings every read-write file
// database gets; a DSN parameter of the same name overrides one.
// WAL lets readers run while a writer is active; IMMEDIATE transactions
// take the write lock at begin, so concurrent writers queue on the busy
// timeout instead of failing half-way.
var sqliteDefaults = map[string]string{
	"_busy_timeout": "5000",
	"_foreign_keys": "1",
	"_journal_mode": "WAL",
	"_synchronous":  "NORMAL",
	"_txlock":       "immediate",
}

// sqliteParams are the DSN parameters a script may set, and the aliases
// the driver also accepts. Others (notably _pragma, which runs arbitrary
// SQL before kite's guard is installed, and vfs) are refused.
var sqliteParams = map[string]string{
	"mode": "mode", "immutable": "immutable",
	"_busy_timeout": "_busy_timeout", "_timeout": "_busy_timeout",
	"_foreign_keys": "_foreign_keys", "_fk": "_foreign_keys",
	"_journal_mode": "_journal_mode", "_journal": "_journal_mode",
	"_synchronous": "_synchronous", "_sync": "_synchronous",
	"_txlock": "_txlock", "_auto_vacuum": "_auto_vacuum", "_vacuum": "_auto_vacuum",
}

// sqliteTarget is a parsed sqlite DSN.
type sqliteTarget struct {
	given  string     // the path as the script wrote it
	path   string     // canonical absolute path; "" for :memory:
	memory bool       // a private in-memory database
	params url.Values // the script's parameters, canonical names
}

// resource is the permission resource: the canonical path, or ":memory:".
func (t *sqliteTarget) resource() string {
	if t.memory {
		return memoryName
	}
	return t.path
}

// parseSQLite reads a sqlite DSN: a file path (relative to the working
// directory), a file: URI (file:data.db, file:///abs/x.db?mode=ro) or
// ":memory:", each optionally followed by ?params.
func parseSQLite(dsn string) (*sqliteTarget, error) {
	if dsn == "" {
		return nil, errors.New(`empty sqlite DSN (want a file path, a "file:" URI or ":memory:")`)
	}
	t := &sqliteTarget{}
	name, query, _ := strings.Cut(dsn, "?")
	if strings.HasPrefix(name, "file:") {
		rest, _, _ := strings.Cut(name[len("file:"):], "#")
		if strings.HasPrefix(rest, "//") {
			auth, p, _ := strings.Cut(rest[2:], "/")
			if auth != "" && auth != "localhost" {
				return nil, fmt.Errorf("invalid sqlite URI %q: host %q is not local", dsn, auth)
			}
			rest = "/" + p
		}
		p, err := url.PathUnescape(rest)
		if err != nil {
			return nil, fmt.Errorf("invalid sqlite URI %q: %v", dsn, err)
		}
		name = p
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("invalid sqlite DSN parameters %q: %v", query, err)
	}
	t.params = url.Values{}
	for k, vs := range params {
		canon, ok := sqliteParams[k]
		if !ok {
			return nil, fmt.Errorf("unsupported sqlite DSN parameter %q (supported: %s)", k, supportedParams())
		}
		t.params[canon] = vs[len(vs)-1:]
	}
	if m := t.params.Get("mode"); m == "memory" {
		t.memory = true
		t.params.Del("mode")
	} else if m != "" && m != "ro" && m != "rw" && m != "rwc" {
		return nil, fmt.Errorf("invalid sqlite mode %q (want ro, rw, rwc or memory)", m)
	}
	switch {
	case t.memory || name == memoryName:
		t.memory, t.given = true, memoryName
	case name == "":
		return nil, fmt.Errorf("sqlite DSN %q names no file", dsn)
	default:
		t.given, t.path = name, libkite.CanonicalPath(name)
	}
	return t, nil
}

func supportedParams() string {
	names := make([]string, 0, len(sqliteParams))
	for k := range sqliteParams {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// readOnly reports whether the script asked for a read-only database.
func (t *sqliteTarget) readOnly() bool {
	return t.params.Get("mode") == "ro" || isTrue(t.params.Get("immutable"))
}

func isTrue(s string) bool {
	switch strings.ToLower(s) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

var memSeq atomic.Uint64

// driverDSN is the DSN handed to modernc.org/sqlite. In a dry run a file
// is opened without writing anything: an existing file read-only (mode=ro
// when a -wal file shows it in use, else immutable=1, which creates no
// -wal/-shm files), a missing one as an empty in-memory database.
func (t *sqliteTarget) driverDSN(dry bool) (dsn string, memory bool, err error) {
	q := url.Values{}
	for k, v := range sqliteDefaults {
		q.Set(k, v)
	}
	for k, v := range t.params {
		q[k] = v
	}
	memory = t.memory
	if !memory {
		dir := filepath.Dir(t.path)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return "", false, fmt.Errorf("cannot open %q: directory %q does not exist", t.given, dir)
		}
		if dry {
			switch _, err := os.Stat(t.path); {
			case errors.Is(err, os.ErrNotExist):
				memory = true
			case err != nil:
				return "", false, fmt.Errorf("cannot open %q: %v", t.given, err)
			default:
				q.Del("mode")
				q.Del("immutable")
				if _, err := os.Stat(t.path + "-wal"); err == nil {
					q.Set("mode", "ro")
				} else {
					q.Set("immutable", "1")
				}
			}
		}
	}
	if memory {
		// memdb: one database shared by the pool's connections (a plain
		// :memory: would give each connection its own).
		q.Del("_journal_mode")
		q.Del("mode")
		q.Del("immutable")
		q.Set("vfs", "memdb")
		name := fmt.Sprintf("/kite-sql-%d-%d", os.Getpid(), memSeq.Add(1))
		return "file:" + name + "?" + q.Encode(), true, nil
	}
	if dry || t.readOnly() {
		q.Del("_journal_mode") // switching to WAL writes the file
		q.Set("_txlock", "deferred")
	}
	u := url.URL{Scheme: "file", Path: t.path, RawQuery: q.Encode()}
	return u.String(), false, nil
}

// sqliteConnector is modernc.org/sqlite's connector for dsn.
func sqliteConnector(dsn string) (driver.Connector, error) { return sqlite.NewConnector(dsn) }

// guardedConnector installs the attach guard on every connection the pool
// opens, before any statement of the script runs on it.
type guardedConnector struct {
	driver.Connector
	guard *attachGuard
}

func (c guardedConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	reg, ok := conn.(sqlite.AuthorizerRegisterer)
	if !ok {
		conn.Close()
		return nil, errors.New("sqlite driver has no authorizer")
	}
	if err := reg.RegisterAuthorizer(c.guard.authorize); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// attachGuard keeps ATTACH (and VACUUM INTO, which SQLite reports as an
// ATTACH) inside the script's permissions: attaching a file is an
// sql.open of that file, checked against the policy in force when the
// database was opened; in a dry run only in-memory databases attach.
type attachGuard struct {
	checker *libkite.PermissionChecker
	dry     bool
	denied  atomic.Pointer[error] // the last refusal, to replace SQLite's "not authorized"
}

func (g *attachGuard) authorize(action sqlite.AuthorizerActionCode, arg1, _, _, _ string) sqlite.AuthorizerReturnCode {
	if action != sqlite.AuthAttach {
		return sqlite.AuthorizerOK
	}
	if err := g.checkAttach(arg1); err != nil {
		g.denied.Store(&err)
		return sqlite.AuthorizerDeny
	}
	return sqlite.AuthorizerOK
}

func (g *attachGuard) checkAttach(file string) error {
	if file == "" { // a temporary database (also what VACUUM attaches)
		return nil
	}
	t, err := parseSQLite(file)
	if err != nil {
		return fmt.Errorf("ATTACH: %v", err)
	}
	if t.memory {
		return nil
	}
	if g.dry {
		return fmt.Errorf("ATTACH %q: attaching a database file is not simulated in a dry run", file)
	}
	if err := g.checker.Check("sql", "open", "sqlite", t.path); err != nil {
		return err
	}
	if err := t.checkFile(g.checker, false); err != nil {
		return err
	}
	if err := t.refuseDanglingLink(); err != nil {
		return fmt.Errorf("ATTACH: %v", err)
	}
	return nil
}

// checkFile is the file-system half of opening a database file: a SQLite
// file is a file like any other, so beyond sql.open the script needs
// fs.write on it (fs.read when it is opened read-only or in a dry run).
// Without this, allow-fs — whose fs.write stops at $CWD — could create
// or modify a database anywhere through sql.open(sqlite:**).
func (t *sqliteTarget) checkFile(checker *libkite.PermissionChecker, dry bool) error {
	if t.memory {
		return nil
	}
	if dry || t.readOnly() {
		return checker.Check("fs", "read", "read_file", t.path)
	}
	return checker.Check("fs", "write", "write", t.path)
}

// refuseDanglingLink refuses a database file whose final element is
// still a symbolic link after canonicalisation, i.e. a link to a missing
// file (or a loop): SQLite would follow it and create the file it names,
// a path the permission checks never saw (an allow-fs script could plant
// `x.db -> /elsewhere/x.db` in $CWD and create files anywhere). The fs
// module refuses writes through such links the same way.
func (t *sqliteTarget) refuseDanglingLink() error {
	if t.memory {
		return nil
	}
	if fi, err := os.Lstat(t.path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return fmt.Errorf("cannot open %q: it is a symbolic link to a missing file", t.given)
	}
	return nil
}

// takeDenial returns the guard's refusal if err is SQLite's
// SQLITE_AUTH error, so the script sees the permission error.
func (g *attachGuard) takeDenial(err error) error {
	var se *sqlite.Error
	if g == nil || !errors.As(err, &se) || se.Code()&0xff != 23 { // SQLITE_AUTH
		return err
	}
	if p := g.denied.Swap(nil); p != nil {
		return *p
	}
	return err
}
