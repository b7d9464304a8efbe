package mcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// clientDefaultTimeout bounds connect + initialize when timeout= is not
// given (spec §2 step 4).
const clientDefaultTimeout = 30 * time.Second

// clientStderr is where a stdio server's standard error goes (Kite: kite's
// own stderr, so server crashes are diagnosable). Tests replace it.
var clientStderr = func() io.Writer { return os.Stderr }

// clientWaitDelay bounds how long reaping a stdio child waits for its
// stderr to drain after it exited (a grandchild may hold the pipe).
const clientWaitDelay = 2 * time.Second

// clientTarget is a validated mcp.connect target.
type clientTarget struct {
	kind    string   // "stdio", "http" or "sse"
	argv    []string // stdio
	url     string   // http, sse
	headers map[string]string
	env     []string // stdio: KEY=VALUE added to the inherited environment
}

// resource is the permission resource of the target: argv[0] or the URL.
func (t *clientTarget) resource() string {
	if t.kind == "stdio" {
		return t.argv[0]
	}
	return libkite.CanonicalURL(t.url)
}

// connect is mcp.connect(target, timeout="30s", transport="auto",
// headers={}, env={}) (spec §2).
func connect(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: expected 1 positional argument (command list or URL), got %d", fn.Name(), len(args))
	}
	var (
		timeoutText = ""
		mode        = "auto"
		headers     *starlark.Dict
		env         *starlark.Dict
	)
	if err := libkite.UnpackArgs(fn.Name(), nil, kwargs,
		"timeout?", &timeoutText, "transport?", &mode, "headers??", &headers, "env??", &env); err != nil {
		return nil, err
	}
	// 1. timeout
	timeout := clientDefaultTimeout
	if timeoutText != "" {
		d, err := time.ParseDuration(timeoutText)
		if err != nil {
			return nil, fmt.Errorf("%s: timeout: %v", fn.Name(), err)
		}
		if d <= 0 {
			return nil, fmt.Errorf("%s: timeout must be positive, got %q", fn.Name(), timeoutText)
		}
		timeout = d
	}
	// 2. transport
	target, err := clientParseTarget(args[0], mode)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn.Name(), err)
	}
	if target.headers, err = clientStringDict("headers", headers); err != nil {
		return nil, fmt.Errorf("%s: %v", fn.Name(), err)
	}
	envMap, err := clientStringDict("env", env)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn.Name(), err)
	}
	if len(target.headers) > 0 && target.kind == "stdio" {
		return nil, fmt.Errorf("%s: headers= applies only to the http and sse transports", fn.Name())
	}
	if len(envMap) > 0 && target.kind != "stdio" {
		return nil, fmt.Errorf("%s: env= applies only to the stdio transport", fn.Name())
	}
	keys := make([]string, 0, len(envMap))
	for k := range envMap {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		target.env = append(target.env, k+"="+envMap[k])
	}
	// 3. permission, before anything is spawned or dialled
	if err := libkite.Check(thread, "mcp", "client", "connect", target.resource()); err != nil {
		return nil, err
	}
	// 4-6.
	c, err := clientDial(libkite.Context(thread), target, timeout)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn.Name(), err)
	}
	c.track(libkite.GetRuntime(thread))
	return c, nil
}

// clientParseTarget infers the transport from the target value and the
// transport= kwarg (spec §2 table and (ext) transport=).
func clientParseTarget(v starlark.Value, mode string) (*clientTarget, error) {
	switch mode {
	case "auto", "stdio", "http", "sse":
	default:
		return nil, fmt.Errorf(`transport must be "auto", "stdio", "http" or "sse", got %q`, mode)
	}
	switch v := v.(type) {
	case *starlark.List, starlark.Tuple:
		argv, err := clientCommandList(v.(starlark.Iterable))
		if err != nil {
			return nil, err
		}
		if mode != "auto" && mode != "stdio" {
			return nil, fmt.Errorf("transport %q needs an http(s) URL, got a command list", mode)
		}
		return &clientTarget{kind: "stdio", argv: argv}, nil
	case starlark.String:
		raw := string(v)
		if !strings.HasPrefix(raw, "http://") && !strings.HasPrefix(raw, "https://") {
			return nil, fmt.Errorf("URL must start with http:// or https://, got %q", raw)
		}
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("invalid URL %q: %v", raw, err)
		}
		kind := mode
		switch mode {
		case "stdio":
			return nil, fmt.Errorf(`transport "stdio" needs a command list, got a URL`)
		case "auto":
			kind = "http"
			if strings.HasSuffix(u.Path, "/sse") {
				kind = "sse"
			}
		}
		return &clientTarget{kind: kind, url: raw}, nil
	}
	return nil, fmt.Errorf("expected a command list or http(s) URL, got %s", v.Type())
}

