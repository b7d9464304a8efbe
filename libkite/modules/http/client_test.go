package http_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// echoPre binds base (the echo server's URL) and the echo(r) helper that
// decodes what the server saw.
func echoPre(ts *httptest.Server) string {
	return "base = " + lit(ts.URL) + "\n" +
		"def echo(r):\n    return json.decode(r.get_text())\n"
}

func TestClientRequests(t *testing.T) {
	ts := echoServer(t)
	pre := echoPre(ts)
	runCases(t, nil, []scriptCase{
		{name: "every verb", src: pre + `
u = http.url(base + "/v")
for m in ["get", "post", "put", "patch", "delete"]:
    r = getattr(u, m)()
    print(m, r.status_code, echo(r)["method"], echo(r)["body"] == "")`,
			want: "get 200 GET True\npost 200 POST True\nput 200 PUT True\npatch 200 PATCH True\ndelete 200 DELETE True"},
		{name: "response object", src: pre + `
r = http.url(base).get()
print(type(r), str(r), repr(r), bool(r), r.status, type(r.body), type(r.get_bytes()), type(r.get_text()))
print(r.headers["Content-Type"], r.get_bytes() == r.body, dir(r))`,
			want: `http.response http.response(200) http.response(200) True 200 OK bytes bytes string` + "\n" +
				`application/json True ["body", "get_bytes", "get_text", "headers", "status", "status_code", "try_get_bytes", "try_get_text"]`},
		{name: "headers canonical, config defaults, per-request override", src: pre + `
http.config(headers={"x-default": "d", "X-Both": "config", "x-num": 1})
r = echo(http.url(base).get(headers={"x-custom": "a", "x-both": "request", "x-skip": 2}))
h = r["header"]
print(h["X-Custom"], h["X-Default"], h["X-Both"], "X-Num" in h, "X-Skip" in h, h["User-Agent"].startswith("Go-http-client"))`,
			want: "a d request False False True"},
		{name: "empty default header is sent", src: pre + `
http.config(headers={"X-Empty": ""})
print(repr(echo(http.url(base).get())["header"].get("X-Empty")))`,
			want: `""`},
		{name: "non-dict headers ignored, unknown kwargs ignored", src: pre + `
print(http.url(base).get(headers="x", params={"a": 1}).status_code)`,
			want: "200"},
		{name: "Host header sets the request host", src: pre + `
print(http.url(base).get(headers={"Host": "example.test"}).status_code)`,
			want: "200"},
		{name: "str body as is, no content type", src: pre + `
e = echo(http.url(base).post("a=1&b=2"))
print(e["body"], "Content-Type" in e["header"])`,
			want: "a=1&b=2 False"},
		{name: "body keyword overrides positional", src: pre + `
print(echo(http.url(base).put("pos", body="kw"))["body"])`,
			want: "kw"},
		{name: "dict body is JSON with forced content type", src: pre + `
e = echo(http.url(base).post({"b": [1, "<&>"], "a": None}, headers={"Content-Type": "text/plain"}))
print(e["body"], e["header"]["Content-Type"])`,
			want: `{"a":null,"b":[1,"\u003c\u0026\u003e"]} application/json`},
		{name: "other bodies are their str()", src: pre + `
print(echo(http.url(base).post([1, "a"]))["body"], echo(http.url(base).post(5))["body"])`,
			want: `[1, "a"] 5`},
		{name: "bytes body is sent raw", src: pre + `
print(echo(http.url(base).post(b"raw\x01"))["body"] == "raw\x01")`,
			want: "True"},
		{name: "get and delete accept body=", src: pre + `
print(echo(http.url(base).get(body="g"))["body"], echo(http.url(base).delete(body="d"))["body"])`,
			want: "g d"},
		{name: "json kwarg", src: pre + `
e = echo(http.url(base).patch(json=[1, {"k": True}]))
print(e["body"], e["header"]["Content-Type"])`,
			want: `[1,{"k":true}] application/json`},
		{name: "form kwarg", src: pre + `
e = echo(http.url(base).post(form={"b": "x y", "a": [1, True, 2.5]}))
print(e["body"], e["header"]["Content-Type"])`,
			want: "a=1&a=true&a=2.5&b=x+y application/x-www-form-urlencoded"},
		{name: "query kwarg merges", src: pre + `
e = echo(http.url(base + "/p?z=9&a=1").get(query={"a": None, "b": ["1", 2], "c": "x y"}))
print(e["path"], e["query"])`,
			want: "/p b=1&b=2&c=x+y&z=9"},
		{name: "url builders", src: pre + `
u = http.url(base + "/api/", query={"v": 1})
j = u.join("users", "a b/c", 42, "")
print(str(j).replace(base, "B"))
print(echo(j.get())["path"])
w = j.with_query({"x": "1"}, y=True, v=None)
print(str(w).replace(base, "B"), echo(w.get())["query"])
print(str(http.url("http://h/p#frag").with_query(a=1)), str(http.url("http://h").join("x")))`,
			want: `http.url("B/api/users/a%20b%2Fc/42?v=1")` + "\n" +
				"/api/users/a b/c/42\n" +
				`http.url("B/api/users/a%20b%2Fc/42?x=1&y=true") x=1&y=true` + "\n" +
				`http.url("http://h/p?a=1#frag") http.url("http://h/x")`},
		{name: "status codes are data", src: `
srv = http.server(port=0)
srv.handle("/", lambda req: {"status": int(req.query.get("s", "200")), "body": "s"})
srv.start()
u = "http://127.0.0.1:%d/" % srv.port()
print(http.url(u + "?s=404").get().status_code, http.url(u + "?s=500").get().status, http.url(u + "?s=201").post("").status_code)
srv.shutdown()`,
			want: "404 500 Internal Server Error 201"},
		{name: "repeated response header is a list", src: `
def h(req):
    return {"body": "", "headers": {"X-One": "1"}}
srv = http.server(port=0)
srv.handle("/", h)
srv.start()
r = http.url("http://127.0.0.1:%d/" % srv.port()).get()
print(r.headers["X-One"])
srv.shutdown()`,
			want: "1"},
	})
}

