package http

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
	"slices"
	"strconv"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// Server defaults (spec/http.md constructor table).
const (
	defaultShutdownTimeout = 5 * time.Second
	defaultMaxHeaderBytes  = 1 << 20
	defaultMaxRequestBody  = 10 << 20
)

// serverConfig is the constructor's configuration; start/serve may
// override the listen part (port, host, tls_cert, tls_key) for one run.
type serverConfig struct {
	port            int
	host            string
	tlsCert, tlsKey string
	readTimeout     time.Duration
	writeTimeout    time.Duration
	idleTimeout     time.Duration
	shutdownTimeout time.Duration
	maxHeaderBytes  int
	maxBodyBytes    int64
}

// bindServerConfig reads the constructor keywords. Unknown keys and a
// wrongly typed port/host/tls_*/max_* are ignored; a timeout must be a
// valid duration string.
func bindServerConfig(kwargs []starlark.Tuple) (serverConfig, error) {
	cfg := serverConfig{
		shutdownTimeout: defaultShutdownTimeout,
		maxHeaderBytes:  defaultMaxHeaderBytes,
		maxBodyBytes:    defaultMaxRequestBody,
	}
	cfg.applyListen(kwargs)
	for _, d := range []struct {
		key string
		dst *time.Duration
	}{
		{"read_timeout", &cfg.readTimeout}, {"write_timeout", &cfg.writeTimeout},
		{"idle_timeout", &cfg.idleTimeout}, {"shutdown_timeout", &cfg.shutdownTimeout},
	} {
		v := kwarg(kwargs, d.key)
		if v == nil {
			continue
		}
		s, ok := v.(starlark.String)
		if !ok {
			return cfg, fmt.Errorf("http.server: %s must be a string (e.g. \"30s\"), got %s", d.key, v.Type())
		}
		dur, err := time.ParseDuration(string(s))
		if err != nil {
			return cfg, fmt.Errorf("http.server: invalid %s %q: %v", d.key, string(s), err)
		}
		*d.dst = dur
	}
	if n, ok := intKwarg(kwargs, "max_header_bytes"); ok && n > 0 && n <= 1<<31-1 {
		cfg.maxHeaderBytes = int(n)
	}
	if n, ok := intKwarg(kwargs, "max_body_bytes"); ok && n > 0 {
		cfg.maxBodyBytes = n
	}
	return cfg, nil
}

// applyListen overrides the listen settings given in kwargs.
func (c *serverConfig) applyListen(kwargs []starlark.Tuple) {
	if n, ok := intKwarg(kwargs, "port"); ok && n >= 0 && n <= 1<<31-1 {
		c.port = int(n)
	}
	for _, p := range []struct {
		key string
		dst *string
	}{{"host", &c.host}, {"tls_cert", &c.tlsCert}, {"tls_key", &c.tlsKey}} {
		if s, ok := kwarg(kwargs, p.key).(starlark.String); ok {
			*p.dst = string(s)
		}
	}
}

func intKwarg(kwargs []starlark.Tuple, key string) (int64, bool) {
	i, ok := kwarg(kwargs, key).(starlark.Int)
	if !ok {
		return 0, false
	}
	return i.Int64()
}

// route is one handle(pattern, handler) registration.
type route struct {
	pattern string
	handler starlark.Callable
}

// Server is an http.server: routes and middleware, and the current run
// while started. Routes and middleware are frozen into each run.
type Server struct {
	cfg serverConfig

	mu         sync.Mutex
	routes     []route
	middleware []starlark.Callable
	cur        *run // nil when not running
	port       int  // the last run's port
	started    bool // started at least once
	cleanups   map[*libkite.Runtime]bool
}

var _ starlark.HasAttrs = (*Server)(nil)

// serverMethods is the http.server method table; each has a try_ twin.
var serverMethods = libkite.Methods{
	"handle":   serverHandle,
	"use":      serverUse,
	"start":    serverStart,
	"serve":    serverServe,
	"shutdown": serverShutdown,
	"port":     serverPort,
}

func (s *Server) String() string        { return "<http.server>" }
func (s *Server) Type() string          { return "http.server" }
func (s *Server) Freeze()               {}
func (s *Server) Truth() starlark.Bool  { return true }
func (s *Server) Hash() (uint32, error) { return 0, unhashable("http.server") }
func (s *Server) AttrNames() []string   { return serverMethods.Names() }

func (s *Server) Attr(name string) (starlark.Value, error) {
	return serverMethods.Attr(s, "http.server", name), nil
}

