package http_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// started runs src (which must bind srv to an http.server) on a fresh
// runtime under cfg, starts srv and returns the runtime, its output and
// the server's base URL. The runtime (and so the server) is closed when
// the test ends.
func started(t *testing.T, cfg *libkite.Config, src string) (*libkite.Runtime, *kitetest.Output, string) {
	t.Helper()
	rt, out := kit.New(t, cfg)
	if err := rt.Execute(context.Background(), src+"\nsrv.start()\nport = srv.port()\n"); err != nil {
		t.Fatalf("start: %v", err)
	}
	return rt, out, fmt.Sprintf("http://127.0.0.1:%d", globalInt(t, rt, "port"))
}

// more runs more script on rt (which sees earlier bindings).
func more(t *testing.T, rt *libkite.Runtime, src string) {
	t.Helper()
	if err := rt.Execute(context.Background(), src); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
}

// newClient is a Go client with its own connection pool.
func newClient(t testing.TB) *http.Client {
	c := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// reply is what a test expects from one request.
type reply struct {
	method, path, body string
	status             int
	ctype              string // "" = not checked
	want               string
	header             map[string]string
}

func (rp reply) check(t *testing.T, c *http.Client, base string) {
	t.Helper()
	method := rp.method
	if method == "" {
		method = "GET"
	}
	req, err := http.NewRequest(method, base+rp.path, strings.NewReader(rp.body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != rp.status || string(b) != rp.want {
		t.Errorf("%s %s = %d %q, want %d %q", method, rp.path, resp.StatusCode, b, rp.status, rp.want)
	}
	if rp.ctype != "" && resp.Header.Get("Content-Type") != rp.ctype {
		t.Errorf("%s %s: Content-Type %q, want %q", method, rp.path, resp.Header.Get("Content-Type"), rp.ctype)
	}
	for k, v := range rp.header {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s %s: header %s = %q, want %q", method, rp.path, k, got, v)
		}
	}
}

const text = "text/plain; charset=utf-8"

// TestReturnValues covers every row of the handler return-value table.
func TestReturnValues(t *testing.T) {
	cfg := &libkite.Config{Globals: map[string]any{"crash": panicBuiltin}}
	_, _, base := started(t, cfg, `
srv = http.server(host="127.0.0.1", port=0)
srv.handle("/none", lambda req: None)
srv.handle("/str", lambda req: "hello")
srv.handle("/explicit", lambda req: {"status": 201, "headers": {"X-A": "1", "content-type": "text/html", "X-Skip": 2}, "body": "<b>"})
srv.handle("/explicit-defaults", lambda req: {"body": {"a": 1}})
srv.handle("/explicit-bytes", lambda req: {"body": b"\x00\xffraw"})
srv.handle("/explicit-bad-status", lambda req: {"status": "418", "headers": "x", "body": "b"})
srv.handle("/explicit-out-of-range", lambda req: {"status": 42, "body": "b"})
srv.handle("/json", lambda req: {"b": [1, None, 2.5], "a": {"n": "<&>"}, "t": True})
srv.handle("/empty-json", lambda req: {})
srv.handle("/unencodable", lambda req: {"f": len})
srv.handle("/list", lambda req: [1])
srv.handle("/int", lambda req: 5)
srv.handle("/bytes", lambda req: b"x")
srv.handle("/fail", lambda req: fail("boom"))
srv.handle("/crash", lambda req: crash())
`)
	c := newClient(t)
	for _, rp := range []reply{
		{path: "/none", status: 204, want: ""},
		{path: "/str", status: 200, ctype: text, want: "hello"},
		{path: "/explicit", status: 201, ctype: "text/html", want: "<b>", header: map[string]string{"X-A": "1", "X-Skip": ""}},
		{path: "/explicit-defaults", status: 200, ctype: text, want: `{"a": 1}`},
		{path: "/explicit-bytes", status: 200, ctype: "application/octet-stream", want: "\x00\xffraw"},
		{path: "/explicit-bad-status", status: 200, ctype: text, want: "b"},
		{path: "/explicit-out-of-range", status: 500, ctype: text, want: "response error: invalid status code 42\n"},
		{path: "/json", status: 200, ctype: "application/json; charset=utf-8", want: `{"a":{"n":"\u003c\u0026\u003e"},"b":[1,null,2.5],"t":true}`},
		{path: "/empty-json", status: 200, ctype: "application/json; charset=utf-8", want: `{}`},
		{path: "/unencodable", status: 500, ctype: text, want: "response error: unsupported type: builtin_function_or_method\n"},
		{path: "/list", status: 500, ctype: text, want: "response error: handler must return dict, string, or None; got list\n"},
		{path: "/int", status: 500, want: "response error: handler must return dict, string, or None; got int\n"},
		{path: "/bytes", status: 500, want: "response error: handler must return dict, string, or None; got bytes\n"},
		{path: "/fail", status: 500, ctype: text, want: "handler error: boom\n"},
		{path: "/crash", status: 500, ctype: text, want: "handler panic: kaboom\n"},
		{path: "/str", status: 200, want: "hello"}, // still serving after errors and panics
		{method: "HEAD", path: "/str", status: 200, want: ""},
	} {
		rp.check(t, c, base)
	}
}

func TestMiddleware(t *testing.T) {
	_, _, base := started(t, nil, `
def tagger(tag):
    def mw(req, next):
        req.headers["X-Trail"] = req.headers.get("X-Trail", "") + tag
        if req.path == "/short" and tag == "1":
            return {"status": 401, "body": "denied by " + tag}
        if req.path == "/introspect":
            return "%s %s %s" % (type(next), str(next), next(req))
        if req.path == "/next0":
            return next()
        if req.path == "/next2":
            return next(req, req)
        if req.path == "/nextkw":
            return next(req=req)
        resp = next(req)
        if type(resp) == "dict" and "body" in resp:
            h = resp.setdefault("headers", {})
            h["X-Order"] = h.get("X-Order", "") + tag
        return resp
    return mw

def handler(req):
    return {"body": req.headers.get("X-Trail", "")}

srv = http.server(host="127.0.0.1", port=0)
srv.use(tagger("1"))
srv.use(tagger("2"))
srv.handle("/", handler)
srv.handle("/introspect", lambda req: "h")
srv.handle("/plain", lambda req: "not a dict")
`)
	c := newClient(t)
	for _, rp := range []reply{
		{path: "/x", status: 200, want: "12", header: map[string]string{"X-Order": "21"}},
		{path: "/plain", status: 200, want: "not a dict"},
		{path: "/short", status: 401, want: "denied by 1"},
		{path: "/introspect", status: 200, want: "middleware_step <middleware> middleware_step <handler> h"},
		{path: "/next0", status: 500, want: "handler error: next: expected 1 argument (request), got 0\n"},
		{path: "/next2", status: 500, want: "handler error: next: expected 1 argument (request), got 2\n"},
		{path: "/nextkw", status: 500, want: "handler error: next: unexpected keyword argument \"req\"\n"},
	} {
		rp.check(t, c, base)
	}
}

func TestRequestObject(t *testing.T) {
	_, _, base := started(t, nil, `
def info(req):
    return {
        "type": type(req), "str": str(req), "dir": dir(req), "truth": bool(req),
        "method": req.method, "path": req.path, "url": req.url, "params": req.params,
        "query": req.query, "headers": req.headers, "text": req.body,
        "remote": req.remote_addr.startswith("127.0.0.1:"), "host": req.host,
    }

def mutate(req):
    req.params["extra"] = "1"
    req.query["q"] = "local"
    return {"params": req.params, "query": req.query}

def assign(req):
    req.method = "PUT"

srv = http.server(host="127.0.0.1", port=0)
srv.handle("POST /items/{id}/{rest...}", info)
srv.handle("GET /m/{id}", mutate)
srv.handle("/assign", assign)
`)
	c := newClient(t)
	req, _ := http.NewRequest("POST", base+"/items/a%20b/x/y?x=1&x=2&y=z", strings.NewReader("payload"))
	req.Header.Set("x-custom", "c")
	req.Header.Add("X-Multi", "1")
	req.Header.Add("X-Multi", "2")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	host := strings.TrimPrefix(base, "http://")
	for k, want := range map[string]string{
		"type":    `"http.request"`,
		"str":     `"http.request(POST /items/a b/x/y)"`,
		"dir":     `["body","headers","host","method","params","path","query","remote_addr","url"]`,
		"truth":   `true`,
		"method":  `"POST"`,
		"path":    `"/items/a b/x/y"`,
		"url":     `"http://` + host + `/items/a%20b/x/y?x=1\u0026x=2\u0026y=z"`,
		"params":  `{"id":"a b","rest":"x/y"}`,
		"query":   `{"x":["1","2"],"y":"z"}`,
		"text":    `"payload"`,
		"remote":  `true`,
		"host":    `"` + host + `"`,
		"headers": `{"Accept-Encoding":"gzip","Content-Length":"7","User-Agent":"Go-http-client/1.1","X-Custom":"c","X-Multi":"1, 2"}`,
	} {
		b, _ := json.Marshal(got[k])
		if string(b) != want {
			t.Errorf("%s = %s, want %s", k, b, want)
		}
	}
	for _, rp := range []reply{
		{method: "POST", path: "/items/7/", status: 200},
		{path: "/m/1?q=x", status: 200, want: `{"params":{"extra":"1","id":"1"},"query":{"q":"local"}}`},
		{path: "/m/2", status: 200, want: `{"params":{"extra":"1","id":"2"},"query":{"q":"local"}}`},
		{path: "/assign", status: 500, want: "handler error: can't assign to .method field of http.request\n"},
	} {
		if rp.path == "/items/7/" {
			// an empty {rest...} is left out of params
			resp, err := c.Post(base+rp.path, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			if b, _ := json.Marshal(m["params"]); string(b) != `{"id":"7"}` {
				t.Errorf("params = %s", b)
			}
			continue
		}
		rp.check(t, c, base)
	}
}

func TestRouting(t *testing.T) {
	_, _, base := started(t, nil, `
srv = http.server(host="127.0.0.1", port=0)
srv.handle("GET /only-get", lambda req: "got")
srv.handle("/tree/", lambda req: "tree " + req.path)
srv.handle("/{$}", lambda req: "root")
srv.handle("/users/{id}", lambda req: "user " + req.params["id"])
`)
	c := newClient(t)
	for _, rp := range []reply{
		{path: "/only-get", status: 200, want: "got"},
		{method: "POST", path: "/only-get", status: 405, want: "Method Not Allowed\n", header: map[string]string{"Allow": "GET, HEAD"}},
		{path: "/tree/a/b", status: 200, want: "tree /tree/a/b"},
		{path: "/", status: 200, want: "root"},
		{path: "/users/42", status: 200, want: "user 42"},
		{path: "/nothing", status: 404, want: "404 page not found\n"},
	} {
		rp.check(t, c, base)
	}
}

func TestServerErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	h := "def h(req):\n    return 'x'\n"
	srv := h + "srv = http.server(host=\"127.0.0.1\", port=0)\n"
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `(type(http.server()), str(http.server()), bool(http.server()))`, Want: `("http.server", "<http.server>", True)`},
		{Expr: `dir(http.server())`, Want: `["handle", "port", "serve", "shutdown", "start", "try_handle", "try_port", "try_serve", "try_shutdown", "try_start", "try_use", "use"]`},
		{Expr: `{http.server(): 1}`, Err: "unhashable type: http.server"},
		{Expr: `http.server(read_timeout=5)`, Err: `http.server: read_timeout must be a string (e.g. "30s"), got int`},
		{Expr: `http.server(shutdown_timeout="x")`, Err: `http.server: invalid shutdown_timeout "x": time: invalid duration "x"`},
		{Expr: `str(http.server(1, port="x", host=1, max_body_bytes="big", unknown=1))`, Want: "<http.server>"},
		{Pre: srv, Expr: `srv.handle("/")`, Err: "handle: expected (pattern, handler), got 1 args"},
		{Pre: srv, Expr: `srv.handle(pattern="/", handler=h)`, Err: "handle: expected (pattern, handler), got 0 args"},
		{Pre: srv, Expr: `srv.handle(1, h)`, Err: "handle: pattern must be a string, got int"},
		{Pre: srv, Expr: `srv.handle("/", 1)`, Err: "handle: handler must be callable, got int"},
		{Pre: srv, Expr: `srv.use()`, Err: "use: expected 1 argument (middleware), got 0"},
		{Pre: srv, Expr: `srv.use("mw")`, Err: "use: middleware must be callable, got string"},
		{Pre: srv, Expr: `srv.try_use(1, 2).error`, Want: "use: expected 1 argument (middleware), got 2"},
		{Pre: srv, Expr: `srv.port()`, Err: "http.server: server not started, no port available"},
		{Pre: srv, Expr: `srv.start()`, Err: "http.server: no handlers registered, call handle() first"},
		{Pre: srv, Expr: `srv.shutdown(1, x=2)`, Want: "None"},
		{Pre: srv + "srv.handle('/', h)\nsrv.start()\n", Expr: `srv.try_start().error`,
			Want: "http.server: server already running, call shutdown() first"},
		{Pre: srv + "srv.handle('/', h)\nsrv.start()\n", Expr: `srv.try_handle("/b", h).error`,
			Want: "http.server: cannot add handlers while server is running"},
		{Pre: srv + "srv.handle('/', h)\nsrv.start()\n", Expr: `srv.try_use(h).error`,
			Want: "http.server: cannot add middleware while server is running"},
		{Pre: srv + "srv.handle('/', h)\n", Expr: fmt.Sprintf(`srv.start(port=%d)`, busyPort),
			Err: fmt.Sprintf("http.server: listen: listen tcp 127.0.0.1:%d: bind: address already in use", busyPort)},
		{Pre: srv + "srv.handle('/', h)\n", Expr: `srv.start(tls_cert="/no/cert.pem", tls_key="/no/key.pem")`,
			Err: "http.server: failed to load TLS cert: open /no/cert.pem: no such file or directory"},
		{Pre: srv + "srv.handle('/a', h)\nsrv.handle('/a', h)\n", Expr: `srv.start()`,
			Err: `http.server: invalid route "/a": duplicate pattern`},
		{Pre: srv + "srv.handle('GET /a/{x}', h)\nsrv.handle('GET /a/{y}', h)\n", Expr: `srv.start()`,
			Err: `http.server: invalid route "GET /a/{y}": conflicts with pattern "GET /a/{x}": GET /a/{y} matches the same requests as GET /a/{x}`},
		{Pre: srv + "srv.handle('/a/{x', h)\n", Expr: `srv.start()`,
			Err: `http.server: invalid route "/a/{x": at offset 3: bad wildcard segment (must end with '}')`},
		{Pre: srv + "srv.handle('', h)\n", Expr: `srv.try_start().error`, Want: `http.server: invalid route "": http: invalid pattern`},
		{Pre: srv + "srv.handle('/a', h)\nsrv.handle('/a', h)\nsrv.try_start()\n", Expr: `srv.try_port().error`,
			Want: "http.server: server not started, no port available"},
		{Expr: `http.serve()`, Err: "http.serve: expected 1 argument (handler or routes dict), got 0"},
		{Expr: `http.serve(1)`, Err: "http.serve: first argument must be callable or dict, got int"},
		{Expr: `http.serve({1: len})`, Err: "http.serve: route pattern must be a string, got int"},
		{Expr: `http.serve({"/": 1})`, Err: "http.serve: route handler must be callable, got int"},
		{Expr: `http.serve({})`, Err: "http.server: no handlers registered, call handle() first"},
		{Expr: `http.serve(len, read_timeout=1)`, Err: `http.server: read_timeout must be a string (e.g. "30s"), got int`},
		{Expr: `http.try_serve(len, host="127.0.0.1", port=1 << 20).error`, Want: "http.server: listen: listen tcp: address 1048576: invalid port"},
	})
}

