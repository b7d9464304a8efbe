package http

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// Client defaults of a fresh runtime.
const (
	defaultTimeout      = 30 * time.Second
	defaultMaxBody      = 64 << 20 // response body
	defaultMaxHeader    = 1 << 20  // response headers
	defaultMaxRedirects = 10
)

// clientOptions are the settings one request is sent with: the runtime's
// defaults (http.config) with the request's keyword overrides applied.
type clientOptions struct {
	timeout         time.Duration
	maxBody         int64
	maxHeader       int64
	maxRedirects    int
	followRedirects bool
	tls             tlsMaterial
}

// tlsMaterial is the client TLS setup, comparable so that it keys the
// transport cache. PEM data, not paths: a file is read (fs.read-checked)
// by the thread that names it.
type tlsMaterial struct {
	insecure bool
	caPEM    string
	certPEM  string
	keyPEM   string
}

// config builds the tls.Config of m; nil means Go's defaults.
func (m tlsMaterial) config() (*tls.Config, error) {
	if m == (tlsMaterial{}) {
		return nil, nil
	}
	c := &tls.Config{InsecureSkipVerify: m.insecure} //nolint:gosec // the script asked for insecure=True
	if m.caPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(m.caPEM)) {
			return nil, errors.New("no certificates found")
		}
		c.RootCAs = pool
	}
	if m.certPEM != "" {
		pair, err := tls.X509KeyPair([]byte(m.certPEM), []byte(m.keyPEM))
		if err != nil {
			return nil, err
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}

// clientState is one runtime's client: defaults set by http.config and
// the transports (connection pools) requests share.
type clientState struct {
	mu         sync.Mutex
	opts       clientOptions
	headers    http.Header // default request headers, canonical names
	transports map[transportKey]*http.Transport
}

// transportKey selects a transport: settings that live on the transport
// rather than on one request.
type transportKey struct {
	tls       tlsMaterial
	maxHeader int64
}

// maxTransports bounds the cache; beyond it the pools are dropped and
// rebuilt on demand (scripts rarely use more than a couple of setups).
const maxTransports = 16

func newClientState() *clientState {
	return &clientState{
		opts: clientOptions{
			timeout:         defaultTimeout,
			maxBody:         defaultMaxBody,
			maxHeader:       defaultMaxHeader,
			maxRedirects:    defaultMaxRedirects,
			followRedirects: true,
		},
		headers:    http.Header{},
		transports: map[transportKey]*http.Transport{},
	}
}

// snapshot returns the current defaults and a copy of the default headers.
func (cs *clientState) snapshot() (clientOptions, http.Header) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.opts, cs.headers.Clone()
}

// transport returns the shared transport for key, building it on first use.
func (cs *clientState) transport(key transportKey) (*http.Transport, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if t, ok := cs.transports[key]; ok {
		return t, nil
	}
	tc, err := key.tls.config()
	if err != nil {
		return nil, err
	}
	if len(cs.transports) >= maxTransports {
		for k, t := range cs.transports {
			t.CloseIdleConnections()
			delete(cs.transports, k)
		}
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxResponseHeaderBytes = key.maxHeader
	t.MaxIdleConnsPerHost = 16
	if tc != nil {
		t.TLSClientConfig = tc
	}
	cs.transports[key] = t
	return t, nil
}

// closeIdle closes every pooled connection (runtime closed).
func (cs *clientState) closeIdle() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for k, t := range cs.transports {
		t.CloseIdleConnections()
		delete(cs.transports, k)
	}
}

// optionSet is what one call's keywords say about client options, bound
// but not yet applied; file paths are read by load, after the call's
// permission check.
type optionSet struct {
	timeout         *time.Duration
	maxBody         *int64
	maxHeader       *int64
	maxRedirects    *int
	followRedirects *bool
	insecure        *bool
	caCert          *string
	clientCert      *string
	clientKey       *string
}

// bindOptions reads the client option keywords of builtin name. example is
// the duration shown in the timeout type error ("30s" for http.config,
// "5s" for the verbs); withHeader enables max_header_bytes.
func bindOptions(name, example string, kwargs []starlark.Tuple, withHeader bool) (optionSet, error) {
	var o optionSet
	if v := kwarg(kwargs, "timeout"); v != nil && v != starlark.None {
		s, ok := v.(starlark.String)
		if !ok {
			return o, fmt.Errorf("%s: timeout must be a string (e.g. %q), got %s", name, example, v.Type())
		}
		d, err := time.ParseDuration(string(s))
		if err != nil {
			return o, fmt.Errorf("%s: invalid timeout %q: %v", name, string(s), err)
		}
		o.timeout = &d
	}
	var err error
	if o.maxBody, err = positiveInt(name, "max_body_bytes", kwarg(kwargs, "max_body_bytes")); err != nil {
		return o, err
	}
	if withHeader {
		if o.maxHeader, err = positiveInt(name, "max_header_bytes", kwarg(kwargs, "max_header_bytes")); err != nil {
			return o, err
		}
	}
	if v := kwarg(kwargs, "max_redirects"); v != nil && v != starlark.None {
		n, err := starlark.AsInt32(v)
		if _, isInt := v.(starlark.Int); !isInt || err != nil || n < 0 {
			return o, fmt.Errorf("%s: max_redirects must be a non-negative int, got %s", name, describe(v))
		}
		o.maxRedirects = &n
	}
	if o.followRedirects, err = boolOpt(name, "follow_redirects", kwarg(kwargs, "follow_redirects")); err != nil {
		return o, err
	}
	if o.insecure, err = boolOpt(name, "insecure", kwarg(kwargs, "insecure")); err != nil {
		return o, err
	}
	for _, p := range []struct {
		key string
		dst **string
	}{{"ca_cert", &o.caCert}, {"client_cert", &o.clientCert}, {"client_key", &o.clientKey}} {
		if v := kwarg(kwargs, p.key); v != nil && v != starlark.None {
			s, ok := v.(starlark.String)
			if !ok {
				return o, fmt.Errorf("%s: %s must be a string (file path), got %s", name, p.key, v.Type())
			}
			str := string(s)
			*p.dst = &str
		}
	}
	if (o.clientCert == nil) != (o.clientKey == nil) {
		return o, fmt.Errorf("%s: client_cert and client_key must be given together", name)
	}
	return o, nil
}

