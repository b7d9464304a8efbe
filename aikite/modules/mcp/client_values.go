package mcp

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/mark3labs/mcp-go/client"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/aikite/internal/tool"
	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/startype"
)

// clientDiscoveryTimeout bounds the lazy tools/list (spec §2.1).
const clientDiscoveryTimeout = 30 * time.Second

var errClientClosed = errors.New("mcp client is closed")

// clientConn is the live session behind an mcp.Client value. It holds no
// reference to the Starlark value, so the value can be garbage collected
// (its cleanup closes the conn) while the open-client registry holds the
// conn.
type clientConn struct {
	mc     *client.Client
	cmd    *exec.Cmd // the stdio child, nil for other transports
	life   context.Context
	cancel context.CancelFunc
	closed atomic.Bool
	once   sync.Once
}

// close closes the session, then kills and reaps the stdio child. Only the
// first call does anything (and may report an error). With kill set the
// child is killed before the session is closed (no graceful exit).
func (c *clientConn) close(kill bool) error {
	var err error
	c.once.Do(func() {
		c.closed.Store(true)
		clientUntrack(c)
		if kill {
			c.killChild()
		}
		err = c.mc.Close()
		c.cancel()
		// The transport closed stdin and waited for the child, escalating
		// to signals; make sure nothing it started survives it.
		c.killChild()
		var exit *exec.ExitError
		if errors.As(err, &exit) || errors.Is(err, context.Canceled) {
			err = nil // how the child exited is not a session-close failure
		}
	})
	return err
}

// killChild kills the stdio child and everything it started.
func (c *clientConn) killChild() {
	if c.cmd != nil && c.cmd.Process != nil {
		clientKillGroup(c.cmd)
	}
}

// The registry of open clients: closed when their runtime closes (the end
// of a script) and, killed, when a signal terminates the process.
var clientOpen = struct {
	sync.Mutex
	conns    map[*clientConn]*libkite.Runtime
	runtimes map[*libkite.Runtime]bool
	atExit   sync.Once
}{conns: map[*clientConn]*libkite.Runtime{}, runtimes: map[*libkite.Runtime]bool{}}

// track registers the client's conn so it cannot outlive rt (nil = only
// the process-exit hook).
func (v *clientValue) track(rt *libkite.Runtime) {
	clientOpen.atExit.Do(func() {
		libkite.AtExit(func() { clientCloseWhere(func(*libkite.Runtime) bool { return true }, true) })
	})
	clientOpen.Lock()
	defer clientOpen.Unlock()
	if v.conn.closed.Load() {
		return
	}
	clientOpen.conns[v.conn] = rt
	if rt != nil && !clientOpen.runtimes[rt] {
		clientOpen.runtimes[rt] = true
		rt.AddCleanup(func() {
			clientOpen.Lock()
			delete(clientOpen.runtimes, rt)
			clientOpen.Unlock()
			clientCloseWhere(func(r *libkite.Runtime) bool { return r == rt }, false)
		})
	}
}

func clientUntrack(c *clientConn) {
	clientOpen.Lock()
	delete(clientOpen.conns, c)
	clientOpen.Unlock()
}

// clientCloseWhere closes, concurrently, every open conn whose runtime
// matches, and waits for them.
func clientCloseWhere(match func(*libkite.Runtime) bool, kill bool) {
	clientOpen.Lock()
	var conns []*clientConn
	for c, rt := range clientOpen.conns {
		if match(rt) {
			conns = append(conns, c)
		}
	}
	clientOpen.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.close(kill)
		}()
	}
	wg.Wait()
}

// clientToolInfo is one advertised tool.
type clientToolInfo struct {
	name        string
	description string
	schema      map[string]any // plain data, for tool.Tool
	schemaValue *starlark.Dict // frozen, for .input_schema
}

// clientValue is mcp.Client (spec §2.1).
type clientValue struct {
	conn  *clientConn
	init  *mcpgo.InitializeResult
	tools *clientToolsValue

	mu         sync.Mutex
	discovered bool
	toolsErr   error
	toolList   []*clientToolInfo
	toolByName map[string]*clientToolInfo
}