func TestClientRepeatedHeaders(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		_, _ = w.Write([]byte("ok"))
	}))
	defer ts.Close()
	got, err := run(t, nil, `print(http.url(`+lit(ts.URL)+`).get().headers["X-Multi"])`)
	check(t, scriptCase{want: `["a", "b"]`}, got, err)
}

func TestClientErrors(t *testing.T) {
	ts := echoServer(t)
	u := `http.url(` + lit(ts.URL) + `)`
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `http.url()`, Err: "http.url: expected 1 argument (url), got 0"},
		{Expr: `http.url("a", "b")`, Err: "http.url: expected 1 argument (url), got 2"},
		{Expr: `http.url(1)`, Err: "http.url: url must be a string, got int"},
		{Expr: `str(http.url("::bad", foo=1))`, Want: `http.url("::bad")`},
		{Expr: `(bool(http.url("")), bool(http.url("x")), type(http.url("x")))`, Want: `(False, True, "http.url")`},
		{Expr: `{http.url("x"): 1}`, Err: "unhashable type: http.url"},
		{Expr: `http.url("x", query=[1])`, Err: "http.url: query must be a dict, got list"},
		{Expr: `http.url("x", query={1: "a"})`, Err: "http.url: query keys must be strings, got int"},
		{Expr: `http.url("x", query={"a": {}})`, Err: `http.url: query value for "a" must be str, int, float, bool or a list of them, got dict`},
		{Expr: `http.url("x").join("..")`, Err: `http.url.join: invalid path segment ".."`},
		{Expr: `http.url("x").join(None)`, Err: "http.url.join: segment 0 must be a string or int, got NoneType"},
		{Expr: `http.url("x").try_join(".").error`, Want: `http.url.join: invalid path segment "."`},
		{Expr: `http.url("x").with_query(1)`, Err: "http.url.with_query: query must be a dict, got int"},
		{Expr: u + `.get(1)`, Err: "http.url.get: unexpected positional arguments"},
		{Expr: u + `.delete("x")`, Err: "http.url.delete: unexpected positional arguments"},
		{Expr: u + `.post("a", "b")`, Err: "http.url.post: unexpected positional arguments"},
		{Expr: u + `.get(timeout=5)`, Err: `http.url.get: timeout must be a string (e.g. "5s"), got int`},
		{Expr: u + `.put(timeout="zz")`, Err: `http.url.put: invalid timeout "zz": time: invalid duration "zz"`},
		{Expr: u + `.post(body="a", json={})`, Err: "http.url.post: only one of body, json and form may be given"},
		{Expr: u + `.post(json=1, form={})`, Err: "http.url.post: only one of body, json and form may be given"},
		{Expr: u + `.post(form=[1])`, Err: "http.url.post: form must be a dict, got list"},
		{Expr: u + `.post(json=len)`, Err: "http.url.post: cannot encode json: unsupported type: builtin_function_or_method"},
		{Expr: u + `.get(query=1)`, Err: "http.url.get: query must be a dict, got int"},
		{Expr: u + `.get(max_body_bytes=0)`, Err: "http.url.get: max_body_bytes must be a positive int, got 0"},
		{Expr: u + `.get(max_redirects=-1)`, Err: "http.url.get: max_redirects must be a non-negative int, got -1"},
		{Expr: u + `.get(follow_redirects="no")`, Err: "http.url.get: follow_redirects must be a bool, got string"},
		{Expr: u + `.get(insecure=1)`, Err: "http.url.get: insecure must be a bool, got int"},
		{Expr: u + `.get(ca_cert=1)`, Err: "http.url.get: ca_cert must be a string (file path), got int"},
		{Expr: u + `.get(client_cert="a")`, Err: "http.url.get: client_cert and client_key must be given together"},
		{Expr: u + `.get(ca_cert="/no/such/ca.pem")`, Err: "http.url.get: ca_cert: open /no/such/ca.pem: no such file or directory"},
		{Expr: `http.url("::bad").get()`, Err: `parse "::bad": missing protocol scheme`},
		{Expr: `http.url("http://127.0.0.1:1/").get()`, Err: `Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused`},
		{Expr: `http.url("http://127.0.0.1:1/").try_post().ok`, Want: "False"},
		{Expr: u + `.get().get_text(1)`, Err: "http.response.get_text: takes no arguments"},
		{Expr: u + `.get().try_get_bytes(x=1).error`, Want: "http.response.get_bytes: takes no arguments"},
		{Expr: u + `.try_get().value.status_code`, Want: "200"},
		{Expr: u + `.try_nothing()`, Err: "http.url has no .try_nothing field or method", ErrContains: true},
		{Expr: `http.config(timeout=5)`, Err: `http.config: timeout must be a string (e.g. "30s"), got int`},
		{Expr: `http.config(timeout="bad")`, Err: `http.config: invalid timeout "bad": time: invalid duration "bad"`},
		{Expr: `http.config(1, 2)`, Want: "None"},
		{Expr: `http.config(timeout="5s", headers=[1])`, Want: "None"},
		{Expr: `http.config(max_header_bytes=-1)`, Err: "http.config: max_header_bytes must be a positive int, got -1"},
		{Expr: `http.try_config(client_key="k").error`, Want: "http.config: client_cert and client_key must be given together"},
	})
}