func TestBodyLimit(t *testing.T) {
	_, _, base := started(t, nil, `
srv = http.server(host="127.0.0.1", port=0, max_body_bytes=8)
srv.handle("/", lambda req: "got " + req.body)
`)
	c := newClient(t)
	for _, rp := range []reply{
		{method: "POST", path: "/", body: "12345678", status: 200, want: "got 12345678"},
		{method: "POST", path: "/", body: "123456789", status: 413, ctype: text, want: "request body exceeds max_body_bytes (8)\n"},
		{method: "POST", path: "/", body: "", status: 200, want: "got "},
	} {
		rp.check(t, c, base)
	}
}

func TestHandlerErrorThenSuccess(t *testing.T) {
	_, _, base := started(t, nil, `
def flaky(req):
    if req.query.get("fail"):
        fail("first call fails")
    return "ok"
srv = http.server(host="127.0.0.1", port=0)
srv.handle("/", flaky)
`)
	c := newClient(t)
	reply{path: "/?fail=1", status: 500, ctype: text, want: "handler error: first call fails\n"}.check(t, c, base)
	reply{path: "/", status: 200, want: "ok"}.check(t, c, base)
}

// TestShutdownInsideHandler: a handler may stop its own server; its reply
// is still delivered, the port is free at once and the server can start
// again.
func TestShutdownInsideHandler(t *testing.T) {
	rt, _, base := started(t, nil, `
def stop(req):
    srv.shutdown()
    srv.shutdown()  # idempotent
    return "bye"
srv = http.server(host="127.0.0.1", port=0)
srv.handle("/stop", stop)
srv.handle("/", lambda req: "alive")
`)
	c := newClient(t)
	reply{path: "/stop", status: 200, want: "bye"}.check(t, c, base)
	port := globalInt(t, rt, "port")
	waitUntil(t, "the port to close", func() bool { return refused(port) })
	more(t, rt, "srv.start(port=port)\nsame = srv.port() == port")
	c.CloseIdleConnections()
	reply{path: "/", status: 200, want: "alive"}.check(t, c, base)
	more(t, rt, "srv.shutdown()")
	if !refused(port) {
		t.Fatal("still listening after shutdown()")
	}
}

