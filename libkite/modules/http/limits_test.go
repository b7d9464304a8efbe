package http_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// serving runs src, which must end in srv.serve(), in the background
// under lim and waits until the server answers /ping. The result channel
// receives the run's error and report.
func serving(t *testing.T, lim libkite.Limits, src string) (base string, result <-chan error, report *libkite.LimitsEnforced) {
	t.Helper()
	port := kitetest.FreePort(t)
	rt, _ := kit.New(t, &libkite.Config{Limits: lim})
	rep := &libkite.LimitsEnforced{}
	done := make(chan error, 1)
	go func() {
		done <- rt.Execute(libkite.WithLimitsReport(context.Background(), rep), fmt.Sprintf(`
srv = http.server(host="127.0.0.1", port=%d)
srv.handle("/ping", lambda req: "pong")
%s`, port, src))
	}()
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if resp, err := http.Get(base + "/ping"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server did not come up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return base, done, rep
}

// TestServerHandlersShareTheStepBudget: handler threads belong to the
// run that serves, so a handler spending steps spends the run's budget
// and a runaway handler stops the whole run.
func TestServerHandlersShareTheStepBudget(t *testing.T) {
	base, done, rep := serving(t, libkite.Limits{MaxSteps: 2_000_000}, `
def spin(req):
    for i in range(1 << 62):
        pass
srv.handle("/spin", spin)
srv.serve()
`)
	c := newClient(t)
	if resp, err := c.Get(base + "/spin"); err == nil {
		resp.Body.Close()
	}
	select {
	case err := <-done:
		var le *libkite.LimitError
		if !errors.As(err, &le) || le.Limit != libkite.LimitSteps {
			t.Fatalf("serve ended with %v, want the max_steps limit", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a runaway handler did not stop the run")
	}
	if rep.StoppedBy != libkite.LimitSteps || rep.Steps < 2_000_000-20_000 {
		t.Fatalf("report %+v, want stopped by max_steps after about 2e6 steps", rep)
	}
}

// TestServerHandlersCappedByMaxGoroutines: at most MaxGoroutines handlers
// run at once; more requests wait for a slot instead of failing.
func TestServerHandlersCappedByMaxGoroutines(t *testing.T) {
	base, done, rep := serving(t, libkite.Limits{MaxGoroutines: 2}, `
def slow(req):
    time.sleep("50ms")
    return "done"
srv.handle("/slow", slow)
srv.handle("/stop", lambda req: srv.shutdown())
srv.serve()
`)
	c := newClient(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(base + "/slow")
			if err == nil {
				if resp.StatusCode != 200 {
					err = fmt.Errorf("status %d", resp.StatusCode)
				}
				resp.Body.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("request: %v", err)
		}
	}
	if resp, err := c.Get(base + "/stop"); err == nil {
		resp.Body.Close()
	}
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if rep.PeakThreads < 1 || rep.PeakThreads > 2 {
		t.Fatalf("peak handler threads %d, want 1..2 (report %+v)", rep.PeakThreads, rep)
	}
}
