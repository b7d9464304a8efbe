//go:build unix

package mcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// Helper-process protocol: the test binary re-executed with
// MCP_CLIENT_TEST_HELPER=<mode> and -test.run=^TestClientHelperProcess$.
const (
	clientHelperEnv        = "MCP_CLIENT_TEST_HELPER"
	clientHelperPIDFile    = "MCP_CLIENT_TEST_PIDFILE"
	clientHelperMarker     = "MCP_CLIENT_TEST_MARKER"
	clientHelperGrandchild = "MCP_CLIENT_TEST_GRANDCHILD_PIDFILE"
	clientHelperStderr     = "helper: serving on stdio"
)

// --- stdio: the test binary re-executed as an MCP server ---

// TestClientHelperProcess is not a test: it is the stdio MCP server child
// the stdio tests spawn (see clientHelperEnv).
func TestClientHelperProcess(t *testing.T) {
	mode := os.Getenv(clientHelperEnv)
	if mode == "" {
		t.Skip("helper process for the stdio client tests")
	}
	if f := os.Getenv(clientHelperPIDFile); f != "" {
		_ = os.WriteFile(f, []byte(strconv.Itoa(os.Getpid())), 0o644)
	}
	switch mode {
	case "serve":
		fmt.Fprintln(os.Stderr, clientHelperStderr)
		err := server.NewStdioServer(clientTestServer(nil)).Listen(context.Background(), os.Stdin, os.Stdout)
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	case "hang": // reads nothing, answers nothing
		if f := os.Getenv(clientHelperGrandchild); f != "" {
			// A grandchild too: connect's cleanup must take it along.
			gc := exec.Command(os.Args[0], "-test.run=^TestClientHelperProcess$")
			gc.Env = append(os.Environ(), clientHelperEnv+"=hang", clientHelperGrandchild+"=", clientHelperPIDFile+"=")
			if err := gc.Start(); err != nil {
				fmt.Fprintln(os.Stderr, "helper:", err)
				os.Exit(1)
			}
			_ = os.WriteFile(f, []byte(strconv.Itoa(gc.Process.Pid)), 0o644)
		}
		time.Sleep(time.Hour)
	case "marker":
		_ = os.WriteFile(os.Getenv(clientHelperMarker), []byte("spawned"), 0o644)
	}
	os.Exit(0)
}

// clientHelperTarget is the Starlark argv that spawns the helper.
func clientHelperTarget() string {
	return fmt.Sprintf(`[%q, "-test.run=^TestClientHelperProcess$"]`, os.Args[0])
}

// clientCaptureStderr sends stdio children's stderr to a buffer for the
// test.
func clientCaptureStderr(t *testing.T) *kitetest.SyncBuffer {
	buf := &kitetest.SyncBuffer{}
	prev := clientStderr
	clientStderr = func() io.Writer { return buf }
	t.Cleanup(func() { clientStderr = prev })
	return buf
}

