//go:build unix

package http_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/project-starkite/starkite/libkite"
)

// TestSIGINTDuringServe sends a real SIGINT to a child process (this test
// binary re-run as a kite host) blocked in srv.serve(): the request in
// flight completes, the script's defers run and the process exits 130.
// A child is used because the runtime's signal handling ends the process.
func TestSIGINTDuringServe(t *testing.T) {
	if os.Getenv("KITE_HTTP_SIGINT_CHILD") != "" {
		sigintChild()
		return
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestSIGINTDuringServe$")
	cmd.Env = append(os.Environ(), "KITE_HTTP_SIGINT_CHILD=1", fmt.Sprintf("KITE_HTTP_PORT=%d", port))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()

	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitUntil(t, "the child to listen", func() bool { return !refused(port) })
	c := newClient(t)
	type result struct {
		status int
		body   string
		err    error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := c.Get(base + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, err = bufio.NewReader(resp.Body).WriteTo(&b)
		slow <- result{resp.StatusCode, b.String(), err}
	}()
	var out []string
	for line := range lines {
		out = append(out, line)
		if line == "slow started" {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-slow:
		if r.err != nil || r.status != 200 || r.body != "done" {
			t.Errorf("request in flight: %d %q %v, want 200 \"done\" (graceful drain)", r.status, r.body, r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("request in flight never completed")
	}
	for line := range lines {
		out = append(out, line)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != libkite.ExitInterrupt {
		t.Fatalf("child ended with %v, want exit status 130", err)
	}
	if got := strings.Join(out, "\n"); !strings.Contains(got, "deferred") {
		t.Errorf("child output %q lacks the script's defer", got)
	}
	if !refused(port) {
		t.Error("port still open after the child exited")
	}
}

// sigintChild is the child's kite host: a runtime with OS signal handling
// serving until SIGINT.
func sigintChild() {
	reg := libkite.NewRegistry(nil)
	for _, m := range kit {
		reg.Register(m())
	}
	rt, err := libkite.New(&libkite.Config{Registry: reg})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	err = rt.Execute(context.Background(), `
defer(lambda: print("deferred"))
def slow(req):
    print("slow started")
    time.sleep("500ms")
    return "done"
srv = http.server(host="127.0.0.1", port=`+os.Getenv("KITE_HTTP_PORT")+`)
srv.handle("/slow", slow)
srv.serve()
`)
	// serve() returned once the SIGINT handler stopped the server; the
	// signal dispatch now runs the defers and exits the process with 130
	time.Sleep(10 * time.Second)
	fmt.Fprintln(os.Stderr, "no exit 10s after serve() returned:", err)
	os.Exit(4)
}