// apply sets the options of o onto opts, reading the certificate files
// it names on thread (each an fs.read check). In a dry run the files are
// checked but not read.
func (o optionSet) apply(thread *starlark.Thread, name string, opts *clientOptions, dry bool) error {
	if o.timeout != nil {
		opts.timeout = *o.timeout
	}
	if o.maxBody != nil {
		opts.maxBody = *o.maxBody
	}
	if o.maxHeader != nil {
		opts.maxHeader = *o.maxHeader
	}
	if o.maxRedirects != nil {
		opts.maxRedirects = *o.maxRedirects
	}
	if o.followRedirects != nil {
		opts.followRedirects = *o.followRedirects
	}
	if o.insecure != nil {
		opts.tls.insecure = *o.insecure
	}
	if o.caCert != nil {
		pem, err := readPEM(thread, name, "ca_cert", *o.caCert, dry)
		if err != nil {
			return err
		}
		opts.tls.caPEM = pem
		if pem != "" && !x509.NewCertPool().AppendCertsFromPEM([]byte(pem)) {
			return fmt.Errorf("%s: ca_cert %q: no certificates found", name, *o.caCert)
		}
	}
	if o.clientCert != nil {
		cert, err := readPEM(thread, name, "client_cert", *o.clientCert, dry)
		if err != nil {
			return err
		}
		key, err := readPEM(thread, name, "client_key", *o.clientKey, dry)
		if err != nil {
			return err
		}
		if cert != "" || key != "" {
			if _, err := tls.X509KeyPair([]byte(cert), []byte(key)); err != nil {
				return fmt.Errorf("%s: client certificate: %v", name, err)
			}
		}
		opts.tls.certPEM, opts.tls.keyPEM = cert, key
	}
	return nil
}

// readPEM reads a certificate or key file; "" clears the setting.
func readPEM(thread *starlark.Thread, name, what, path string, dry bool) (string, error) {
	if path == "" {
		return "", nil
	}
	if dry {
		_, err := libkite.CheckPath(thread, "fs", "read", "read_file", path)
		return "", err
	}
	data, err := libkite.ReadFile(thread, path)
	if err != nil {
		return "", libkite.WrapError(name+": "+what, err)
	}
	return string(data), nil
}

func positiveInt(name, key string, v starlark.Value) (*int64, error) {
	if v == nil || v == starlark.None {
		return nil, nil
	}
	i, isInt := v.(starlark.Int)
	n, ok := i.Int64()
	if !isInt || !ok || n <= 0 {
		return nil, fmt.Errorf("%s: %s must be a positive int, got %s", name, key, describe(v))
	}
	return &n, nil
}

func boolOpt(name, key string, v starlark.Value) (*bool, error) {
	if v == nil || v == starlark.None {
		return nil, nil
	}
	b, ok := v.(starlark.Bool)
	if !ok {
		return nil, fmt.Errorf("%s: %s must be a bool, got %s", name, key, v.Type())
	}
	bb := bool(b)
	return &bb, nil
}

// describe names a rejected value: its repr for ints, else its type.
func describe(v starlark.Value) string {
	if _, ok := v.(starlark.Int); ok {
		return v.String()
	}
	return v.Type()
}

// config is http.config(timeout=None, headers=None, ...): keywords only
// (positionals ignored). It changes the runtime's client defaults; every
// argument is validated (and every file read) before anything changes.
func (m *module) config(thread *starlark.Thread, fn *starlark.Builtin, _ starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	name := fn.Name()
	if err := libkite.Check(thread, "http", "client", "config", ""); err != nil {
		return nil, err
	}
	set, err := bindOptions(name, "30s", kwargs, true)
	if err != nil {
		return nil, err
	}
	var headers [][2]string
	if d, ok := kwarg(kwargs, "headers").(*starlark.Dict); ok {
		headers = stringPairs(d)
	}
	cs := m.client(thread)
	opts, _ := cs.snapshot()
	if err := set.apply(thread, name, &opts, false); err != nil {
		return nil, err
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.opts = opts
	for _, h := range headers {
		cs.headers.Set(h[0], h[1])
	}
	return starlark.None, nil
}

// stringPairs returns the str→str entries of d in order; others are skipped.
func stringPairs(d *starlark.Dict) [][2]string {
	out := make([][2]string, 0, d.Len())
	for _, kv := range d.Items() {
		k, ok1 := kv[0].(starlark.String)
		v, ok2 := kv[1].(starlark.String)
		if ok1 && ok2 {
			out = append(out, [2]string{string(k), string(v)})
		}
	}
	return out
}
