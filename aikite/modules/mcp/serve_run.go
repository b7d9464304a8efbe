package mcp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/server"
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// Transport settings.
const (
	serverShutdownTimeout   = 5 * time.Second  // graceful HTTP drain (spec §3)
	serverDrainTimeout      = time.Second      // then wait this long for a script call to end
	serverReadHeaderTimeout = 10 * time.Second // HTTP request headers
)

func (s *serverState) stderr() io.Writer {
	if s.cfg.Stderr != nil {
		return s.cfg.Stderr
	}
	return os.Stderr
}

// stopRequests collects what ends a run: the serving thread's
// cancellation (script timeout, cancel), SIGINT/SIGTERM unless the script
// handles them, and the runtime closing. The signal handler and the
// runtime cleanup wait until the run has finished (finish), so the
// process does not exit, nor the runtime go away, mid-shutdown.
func (s *serverState) stopRequests(thread *starlark.Thread) (stop <-chan struct{}, finish func()) {
	ch := make(chan struct{})
	done := make(chan struct{})
	var once sync.Once
	request := func() { once.Do(func() { close(ch) }) }
	requestAndWait := func() {
		request()
		<-done
	}
	removeSignals := libkite.StopOnSignals(thread, "mcp.serve.on_signal", requestAndWait)
	if rt := libkite.GetRuntime(thread); rt != nil {
		rt.AddCleanup(requestAndWait)
	}
	unwatch := context.AfterFunc(libkite.Context(thread), request)
	return ch, func() {
		unwatch()
		close(done)
		removeSignals()
	}
}

// drain waits (briefly) until no script call is running, after cancelRun.
func (s *serverState) drain() {
	select {
	case s.sem <- struct{}{}:
		<-s.sem
	case <-time.After(serverDrainTimeout):
	}
}

// serveStdio speaks JSON-RPC on Stdin/Stdout until EOF or a stop
// request. Meanwhile the runtime's print output goes to Stderr, so script
// code never writes into the protocol stream.
func (s *serverState) serveStdio(thread *starlark.Thread) error {
	defer s.cancelRun()
	in, out := s.cfg.Stdin, s.cfg.Stdout
	if in == nil {
		in = os.Stdin
	}
	if out == nil {
		out = os.Stdout
	}
	errw := s.stderr()
	stop, finish := s.stopRequests(thread)
	defer finish()

	listenCtx, cancelListen := context.WithCancel(s.runCtx)
	defer cancelListen()
	go func() {
		select {
		case <-stop:
			cancelListen()
		case <-listenCtx.Done():
		}
	}()

	restore := libkite.RedirectStdout(errw)
	defer restore()
	stdio := server.NewStdioServer(s.mcp)
	stdio.SetErrorLogger(log.New(errw, "mcp.serve: ", 0))
	err := stdio.Listen(listenCtx, in, out)
	stopped := listenCtx.Err() != nil
	cancelListen()
	s.cancelRun()
	if err != nil && !stopped && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("mcp.serve: %v", err)
	}
	return nil
}

// serveHTTP serves Streamable HTTP (or SSE) on the configured address or
// Listener until a stop request, then shuts down gracefully.
func (s *serverState) serveHTTP(thread *starlark.Thread) error {
	cfg := s.cfg
	ln := cfg.Listener // closed by Serve
	defer s.cancelRun()

	var tlsConf *tls.Config
	if cfg.TLSCert != "" {
		// read through the fs.read check, like http.server's certificates
		cert, err := libkite.ReadFile(thread, cfg.TLSCert)
		if err != nil {
			return libkite.WrapError("mcp.serve: failed to load TLS cert", err)
		}
		key, err := libkite.ReadFile(thread, cfg.TLSKey)
		if err != nil {
			return libkite.WrapError("mcp.serve: failed to load TLS key", err)
		}
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			return fmt.Errorf("mcp.serve: failed to load TLS cert: %v", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	mux := http.NewServeMux()
	endpoint, closeSessions, err := s.mount(thread, mux)
	if err != nil {
		return err
	}
	if ln == nil {
		if ln, err = net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))); err != nil {
			return fmt.Errorf("mcp.serve: %v", err)
		}
	}
	srv := &http.Server{
		Handler:           mux,
		TLSConfig:         tlsConf,
		ReadHeaderTimeout: serverReadHeaderTimeout,
		ErrorLog:          serverErrorLog(thread),
		BaseContext:       func(net.Listener) context.Context { return s.runCtx },
	}
	scheme := "http"
	served := make(chan error, 1)
	if tlsConf != nil {
		scheme = "https"
		go func() { served <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { served <- srv.Serve(ln) }()
	}
	fmt.Fprintf(s.stderr(), "mcp.serve: listening on %s://%s%s\n", scheme, serverHostPort(cfg, ln), endpoint)

	stop, finish := s.stopRequests(thread)
	defer finish()
	var serveErr error
	select {
	case <-stop:
	case serveErr = <-served: // the listener failed
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), serverShutdownTimeout)
	closeSessions(shutdownCtx) // end long-lived streams so Shutdown can finish
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close() // drain timed out: cut the remaining connections
	}
	cancel()
	s.cancelRun()
	s.drain()
	if serveErr == nil {
		serveErr = <-served
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("mcp.serve: %v", serveErr)
	}
	return nil
}

// mount puts the MCP handler on mux: Streamable HTTP at the path pattern,
// or (ext) SSE with its endpoints <path>sse and <path>message. It returns
// the path for the startup line and a function that closes the open
// sessions. A path the mux rejects is an error.
func (s *serverState) mount(thread *starlark.Thread, mux *http.ServeMux) (endpoint string, closeSessions func(context.Context), err error) {
	path := s.cfg.Path
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("mcp.serve: invalid path %q: %v", path, r)
		}
	}()
	if s.cfg.Transport == "sse" {
		sse := server.NewSSEServer(s.mcp, server.WithStaticBasePath(path))
		ssePath, msgPath := sse.CompleteSsePath(), sse.CompleteMessagePath()
		mux.Handle(ssePath, sse)
		mux.Handle(msgPath, sse)
		return ssePath, func(context.Context) { sse.CloseSessions() }, nil
	}
	var opts []server.StreamableHTTPOption
	if rt := libkite.GetRuntime(thread); rt != nil && rt.Logger() != nil {
		opts = append(opts, server.WithStreamableHTTPLogger(rt.Logger()))
	}
	h := server.NewStreamableHTTPServer(s.mcp, opts...)
	mux.Handle(path, h)
	return path, func(ctx context.Context) { _ = h.Shutdown(ctx) }, nil
}

// serverHostPort is the host:port of the startup line: the configured
// host (a pre-bound listener's own address) and the bound port.
func serverHostPort(cfg *ServeConfig, ln net.Listener) string {
	host, port := cfg.Host, strconv.Itoa(cfg.Port)
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		port = strconv.Itoa(a.Port)
		if cfg.Listener != nil {
			host = a.IP.String()
		}
	}
	return net.JoinHostPort(host, port)
}

// serverErrorLog routes net/http's own diagnostics (TLS handshake
// failures, …) to the runtime's logger at debug level.
func serverErrorLog(thread *starlark.Thread) *log.Logger {
	if rt := libkite.GetRuntime(thread); rt != nil && rt.Logger() != nil {
		return slog.NewLogLogger(rt.Logger().Handler(), slog.LevelDebug)
	}
	return log.New(io.Discard, "", 0)
}