// TestShutdownFromHandlerWorker: shutdown() from a thread a handler
// spawned (a concur worker) does not wait for the handler either.
func TestShutdownFromHandlerWorker(t *testing.T) {
	rt, _, base := started(t, nil, `
def stop(req):
    concur.each([1], lambda x: srv.shutdown())
    return "bye"
srv = http.server(host="127.0.0.1", port=0, shutdown_timeout="60s")
srv.handle("/stop", stop)`)
	c := newClient(t)
	c.Timeout = 30 * time.Second // a deadlock would hold the reply for the 60s grace period
	reply{path: "/stop", status: 200, want: "bye"}.check(t, c, base)
	port := globalInt(t, rt, "port")
	waitUntil(t, "the port to close", func() bool { return refused(port) })
}

// TestForcedShutdown: a handler still running when shutdown_timeout ends
// is cancelled (even a busy loop), and nothing is left running.
func TestForcedShutdown(t *testing.T) {
	base := runtime.NumGoroutine()
	rt, out := kit.New(t, nil)
	more(t, rt, `
def spin(req):
    print("running")
    while True:
        pass
def sleep(req):
    print("running")
    time.sleep("60s")
srv = http.server(host="127.0.0.1", port=0, shutdown_timeout="100ms")
srv.handle("/spin", spin)
srv.handle("/sleep", sleep)
srv.start()
port = srv.port()`)
	url := fmt.Sprintf("http://127.0.0.1:%d", globalInt(t, rt, "port"))
	c := newClient(t)
	errs := make(chan error, 2)
	for _, p := range []string{"/spin", "/sleep"} {
		go func() {
			resp, err := c.Get(url + p)
			if err == nil {
				resp.Body.Close()
			}
			errs <- err
		}()
	}
	waitUntil(t, "both handlers to run", func() bool { return len(out.Lines()) == 2 })
	more(t, rt, "srv.shutdown()")
	for range 2 {
		if err := <-errs; err == nil {
			t.Error("a request in flight at a forced shutdown got a reply")
		}
	}
	c.CloseIdleConnections()
	settleGoroutines(t, base)
}