// newClient wraps an initialized mcp-go client (init is the handshake
// result, cmd the stdio child or nil). Closing the value closes mc and
// cancels life. A GC cleanup closes a value the script dropped.
func newClient(mc *client.Client, init *mcpgo.InitializeResult, cmd *exec.Cmd, life context.Context, cancel context.CancelFunc) *clientValue {
	if life == nil {
		life, cancel = context.WithCancel(context.Background())
	}
	if init == nil {
		init = &mcpgo.InitializeResult{}
	}
	v := &clientValue{
		conn: &clientConn{mc: mc, cmd: cmd, life: life, cancel: cancel},
		init: init,
	}
	v.tools = &clientToolsValue{client: v}
	runtime.AddCleanup(v, func(c *clientConn) {
		go func() { _ = c.close(false) }() // may wait for the child: not on the cleanup goroutine
	}, v.conn)
	return v
}

var (
	_ starlark.HasAttrs = (*clientValue)(nil)
)

func (*clientValue) String() string         { return "<mcp.Client>" }
func (*clientValue) Type() string           { return "mcp.Client" }
func (*clientValue) Freeze()                {}
func (v *clientValue) Truth() starlark.Bool { return starlark.Bool(!v.conn.closed.Load()) }
func (*clientValue) Hash() (uint32, error)  { return 0, fmt.Errorf("unhashable type: mcp.Client") }

var clientMethods = libkite.Methods{
	"call":           clientCall,
	"close":          clientClose,
	"list_resources": clientListResources,
	"read_resource":  clientReadResource,
	"list_prompts":   clientListPrompts,
	"get_prompt":     clientGetPrompt,
	"ping":           clientPing,
}

func (v *clientValue) AttrNames() []string { return clientMethods.Names("server_info", "tools") }

func (v *clientValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "tools":
		return v.tools, nil
	case "server_info":
		d := starlark.NewDict(3)
		_ = d.SetKey(starlark.String("name"), starlark.String(v.init.ServerInfo.Name))
		_ = d.SetKey(starlark.String("version"), starlark.String(v.init.ServerInfo.Version))
		_ = d.SetKey(starlark.String("protocol_version"), starlark.String(v.init.ProtocolVersion))
		return d, nil
	}
	return clientMethods.Attr(v, "mcp.Client", name), nil
}

// discover lists the server's tools once per client (following
// pagination) and caches the outcome, a failure included — except a
// failure caused by ctx ending (the run was cancelled, not the server).
func (v *clientValue) discover(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.discovered {
		return v.toolsErr
	}
	if v.conn.closed.Load() {
		v.discovered, v.toolsErr = true, errClientClosed
		return v.toolsErr
	}
	dctx, cancel := context.WithTimeout(ctx, clientDiscoveryTimeout)
	defer cancel()
	res, err := v.conn.mc.ListTools(dctx, mcpgo.ListToolsRequest{})
	if err != nil {
		err = fmt.Errorf("list tools: %w", err)
		if ctx.Err() == nil {
			v.discovered, v.toolsErr = true, err
		}
		return err
	}
	v.toolByName = make(map[string]*clientToolInfo, len(res.Tools))
	for _, t := range res.Tools {
		info := clientToolFromMCP(t)
		if _, dup := v.toolByName[info.name]; dup {
			continue
		}
		v.toolByName[info.name] = info
		v.toolList = append(v.toolList, info)
	}
	v.discovered = true
	return nil
}

