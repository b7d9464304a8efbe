package mcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/aikite/internal/tool"
	"github.com/project-starkite/starkite/libkite"
)

// Server side of the mcp module (spec §3): mcp.serve(**kw) exposes
// Starlark functions as MCP tools, resources and prompts over stdio,
// Streamable HTTP or (ext) the legacy SSE transport. The builtin binds and
// validates its keywords into a ServeConfig and hands it to Serve, which
// is also the entry point of the `kite mcp serve` subcommand. This file
// holds the builtin, ServeConfig, Serve and the validation;
// serve_handlers.go builds the mcp-go server and its request handlers;
// serve_run.go runs the transports (stdio, HTTP(S), SSE) and shutdown.

// Server defaults (spec §3 kwargs table).
const (
	serverDefaultVersion   = "0.1.0"
	serverDefaultHost      = "127.0.0.1"
	serverDefaultPath      = "/"
	serverDefaultTransport = "http"
)

// ServeFunc is one named resource or prompt function (spec §3.3, §3.4):
// Name is the key of the resources=/prompts= dict, Fn its callable.
type ServeFunc struct {
	Name string
	Fn   starlark.Callable
}

// ServeConfig is everything mcp.serve serves. The zero values of the
// optional fields are the spec defaults; Serve validates the whole
// configuration with the same rules and error texts as the builtin.
type ServeConfig struct {
	// Name is the advertised server name (required); Version the
	// advertised version ("" = "0.1.0").
	Name, Version string
	// Tools are the served tools, usually from tool.Coerce (the tools=
	// coercion shared with the ai module).
	Tools []*tool.Tool
	// Resources and Prompts are the resources=/prompts= entries in
	// registration order; ServeFuncsFromDict builds them from a dict.
	Resources, Prompts []ServeFunc

	// Port selects the transport: 0 serves JSON-RPC on Stdin/Stdout
	// (unless Listener is set), > 0 listens on Host:Port.
	Port int
	// Host ("" = "127.0.0.1"), Path ("" = "/", the http.ServeMux pattern
	// the MCP handler is mounted at), TLSCert/TLSKey (PEM files, both or
	// neither → HTTPS) and Transport ("" or "http" = Streamable HTTP,
	// "sse" = legacy SSE with endpoints <path>sse and <path>message, path
	// joined so "/mcp" and "/mcp/" both give /mcp/sse) apply to HTTP only.
	Host, Path      string
	TLSCert, TLSKey string
	Transport       string

	// Listener, if set, is a pre-bound listener to serve HTTP(S) on
	// instead of listening on Host:Port (tests, socket activation): it
	// selects HTTP even with Port 0, and Serve closes it when it returns.
	Listener net.Listener
	// Stdin and Stdout carry the stdio transport (nil = os.Stdin,
	// os.Stdout).
	Stdin  io.Reader
	Stdout io.Writer
	// Stderr receives the "listening on" line and, while serving over
	// stdio, the runtime's print output (nil = os.Stderr).
	Stderr io.Writer
}

// Serve serves cfg until the session ends and returns nil on a clean
// shutdown. It performs mcp.serve's steps from the configuration check
// onwards (spec §3 validation order): the configuration rules, the
// permission ("mcp", "server", "serve", cfg.Name), the requirement that
// thread belongs to a kite runtime, building the mcp-go server and
// running it:
//
//   - stdio (Port 0, no Listener): JSON-RPC on Stdin/Stdout until EOF, the
//     thread's cancellation, SIGINT/SIGTERM (unless the script handles
//     them) or the runtime closing; print output goes to Stderr meanwhile.
//   - HTTP(S): prints "mcp.serve: listening on <url>" to Stderr and serves
//     until cancellation, a signal or the runtime closing, then shuts
//     down gracefully (at most 5 s). Bind and TLS failures are errors.
//
// Every request runs the script function on a fresh thread of the
// serving runtime with the serving thread's permissions, after the
// per-request check ("mcp", "client", "tool_invoke" | "resource_read" |
// "prompt_render", <name>); calls into the script are serialised.
func Serve(thread *starlark.Thread, cfg ServeConfig) error {
	if cfg.Listener != nil {
		defer cfg.Listener.Close() // also on errors; a second Close is harmless
	}
	if err := serverCheckConfig(&cfg, nil); err != nil {
		return err
	}
	serverDefaults(&cfg)
	for _, r := range cfg.Resources {
		if err := serverCheckResource(r); err != nil {
			return fmt.Errorf("mcp.serve: %v", err)
		}
	}
	for _, p := range cfg.Prompts {
		if err := serverCheckPrompt(p); err != nil {
			return fmt.Errorf("mcp.serve: %v", err)
		}
	}
	if err := libkite.Check(thread, "mcp", "server", "serve", cfg.Name); err != nil {
		return err
	}
	if libkite.GetRuntime(thread) == nil {
		return errors.New("mcp.serve: must be called from a script running in a kite runtime")
	}
	s, err := newServerState(thread, &cfg)
	if err != nil {
		return err
	}
	if cfg.Port == 0 && cfg.Listener == nil {
		return s.serveStdio(thread)
	}
	return s.serveHTTP(thread)
}