func TestClientConfigIsPerRuntime(t *testing.T) {
	ts := echoServer(t)
	reg := libkite.NewRegistry(nil)
	for _, m := range kit {
		reg.Register(m())
	}
	cfg := &libkite.Config{Registry: reg}
	a, outA := kitetest.New(t, cfg)
	b, outB := kitetest.New(t, cfg)
	src := "print(json.decode(http.url(" + lit(ts.URL) + ").get().get_text())['header'].get('X-Rt', 'none'))"
	if err := a.Execute(context.Background(), `http.config(headers={"X-Rt": "a"})`+"\n"+src); err != nil {
		t.Fatal(err)
	}
	if err := b.Execute(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if outA.String() != "a" || outB.String() != "none" {
		t.Fatalf("runtime a saw %q, runtime b saw %q", outA, outB)
	}
}

func TestClientRedirects(t *testing.T) {
	var hits atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		var n int
		if _, err := fmt.Sscanf(r.URL.Path, "/r/%d", &n); err == nil && n > 0 {
			http.Redirect(w, r, fmt.Sprintf("/r/%d", n-1), http.StatusFound)
			return
		}
		fmt.Fprintf(w, "%s %s", r.Method, r.URL.Path)
	}))
	defer ts.Close()
	pre := "base = " + lit(ts.URL) + "\n"
	runCases(t, nil, []scriptCase{
		{name: "followed", src: pre + `print(http.url(base + "/r/3").get().get_text())`, want: "GET /r/0"},
		{name: "10 by default", src: pre + `print(http.url(base + "/r/10").get().status_code)`, want: "200"},
		{name: "11 is too many", src: pre + `http.url(base + "/r/11").get()`, wantErr: "stopped after 10 redirects"},
		{name: "max_redirects", src: pre + `http.url(base + "/r/3").get(max_redirects=2)`, wantErr: "stopped after 2 redirects"},
		{name: "max_redirects exact", src: pre + `print(http.url(base + "/r/2").get(max_redirects=2).status_code)`, want: "200"},
		{name: "not followed", src: pre + `
r = http.url(base + "/r/3").get(follow_redirects=False)
print(r.status_code, r.headers["Location"])`, want: "302 /r/2"},
		{name: "config", src: pre + `
http.config(follow_redirects=False)
print(http.url(base + "/r/1").get().status_code, http.url(base + "/r/1").get(follow_redirects=True).status_code)
http.config(follow_redirects=True, max_redirects=0)
print(http.url(base + "/r/1").try_get().error.endswith("stopped after 0 redirects"))`, want: "302 200\nTrue"},
		{name: "POST 302 becomes GET", src: pre + `print(http.url(base + "/r/1").post("x").get_text())`, want: "GET /r/0"},
	})
}