// clientToolFromMCP converts an advertised tool; the input schema keeps
// the server's property order in the Starlark dict.
func clientToolFromMCP(t mcpgo.Tool) *clientToolInfo {
	s := t.InputSchema
	typ := s.Type
	if typ == "" {
		typ = "object"
	}
	schema := map[string]any{"type": typ}
	d := starlark.NewDict(4)
	_ = d.SetKey(starlark.String("type"), starlark.String(typ))
	if s.Properties != nil {
		schema["properties"] = s.Properties
		props := starlark.NewDict(len(s.Properties))
		for _, name := range clientPropertyOrder(s.Properties, s.PropertyOrder) {
			_ = props.SetKey(starlark.String(name), clientGoValue(s.Properties[name]))
		}
		_ = d.SetKey(starlark.String("properties"), props)
	}
	if len(s.Required) > 0 {
		req := make([]any, len(s.Required))
		elems := make([]starlark.Value, len(s.Required))
		for i, r := range s.Required {
			req[i], elems[i] = r, starlark.String(r)
		}
		schema["required"] = req
		_ = d.SetKey(starlark.String("required"), starlark.NewList(elems))
	}
	if len(s.Defs) > 0 {
		schema["$defs"] = s.Defs
	}
	if s.AdditionalProperties != nil {
		schema["additionalProperties"] = s.AdditionalProperties
	}
	for _, key := range []string{"$defs", "additionalProperties"} {
		if val, ok := schema[key]; ok {
			_ = d.SetKey(starlark.String(key), clientGoValue(val))
		}
	}
	d.Freeze()
	return &clientToolInfo{name: t.Name, description: t.Description, schema: schema, schemaValue: d}
}

// clientGoValue converts decoded JSON data the SDK owns (float64 numbers,
// integral ones → int) without modifying it.
func clientGoValue(v any) starlark.Value {
	sv, err := startype.ToStarlark(v)
	if err != nil {
		return starlark.String(fmt.Sprint(v))
	}
	return sv
}

// clientPropertyOrder lists the property names in the server's order, any
// not covered by order sorted after them.
func clientPropertyOrder(props map[string]any, order []string) []string {
	names := make([]string, 0, len(props))
	seen := make(map[string]bool, len(props))
	for _, n := range order {
		if _, ok := props[n]; ok && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	var rest []string
	for n := range props {
		if !seen[n] {
			rest = append(rest, n)
		}
	}
	sort.Strings(rest)
	return append(names, rest...)
}

// clientIdentifier reports whether name can be written as client.tools.<name>.
func clientIdentifier(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && unicode.IsDigit(r):
		default:
			return false
		}
	}
	return true
}

// invoke calls the named tool with kwargs as its arguments (spec §2.3).
// ctx bounds the call (the run's context).
func (v *clientValue) invoke(ctx context.Context, name string, kwargs []starlark.Tuple) (starlark.Value, error) {
	if v.conn.closed.Load() {
		return nil, errClientClosed
	}
	args := make(map[string]any, len(kwargs))
	for _, kv := range kwargs {
		args[string(kv[0].(starlark.String))] = tool.PlainData(kv[1])
	}
	req := mcpgo.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := v.conn.mc.CallTool(ctx, req)
	if err != nil {
		if v.conn.closed.Load() {
			return nil, fmt.Errorf("mcp tool %q: %w", name, errClientClosed)
		}
		return nil, fmt.Errorf("mcp tool %q: %w", name, err)
	}
	return newClientResult(res), nil
}

// clientRecv is the mcp.Client a method is bound to.
func clientRecv(fn *starlark.Builtin) *clientValue { return fn.Receiver().(*clientValue) }

// clientCall is client.call(name, **args).
func clientCall(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	v := clientRecv(fn)
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: expected 1 positional argument (tool name), got %d", fn.Name(), len(args))
	}
	name, ok := args[0].(starlark.String)
	if !ok {
		return nil, fmt.Errorf("%s: tool name must be a string, got %s", fn.Name(), args[0].Type())
	}
	if v.conn.closed.Load() {
		return nil, errClientClosed
	}
	ctx := libkite.Context(thread)
	// (ext) _timeout= bounds this call; it is never sent as an argument.
	for i, kv := range kwargs {
		if string(kv[0].(starlark.String)) != "_timeout" {
			continue
		}
		s, ok := kv[1].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: _timeout must be a duration string, got %s", fn.Name(), kv[1].Type())
		}
		d, err := time.ParseDuration(string(s))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%s: _timeout: invalid duration %q", fn.Name(), string(s))
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
		kwargs = append(append([]starlark.Tuple(nil), kwargs[:i]...), kwargs[i+1:]...)
		break
	}
	if err := v.discover(libkite.Context(thread)); err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	if _, ok := v.toolByName[string(name)]; !ok {
		return nil, fmt.Errorf("%s: no such tool %q on server", fn.Name(), string(name))
	}
	return v.invoke(ctx, string(name), kwargs)
}