// newServer is http.server(**config): keywords only (positionals ignored).
// Permission http.server:server.
func newServer(thread *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.Check(thread, "http", "server", "server", ""); err != nil {
		return nil, err
	}
	cfg, err := bindServerConfig(kwargs)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg}, nil
}

// serve is http.serve(handler_or_routes, **config): a callable mounted at
// "/" or a dict pattern → callable, served until the server stops.
// Permissions http.server:server, then http.server:serve(<addr>).
func serve(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: expected 1 argument (handler or routes dict), got %d", fn.Name(), len(args))
	}
	var routes []route
	switch a := args[0].(type) {
	case *starlark.Dict:
		for _, kv := range a.Items() {
			p, ok := kv[0].(starlark.String)
			if !ok {
				return nil, fmt.Errorf("%s: route pattern must be a string, got %s", fn.Name(), kv[0].Type())
			}
			h, ok := kv[1].(starlark.Callable)
			if !ok {
				return nil, fmt.Errorf("%s: route handler must be callable, got %s", fn.Name(), kv[1].Type())
			}
			routes = append(routes, route{string(p), h})
		}
	case starlark.Callable:
		routes = []route{{"/", a}}
	default:
		return nil, fmt.Errorf("%s: first argument must be callable or dict, got %s", fn.Name(), a.Type())
	}
	v, err := newServer(thread, fn, nil, kwargs)
	if err != nil {
		return nil, err
	}
	s := v.(*Server)
	s.routes = routes
	r, err := s.start(thread, "serve", nil)
	if err != nil {
		return nil, err
	}
	s.wait(thread, r)
	return starlark.None, nil
}