func TestRestart(t *testing.T) {
	got, err := run(t, nil, `
srv = http.server(host="127.0.0.1", port=0)
srv.handle("/", lambda req: "up")
for i in range(3):
    srv.start()
    p = srv.port()
    r = http.url("http://127.0.0.1:%d/" % p).get()
    srv.shutdown()
    print(r.get_text(), srv.port() == p, http.url("http://127.0.0.1:%d/" % p).try_get(timeout="1s").ok)
srv.shutdown()
`)
	check(t, scriptCase{want: "up True False\nup True False\nup True False"}, got, err)
}

// TestRuntimeCloseStopsServer: a started server never outlives its runtime.
func TestRuntimeCloseStopsServer(t *testing.T) {
	base := runtime.NumGoroutine()
	rt, out := kit.New(t, nil)
	more(t, rt, `
srv = http.server(host="127.0.0.1", port=0)
srv.handle("/", lambda req: "up")
srv.start()
port = srv.port()`)
	port := globalInt(t, rt, "port")
	c := newClient(t)
	reply{path: "/", status: 200, want: "up"}.check(t, c, fmt.Sprintf("http://127.0.0.1:%d", port))
	rt.Close()
	if !refused(port) {
		t.Fatal("server still listening after runtime Close")
	}
	c.CloseIdleConnections()
	settleGoroutines(t, base)
	_ = out
}