// TestRedirectHopsChecked: every hop is checked against the policy; a hop
// to a host the policy does not allow fails with the permission denial
// (reachable with errors.As) and the denied host is never contacted.
func TestRedirectHopsChecked(t *testing.T) {
	var hitsB atomic.Int32
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hitsB.Add(1)
		_, _ = w.Write([]byte("b"))
	}))
	defer b.Close()
	var hitsA atomic.Int32
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hitsA.Add(1)
		switch r.URL.Path {
		case "/hop":
			http.Redirect(w, r, "/to-b", http.StatusFound)
		case "/to-b":
			http.Redirect(w, r, b.URL+"/secret", http.StatusFound)
		case "/see-other":
			http.Redirect(w, r, "/done", http.StatusSeeOther)
		default:
			_, _ = w.Write([]byte("a " + r.Method))
		}
	}))
	defer a.Close()
	hostA := strings.TrimPrefix(a.URL, "http://")

	cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"http.client(" + hostA + ")"}}}
	rt, _ := kit.New(t, cfg)
	err := rt.Execute(context.Background(), `http.url(`+lit(a.URL+"/hop")+`).get()`)
	want := kitetest.Denied("http.client", "GET", b.URL+"/secret")
	if !libkite.IsPermissionError(err) || !strings.HasPrefix(kitetest.ErrMsg(err), want) {
		t.Fatalf("error = %v\nwant a permission error starting %q", err, want)
	}
	var pe *libkite.PermissionError
	if !errors.As(err, &pe) || pe.Function != "GET" || pe.Resource != b.URL+"/secret" {
		t.Fatalf("errors.As: %#v", pe)
	}
	if hitsB.Load() != 0 || hitsA.Load() != 2 {
		t.Fatalf("hits: a=%d (want 2), b=%d (want 0)", hitsA.Load(), hitsB.Load())
	}

	// the hop's own method is checked: POST allowed, the 303's GET is not
	cfg = &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"http.client(POST:" + a.URL + "/*)"}}}
	got, err := run(t, cfg, `r = http.url(`+lit(a.URL+"/see-other")+`).try_post("x")`+"\nprint(r.ok, r.error)")
	check(t, scriptCase{want: "False " + kitetest.Denied("http.client", "GET", a.URL+"/done")}, strings.SplitN(got, "\n", 2)[0], err)

	// allowed everywhere: the same chain reaches b
	got, err = run(t, &libkite.Config{Permissions: libkite.AllowAllPermissions()}, `print(http.url(`+lit(a.URL+"/hop")+`).get().get_text())`)
	check(t, scriptCase{want: "b"}, got, err)
}