// serve is mcp.serve(**kw) (spec §3).
func serve(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	cfg, err := serverConfigFromArgs(fn.Name(), args, kwargs)
	if err != nil {
		return nil, err
	}
	if err := Serve(thread, cfg); err != nil {
		return nil, err
	}
	// stopped because the script's run was cancelled: the script must
	// not go on (the thread's own cancellation only lands at its next
	// step, asynchronously)
	if ctx := libkite.Context(thread); ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return starlark.None, nil
}

// serverConfigFromArgs binds and validates mcp.serve's arguments up to
// and including the tools/resources/prompts coercion, in the spec's
// order.
func serverConfigFromArgs(fnName string, args starlark.Tuple, kwargs []starlark.Tuple) (ServeConfig, error) {
	var cfg ServeConfig
	if len(args) > 0 {
		return cfg, fmt.Errorf("%s: takes only keyword arguments", fnName)
	}
	var toolsV, resourcesV, promptsV starlark.Value
	if err := libkite.UnpackArgs(fnName, nil, kwargs, "*", nil,
		"name?", &cfg.Name, "version?", &cfg.Version,
		"tools??", &toolsV, "resources??", &resourcesV, "prompts??", &promptsV,
		"port?", &cfg.Port, "host?", &cfg.Host, "path?", &cfg.Path,
		"tls_cert?", &cfg.TLSCert, "tls_key?", &cfg.TLSKey, "transport?", &cfg.Transport); err != nil {
		return cfg, err
	}
	given := map[string]bool{}
	for _, kv := range kwargs {
		given[string(kv[0].(starlark.String))] = true
	}
	if err := serverCheckConfig(&cfg, given); err != nil {
		return cfg, err
	}
	var err error
	if cfg.Tools, err = tool.Coerce(toolsV); err != nil {
		return cfg, fmt.Errorf("%s: %v", fnName, err)
	}
	if cfg.Resources, err = ServeFuncsFromDict("resources", resourcesV); err != nil {
		return cfg, fmt.Errorf("%s: %v", fnName, err)
	}
	if cfg.Prompts, err = ServeFuncsFromDict("prompts", promptsV); err != nil {
		return cfg, fmt.Errorf("%s: %v", fnName, err)
	}
	return cfg, nil
}

// serverCheckConfig applies the scalar rules in the spec's order (name,
// port sign, TLS pairing, HTTP-only settings without a port, transport).
// given names the keywords the script passed
// (nil when called from Serve: a non-empty field counts as given).
func serverCheckConfig(cfg *ServeConfig, given map[string]bool) error {
	if cfg.Name == "" {
		return errors.New("mcp.serve: name is required")
	}
	if cfg.Port < 0 {
		return fmt.Errorf("mcp.serve: port must not be negative, got %d", cfg.Port)
	}
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return errors.New("mcp.serve: tls_cert and tls_key must be set together")
	}
	isGiven := func(key, value string) bool {
		if given != nil {
			return given[key]
		}
		return value != ""
	}
	httpMode := cfg.Port > 0 || cfg.Listener != nil
	if !httpMode && (isGiven("host", cfg.Host) || isGiven("path", cfg.Path) ||
		isGiven("tls_cert", cfg.TLSCert) || isGiven("tls_key", cfg.TLSKey)) {
		return errors.New("mcp.serve: host/path/tls_* kwargs require port to be set")
	}
	switch cfg.Transport {
	case "", "http", "sse":
	default:
		return fmt.Errorf("mcp.serve: transport must be \"http\" or \"sse\", got %q", cfg.Transport)
	}
	if !httpMode && isGiven("transport", cfg.Transport) {
		return errors.New("mcp.serve: transport kwarg requires port to be set")
	}
	return nil
}