// TestCancelStopsServe: cancelling the context of the thread blocked in
// serve() shuts the server down and serve() returns.
func TestCancelStopsServe(t *testing.T) {
	rt, _ := kit.New(t, nil)
	more(t, rt, `
srv = http.server(host="127.0.0.1", port=0)
srv.handle("/", lambda req: "up")`)
	if rt.HasSignalHandler("SIGINT") {
		t.Fatal("signal handler before serve()")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Execute(ctx, "srv.serve()\nprint('not reached')") }()
	var port int
	waitUntil(t, "serve() to listen", func() bool {
		v, err := rt.Eval(context.Background(), "srv.try_port().value")
		if err != nil || v.String() == "None" {
			return false
		}
		_, err = fmt.Sscan(v.String(), &port)
		return err == nil
	})
	reply{path: "/", status: 200, want: "up"}.check(t, newClient(t), fmt.Sprintf("http://127.0.0.1:%d", port))
	if !rt.HasSignalHandler("SIGINT") || !rt.HasSignalHandler("SIGTERM") {
		t.Error("serve() did not install its SIGINT/SIGTERM handlers")
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("serve() ended with %v, want the cancellation", err)
	}
	if !refused(port) {
		t.Fatal("server still listening after cancellation")
	}
	if rt.HasSignalHandler("SIGINT") || rt.HasSignalHandler("SIGTERM") {
		t.Error("serve() left its signal handlers installed")
	}
}