func TestClientLimits(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big-header" {
			w.Header().Set("X-Big", strings.Repeat("h", 4096))
		}
		_, _ = w.Write([]byte("0123456789"))
	}))
	defer ts.Close()
	pre := "base = " + lit(ts.URL) + "\n"
	runCases(t, nil, []scriptCase{
		{name: "body at the limit", src: pre + `print(http.url(base).get(max_body_bytes=10).get_text())`, want: "0123456789"},
		{name: "body over the limit", src: pre + `http.url(base).get(max_body_bytes=9)`,
			wantErr: "http.url.get: response body exceeds max_body_bytes (9)"},
		{name: "config body limit", src: pre + "http.config(max_body_bytes=5)\n" + `http.url(base).post()`,
			wantErr: "http.url.post: response body exceeds max_body_bytes (5)"},
		{name: "header under the default limit", src: pre + `print(len(http.url(base + "/big-header").get().headers["X-Big"]))`, want: "4096"},
		{name: "header over the configured limit", src: pre + "http.config(max_header_bytes=1024)\n" + `http.url(base + "/big-header").get()`,
			wantErr: "server response headers exceeded"},
		{name: "header limit only on big headers", src: pre + "http.config(max_header_bytes=1024)\n" + `print(http.url(base).get().status_code)`,
			want: "200"},
	})
}

func TestClientTimeout(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer ts.Close()
	defer close(release)
	pre := "u = http.url(" + lit(ts.URL) + ")\n"
	runCases(t, nil, []scriptCase{
		{name: "per request", src: pre + `u.get(timeout="50ms")`,
			wantErr: "context deadline exceeded (Client.Timeout exceeded while awaiting headers)"},
		{name: "config", src: pre + "http.config(timeout=\"50ms\")\n" + `u.post()`,
			wantErr: "Client.Timeout exceeded"},
		{name: "try_", src: pre + `r = u.try_get(timeout="50ms")` + "\nprint(r.ok, r.error != '')", want: "False True"},
	})
}

// TestClientCancellation: cancelling the script's context aborts a request
// in flight.
func TestClientCancellation(t *testing.T) {
	arrived := make(chan struct{}, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	defer ts.Close()
	rt, _ := kit.New(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-arrived; cancel() }()
	start := time.Now()
	err := rt.Execute(ctx, `http.url(`+lit(ts.URL)+`).get(timeout="60s")`)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("error = %v, want the cancellation", err)
	}
	if time.Since(start) > 30*time.Second {
		t.Fatal("request not aborted by the cancellation")
	}
}

func TestClientTLS(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("secure"))
	}))
	ts.Config.ErrorLog = quietLog
	ts.StartTLS()
	defer ts.Close()
	dir := kitetest.TempDir(t)
	ca := pemOf(t, ts, dir)
	other, _ := certPair(t, dir, "other")
	pre := "u = http.url(" + lit(ts.URL) + ")\n"
	runCases(t, nil, []scriptCase{
		{name: "unknown authority by default", src: pre + `u.get()`, wantErr: "certificate signed by unknown authority"},
		{name: "ca_cert", src: pre + `print(u.get(ca_cert=` + lit(ca) + `).get_text())`, want: "secure"},
		{name: "wrong ca_cert", src: pre + `u.get(ca_cert=` + lit(other) + `)`, wantErr: "certificate signed by unknown authority"},
		{name: "insecure", src: pre + `print(u.get(insecure=True).get_text())`, want: "secure"},
		{name: "config ca_cert, request may clear it", src: pre + "http.config(ca_cert=" + lit(ca) + ")\n" +
			`print(u.get().get_text(), u.try_get(ca_cert="").ok)`, want: "secure False"},
		{name: "config insecure", src: pre + "http.config(insecure=True)\n" + `print(u.get().get_text())`, want: "secure"},
		{name: "not a certificate", src: pre + `u.get(ca_cert=` + lit(kitetest.WriteFile(t, dir+"/junk.pem", "junk")) + `)`,
			wantErr: "/junk.pem\": no certificates found"},
	})
}