// handle(pattern, handler): exactly two positionals. http.server:handle.
func serverHandle(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	s := fn.Receiver().(*Server)
	if err := libkite.Check(thread, "http", "server", "handle", ""); err != nil {
		return nil, err
	}
	if len(args) != 2 {
		return nil, fmt.Errorf("handle: expected (pattern, handler), got %d args", len(args))
	}
	pattern, ok := args[0].(starlark.String)
	if !ok {
		return nil, fmt.Errorf("handle: pattern must be a string, got %s", args[0].Type())
	}
	h, ok := args[1].(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("handle: handler must be callable, got %s", args[1].Type())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil {
		return nil, errors.New("http.server: cannot add handlers while server is running")
	}
	s.routes = append(s.routes, route{string(pattern), h})
	return starlark.None, nil
}

// use(middleware): one positional callable mw(req, next). http.server:use.
func serverUse(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	s := fn.Receiver().(*Server)
	if err := libkite.Check(thread, "http", "server", "use", ""); err != nil {
		return nil, err
	}
	if len(args) != 1 {
		return nil, fmt.Errorf("use: expected 1 argument (middleware), got %d", len(args))
	}
	mw, ok := args[0].(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("use: middleware must be callable, got %s", args[0].Type())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil {
		return nil, errors.New("http.server: cannot add middleware while server is running")
	}
	s.middleware = append(s.middleware, mw)
	return starlark.None, nil
}

// start(port=?, host=?, tls_cert=?, tls_key=?): listen and return.
// Permission http.server:start(<host:port>).
func serverStart(thread *starlark.Thread, fn *starlark.Builtin, _ starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if _, err := fn.Receiver().(*Server).start(thread, "start", kwargs); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// serve(port=?, host=?, tls_cert=?, tls_key=?): start, then block until the
// server stops. Permission http.server:serve(<host:port>).
func serverServe(thread *starlark.Thread, fn *starlark.Builtin, _ starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	s := fn.Receiver().(*Server)
	r, err := s.start(thread, "serve", kwargs)
	if err != nil {
		return nil, err
	}
	s.wait(thread, r)
	return starlark.None, nil
}

// shutdown(): stop gracefully; no-op when not running. Arguments ignored.
// Called from a handler of the server itself it returns once the server is
// marked stopped and its listener closed, and the drain finishes in the
// background (waiting for it would wait for the calling handler).
func serverShutdown(thread *starlark.Thread, fn *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	s := fn.Receiver().(*Server)
	if err := libkite.Check(thread, "http", "server", "shutdown", ""); err != nil {
		return nil, err
	}
	s.mu.Lock()
	r := s.cur
	s.mu.Unlock()
	if r != nil {
		r.stop(servingFor(thread) != r)
	}
	return starlark.None, nil
}

// port(): the listening port of the current (or last) run.
func serverPort(thread *starlark.Thread, fn *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	s := fn.Receiver().(*Server)
	if err := libkite.Check(thread, "http", "server", "port", ""); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		return nil, errors.New("http.server: server not started, no port available")
	}
	return starlark.MakeInt(s.port), nil
}

// start begins a run: permission check on the listen address, routes
// validated, TLS material read, then listening. It returns once the
// server accepts connections.
func (s *Server) start(thread *starlark.Thread, function string, kwargs []starlark.Tuple) (*run, error) {
	cfg := s.cfg
	cfg.applyListen(kwargs)
	addr := net.JoinHostPort(cfg.host, strconv.Itoa(cfg.port))
	if err := libkite.Check(thread, "http", "server", function, addr); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != nil {
		return nil, errors.New("http.server: server already running, call shutdown() first")
	}
	if len(s.routes) == 0 {
		return nil, errors.New("http.server: no handlers registered, call handle() first")
	}
	var tlsConf *tls.Config
	if cfg.tlsCert != "" && cfg.tlsKey != "" {
		pair, err := loadKeyPair(thread, cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return nil, err
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{pair}}
	}
	// The server outlives the call that started it, but its handlers
	// belong to the script run that did: they share its execution
	// limits (libkite.Limits: steps, script threads) without ending
	// when start() returns.
	ctx, cancel := context.WithCancel(context.WithoutCancel(libkite.Context(thread)))
	r := &run{
		s:               s,
		cancel:          cancel,
		middleware:      slices.Clone(s.middleware),
		maxBody:         cfg.maxBodyBytes,
		shutdownTimeout: cfg.shutdownTimeout,
		served:          make(chan struct{}),
		done:            make(chan struct{}),
	}
	r.ctx = context.WithValue(ctx, runKey{}, r)
	r.caller = libkite.NewCaller("http.handler", thread, r.ctx)
	mux, err := r.mux(s.routes)
	if err != nil {
		cancel()
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("http.server: listen: %v", err)
	}
	r.ln = ln
	r.srv = &http.Server{
		Handler:        mux,
		TLSConfig:      tlsConf,
		ReadTimeout:    cfg.readTimeout,
		WriteTimeout:   cfg.writeTimeout,
		IdleTimeout:    cfg.idleTimeout,
		MaxHeaderBytes: cfg.maxHeaderBytes,
		ErrorLog:       errorLog(thread),
		BaseContext:    func(net.Listener) context.Context { return r.ctx },
	}
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		s.port = a.Port
	}
	s.started = true
	s.cur = r
	if rt := libkite.GetRuntime(thread); rt != nil && !s.cleanups[rt] {
		if s.cleanups == nil {
			s.cleanups = map[*libkite.Runtime]bool{}
		}
		s.cleanups[rt] = true
		rt.AddCleanup(s.stopCurrent) // runtime Close never leaves a server behind
	}
	// the starting thread's cancellation (script timeout, cancel) stops the run
	r.unwatch = context.AfterFunc(libkite.Context(thread), func() { r.stop(true) })
	go r.serve(tlsConf != nil)
	return r, nil
}

// loadKeyPair reads the server certificate and key (fs.read checks).
func loadKeyPair(thread *starlark.Thread, certFile, keyFile string) (tls.Certificate, error) {
	cert, err := libkite.ReadFile(thread, certFile)
	if err == nil {
		var key []byte
		if key, err = libkite.ReadFile(thread, keyFile); err == nil {
			var pair tls.Certificate
			if pair, err = tls.X509KeyPair(cert, key); err == nil {
				return pair, nil
			}
		}
	}
	return tls.Certificate{}, libkite.WrapError("http.server: failed to load TLS cert", err)
}

// errorLog routes net/http's own diagnostics (TLS handshake failures, …)
// to the runtime's logger at debug level.
func errorLog(thread *starlark.Thread) *log.Logger {
	if rt := libkite.GetRuntime(thread); rt != nil {
		return slog.NewLogLogger(rt.Logger().Handler(), slog.LevelDebug)
	}
	return log.New(io.Discard, "", 0)
}

// stopCurrent stops the current run, if any, and waits for it.
func (s *Server) stopCurrent() {
	s.mu.Lock()
	r := s.cur
	s.mu.Unlock()
	if r != nil {
		r.stop(true)
	}
}

// wait blocks until r has stopped. While it waits, SIGINT and SIGTERM
// shut the server down unless the script installed its own handlers.
func (s *Server) wait(thread *starlark.Thread, r *run) {
	defer libkite.StopOnSignals(thread, "http.server.on_signal", func() { r.stop(true) })()
	<-r.done
}