// TestServeKeepsScriptSignalHandlers: serve() installs no handler for a
// signal the script already handles, and removes nothing of the script's.
func TestServeKeepsScriptSignalHandlers(t *testing.T) {
	rt, _ := kit.New(t, nil)
	more(t, rt, `
on_signal("SIGINT", lambda name: None)
srv = http.server(host="127.0.0.1", port=0)
srv.handle("/stop", lambda req: srv.shutdown())`)
	done := make(chan error, 1)
	go func() { done <- rt.Execute(context.Background(), "srv.serve()") }()
	var port int
	waitUntil(t, "serve() to listen", func() bool {
		v, err := rt.Eval(context.Background(), "srv.try_port().value")
		if err != nil || v.String() == "None" {
			return false
		}
		_, err = fmt.Sscan(v.String(), &port)
		return err == nil && rt.HasSignalHandler("SIGTERM")
	})
	reply{path: "/stop", status: 204}.check(t, newClient(t), fmt.Sprintf("http://127.0.0.1:%d", port))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !rt.HasSignalHandler("SIGINT") {
		t.Error("the script's SIGINT handler was removed")
	}
	if rt.HasSignalHandler("SIGTERM") {
		t.Error("serve()'s SIGTERM handler was left installed")
	}
}

// TestServeOneLiner: http.serve with a routes dict (and with a bare
// callable mounted at "/") blocks until the script is cancelled.
func TestServeOneLiner(t *testing.T) {
	for _, tc := range []struct{ name, arg, path, want string }{
		{"routes dict", `{"GET /a": lambda req: "a", "/b/{n}": lambda req: "b" + req.params["n"]}`, "/b/7", "b7"},
		{"callable", `lambda req: "any " + req.path`, "/x/y", "any /x/y"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			port := l.Addr().(*net.TCPAddr).Port
			l.Close()
			rt, _ := kit.New(t, nil)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() {
				done <- rt.Execute(ctx, fmt.Sprintf("http.serve(%s, host=\"127.0.0.1\", port=%d)", tc.arg, port))
			}()
			base := fmt.Sprintf("http://127.0.0.1:%d", port)
			waitUntil(t, "http.serve to listen", func() bool { return !refused(port) })
			reply{path: tc.path, status: 200, want: tc.want}.check(t, newClient(t), base)
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("http.serve ended with %v", err)
			}
			if !refused(port) {
				t.Fatal("still listening")
			}
		})
	}
}