func TestClientMutualTLS(t *testing.T) {
	dir := kitetest.TempDir(t)
	clientCert, clientKey := certPair(t, dir, "client")
	serverCert, serverKey := certPair(t, dir, "server")
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("hello " + r.TLS.PeerCertificates[0].Subject.CommonName))
	}))
	pool, pair := mustPool(t, clientCert), mustPair(t, serverCert, serverKey)
	ts.TLS = mustTLS(pool, pair)
	ts.Config.ErrorLog = quietLog
	ts.StartTLS()
	defer ts.Close()
	pre := "u = http.url(" + lit(ts.URL) + ")\n"
	runCases(t, nil, []scriptCase{
		{name: "client certificate", src: pre + `print(u.get(ca_cert=` + lit(serverCert) + `, client_cert=` + lit(clientCert) + `, client_key=` + lit(clientKey) + `).get_text())`,
			want: "hello client"},
		{name: "config client certificate", src: pre + `http.config(ca_cert=` + lit(serverCert) + `, client_cert=` + lit(clientCert) + `, client_key=` + lit(clientKey) + ")\n" +
			`print(u.get().get_text())`, want: "hello client"},
		{name: "none given", src: pre + `u.get(ca_cert=` + lit(serverCert) + `)`, wantErr: "certificate"},
		{name: "mismatched pair", src: pre + `u.get(client_cert=` + lit(clientCert) + `, client_key=` + lit(serverKey) + `)`,
			wantErr: "http.url.get: client certificate: tls: private key does not match public key"},
	})
}

func TestClientDryRun(t *testing.T) {
	var hits atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer ts.Close()
	cfg := &libkite.Config{DryRun: true}
	runCases(t, cfg, []scriptCase{
		{name: "get", src: `
r = http.url(` + lit(ts.URL+"/x") + `).get(query={"a": 1})
print(r.status_code, r.status, r.headers, r.get_text())`, want: "200 200 OK {} [DRY RUN] Would GET " + ts.URL + "/x?a=1"},
		{name: "post with files unread", src: `print(http.url(` + lit(ts.URL) + `).post({"a": 1}, ca_cert="/no/such/file").get_text())`,
			want: "[DRY RUN] Would POST " + ts.URL},
	})
	if hits.Load() != 0 {
		t.Fatalf("dry run sent %d requests", hits.Load())
	}
	// the permission check still happens in a dry run
	cfg = &libkite.Config{DryRun: true, Permissions: libkite.DenyAllPermissions()}
	_, err := run(t, cfg, `http.url("http://example.test/").delete()`)
	if !libkite.IsPermissionError(err) {
		t.Fatalf("dry run skipped the permission check: %v", err)
	}
}

