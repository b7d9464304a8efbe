package http_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/concur"
	kitehttp "github.com/project-starkite/starkite/libkite/modules/http"
	kitejson "github.com/project-starkite/starkite/libkite/modules/json"
	kitetime "github.com/project-starkite/starkite/libkite/modules/time"
)

// kit builds the runtimes of these tests: http, plus json, time and
// concur for the scripts.
var kit = kitetest.Modules{kitehttp.New, kitejson.New, kitetime.New, concur.New}

var lit = kitetest.Lit

// run executes src on a fresh runtime under cfg and returns its output.
func run(t *testing.T, cfg *libkite.Config, src string) (string, error) {
	t.Helper()
	return kit.Run(t, cfg, src)
}

// scriptCase is one row of a table: src prints, want is the whole output;
// with wantErr the script must fail with an error message containing it.
type scriptCase struct {
	name    string
	src     string
	want    string
	wantErr string
}

func runCases(t *testing.T, cfg *libkite.Config, cases []scriptCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := run(t, cfg, tc.src)
			check(t, tc, got, err)
		})
	}
}

func check(t *testing.T, tc scriptCase, got string, err error) {
	t.Helper()
	kitetest.CheckOutput(t, got, err, tc.want, tc.wantErr)
}

// echoed is what the echo server reports about a request.
type echoed struct {
	Method string            `json:"method"`
	Path   string            `json:"path"`
	Query  string            `json:"query"`
	Header map[string]string `json:"header"`
	Body   string            `json:"body"`
}

// echoServer answers every request with its description as JSON.
func echoServer(t *testing.T) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e := echoed{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: map[string]string{}, Body: string(body)}
		for k, v := range r.Header {
			e.Header[k] = strings.Join(v, ", ")
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(e)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// quietLog drops net/http's diagnostics (TLS handshake failures the tests
// provoke on purpose).
var quietLog = log.New(io.Discard, "", 0)

// panicBuiltin crashes whoever calls it (a buggy Go builtin).
var panicBuiltin = starlark.NewBuiltin("crash", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	panic("kaboom")
})

// get fetches url with c and returns status and body.
func get(t testing.TB, c *http.Client, url string) (int, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// globalInt reads an int global of rt.
func globalInt(t testing.TB, rt *libkite.Runtime, name string) int {
	t.Helper()
	v, ok := rt.GetGlobalVal(name)
	if !ok {
		t.Fatalf("global %s not set", name)
	}
	n, err := starlark.AsInt32(v)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// refused reports whether nothing listens on 127.0.0.1:port any more.
func refused(port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return true
}

// settleGoroutines waits until the goroutine count is back to at most
// base and fails the test if it does not get there.
func settleGoroutines(t testing.TB, base int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines: %d, want at most %d\n%s", runtime.NumGoroutine(), base, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitUntil polls cond for up to 5s.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// certPair writes a fresh self-signed certificate for 127.0.0.1 (usable
// as CA, server and client certificate) and its key into dir.
func certPair(t testing.TB, dir, name string) (certFile, keyFile string) {
	certFile, keyFile, _ = kitetest.SelfSignedCert(t, dir, name)
	return certFile, keyFile
}

// pemOf writes the certificate of a TLS test server to dir and returns
// the file.
func pemOf(t testing.TB, ts *httptest.Server, dir string) string {
	t.Helper()
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
	return kitetest.WriteFile(t, filepath.Join(dir, "server.pem"), string(block))
}

func mustPool(t testing.TB, certFile string) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(kitetest.ReadFile(t, certFile))) {
		t.Fatal("no certificate in " + certFile)
	}
	return pool
}

func mustPair(t testing.TB, certFile, keyFile string) tls.Certificate {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

// mustTLS is a server TLS config requiring client certificates from pool.
func mustTLS(pool *x509.CertPool, pair tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{pair}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}
}