func TestServerTLS(t *testing.T) {
	dir := kitetest.TempDir(t)
	cert, key := certPair(t, dir, "server")
	rt, _, base := started(t, nil, `
srv = http.server(host="127.0.0.1", port=0, tls_cert=`+lit(cert)+`, tls_key=`+lit(key)+`)
srv.handle("/", lambda req: req.url)`)
	base = strings.Replace(base, "http://", "https://", 1)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: mustPool(t, cert)}}}
	defer c.CloseIdleConnections()
	reply{path: "/x?a=1", status: 200, want: base + "/x?a=1"}.check(t, c, base)
	more(t, rt, "r = http.url("+lit(base+"/k")+").get(ca_cert="+lit(cert)+")\nok = r.get_text() == "+lit(base+"/k"))
	if v, _ := rt.GetGlobalVal("ok"); v.String() != "True" {
		t.Fatal("kite client over TLS to the kite server failed")
	}
}

// TestHandlerPermissions: handlers run with the starting thread's
// permissions and the runtime's dry-run flag.
func TestHandlerPermissions(t *testing.T) {
	cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"http.server"}}}
	_, _, base := started(t, cfg, `
srv = http.server(host="127.0.0.1", port=0)
srv.handle("/", lambda req: http.url("http://127.0.0.1:1/x").get().get_text())`)
	reply{path: "/", status: 500, want: "handler error: " + kitetest.Denied("http.client", "GET", "http://127.0.0.1:1/x") +
		"\n  grant \"http.client\" with --permissions=allow-net (or higher), or an allow rule in ~/.starkite/config.yaml\n"}.
		check(t, newClient(t), base)

	_, _, base = started(t, &libkite.Config{DryRun: true}, `
srv = http.server(host="127.0.0.1", port=0)
srv.handle("/", lambda req: http.url("http://127.0.0.1:1/x").post().get_text())`)
	reply{path: "/", status: 200, want: "[DRY RUN] Would POST http://127.0.0.1:1/x"}.check(t, newClient(t), base)
}

func TestServerPermissions(t *testing.T) {
	deny := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	setupOnly := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"http.server(server:)"}}}
	loopback := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{
		"http.server(server,handle,shutdown,port:)", "http.server(start,serve:127.0.0.1:*)"}}}
	srv := `http.server(host="127.0.0.1", port=0)`
	cases := []kitetest.PermCase{
		{Name: "server", Cfg: deny, Expr: `http.server()`, ErrPrefix: "permission denied: http.server server - no matching allow rule"},
		{Name: "try_server", Cfg: deny, Expr: `http.try_server()`, Want: `Result(ok=False, error="permission denied: http.server server - `},
		{Name: "serve", Cfg: deny, Expr: `http.serve(len)`, ErrPrefix: "permission denied: http.server server - no matching allow rule"},
		{Name: "serve checks serve after server", Cfg: setupOnly, Expr: `http.serve(len, port=8080)`,
			ErrPrefix: kitetest.Denied("http.server", "serve", ":8080")},
		{Name: "listen address is the resource", Cfg: loopback, Expr: `(lambda s: [s.handle("/", len), s.start(host="0.0.0.0")])(` + srv + `)`,
			ErrPrefix: kitetest.Denied("http.server", "start", "0.0.0.0:0")},
		{Name: "loopback allowed", Cfg: loopback, Expr: `(lambda s: [s.handle("/", len), s.start(), s.port() > 0, s.shutdown()])(` + srv + `)`,
			Want: "[None, None, True, None]"},
	}
	for _, m := range []string{"handle", "use", "start", "serve", "shutdown", "port"} {
		resource := " - "
		if m == "start" || m == "serve" {
			resource = `("127.0.0.1:0") - `
		}
		cases = append(cases,
			kitetest.PermCase{Name: m, Cfg: setupOnly, Expr: srv + "." + m + "()", ErrPrefix: "permission denied: http.server " + m + resource},
			kitetest.PermCase{Name: "try_" + m, Cfg: setupOnly, Expr: srv + ".try_" + m + "()",
				Want: `Result(ok=False, error="permission denied: http.server ` + m})
	}
	kitetest.RunPermCases(t, func(t testing.TB, cfg *libkite.Config) *libkite.Runtime { return kit.Runtime(t, cfg) }, cases, nil)
}
