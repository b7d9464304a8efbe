package http_test

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestLoad: 2,000 requests from 16 concurrent clients to a Starlark
// handler: every reply correct, no errors, and after shutdown no
// goroutine left behind.
func TestLoad(t *testing.T) {
	const total, clients = 2000, 16
	runtime.GC()
	base := runtime.NumGoroutine()
	rt, _ := kit.New(t, nil)
	more(t, rt, `
def square(req):
    n = int(req.params["n"])
    return {"n": n, "sq": n * n, "who": req.query.get("who", "")}
srv = http.server(host="127.0.0.1", port=0)
srv.handle("GET /sq/{n}", square)
srv.start()
port = srv.port()`)
	url := fmt.Sprintf("http://127.0.0.1:%d/sq/", globalInt(t, rt, "port"))

	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	c := &http.Client{Transport: tr}
	var next, failures atomic.Int64
	var first sync.Once
	var wg sync.WaitGroup
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				err := fetch(c, fmt.Sprintf("%s%d?who=c%d", url, i, w), fmt.Sprintf(`{"n":%d,"sq":%d,"who":"c%d"}`, i, i*i, w))
				if err != nil {
					failures.Add(1)
					first.Do(func() { t.Errorf("request %d: %v", i, err) })
				}
			}
		}()
	}
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed", n, total)
	}
	more(t, rt, "srv.shutdown()")
	tr.CloseIdleConnections()
	settleGoroutines(t, base)
}

func fetch(c *http.Client, url, want string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 || string(b) != want {
		return fmt.Errorf("got %d %q, want 200 %q", resp.StatusCode, b, want)
	}
	return nil
}