// clientCommandList converts a list/tuple of strings to argv.
func clientCommandList(v starlark.Iterable) ([]string, error) {
	it := v.Iterate()
	defer it.Done()
	var argv []string
	var x starlark.Value
	for it.Next(&x) {
		s, ok := x.(starlark.String)
		if !ok {
			return nil, fmt.Errorf("command list elements must be strings, got %s", x.Type())
		}
		argv = append(argv, string(s))
	}
	if len(argv) == 0 {
		return nil, errors.New("command list must not be empty")
	}
	return argv, nil
}

// clientStringDict converts a headers=/env= dict of strings.
func clientStringDict(what string, d *starlark.Dict) (map[string]string, error) {
	if d == nil {
		return nil, nil
	}
	out := make(map[string]string, d.Len())
	for _, kv := range d.Items() {
		k, ok := kv[0].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s keys must be strings, got %s", what, kv[0].Type())
		}
		val, ok := kv[1].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s[%q] must be a string, got %s", what, string(k), kv[1].Type())
		}
		out[string(k)] = string(val)
	}
	return out, nil
}

// clientDial builds the transport for target, connects and performs the
// initialize handshake within timeout (and the run's ctx). On failure the
// stdio child, if any, is killed and reaped.
func clientDial(ctx context.Context, target *clientTarget, timeout time.Duration) (*clientValue, error) {
	var (
		mc  *client.Client
		cmd atomic.Pointer[exec.Cmd]
		err error
	)
	switch target.kind {
	case "stdio":
		spawn := func(_ context.Context, command string, env []string, args []string) (*exec.Cmd, error) {
			// Not exec.CommandContext: the child lives as long as the
			// client, not as long as any one context.
			c := exec.Command(command, args...)
			c.Env = append(os.Environ(), env...)
			c.Stderr = clientStderr()
			c.WaitDelay = clientWaitDelay
			clientNewGroup(c)
			cmd.Store(c)
			return c, nil
		}
		tr := transport.NewStdioWithOptions(target.argv[0], target.env, target.argv[1:], transport.WithCommandFunc(spawn))
		mc = client.NewClient(tr)
	case "http":
		var opts []transport.StreamableHTTPCOption
		if len(target.headers) > 0 {
			opts = append(opts, transport.WithHTTPHeaders(target.headers))
		}
		mc, err = client.NewStreamableHttpClient(target.url, opts...)
	case "sse":
		var opts []transport.ClientOption
		if len(target.headers) > 0 {
			opts = append(opts, transport.WithHeaders(target.headers))
		}
		mc, err = client.NewSSEMCPClient(target.url, opts...)
	}
	if err != nil {
		return nil, err
	}
	return clientHandshake(ctx, mc, cmd.Load, timeout)
}

// clientHandshake starts mc and runs initialize bounded by timeout and ctx.
// It returns the mcp.Client value or, after killing the child that cmd
// reports (cmd may be nil or return nil) and closing mc, the error. It is
// also the internal constructor tests use to wrap in-process clients.
func clientHandshake(ctx context.Context, mc *client.Client, cmd func() *exec.Cmd, timeout time.Duration) (*clientValue, error) {
	if cmd == nil {
		cmd = func() *exec.Cmd { return nil }
	}
	// life outlives the handshake: the SSE stream, the stdio transport and
	// server-initiated requests use it until the client is closed.
	life, cancelLife := context.WithCancel(context.Background())
	hctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	type outcome struct {
		res *mcpgo.InitializeResult
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		if err := mc.Start(life); err != nil {
			done <- outcome{err: err}
			return
		}
		req := mcpgo.InitializeRequest{}
		req.Params.ClientInfo = mcpgo.Implementation{Name: "kite", Version: libkite.AppVersion()}
		res, err := mc.Initialize(hctx, req)
		done <- outcome{res: res, err: err}
	}()

	var out outcome
	select {
	case out = <-done:
	case <-hctx.Done():
		// Abort a Start still waiting (SSE endpoint) and let the
		// goroutine finish before the transport is touched again: every
		// transport honours the cancelled contexts.
		cancelLife()
		out = <-done
		out.res = nil // life is gone: too late even if initialize just succeeded
	}
	if out.err == nil && out.res != nil {
		return newClient(mc, out.res, cmd(), life, cancelLife), nil
	}
	err := out.err
	if hctx.Err() != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		} else {
			err = fmt.Errorf("no answer to the initialize handshake within %s", timeout)
		}
	}
	if err == nil {
		err = errors.New("initialize handshake returned no result")
	}
	// Kill first so closing the transport reaps at once instead of waiting
	// for a graceful exit.
	c := cmd()
	if c != nil && c.Process != nil {
		clientKillGroup(c)
	}
	cancelLife()
	_ = mc.Close()
	if c != nil && c.Process != nil {
		clientKillGroup(c) // anything the child started meanwhile
	}
	return nil, err
}
