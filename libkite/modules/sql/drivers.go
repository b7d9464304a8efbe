package sql

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
)

// Kind says what a driver's DSN names, which decides the permission
// resource of sql.open and the tier that grants it.
type Kind int

const (
	// File drivers open a local file: the resource is its canonical path.
	File Kind = iota
	// Network drivers dial a server: the resource is host[:port].
	Network
)

// knownDrivers are the names sql.open recognises whether or not the build
// links them (permissions.md §10); an edition links more by RegisterDriver.
var knownDrivers = []string{"mysql", "postgres", "sqlite"}

// aliases map accepted spellings to a driver name.
var aliases = map[string]string{"sqlite3": "sqlite", "postgresql": "postgres"}

type driverInfo struct {
	name   string // the name scripts and permission rules use
	goName string // the database/sql driver name
	kind   Kind
}

var registry = struct {
	sync.RWMutex
	m map[string]*driverInfo
}{m: map[string]*driverInfo{"sqlite": {name: "sqlite", goName: sqliteGoDriver, kind: File}}}

// RegisterDriver links a database/sql driver (registered under goDriverName
// by its package's init) as sql.open(name, ...). Editions that import, say,
// github.com/jackc/pgx/v5/stdlib call RegisterDriver("postgres", "pgx",
// Network) from an init function. A Network driver's DSN may be a URL
// (scheme://user:pass@host:port/db), a key=value list (host=... port=...)
// or a MySQL DSN (user:pass@tcp(host:port)/db); the permission resource is
// its host[:port], never its credentials. Registering "sqlite" again is
// ignored: the embedded SQLite is always the sqlite driver.
func RegisterDriver(name, goDriverName string, kind Kind) {
	if name == "sqlite" {
		return
	}
	registry.Lock()
	defer registry.Unlock()
	registry.m[name] = &driverInfo{name: name, goName: goDriverName, kind: kind}
}

// Drivers returns the names of the drivers this build links, sorted.
func Drivers() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// lookupDriver resolves a script's driver name: `unknown driver "x"
// (known: ...)` or `driver "postgres" not available in this build
// (available: sqlite)`.
func lookupDriver(name string) (*driverInfo, error) {
	if a, ok := aliases[name]; ok {
		name = a
	}
	registry.RLock()
	d := registry.m[name]
	registry.RUnlock()
	if d != nil {
		return d, nil
	}
	known := map[string]bool{}
	for _, n := range knownDrivers {
		known[n] = true
	}
	for _, n := range Drivers() {
		known[n] = true
	}
	if known[name] {
		return nil, fmt.Errorf("driver %q not available in this build (available: %s)", name, strings.Join(Drivers(), ", "))
	}
	names := make([]string, 0, len(known))
	for n := range known {
		names = append(names, n)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("unknown driver %q (known: %s)", name, strings.Join(names, ", "))
}

// networkResource is the permission resource of a network DSN: host or
// host:port as the DSN names it, without user, password, database or
// options. Forms: URL (postgres://u:p@db.internal:5432/app), key=value
// (host=db port=5432 password=x), MySQL (u:p@tcp(db:3306)/app,
// u@unix(/run/mysqld.sock)/app → "unix:/run/mysqld.sock"). A DSN naming
// no host gets the driver's default (postgres: localhost:5432, mysql:
// 127.0.0.1:3306).
func networkResource(driver, dsn string) (string, error) {
	switch {
	case strings.Contains(dsn, "://"):
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("invalid %s DSN: %v", driver, redactURLError(err))
		}
		if u.Host == "" {
			return defaultHost(driver), nil
		}
		return u.Host, nil
	case driver != "mysql" && strings.Contains(dsn, "="):
		return keywordHost(driver, dsn), nil
	}
	return mysqlHost(driver, dsn), nil
}

// redactURLError drops the URL (which may hold a password) from a
// url.Parse error.
func redactURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func defaultHost(driver string) string {
	if driver == "mysql" {
		return "127.0.0.1:3306"
	}
	return "localhost:5432"
}

// keywordHost reads host= and port= of a libpq key=value DSN.
func keywordHost(driver, dsn string) string {
	var host, port string
	for _, f := range strings.Fields(dsn) {
		k, v, _ := strings.Cut(f, "=")
		v = strings.Trim(v, "'")
		switch k {
		case "host":
			host = v
		case "port":
			port = v
		}
	}
	if host == "" {
		return defaultHost(driver)
	}
	if port != "" {
		return host + ":" + port
	}
	return host
}

// mysqlHost reads the address of a go-sql-driver/mysql DSN
// [user[:pass]@][net[(addr)]]/db[?opts].
func mysqlHost(driver, dsn string) string {
	rest := dsn
	if i := strings.LastIndex(rest, "/"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	network, addr, ok := strings.Cut(rest, "(")
	if !ok || !strings.HasSuffix(addr, ")") {
		if rest != "" && rest != "tcp" {
			return rest
		}
		return defaultHost(driver)
	}
	addr = strings.TrimSuffix(addr, ")")
	if network == "unix" {
		return "unix:" + addr
	}
	if addr == "" {
		return defaultHost(driver)
	}
	return addr
}