func TestClientPermissions(t *testing.T) {
	deny := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	url := "http://127.0.0.1:1/p"
	u := "http.url(" + lit(url) + ")"
	var cases []kitetest.PermCase
	for _, m := range []string{"get", "post", "put", "patch", "delete"} {
		M := strings.ToUpper(m)
		cases = append(cases,
			kitetest.PermCase{Name: m, Cfg: deny, Expr: u + "." + m + "()", ErrPrefix: kitetest.Denied("http.client", M, url)},
			kitetest.PermCase{Name: "try_" + m, Cfg: deny, Expr: u + ".try_" + m + "()",
				Want: `Result(ok=False, error="permission denied: http.client ` + M + `(`})
	}
	cases = append(cases,
		kitetest.PermCase{Name: "query is part of the resource", Cfg: deny, Expr: u + `.get(query={"a": "1"})`,
			ErrPrefix: kitetest.Denied("http.client", "GET", url+"?a=1")},
		kitetest.PermCase{Name: "config", Cfg: deny, Expr: `http.config()`,
			ErrPrefix: "permission denied: http.client config - no matching allow rule"},
		kitetest.PermCase{Name: "try_config", Cfg: deny, Expr: `http.try_config(timeout="1s")`,
			Want: `Result(ok=False, error="permission denied: http.client config - no matching allow rule`},
		kitetest.PermCase{Name: "url is not checked", Cfg: deny, Expr: `str(` + u + `.join("x"))`, Want: `http.url("` + url + `/x")`},
		kitetest.PermCase{Name: "verb-scoped rule", Expr: u + `.post()`,
			Cfg:       &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"http.client(GET:http://127.0.0.1:1/*)"}}},
			ErrPrefix: kitetest.Denied("http.client", "POST", url)},
		kitetest.PermCase{Name: "host rule admits, request fails later", Expr: u + `.try_get().error`,
			Cfg:  &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"http.client(127.0.0.1:1)"}}},
			Want: `Get "http://127.0.0.1:1/p": dial tcp`},
		kitetest.PermCase{Name: "ca_cert read is fs.read-checked", Expr: u + `.get(ca_cert="/etc/kite-ca.pem")`,
			Cfg:       &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"http.client"}}},
			ErrPrefix: kitetest.Denied("fs.read", "read_file", "/etc/kite-ca.pem")},
	)
	kitetest.RunPermCases(t, func(t testing.TB, cfg *libkite.Config) *libkite.Runtime { return kit.Runtime(t, cfg) }, cases, nil)
}

// TestURLResourceIsCanonical: the resource checked is the host actually
// contacted — userinfo that looks like an allowed host does not pass —
// and credentials never appear in it; only http and https are fetched.
func TestURLResourceIsCanonical(t *testing.T) {
	var hitsB atomic.Int32
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hitsB.Add(1)
		_, _ = w.Write([]byte("b"))
	}))
	defer b.Close()
	a := echoServer(t)
	hostA, hostB := strings.TrimPrefix(a.URL, "http://"), strings.TrimPrefix(b.URL, "http://")
	for _, rule := range []string{"http.client(" + hostA + ")", "http.client(GET:" + a.URL + "*)"} {
		cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{rule}}}
		rt, _ := kit.New(t, cfg)
		err := rt.Execute(context.Background(), `http.url("http://`+hostA+`@`+hostB+`/x").get()`)
		if want := kitetest.Denied("http.client", "GET", "http://"+hostB+"/x"); !strings.HasPrefix(kitetest.ErrMsg(err), want) {
			t.Fatalf("%s: error = %v\nwant %q", rule, err, want)
		}
	}
	if hitsB.Load() != 0 {
		t.Fatalf("the real host was contacted %d times", hitsB.Load())
	}
	// credentials are dropped from the resource, the request still sends them
	cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"http.client(GET:" + a.URL + "/*)"}}}
	got, err := run(t, cfg, `print(json.decode(http.url("http://user:s3cret@`+strings.ToUpper(hostA[:1])+hostA[1:]+`/p").get().get_text())["header"].get("Authorization", ""))`)
	if err != nil || !strings.HasPrefix(got, "Basic ") {
		t.Fatalf("basic auth from userinfo: %q, %v", got, err)
	}
	rt, _ := kit.New(t, &libkite.Config{Permissions: libkite.DenyAllPermissions()})
	err = rt.Execute(context.Background(), `http.url("HTTP://user:s3cret@Example.COM/p").get()`)
	if msg := kitetest.ErrMsg(err); !strings.HasPrefix(msg, kitetest.Denied("http.client", "GET", "http://example.com/p")) || strings.Contains(msg, "s3cret") {
		t.Fatalf("denial = %q", msg)
	}
	// file:// and other schemes are refused before any I/O
	cases := []kitetest.Case{
		{Expr: `http.url("file:///etc/passwd").get()`, Err: `http.url.get: unsupported URL scheme "file" (want http or https)`},
		{Expr: `http.url("ftp://127.0.0.1/x").try_get().error`, Want: `http.url.get: unsupported URL scheme "ftp" (want http or https)`},
	}
	kit.RunCases(t, &libkite.Config{Permissions: libkite.AllowAllPermissions()}, cases)
}