// clientClose is client.close().
func clientClose(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	if err := clientRecv(fn).conn.close(false); err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return starlark.None, nil
}

// clientOneString unpacks the single positional string of name(x, ...).
func clientOneString(fn *starlark.Builtin, args starlark.Tuple, what string) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("%s: expected 1 positional argument (%s), got %d", fn.Name(), what, len(args))
	}
	s, ok := args[0].(starlark.String)
	if !ok {
		return "", fmt.Errorf("%s: %s must be a string, got %s", fn.Name(), what, args[0].Type())
	}
	return string(s), nil
}

// clientOpenConn returns the receiver's conn, or the closed error.
func clientOpenConn(fn *starlark.Builtin) (*clientConn, error) {
	c := clientRecv(fn).conn
	if c.closed.Load() {
		return nil, fmt.Errorf("%s: %w", fn.Name(), errClientClosed)
	}
	return c, nil
}

// clientListResources is client.list_resources() (ext, spec §4).
func clientListResources(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	c, err := clientOpenConn(fn)
	if err != nil {
		return nil, err
	}
	res, err := c.mc.ListResources(libkite.Context(thread), mcpgo.ListResourcesRequest{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	out := make([]starlark.Value, 0, len(res.Resources))
	for _, r := range res.Resources {
		out = append(out, contentDict(
			"uri", starlark.String(r.URI),
			"name", starlark.String(r.Name),
			"description", starlark.String(r.Description),
			"mime_type", starlark.String(r.MIMEType)))
	}
	return starlark.NewList(out), nil
}

// clientReadResource is client.read_resource(uri) (ext, spec §4).
func clientReadResource(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	uri, err := clientOneString(fn, args, "uri")
	if err != nil {
		return nil, err
	}
	if len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: unexpected keyword argument %s", fn.Name(), kwargs[0][0])
	}
	c, err := clientOpenConn(fn)
	if err != nil {
		return nil, err
	}
	req := mcpgo.ReadResourceRequest{}
	req.Params.URI = uri
	res, err := c.mc.ReadResource(libkite.Context(thread), req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return newClientResourceResult(res), nil
}

// clientListPrompts is client.list_prompts() (ext, spec §4).
func clientListPrompts(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	c, err := clientOpenConn(fn)
	if err != nil {
		return nil, err
	}
	res, err := c.mc.ListPrompts(libkite.Context(thread), mcpgo.ListPromptsRequest{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	out := make([]starlark.Value, 0, len(res.Prompts))
	for _, p := range res.Prompts {
		argList := make([]starlark.Value, 0, len(p.Arguments))
		for _, a := range p.Arguments {
			argList = append(argList, contentDict(
				"name", starlark.String(a.Name),
				"description", starlark.String(a.Description),
				"required", starlark.Bool(a.Required)))
		}
		out = append(out, contentDict(
			"name", starlark.String(p.Name),
			"description", starlark.String(p.Description),
			"arguments", starlark.NewList(argList)))
	}
	return starlark.NewList(out), nil
}

// clientGetPrompt is client.get_prompt(name, **args) (ext, spec §4):
// argument values that are not strings are sent as their str().
func clientGetPrompt(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	name, err := clientOneString(fn, args, "prompt name")
	if err != nil {
		return nil, err
	}
	c, err := clientOpenConn(fn)
	if err != nil {
		return nil, err
	}
	req := mcpgo.GetPromptRequest{}
	req.Params.Name = name
	if len(kwargs) > 0 {
		req.Params.Arguments = make(map[string]string, len(kwargs))
		for _, kv := range kwargs {
			val := kv[1].String()
			if s, ok := kv[1].(starlark.String); ok {
				val = string(s)
			}
			req.Params.Arguments[string(kv[0].(starlark.String))] = val
		}
	}
	res, err := c.mc.GetPrompt(libkite.Context(thread), req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return newClientPromptResult(res), nil
}

// clientPing is client.ping() (ext, spec §4).
func clientPing(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	c, err := clientOpenConn(fn)
	if err != nil {
		return nil, err
	}
	if err := c.mc.Ping(libkite.Context(thread)); err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return starlark.None, nil
}

// clientToolsValue is mcp.Tools (spec §2.2).
type clientToolsValue struct{ client *clientValue }

var (
	_ starlark.HasAttrs = (*clientToolsValue)(nil)
	_ starlark.Iterable = (*clientToolsValue)(nil)
)

func (*clientToolsValue) String() string        { return "<mcp.Tools>" }
func (*clientToolsValue) Type() string          { return "mcp.Tools" }
func (*clientToolsValue) Freeze()               {}
func (*clientToolsValue) Truth() starlark.Bool  { return starlark.True }
func (*clientToolsValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: mcp.Tools") }

// Attr is client.tools.<name>: identifier-safe advertised names only.
func (n *clientToolsValue) Attr(name string) (starlark.Value, error) {
	if !clientIdentifier(name) {
		return nil, nil
	}
	c := n.client
	if err := c.discover(c.conn.life); err != nil {
		return nil, err
	}
	info, ok := c.toolByName[name]
	if !ok {
		return nil, nil
	}
	return &clientToolValue{client: c, info: info}, nil
}

func (n *clientToolsValue) AttrNames() []string {
	c := n.client
	if c.discover(c.conn.life) != nil {
		return nil
	}
	var names []string
	for _, t := range c.toolList {
		if clientIdentifier(t.name) {
			names = append(names, t.name)
		}
	}
	return names
}

// Iterate yields the tools in server order; nothing if discovery failed.
func (n *clientToolsValue) Iterate() starlark.Iterator {
	c := n.client
	if c.discover(c.conn.life) != nil {
		return &clientToolIterator{}
	}
	return &clientToolIterator{client: c, list: c.toolList}
}

type clientToolIterator struct {
	client *clientValue
	list   []*clientToolInfo
}

func (it *clientToolIterator) Next(p *starlark.Value) bool {
	if len(it.list) == 0 {
		return false
	}
	*p = &clientToolValue{client: it.client, info: it.list[0]}
	it.list = it.list[1:]
	return true
}

func (*clientToolIterator) Done() {}

// clientToolValue is mcp.Tool (spec §2.2): a callable remote tool, usable
// in ai tools= lists (tool.Source).
type clientToolValue struct {
	client *clientValue
	info   *clientToolInfo
}

var (
	_ starlark.HasAttrs = (*clientToolValue)(nil)
	_ starlark.Callable = (*clientToolValue)(nil)
	_ tool.Source       = (*clientToolValue)(nil)
)

func (t *clientToolValue) String() string       { return fmt.Sprintf("<mcp.Tool name=%q>", t.info.name) }
func (*clientToolValue) Type() string           { return "mcp.Tool" }
func (*clientToolValue) Freeze()                {}
func (*clientToolValue) Truth() starlark.Bool   { return starlark.True }
func (*clientToolValue) Hash() (uint32, error)  { return 0, fmt.Errorf("unhashable type: mcp.Tool") }
func (t *clientToolValue) Name() string         { return t.info.name }
func (*clientToolValue) AttrNames() []string    { return []string{"description", "input_schema", "name"} }
func (t *clientToolValue) KiteTool() *tool.Tool { return t.kiteTool() }

func (t *clientToolValue) kiteTool() *tool.Tool {
	return &tool.Tool{Name: t.info.name, Description: t.info.description, Schema: t.info.schema, Fn: t}
}

func (t *clientToolValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(t.info.name), nil
	case "description":
		return starlark.String(t.info.description), nil
	case "input_schema":
		return t.info.schemaValue, nil
	}
	return nil, nil
}

func (t *clientToolValue) CallInternal(thread *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("mcp tool %q: takes only keyword arguments, got %d positional", t.info.name, len(args))
	}
	return t.client.invoke(libkite.Context(thread), t.info.name, kwargs)
}