// clientProcessGone waits up to d for pid to no longer run: reaped, or a
// zombie (an orphan whose reaper is not ours).
func clientProcessGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			if i := strings.LastIndexByte(string(stat), ')'); i > 0 && strings.HasPrefix(string(stat[i:]), ") Z") {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func clientReadPID(t *testing.T, file string) int {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("helper pid file: %v", err)
	}
	pid, err := strconv.Atoi(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestConnectStdio(t *testing.T) {
	stderr := clientCaptureStderr(t)
	rt, out := clientTestKit.New(t, nil)
	err := rt.Execute(context.Background(), fmt.Sprintf(`
c = mcp.connect(%s, env={"GORACE": "atexit_sleep_ms=0", %q: "serve"}, timeout="20s")
print(c.call("echo", msg="over stdio", times=2).text)
print(c.call("pid").text)
print(len(c.tools.media().content), c.get_prompt("review", language="Go").text.split("\n")[0])
`, clientHelperTarget(), clientHelperEnv))
	if err != nil {
		t.Fatal(err)
	}
	lines := out.Lines()
	if len(lines) != 3 || lines[0] != "over stdioover stdio" || lines[2] != "7 Review Go" {
		t.Fatalf("output = %q %d %v %v", lines, len(lines), lines[0] != "over stdioover stdio", []byte(lines[2]))
	}
	pid, err := strconv.Atoi(lines[1])
	if err != nil || pid == os.Getpid() {
		t.Fatalf("child pid %q", lines[1])
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(stderr.String(), clientHelperStderr) {
		if time.Now().After(deadline) {
			t.Fatalf("child stderr not forwarded; got %q", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if clientProcessGone(pid, 0) {
		t.Fatal("child gone before close")
	}
	if err := rt.Execute(context.Background(), "c.close()\nprint(bool(c))\nc.close()\n"); err != nil {
		t.Fatal(err)
	}
	// close() reaps: the process must already be gone.
	if !clientProcessGone(pid, 0) {
		t.Fatalf("child %d still exists after close()", pid)
	}
}

func TestConnectStdioRuntimeCloseStopsChild(t *testing.T) {
	clientCaptureStderr(t)
	rt, out := clientTestKit.New(t, nil)
	err := rt.Execute(context.Background(), fmt.Sprintf(`
c = mcp.connect(%s, env={"GORACE": "atexit_sleep_ms=0", %q: "serve"}, timeout="20s")
print(c.call("pid").text)
`, clientHelperTarget(), clientHelperEnv))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(out.String())
	if err != nil {
		t.Fatal(err)
	}
	if clientProcessGone(pid, 0) {
		t.Fatal("child gone before the runtime closed")
	}
	rt.Close() // the end of a script: no child may outlive it
	if !clientProcessGone(pid, 0) {
		t.Fatalf("child %d still exists after the runtime closed", pid)
	}
}

func TestConnectStdioHandshakeTimeout(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	gcFile := filepath.Join(t.TempDir(), "grandchild")
	start := time.Now()
	_, err := clientTestKit.Run(t, nil, fmt.Sprintf(`mcp.connect(%s, env={"GORACE": "atexit_sleep_ms=0", %q: "hang", %q: %q, %q: %q}, timeout="700ms")`,
		clientHelperTarget(), clientHelperEnv, clientHelperPIDFile, pidFile, clientHelperGrandchild, gcFile))
	elapsed := time.Since(start)
	if msg := kitetest.ErrMsg(err); msg != "mcp.connect: no answer to the initialize handshake within 700ms" {
		t.Fatalf("error = %q", msg)
	}
	if elapsed > 5*time.Second {
		t.Fatalf("connect took %s with a 700ms timeout", elapsed)
	}
	pid := clientReadPID(t, pidFile)
	if !clientProcessGone(pid, 0) {
		t.Fatalf("hung child %d not killed and reaped", pid)
	}
	if gc := clientReadPID(t, gcFile); !clientProcessGone(gc, 5*time.Second) {
		t.Fatalf("the hung child's own child %d survived", gc)
	}
}

func TestConnectStdioCancelledRunKillsChild(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	rt, _ := clientTestKit.New(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	start := time.Now()
	err := rt.Execute(ctx, fmt.Sprintf(`mcp.connect(%s, env={"GORACE": "atexit_sleep_ms=0", %q: "hang", %q: %q}, timeout="30s")`,
		clientHelperTarget(), clientHelperEnv, clientHelperPIDFile, pidFile))
	if err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("cancelled connect: %v after %s", err, time.Since(start))
	}
	if !clientProcessGone(clientReadPID(t, pidFile), 0) {
		t.Fatal("child survived a cancelled connect")
	}
}

func TestConnectStdioGCClosesDroppedClient(t *testing.T) {
	clientCaptureStderr(t)
	target := &clientTarget{kind: "stdio", argv: []string{os.Args[0], "-test.run=^TestClientHelperProcess$"}, env: []string{"GORACE=atexit_sleep_ms=0", clientHelperEnv + "=serve"}}
	pid := func() int {
		c, err := clientDial(context.Background(), target, 20*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		return c.conn.cmd.Process.Pid
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !clientProcessGone(pid, 0) {
		if time.Now().After(deadline) {
			t.Fatalf("child %d of an unreachable client was never closed", pid)
		}
		runtime.GC()
		time.Sleep(50 * time.Millisecond)
	}
}

func TestConnectStdioMissingCommand(t *testing.T) {
	_, err := clientTestKit.Run(t, nil, `mcp.connect(["/nonexistent/kite-mcp-server"])`)
	if msg := kitetest.ErrMsg(err); !strings.HasPrefix(msg, "mcp.connect: ") || !strings.Contains(msg, "kite-mcp-server") {
		t.Fatalf("error = %q", msg)
	}
}

// --- permissions and argument errors ---

func TestConnectPermissionDenied(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "spawned")
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()
	for _, cfg := range []*libkite.Config{
		{Permissions: libkite.DenyAllPermissions()},
		{Permissions: libkite.AllowNetPermissions()},
		{Permissions: libkite.AllowPermissions("mcp.client")},
	} {
		_, err := clientTestKit.Run(t, cfg, fmt.Sprintf(`mcp.connect(%s, env={"GORACE": "atexit_sleep_ms=0", %q: "marker", %q: %q})`,
			clientHelperTarget(), clientHelperEnv, clientHelperMarker, marker))
		msg := kitetest.ErrMsg(err)
		if !libkite.IsPermissionError(err) || !strings.HasPrefix(msg, "permission denied: mcp.client connect(") {
			t.Fatalf("stdio connect: %q (%T)", msg, err)
		}
		if !strings.Contains(msg, strconv.Quote(os.Args[0])) {
			t.Fatalf("denial does not name argv[0]: %q", msg)
		}
		_, err = clientTestKit.Run(t, cfg, fmt.Sprintf(`mcp.connect(%q)`, srv.URL+"/mcp"))
		if !libkite.IsPermissionError(err) || !strings.Contains(kitetest.ErrMsg(err), strconv.Quote(srv.URL+"/mcp")) {
			t.Fatalf("http connect: %q", kitetest.ErrMsg(err))
		}
		got, msg, _ := clientTestKit.Eval(t, cfg, "", fmt.Sprintf(`mcp.try_connect(%q).ok`, srv.URL+"/sse"))
		if got != "False" {
			t.Fatalf("try_connect = %q %q", got, msg)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("the denied command was spawned (marker: %v)", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the denied URL was contacted %d times", n)
	}
	// Denying only mcp.server leaves the client allowed.
	clientCaptureStderr(t)
	out, err := clientTestKit.Run(t, &libkite.Config{Permissions: libkite.AllowPermissions("mcp.server")}, fmt.Sprintf(`
c = mcp.connect(%s, env={"GORACE": "atexit_sleep_ms=0", %q: "serve"})
print(c.call("echo", msg="allowed").text)
c.close()
`, clientHelperTarget(), clientHelperEnv))
	kitetest.CheckOutput(t, out, err, "allowed", "")
}
