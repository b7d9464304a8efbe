package http_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
)

// BenchmarkServerRequests: requests/s a Starlark handler serves to
// GOMAXPROCS concurrent keep-alive clients.
func BenchmarkServerRequests(b *testing.B) {
	rt, _ := kit.New(b, nil)
	if err := rt.Execute(context.Background(), `
srv = http.server(host="127.0.0.1", port=0)
srv.handle("GET /hello/{name}", lambda req: "hello " + req.params["name"])
srv.start()
port = srv.port()`); err != nil {
		b.Fatal(err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/hello/kite", globalInt(b, rt, "port"))
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: runtime.GOMAXPROCS(0)}}
	defer c.CloseIdleConnections()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := fetch(c, url, "hello kite"); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkClientRoundTrip: requests/s of url.get() from Starlark to a
// local server, one at a time over the runtime's pooled connection.
func BenchmarkClientRoundTrip(b *testing.B) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	defer ts.Close()
	rt, _ := kit.New(b, nil)
	if err := rt.Execute(context.Background(), "u = http.url("+lit(ts.URL)+")\ndef fetch():\n    return u.get().get_text()\n"); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v, err := rt.Call(ctx, "fetch", nil, nil)
		if err != nil || v.String() != `"ok"` {
			b.Fatal(v, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
