package k8s

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// Admission webhook server (spec §14): k8s.webhook binds its arguments,
// loads the TLS key pair, listens on :<port> and serves AdmissionReview
// requests (webhook_admission.go) until the run's context is cancelled,
// SIGINT/SIGTERM arrives or the runtime closes; then it shuts down
// gracefully and returns None. No permission check for serving; the
// handlers run on Caller threads, so what they call is checked against
// the permissions of the thread that called k8s.webhook.

// Server settings.
const (
	webhookDefaultPort       = 9443
	webhookShutdownTimeout   = 5 * time.Second
	webhookMaxBodyBytes      = 10 << 20 // larger request bodies → 413
	webhookMaxHeaderBytes    = 1 << 20
	webhookReadHeaderTimeout = 10 * time.Second
	webhookReadTimeout       = 30 * time.Second
	webhookWriteTimeout      = 60 * time.Second // the API server waits at most 30 s
	webhookIdleTimeout       = 2 * time.Minute
)

// webhookStarted, when set (by tests), is told the bound port and the
// startup line once the server accepts connections.
var webhookStarted func(thread *starlark.Thread, port int, line string)

// webhookConfig is k8s.webhook's bound arguments.
type webhookConfig struct {
	path             string
	validate, mutate starlark.Callable
	port             int
	tlsCert, tlsKey  string
}

// webhook is k8s.webhook(path, validate=None, mutate=None, port=9443,
// tls_cert=, tls_key=) (spec §14): blocks while serving, returns None.
func webhook(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	cfg, err := bindWebhook(fn.Name(), args, kwargs)
	if err != nil {
		return nil, err
	}
	cert, err := loadWebhookKeyPair(cfg.tlsCert, cfg.tlsKey)
	if err != nil {
		return nil, err
	}
	if err := serveWebhook(thread, cfg, cert); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// bindWebhook checks the arguments: a path starting with "/", at least
// one callable handler, a port in 0..65535 and both TLS files named.
func bindWebhook(fnName string, args starlark.Tuple, kwargs []starlark.Tuple) (webhookConfig, error) {
	cfg := webhookConfig{port: webhookDefaultPort}
	var validate, mutate starlark.Value
	if err := libkite.UnpackArgs(fnName, args, kwargs,
		"path", &cfg.path, "validate??", &validate, "mutate??", &mutate,
		"port?", &cfg.port, "tls_cert?", &cfg.tlsCert, "tls_key?", &cfg.tlsKey); err != nil {
		return cfg, err
	}
	if !strings.HasPrefix(cfg.path, "/") {
		return cfg, fmt.Errorf("k8s.webhook: path must start with \"/\", got %q", cfg.path)
	}
	for _, h := range []struct {
		name string
		v    starlark.Value
		dst  *starlark.Callable
	}{{"validate", validate, &cfg.validate}, {"mutate", mutate, &cfg.mutate}} {
		if h.v == nil || h.v == starlark.None {
			continue
		}
		c, ok := h.v.(starlark.Callable)
		if !ok {
			return cfg, fmt.Errorf("k8s.webhook: %s must be callable, got %s", h.name, h.v.Type())
		}
		*h.dst = c
	}
	if cfg.validate == nil && cfg.mutate == nil {
		return cfg, errors.New("k8s.webhook: at least one of validate or mutate is required")
	}
	if cfg.port < 0 || cfg.port > 65535 {
		return cfg, fmt.Errorf("k8s.webhook: port must be between 0 and 65535, got %d", cfg.port)
	}
	if cfg.tlsCert == "" {
		return cfg, errors.New("k8s.webhook: tls_cert is required (path of the PEM server certificate)")
	}
	if cfg.tlsKey == "" {
		return cfg, errors.New("k8s.webhook: tls_key is required (path of the PEM private key)")
	}
	return cfg, nil
}

// loadWebhookKeyPair reads and parses the PEM certificate and key. Errors
// name the file at fault.
func loadWebhookKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	read := func(what, path string) ([]byte, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("k8s.webhook: cannot read %s %q: %v", what, path, err)
		}
		return b, nil
	}
	certPEM, err := read("tls_cert", certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := read("tls_key", keyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("k8s.webhook: cannot load TLS key pair from tls_cert %q and tls_key %q: %v", certFile, keyFile, err)
	}
	return pair, nil
}

// webhookStartLine is the startup line written to stderr.
func webhookStartLine(path string, port int) string {
	return fmt.Sprintf("k8s.webhook: serving %s on :%d (TLS)\n", path, port)
}

// serveWebhook listens, serves until stopped and shuts down gracefully.
// It returns an error only when listening or serving itself fails.
func serveWebhook(thread *starlark.Thread, cfg webhookConfig, cert tls.Certificate) error {
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.port))
	if err != nil {
		return fmt.Errorf("k8s.webhook: listen on :%d: %v", cfg.port, err)
	}
	// Handler threads get their own context: a graceful shutdown lets the
	// calls in progress finish; it is cancelled once the drain is over.
	// They keep the script run's values, so its execution limits
	// (libkite.Limits) apply to them.
	runCtx, cancelRun := context.WithCancel(context.WithoutCancel(libkite.Context(thread)))
	defer cancelRun()
	h := &webhookHandler{
		path:     cfg.path,
		validate: cfg.validate,
		mutate:   cfg.mutate,
		caller:   libkite.NewCaller("k8s.webhook", thread, runCtx),
		maxBody:  webhookMaxBodyBytes,
	}
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: webhookReadHeaderTimeout,
		ReadTimeout:       webhookReadTimeout,
		WriteTimeout:      webhookWriteTimeout,
		IdleTimeout:       webhookIdleTimeout,
		MaxHeaderBytes:    webhookMaxHeaderBytes,
		ErrorLog:          webhookErrorLog(thread),
		BaseContext:       func(net.Listener) context.Context { return runCtx },
	}
	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(ln, "", "") }()

	port := cfg.port
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		port = a.Port
	}
	line := webhookStartLine(cfg.path, port)
	note("k8s.webhook", "serving %s on :%d (TLS)", cfg.path, port)
	if webhookStarted != nil {
		webhookStarted(thread, port, line)
	}

	// Stop requests: SIGINT/SIGTERM (unless the script handles them
	// itself) and the runtime closing. Both wait for the shutdown, so the
	// process does not exit (nor the runtime go away) mid-drain.
	stop := make(chan struct{})
	done := make(chan struct{})
	var stopOnce sync.Once
	requestStop := func() {
		stopOnce.Do(func() { close(stop) })
		<-done
	}
	defer libkite.StopOnSignals(thread, "k8s.webhook.on_signal", requestStop)()
	if rt := libkite.GetRuntime(thread); rt != nil {
		rt.AddCleanup(requestStop)
	}

	var serveErr error
	select {
	case <-libkite.Context(thread).Done():
	case <-stop:
	case serveErr = <-served: // the listener failed
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), webhookShutdownTimeout)
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close() // drain timed out: cut the remaining connections
	}
	cancel()
	cancelRun()
	h.drain(time.Second)
	if serveErr == nil {
		serveErr = <-served
	}
	close(done)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("k8s.webhook: serve: %v", serveErr)
	}
	return nil
}

// webhookErrorLog routes net/http's own diagnostics (TLS handshake
// failures, …) to the runtime's logger at debug level.
func webhookErrorLog(thread *starlark.Thread) *log.Logger {
	if rt := libkite.GetRuntime(thread); rt != nil && rt.Logger() != nil {
		return slog.NewLogLogger(rt.Logger().Handler(), slog.LevelDebug)
	}
	return log.New(io.Discard, "", 0)
}