// serverDefaults fills in the defaults of the optional settings.
func serverDefaults(cfg *ServeConfig) {
	if cfg.Version == "" {
		cfg.Version = serverDefaultVersion
	}
	if cfg.Host == "" {
		cfg.Host = serverDefaultHost
	}
	if cfg.Path == "" {
		cfg.Path = serverDefaultPath
	}
	if cfg.Transport == "" {
		cfg.Transport = serverDefaultTransport
	}
}

// ServeFuncsFromDict converts a resources= or prompts= value (kind names
// it in errors) into ServeFuncs in dict order: it must be a dict (None =
// none) whose keys are non-empty strings and whose values are callables;
// def-functions must not use *args/**kwargs, and resource functions take
// at most one parameter (the requested URI).
func ServeFuncsFromDict(kind string, v starlark.Value) ([]ServeFunc, error) {
	if v == nil || v == starlark.None {
		return nil, nil
	}
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("%s must be a dict of name to function, got %s", kind, v.Type())
	}
	var out []ServeFunc
	for _, kv := range d.Items() {
		k, ok := kv[0].(starlark.String)
		if !ok || k == "" {
			return nil, fmt.Errorf("%s keys must be non-empty strings, got %s", kind, serverDescribeKey(kv[0]))
		}
		c, ok := kv[1].(starlark.Callable)
		if !ok {
			return nil, fmt.Errorf("%s[%q]: expected a callable, got %s", kind, string(k), kv[1].Type())
		}
		f := ServeFunc{Name: string(k), Fn: c}
		check := serverCheckPrompt
		if kind == "resources" {
			check = serverCheckResource
		}
		if err := check(f); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func serverDescribeKey(k starlark.Value) string {
	if s, ok := k.(starlark.String); ok {
		return s.String() // the empty string, quoted
	}
	return k.Type()
}

// serverCheckResource: a non-empty name, a callable, and for a
// def-function no *args/**kwargs and at most one parameter.
func serverCheckResource(f ServeFunc) error {
	if err := serverCheckFunc("resources", f); err != nil {
		return err
	}
	if def, ok := f.Fn.(*starlark.Function); ok && def.NumParams() > 1 {
		return fmt.Errorf("resources[%q]: function %s takes %d parameters; a resource function takes 0 or 1 (the requested URI)", f.Name, def.Name(), def.NumParams())
	}
	if serverIsTemplate(f.Name) {
		if _, err := serverNewTemplate(serverResourceURI(f.Name), f.Name, ""); err != nil {
			return fmt.Errorf("resources[%q]: %v", f.Name, err)
		}
	}
	return nil
}

// serverCheckPrompt: a non-empty name, a callable, and for a def-function
// no *args/**kwargs.
func serverCheckPrompt(f ServeFunc) error {
	return serverCheckFunc("prompts", f)
}

func serverCheckFunc(kind string, f ServeFunc) error {
	if f.Name == "" {
		return fmt.Errorf("%s keys must be non-empty strings, got \"\"", kind)
	}
	if f.Fn == nil {
		return fmt.Errorf("%s[%q]: expected a callable, got None", kind, f.Name)
	}
	if def, ok := f.Fn.(*starlark.Function); ok && (def.HasVarargs() || def.HasKwargs()) {
		return fmt.Errorf("%s[%q]: function %s must not use *args/**kwargs", kind, f.Name, def.Name())
	}
	return nil
}

// serverResourceURI is the URI a resource key is registered under (spec
// §3.3): a key containing "://" verbatim, else
// starkite://resources/<key> (the reference project's scheme, kept for
// drop-in compatibility).
func serverResourceURI(key string) string {
	if strings.Contains(key, "://") {
		return key
	}
	return "starkite://resources/" + key
}

// serverIsTemplate reports whether a resource key is registered as a URI
// template (ext): it holds a {…} expression.
func serverIsTemplate(key string) bool {
	i := strings.IndexByte(key, '{')
	return i >= 0 && strings.IndexByte(key[i:], '}') > 1
}
