package ssh_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kitefs "github.com/project-starkite/starkite/libkite/modules/fs"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
	kitessh "github.com/project-starkite/starkite/libkite/modules/ssh"
)

// newRuntime builds a test-mode runtime (ssh.test_server available)
// holding ssh plus fs and os (the conformance suite writes local files and
// clears SSH_AUTH_SOCK).
func newRuntime(t testing.TB, cfg *libkite.Config) *libkite.Runtime {
	t.Helper()
	return newRuntimeMode(t, cfg, true)
}

func newRuntimeMode(t testing.TB, cfg *libkite.Config, testMode bool) *libkite.Runtime {
	t.Helper()
	c := libkite.Config{}
	if cfg != nil {
		c = *cfg
	}
	reg := libkite.NewRegistry(&libkite.ModuleConfig{TestMode: testMode, DryRun: c.DryRun})
	reg.Register(kitessh.New())
	reg.Register(kitefs.New())
	reg.Register(kiteos.New())
	c.Registry = reg
	rt, _ := kitetest.New(t, &c)
	t.Cleanup(func() { reg.Close() })
	return rt
}

// eval runs pre then `out = expr` on a fresh test-mode runtime under cfg.
func eval(t testing.TB, cfg *libkite.Config, pre, expr string) (got, errMsg string) {
	t.Helper()
	got, errMsg, _ = kitetest.Eval(newRuntime(t, cfg), pre, expr)
	return got, errMsg
}

// mustEval is eval that fails the test on an error.
func mustEval(t testing.TB, cfg *libkite.Config, pre, expr string) string {
	t.Helper()
	got, msg := eval(t, cfg, pre, expr)
	if msg != "" {
		t.Fatalf("%s\n=> error %s", expr, msg)
	}
	return got
}

// evalErr is eval that must fail; it returns the message.
func evalErr(t testing.TB, cfg *libkite.Config, pre, expr string) string {
	t.Helper()
	got, msg := eval(t, cfg, pre, expr)
	if msg == "" {
		t.Fatalf("%s\n=> %s, want an error", expr, got)
	}
	return msg
}

// startServer starts a test server (user "u", password "pw") answering
// exec requests with h (nil: the default), shut down when the test ends.
func startServer(t testing.TB, h kitessh.ExecHandler) *kitessh.TestServer {
	t.Helper()
	s, err := kitessh.NewTestServer("u", "pw")
	if err != nil {
		t.Fatal(err)
	}
	s.HandleExec(h)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// echo answers every command with "<name>:<cmd>\n".
func echo(name string) kitessh.ExecHandler {
	return func(_ context.Context, cmd string) (string, string, int) { return name + ":" + cmd + "\n", "", 0 }
}

// client renders an ssh.config call for hosts with password auth, no
// host key verification and no retries, plus extra kwargs.
func client(hosts []string, extra ...string) string {
	kw := append([]string{"hosts=" + hostsLit(hosts), `user="u"`, `password="pw"`, "host_key_check=False", "max_retries=0"}, extra...)
	return "ssh.config(" + strings.Join(kw, ", ") + ")"
}

func hostsLit(hosts []string) string {
	q := make([]string, len(hosts))
	for i, h := range hosts {
		q[i] = kitetest.Lit(h)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentListener accepts TCP connections and never answers; it counts
// them.
func silentListener(t testing.TB, hangUp bool) (addr string, accepted func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := make(chan struct{}, 100)
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return
			}
			n <- struct{}{}
			if hangUp {
				c.Close()
			} else {
				conns = append(conns, c)
			}
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String(), func() int { return len(n) }
}

func port(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}
