package mcp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/aikite/internal/tool"
	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// Tests of mcp.serve with real components: fixture scripts run in a
// libkite runtime (rt.Execute in a goroutine) and are driven by mcp-go
// clients over stdio pipes, Streamable HTTP, SSE and HTTPS on loopback.
// Scripts start the server through serve_test(**kw), which binds the
// keywords exactly like mcp.serve and then calls Serve with the test's
// pre-bound listener or pipes.

// srvFixture is the script prelude: tools, resources and prompts.
const srvFixture = `
def word_stats(text, unique=False):
    """Count the words in a piece of text."""
    words = text.split()
    if unique:
        return {"words": len({w: True for w in words}), "unique": True}
    return {"words": len(words), "unique": False}

def greet(name):
    """Say hello."""
    print("greeting " + name)
    return "Hello, " + name + "!"

def boom():
    fail("kaboom")

def kinds(n, x=1.5):
    return "%s %s %s" % (type(n), n, type(x))

def listing():
    return [1, "two", None]

def slow(n=100000000):
    for i in range(n):
        pass
    return "done"

state = {"n": 0, "active": 0, "max": 0}

def bump():
    state["active"] += 1
    if state["active"] > state["max"]:
        state["max"] = state["active"]
    for i in range(2000):
        pass
    state["n"] += 1
    state["active"] -= 1
    return state["n"]

def stats():
    return state

def info():
    """Build info."""
    return {"content": '{"commit":"dev"}', "mime_type": "application/json"}

def show(uri):
    """Echo the URI."""
    return "you asked for " + uri

def blob():
    return b"\x00\x01bin"

def answer():
    return 42

def broken():
    fail("no resource")

def nocontent():
    return {"mime_type": "text/markdown"}

def typed_blob():
    return {"content": b"PNG", "mime_type": "image/png"}

RESOURCES = {
    "build-info": info,
    "echo": show,
    "data": blob,
    "answer": answer,
    "broken": broken,
    "file:///etc/motd": show,
    "empty": nocontent,
    "image": typed_blob,
    "note/{id}": show,
}

def review(language, strictness="normal"):
    """Ask for a code review."""
    return "Review the following %s code with %s strictness." % (language, strictness)

def bad():
    return 42

def convo(topic):
    return [{"role": "user", "content": "Tell me about " + topic},
            {"role": "assistant", "content": "Sure."}]

def failing():
    fail("prompt broke")

PROMPTS = {"review": review, "bad": bad, "convo": convo, "failing": failing}

TOOLS = [word_stats, greet, boom, kinds, listing, slow, bump, stats,
         make_tool(lambda q: "q=" + q, "raw", "Explicit schema.",
                   {"type": "object", "properties": {"q": {"type": "string", "minLength": 2}},
                    "required": ["q"], "additionalProperties": False})]
`

// srvStderr collects what the server writes to its Stderr and signals
// the "listening on" line.
type srvStderr struct {
	kitetest.SyncBuffer
	once      sync.Once
	listening chan string
}

func newSrvStderr() *srvStderr { return &srvStderr{listening: make(chan string, 1)} }

func (w *srvStderr) Write(p []byte) (int, error) {
	n, err := w.SyncBuffer.Write(p)
	if i := strings.Index(w.String(), "mcp.serve: listening on "); i >= 0 {
		line := w.String()[i:]
		if j := strings.IndexByte(line, '\n'); j >= 0 {
			w.once.Do(func() { w.listening <- line[:j] })
		}
	}
	return n, err
}

// srvOptions configure a harness.
type srvOptions struct {
	perms   *libkite.PermissionConfig
	stdio   bool // serve over pipes; else HTTP on a loopback listener
	noHook  bool // runtime without a print hook (print → the process stdout path)
	tlsCert string
	tlsKey  string
}

// srvHarness is a script serving MCP in the background.
type srvHarness struct {
	t      *testing.T
	rt     *libkite.Runtime
	out    *kitetest.Output
	stderr *srvStderr
	ln     net.Listener

	stdinR  *io.PipeReader // server side of the client → server pipe
	stdinW  *io.PipeWriter
	stdoutR *io.PipeReader // client side of the server → client pipe
	stdoutW *io.PipeWriter
	wire    *kitetest.SyncBuffer // all the server wrote to its stdout

	url    string // HTTP: the listening URL
	cancel context.CancelFunc
	done   chan error
}

// srvRuntime builds a runtime holding the mcp module, serve_test and
// make_tool.
func (h *srvHarness) srvRuntime(opts srvOptions) {
	t := h.t
	globals := map[string]any{
		"serve_test": starlark.NewBuiltin("serve_test", h.serveBuiltin),
		"make_tool":  starlark.NewBuiltin("make_tool", srvMakeTool),
	}
	cfg := &libkite.Config{Permissions: opts.perms, Globals: globals}
	if !opts.noHook {
		h.rt, h.out = kitetest.New(t, cfg, New())
		return
	}
	reg := libkite.NewRegistry(nil)
	reg.Register(New())
	cfg.Registry, cfg.NoSignals = reg, true
	rt, err := libkite.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	h.rt = rt
}

// srvMakeTool is make_tool(fn, name, description, params): an ai.Tool
// value with an explicit schema (what ai.tool builds).
func srvMakeTool(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	var (
		f         starlark.Callable
		name, doc string
		params    *starlark.Dict
	)
	if err := starlark.UnpackPositionalArgs(fn.Name(), args, nil, 4, &f, &name, &doc, &params); err != nil {
		return nil, err
	}
	schema, err := tool.SchemaFromDict(params)
	if err != nil {
		return nil, err
	}
	return &tool.Value{Tool: &tool.Tool{Name: name, Description: doc, Schema: schema, Fn: f}}, nil
}

// serveBuiltin is serve_test(**kw): mcp.serve's binding, then Serve on
// the harness's listener or pipes.
func (h *srvHarness) serveBuiltin(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	cfg, err := serverConfigFromArgs("mcp.serve", args, kwargs)
	if err != nil {
		return nil, err
	}
	cfg.Stderr = h.stderr
	if h.ln != nil {
		cfg.Listener = h.ln
	} else {
		cfg.Stdin = h.stdinR
		cfg.Stdout = io.MultiWriter(h.wire, h.stdoutW)
	}
	if err := Serve(thread, cfg); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// srvStart runs srvFixture + src in the background. For HTTP it returns
// once the server prints its listening line.
func srvStart(t *testing.T, opts srvOptions, src string) *srvHarness {
	t.Helper()
	h := &srvHarness{t: t, stderr: newSrvStderr(), done: make(chan error, 1), wire: &kitetest.SyncBuffer{}}
	if opts.stdio {
		h.stdinR, h.stdinW = io.Pipe()
		h.stdoutR, h.stdoutW = io.Pipe()
	} else {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		h.ln = ln
	}
	h.srvRuntime(opts)
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		err := h.rt.Execute(ctx, srvFixture+src)
		if h.stdoutW != nil {
			h.stdoutW.Close() // ends the client's reader
			h.stdinR.CloseWithError(fmt.Errorf("script ended: %v", err))
		}
		h.done <- err
	}()
	t.Cleanup(func() {
		if err := h.stop(); err != nil && !strings.Contains(err.Error(), "cancel") {
			t.Logf("script ended with: %v", err)
		}
	})
	if opts.stdio {
		return h
	}
	select {
	case line := <-h.stderr.listening:
		h.url = strings.TrimPrefix(line, "mcp.serve: listening on ")
	case err := <-h.done:
		h.done <- err
		t.Fatalf("script ended before the server was listening: %v\nstderr: %s", err, h.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start listening")
	}
	return h
}

// stop cancels the script and returns what Execute returned.
func (h *srvHarness) stop() error {
	h.cancel()
	return h.wait(15 * time.Second)
}

// wait returns what Execute returned, failing after d.
func (h *srvHarness) wait(d time.Duration) error {
	select {
	case err := <-h.done:
		h.done <- err // idempotent
		return err
	case <-time.After(d):
		h.t.Errorf("the serving script did not end within %v", d)
		return nil
	}
}

func srvCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// srvInit starts and initialises c.
func srvInit(t *testing.T, c *client.Client) *mcpgo.InitializeResult {
	t.Helper()
	ctx := srvCtx(t)
	if err := c.Start(ctx); err != nil {
		t.Fatalf("client start: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	req := mcpgo.InitializeRequest{}
	req.Params.ProtocolVersion = mcpgo.LATEST_PROTOCOL_VERSION
	req.Params.ClientInfo = mcpgo.Implementation{Name: "kite-test", Version: "1.0"}
	res, err := c.Initialize(ctx, req)
	if err != nil {
		t.Fatalf("initialize: %v", err)
	}
	return res
}

// httpClient connects a Streamable HTTP client to the harness.
func (h *srvHarness) httpClient(opts ...transport.StreamableHTTPCOption) *client.Client {
	h.t.Helper()
	c, err := client.NewStreamableHttpClient(h.url, opts...)
	if err != nil {
		h.t.Fatal(err)
	}
	srvInit(h.t, c)
	return c
}

// stdioClient connects a client over the harness's pipes.
func (h *srvHarness) stdioClient() *client.Client {
	h.t.Helper()
	c := client.NewClient(transport.NewIO(h.stdoutR, h.stdinW, nil))
	srvInit(h.t, c)
	return c
}

func srvCall(t *testing.T, c *client.Client, name string, args any) *mcpgo.CallToolResult {
	t.Helper()
	req := mcpgo.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := c.CallTool(srvCtx(t), req)
	if err != nil {
		t.Fatalf("tools/call %s: %v", name, err)
	}
	return res
}

// srvText is the text of a result's single text item.
func srvText(t *testing.T, res *mcpgo.CallToolResult) string {
	t.Helper()
	if len(res.Content) != 1 {
		t.Fatalf("want exactly one content item, got %d: %#v", len(res.Content), res.Content)
	}
	tc, ok := mcpgo.AsTextContent(res.Content[0])
	if !ok {
		t.Fatalf("content is not text: %#v", res.Content[0])
	}
	return tc.Text
}

// srvWantCall checks a successful call's text.
func srvWantCall(t *testing.T, c *client.Client, name string, args any, want string) {
	t.Helper()
	res := srvCall(t, c, name, args)
	if res.IsError {
		t.Fatalf("%s: unexpected isError: %q", name, srvText(t, res))
	}
	if got := srvText(t, res); got != want {
		t.Fatalf("%s = %q, want %q", name, got, want)
	}
}

// srvWantToolError checks an isError call whose text contains want.
func srvWantToolError(t *testing.T, c *client.Client, name string, args any, want string) {
	t.Helper()
	res := srvCall(t, c, name, args)
	if !res.IsError {
		t.Fatalf("%s: want isError, got %q", name, srvText(t, res))
	}
	if got := srvText(t, res); !strings.Contains(got, want) {
		t.Fatalf("%s error = %q, want it to contain %q", name, got, want)
	}
}

const srvServeAll = `
serve_test(name="text-tools", version="1.2.0", port=1, path="/mcp", tools=TOOLS, resources=RESOURCES, prompts=PROMPTS)
`

// srvWordStatsSchema is the spec §3.2 inferred inputSchema.
const srvWordStatsSchema = `{"properties":{"text":{"type":"string"},"unique":{"default":false,"type":"boolean"}},"required":["text"],"type":"object"}`

func TestServeStdio(t *testing.T) {
	h := srvStart(t, srvOptions{stdio: true, noHook: true}, `
serve_test(name="text-tools", version="1.2.0", tools=TOOLS)
after = "served"
`)
	c := h.stdioClient()
	ctx := srvCtx(t)

	tools, err := c.ListTools(ctx, mcpgo.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tools.Tools) != 9 {
		t.Fatalf("advertised %d tools, want 9", len(tools.Tools))
	}
	srvWantCall(t, c, "word_stats", map[string]any{"text": "the quick brown fox"}, `{"unique":false,"words":4}`)
	srvWantCall(t, c, "greet", map[string]any{"name": "Bob"}, "Hello, Bob!")
	srvWantToolError(t, c, "boom", nil, "kaboom")

	// The raw tools/list response on the wire carries the §3.2 schema.
	var schema json.RawMessage
	for _, line := range strings.Split(h.wire.String(), "\n") {
		if line == "" {
			continue
		}
		var msg struct {
			Result struct {
				Tools []struct {
					Name        string          `json:"name"`
					InputSchema json.RawMessage `json:"inputSchema"`
				} `json:"tools"`
			} `json:"result"`
		}
		if err := json.Unmarshal([]byte(line), &msg); err != nil {
			t.Fatalf("protocol stream holds a non-JSON line %q: %v", line, err)
		}
		for _, tl := range msg.Result.Tools {
			if tl.Name == "word_stats" {
				schema = tl.InputSchema
			}
		}
	}
	if got := srvCompact(t, schema); got != srvWordStatsSchema {
		t.Fatalf("word_stats inputSchema = %s\nwant %s", got, srvWordStatsSchema)
	}
	if strings.Contains(h.wire.String(), "greeting Bob") {
		t.Fatalf("print output reached the protocol stream: %s", h.wire.String())
	}
	if !strings.Contains(h.stderr.String(), "greeting Bob\n") {
		t.Fatalf("print output did not go to stderr; stderr = %q", h.stderr.String())
	}

	// EOF on stdin ends the server; mcp.serve returns None and the script
	// goes on.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := h.wait(10 * time.Second); err != nil {
		t.Fatalf("script: %v", err)
	}
	if v, _ := h.rt.GetGlobalVal("after"); v != starlark.String("served") {
		t.Fatalf("after = %v", v)
	}
}

func srvCompact(t *testing.T, raw []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("bad JSON %q: %v", raw, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func TestServeHTTPTools(t *testing.T) {
	h := srvStart(t, srvOptions{}, srvServeAll)
	if want := "http://" + h.ln.Addr().String() + "/mcp"; h.url != want {
		t.Fatalf("listening URL = %q, want %q", h.url, want)
	}
	c := h.httpClient()
	ctx := srvCtx(t)

	info := c.GetServerCapabilities()
	if info.Tools == nil || info.Resources == nil || info.Prompts == nil {
		t.Fatalf("capabilities = %+v, want tools, resources and prompts", info)
	}

	tools, err := c.ListTools(ctx, mcpgo.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]mcpgo.Tool{}
	for _, tl := range tools.Tools {
		byName[tl.Name] = tl
	}
	ws := byName["word_stats"]
	if ws.Description != "Count the words in a piece of text." {
		t.Fatalf("description = %q", ws.Description)
	}
	if got, _ := json.Marshal(ws.InputSchema); srvCompact(t, got) != srvWordStatsSchema {
		t.Fatalf("inputSchema = %s", got)
	}
	if got := byName["boom"].InputSchema; got.Type != "object" || len(got.Properties) != 0 || len(got.Required) != 0 {
		t.Fatalf("no-parameter schema = %+v", got)
	}
	raw := byName["raw"].InputSchema
	if raw.AdditionalProperties != false || !reflect.DeepEqual(raw.Required, []string{"q"}) ||
		!reflect.DeepEqual(raw.Properties["q"], map[string]any{"type": "string", "minLength": float64(2)}) ||
		byName["raw"].Description != "Explicit schema." {
		t.Fatalf("explicit schema not passed through: %+v", byName["raw"])
	}

	srvWantCall(t, c, "word_stats", map[string]any{"text": "the quick brown fox"}, `{"unique":false,"words":4}`)
	srvWantCall(t, c, "word_stats", map[string]any{"text": "a a b", "unique": true}, `{"unique":true,"words":2}`)
	res := srvCall(t, c, "word_stats", map[string]any{"text": "x y"})
	if !reflect.DeepEqual(res.StructuredContent, map[string]any{"unique": false, "words": float64(2)}) {
		t.Fatalf("structuredContent = %#v", res.StructuredContent)
	}
	res = srvCall(t, c, "greet", map[string]any{"name": "Ann"})
	if srvText(t, res) != "Hello, Ann!" || res.StructuredContent != nil {
		t.Fatalf("string result = %q, structured %v", srvText(t, res), res.StructuredContent)
	}
	if !strings.Contains(h.out.String(), "greeting Ann") {
		t.Fatalf("print in a tool: %q", h.out.String())
	}
	srvWantCall(t, c, "listing", nil, `[1,"two",null]`)
	srvWantCall(t, c, "kinds", map[string]any{"n": 3}, "int 3 float")
	srvWantCall(t, c, "kinds", map[string]any{"n": 3.5, "x": 2}, "float 3.5 int")
	srvWantCall(t, c, "kinds", map[string]any{"n": 12345678901234567}, "int 12345678901234567 float")
	srvWantCall(t, c, "raw", map[string]any{"q": "hi"}, "q=hi")
	srvWantToolError(t, c, "boom", nil, "kaboom")
	srvWantToolError(t, c, "boom", map[string]any{}, "kaboom")
	srvWantToolError(t, c, "word_stats", nil, "function word_stats missing 1 argument (text)")
	srvWantToolError(t, c, "word_stats", map[string]any{"text": "x", "bogus": 1}, "unexpected keyword argument \"bogus\"")
	srvWantToolError(t, c, "word_stats", []any{"x"}, "invalid tool arguments: expected a JSON object, got an array")

	req := mcpgo.CallToolRequest{}
	req.Params.Name = "nope"
	if _, err := c.CallTool(ctx, req); err == nil {
		t.Fatal("calling an unknown tool succeeded")
	}
}

func TestServeHTTPResources(t *testing.T) {
	h := srvStart(t, srvOptions{}, srvServeAll)
	c := h.httpClient()
	ctx := srvCtx(t)

	list, err := c.ListResources(ctx, mcpgo.ListResourcesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]mcpgo.Resource{}
	for _, r := range list.Resources {
		got[r.Name] = r
	}
	for name, uri := range map[string]string{
		"build-info":       "starkite://resources/build-info",
		"echo":             "starkite://resources/echo",
		"file:///etc/motd": "file:///etc/motd",
	} {
		if got[name].URI != uri || got[name].MIMEType != "text/plain" {
			t.Errorf("resource %q = %+v, want URI %s, text/plain", name, got[name], uri)
		}
	}
	if got["build-info"].Description != "Build info." {
		t.Errorf("description = %q", got["build-info"].Description)
	}
	if _, ok := got["note/{id}"]; ok {
		t.Errorf("template listed as a plain resource")
	}
	templates, err := c.ListResourceTemplates(ctx, mcpgo.ListResourceTemplatesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(templates.ResourceTemplates) != 1 || templates.ResourceTemplates[0].URITemplate.Raw() != "starkite://resources/note/{id}" {
		t.Fatalf("templates = %+v", templates.ResourceTemplates)
	}

	read := func(uri string) (*mcpgo.ReadResourceResult, error) {
		req := mcpgo.ReadResourceRequest{}
		req.Params.URI = uri
		return c.ReadResource(ctx, req)
	}
	text := func(uri, wantMIME, wantText string) {
		t.Helper()
		res, err := read(uri)
		if err != nil {
			t.Fatalf("read %s: %v", uri, err)
		}
		if len(res.Contents) != 1 {
			t.Fatalf("read %s: %d contents", uri, len(res.Contents))
		}
		tc, ok := mcpgo.AsTextResourceContents(res.Contents[0])
		if !ok || tc.URI != uri || tc.MIMEType != wantMIME || tc.Text != wantText {
			t.Fatalf("read %s = %#v, want %s %q", uri, res.Contents[0], wantMIME, wantText)
		}
	}
	blob := func(uri, wantMIME string, want []byte) {
		t.Helper()
		res, err := read(uri)
		if err != nil {
			t.Fatalf("read %s: %v", uri, err)
		}
		bc, ok := mcpgo.AsBlobResourceContents(res.Contents[0])
		if !ok || bc.URI != uri || bc.MIMEType != wantMIME {
			t.Fatalf("read %s = %#v", uri, res.Contents[0])
		}
		if b, _ := base64.StdEncoding.DecodeString(bc.Blob); string(b) != string(want) {
			t.Fatalf("read %s blob = %q, want %q", uri, b, want)
		}
	}
	text("starkite://resources/build-info", "application/json", `{"commit":"dev"}`)
	text("starkite://resources/echo", "text/plain", "you asked for starkite://resources/echo")
	text("file:///etc/motd", "text/plain", "you asked for file:///etc/motd")
	text("starkite://resources/answer", "text/plain", "42")
	text("starkite://resources/empty", "text/markdown", "")
	text("starkite://resources/note/7", "text/plain", "you asked for starkite://resources/note/7")
	blob("starkite://resources/data", "application/octet-stream", []byte("\x00\x01bin"))
	blob("starkite://resources/image", "image/png", []byte("PNG"))

	if _, err := read("starkite://resources/broken"); err == nil || !strings.Contains(err.Error(), `resource "broken": no resource`) {
		t.Fatalf("failing resource: %v", err)
	}
	if _, err := read("starkite://resources/missing"); err == nil {
		t.Fatal("reading an unknown resource succeeded")
	}
}

func TestServeHTTPPrompts(t *testing.T) {
	h := srvStart(t, srvOptions{}, srvServeAll)
	c := h.httpClient()
	ctx := srvCtx(t)

	list, err := c.ListPrompts(ctx, mcpgo.ListPromptsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var rv mcpgo.Prompt
	for _, p := range list.Prompts {
		if p.Name == "review" {
			rv = p
		}
	}
	wantArgs := []mcpgo.PromptArgument{{Name: "language", Required: true}, {Name: "strictness"}}
	if rv.Description != "Ask for a code review." || !reflect.DeepEqual(rv.Arguments, wantArgs) {
		t.Fatalf("review prompt = %+v", rv)
	}

	get := func(name string, args map[string]string) (*mcpgo.GetPromptResult, error) {
		req := mcpgo.GetPromptRequest{}
		req.Params.Name, req.Params.Arguments = name, args
		return c.GetPrompt(ctx, req)
	}
	res, err := get("review", map[string]string{"language": "Go", "undeclared": "dropped"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Description != "Ask for a code review." || len(res.Messages) != 1 || res.Messages[0].Role != mcpgo.RoleUser {
		t.Fatalf("review = %+v", res)
	}
	if tc, _ := mcpgo.AsTextContent(res.Messages[0].Content); tc.Text != "Review the following Go code with normal strictness." {
		t.Fatalf("review text = %#v", res.Messages[0].Content)
	}
	res, err = get("review", map[string]string{"language": "Go", "strictness": "high"})
	if err != nil {
		t.Fatal(err)
	}
	if tc, _ := mcpgo.AsTextContent(res.Messages[0].Content); tc.Text != "Review the following Go code with high strictness." {
		t.Fatalf("review text = %#v", res.Messages[0].Content)
	}
	res, err = get("convo", map[string]string{"topic": "kites"})
	if err != nil || len(res.Messages) != 2 || res.Messages[1].Role != mcpgo.RoleAssistant {
		t.Fatalf("convo = %+v, %v", res, err)
	}

	for name, want := range map[string]string{
		"bad":     `prompt "bad": function must return a string`,
		"failing": `prompt "failing": prompt broke`,
		"review":  `prompt "review": `, // missing required argument
	} {
		if _, err := get(name, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("prompts/get %s: error %v, want it to contain %q", name, err, want)
		}
	}
}

func TestServeSSE(t *testing.T) {
	h := srvStart(t, srvOptions{}, `
serve_test(name="sse-tools", port=1, path="/mcp/", transport="sse", tools=TOOLS)
`)
	if want := "http://" + h.ln.Addr().String() + "/mcp/sse"; h.url != want {
		t.Fatalf("listening URL = %q, want %q", h.url, want)
	}
	c, err := client.NewSSEMCPClient(h.url)
	if err != nil {
		t.Fatal(err)
	}
	res := srvInit(t, c)
	if res.ServerInfo.Name != "sse-tools" || res.ServerInfo.Version != "0.1.0" {
		t.Fatalf("server info = %+v", res.ServerInfo)
	}
	srvWantCall(t, c, "word_stats", map[string]any{"text": "one two"}, `{"unique":false,"words":2}`)
	srvWantToolError(t, c, "boom", nil, "kaboom")
	// stopping the script ends the open SSE stream too
	if err := h.stop(); err != nil && !strings.Contains(err.Error(), "cancel") {
		t.Fatalf("script: %v", err)
	}
}

func TestServeHTTPS(t *testing.T) {
	certFile, keyFile, pool := srvSelfSigned(t)
	h := srvStart(t, srvOptions{}, fmt.Sprintf(`
serve_test(name="secure", port=1, tls_cert=%s, tls_key=%s, tools=TOOLS)
`, kitetest.Lit(certFile), kitetest.Lit(keyFile)))
	if want := "https://" + h.ln.Addr().String() + "/"; h.url != want {
		t.Fatalf("listening URL = %q, want %q", h.url, want)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	c := h.httpClient(transport.WithHTTPBasicClient(hc))
	srvWantCall(t, c, "greet", map[string]any{"name": "TLS"}, "Hello, TLS!")

	// a plain HTTP client is refused
	resp, err := http.Post("http://"+h.ln.Addr().String()+"/", "application/json", strings.NewReader("{}"))
	if err == nil {
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP accepted by the HTTPS server")
		}
	}
}

// srvSelfSigned writes a self-signed certificate for 127.0.0.1 and its key.
func srvSelfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	return kitetest.SelfSignedCert(t, t.TempDir(), "kite-mcp-test")
}

// TestServeTLSFilesChecked: the certificate and key are read through the
// fs.read check, like http.server's.
func TestServeTLSFilesChecked(t *testing.T) {
	cert, key, _ := srvSelfSigned(t)
	rt, _ := kitetest.New(t, &libkite.Config{Permissions: libkite.AllowPermissions("fs.read")}, New())
	_, msg, _ := kitetest.Eval(rt, "", `mcp.serve(name="x", port=1, tls_cert=`+kitetest.Lit(cert)+`, tls_key=`+kitetest.Lit(key)+`)`)
	if !strings.HasPrefix(msg, "permission denied: fs.read read_file(") || !strings.Contains(msg, "kite-mcp-test.crt") {
		t.Fatalf("error = %q, want the fs.read denial", msg)
	}
}

func TestServeValidation(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.pem")
	cases := []struct{ name, call, err string }{
		{"positional", `mcp.serve("x")`, "mcp.serve: takes only keyword arguments"},
		{"unknown kwarg", `mcp.serve(name="x", bogus=1)`, "mcp.serve: unknown keyword argument: bogus"},
		{"port type", `mcp.serve(name="x", port="80")`, "mcp.serve: for parameter \"port\": got string, want int"},
		{"name missing", `mcp.serve(tools=[])`, "mcp.serve: name is required"},
		{"name empty", `mcp.serve(name="", port=-1)`, "mcp.serve: name is required"},
		{"port negative", `mcp.serve(name="x", port=-1, tls_cert="c")`, "mcp.serve: port must not be negative, got -1"},
		{"tls cert only", `mcp.serve(name="x", port=8080, tls_cert="c")`, "mcp.serve: tls_cert and tls_key must be set together"},
		{"tls key only", `mcp.serve(name="x", tls_key="k", host="h")`, "mcp.serve: tls_cert and tls_key must be set together"},
		{"host without port", `mcp.serve(name="x", host="0.0.0.0", tools=[1])`, "mcp.serve: host/path/tls_* kwargs require port to be set"},
		{"path without port", `mcp.serve(name="x", path="/mcp")`, "mcp.serve: host/path/tls_* kwargs require port to be set"},
		{"empty host without port", `mcp.serve(name="x", host="")`, "mcp.serve: host/path/tls_* kwargs require port to be set"},
		{"tls without port", `mcp.serve(name="x", tls_cert="c", tls_key="k")`, "mcp.serve: host/path/tls_* kwargs require port to be set"},
		{"bad transport", `mcp.serve(name="x", port=1, transport="ws")`, `mcp.serve: transport must be "http" or "sse", got "ws"`},
		{"transport without port", `mcp.serve(name="x", transport="sse")`, "mcp.serve: transport kwarg requires port to be set"},
		{"tools not iterable", `mcp.serve(name="x", tools=1, resources=1)`, "mcp.serve: tools must be a list of functions or ai.Tool values, got int"},
		{"tools element", `mcp.serve(name="x", tools=[word_stats, 1])`, "mcp.serve: tools[1]: expected function or ai.Tool, got int"},
		{"tools varargs", `mcp.serve(name="x", tools=[va])`, "mcp.serve: tools[0]: function va uses *args/**kwargs"},
		{"tools builtin", `mcp.serve(name="x", tools=[len])`, "mcp.serve: tools[0]: len (builtin_function_or_method) cannot be auto-inferred"},
		{"resources not dict", `mcp.serve(name="x", resources=[info], prompts=1)`, "mcp.serve: resources must be a dict of name to function, got list"},
		{"resources key", `mcp.serve(name="x", resources={1: info})`, "mcp.serve: resources keys must be non-empty strings, got int"},
		{"resources empty key", `mcp.serve(name="x", resources={"": info})`, `mcp.serve: resources keys must be non-empty strings, got ""`},
		{"resources value", `mcp.serve(name="x", resources={"a": 1})`, `mcp.serve: resources["a"]: expected a callable, got int`},
		{"resources arity", `mcp.serve(name="x", resources={"a": two})`, `mcp.serve: resources["a"]: function two takes 2 parameters; a resource function takes 0 or 1 (the requested URI)`},
		{"resources varargs", `mcp.serve(name="x", resources={"a": va})`, `mcp.serve: resources["a"]: function va must not use *args/**kwargs`},
		{"resources bad template", `mcp.serve(name="x", resources={"a/{": info, "b/{x": info, "c/{}": info, "d/{!x}": info})`, `mcp.serve: resources["d/{!x}"]: invalid URI template`},
		{"prompts not dict", `mcp.serve(name="x", prompts="p")`, "mcp.serve: prompts must be a dict of name to function, got string"},
		{"prompts kwargs", `mcp.serve(name="x", prompts={"p": kw})`, `mcp.serve: prompts["p"]: function kw must not use *args/**kwargs`},
		{"prompts value", `mcp.serve(name="x", prompts={"p": None})`, `mcp.serve: prompts["p"]: expected a callable, got NoneType`},
		{"tls files", `mcp.serve(name="x", port=1, tls_cert=` + kitetest.Lit(missing) + `, tls_key=` + kitetest.Lit(missing) + `)`, "mcp.serve: failed to load TLS cert: open " + missing},
		{"bad path", `mcp.serve(name="x", port=1, path="mcp")`, `mcp.serve: invalid path "mcp"`},
	}
	pre := `
def word_stats(text):
    return text
def info():
    return ""
def two(a, b):
    return ""
def va(*args):
    return ""
def kw(**kwargs):
    return ""
`
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rt, _ := kitetest.New(t, nil, New())
			_, msg, err := kitetest.Eval(rt, pre, c.call)
			if err == nil || !strings.HasPrefix(msg, c.err) {
				t.Fatalf("error = %q\nwant prefix %q", msg, c.err)
			}
		})
	}
}

func TestServePermissions(t *testing.T) {
	t.Run("deny-all raises before binding", func(t *testing.T) {
		port := kitetest.FreePort(t)
		rt, _ := kitetest.New(t, &libkite.Config{Permissions: libkite.DenyAllPermissions()}, New())
		_, msg, err := kitetest.Eval(rt, "", `mcp.serve(name="srv", port=`+strconv.Itoa(port)+`)`)
		if !libkite.IsPermissionError(err) || !strings.HasPrefix(msg, kitetest.Denied("mcp.server", "serve", "srv")) {
			t.Fatalf("error = %q (%T)", msg, err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatalf("port was bound by the denied serve: %v", err)
		}
		ln.Close()
		if got := mustEvalSrv(t, rt, `mcp.try_serve(name="srv").error`); !strings.HasPrefix(got, kitetest.Denied("mcp.server", "serve", "srv")) {
			t.Fatalf("try_serve error = %q", got)
		}
	})

	t.Run("mcp.server only refuses every request", func(t *testing.T) {
		h := srvStart(t, srvOptions{perms: &libkite.PermissionConfig{Allow: []string{"mcp.server"}}}, srvServeAll)
		c := h.httpClient()
		ctx := srvCtx(t)
		if _, err := c.ListTools(ctx, mcpgo.ListToolsRequest{}); err != nil {
			t.Fatalf("tools/list: %v", err)
		}
		srvWantToolError(t, c, "greet", map[string]any{"name": "x"}, kitetest.Denied("mcp.client", "tool_invoke", "greet"))
		if len(h.out.Lines()) != 0 {
			t.Fatalf("the denied tool ran: %q", h.out.String())
		}
		req := mcpgo.ReadResourceRequest{}
		req.Params.URI = "starkite://resources/build-info"
		if _, err := c.ReadResource(ctx, req); err == nil || !strings.Contains(err.Error(), kitetest.Denied("mcp.client", "resource_read", "build-info")) ||
			strings.Contains(err.Error(), `resource "build-info"`) {
			t.Fatalf("resources/read: %v", err)
		}
		preq := mcpgo.GetPromptRequest{}
		preq.Params.Name = "review"
		preq.Params.Arguments = map[string]string{"language": "Go"}
		if _, err := c.GetPrompt(ctx, preq); err == nil || !strings.Contains(err.Error(), kitetest.Denied("mcp.client", "prompt_render", "review")) {
			t.Fatalf("prompts/get: %v", err)
		}
	})

	t.Run("allow-local serves", func(t *testing.T) {
		h := srvStart(t, srvOptions{perms: libkite.AllowLocalPermissions()}, srvServeAll)
		c := h.httpClient()
		srvWantCall(t, c, "greet", map[string]any{"name": "Local"}, "Hello, Local!")
	})

	t.Run("per-tool rule", func(t *testing.T) {
		h := srvStart(t, srvOptions{perms: &libkite.PermissionConfig{Allow: []string{"mcp.server", "mcp.client(tool_invoke:greet)"}}}, srvServeAll)
		c := h.httpClient()
		srvWantCall(t, c, "greet", map[string]any{"name": "Rule"}, "Hello, Rule!")
		srvWantToolError(t, c, "word_stats", map[string]any{"text": "x"}, kitetest.Denied("mcp.client", "tool_invoke", "word_stats"))
	})
}

func mustEvalSrv(t *testing.T, rt *libkite.Runtime, expr string) string {
	t.Helper()
	got, msg, _ := kitetest.Eval(rt, "", expr)
	if msg != "" {
		t.Fatalf("%s: %s", expr, msg)
	}
	return got
}

func TestServeCancel(t *testing.T) {
	t.Run("http", func(t *testing.T) {
		h := srvStart(t, srvOptions{}, srvServeAll)
		c := h.httpClient()
		srvWantCall(t, c, "greet", map[string]any{"name": "x"}, "Hello, x!")
		start := time.Now()
		h.cancel()
		h.wait(3 * time.Second)
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("cancellation took %v", d)
		}
		if _, err := net.DialTimeout("tcp", h.ln.Addr().String(), time.Second); err == nil {
			t.Fatal("still accepting connections after cancellation")
		}
	})
	t.Run("stdio with a call in flight", func(t *testing.T) {
		h := srvStart(t, srvOptions{stdio: true}, `serve_test(name="x", tools=TOOLS)`)
		c := h.stdioClient()
		called := make(chan error, 1)
		go func() {
			req := mcpgo.CallToolRequest{}
			req.Params.Name = "slow"
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := c.CallTool(ctx, req)
			called <- err
		}()
		time.Sleep(200 * time.Millisecond) // let the call start
		start := time.Now()
		h.cancel()
		h.wait(5 * time.Second)
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("cancellation took %v", d)
		}
		c.Close()
		<-called
	})
	t.Run("runtime close", func(t *testing.T) {
		h := srvStart(t, srvOptions{}, srvServeAll)
		h.rt.Close() // runs the cleanup, which waits for the shutdown
		h.wait(10 * time.Second)
		if _, err := net.DialTimeout("tcp", h.ln.Addr().String(), time.Second); err == nil {
			t.Fatal("still accepting connections after the runtime closed")
		}
	})
}

func TestServeConcurrentHTTPCallsAreSerialised(t *testing.T) {
	h := srvStart(t, srvOptions{}, srvServeAll)
	const clients, calls = 6, 8
	var wg sync.WaitGroup
	cs := make([]*client.Client, clients)
	for i := range cs {
		cs[i] = h.httpClient()
	}
	errs := make(chan error, clients*calls)
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range calls {
				req := mcpgo.CallToolRequest{}
				req.Params.Name = "bump"
				res, err := c.CallTool(context.Background(), req)
				if err == nil && res.IsError {
					err = errors.New(res.Content[0].(mcpgo.TextContent).Text)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	srvWantCall(t, cs[0], "stats", nil, fmt.Sprintf(`{"active":0,"max":1,"n":%d}`, clients*calls))
}

// TestServeMcpServeHTTP runs the real builtin on a real port.
func TestServeMcpServeHTTP(t *testing.T) {
	port := kitetest.FreePort(t)
	rt, out := kitetest.New(t, nil, New())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- rt.Execute(ctx, srvFixture[:strings.Index(srvFixture, "TOOLS =")]+`
mcp.serve(name="real", tools=[word_stats, greet], port=`+strconv.Itoa(port)+`, path="/mcp")
print("returned")
`)
	}()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("script did not end")
		}
	}()
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/mcp"
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("mcp.serve did not start listening")
		}
		select {
		case err := <-done:
			t.Fatalf("script ended: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	c, err := client.NewStreamableHttpClient(url)
	if err != nil {
		t.Fatal(err)
	}
	if res := srvInit(t, c); res.ServerInfo.Name != "real" || res.ServerInfo.Version != "0.1.0" {
		t.Fatalf("server info = %+v", res.ServerInfo)
	}
	srvWantCall(t, c, "word_stats", map[string]any{"text": "the quick brown fox"}, `{"unique":false,"words":4}`)
	// another path on the same server is not the MCP endpoint
	resp, err := http.Post("http://127.0.0.1:"+strconv.Itoa(port)+"/other", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("POST /other = %d, want 404", resp.StatusCode)
	}
	c.Close()
	cancel()
	select {
	case err := <-done:
		done <- err
	case <-time.After(10 * time.Second):
		t.Fatal("script did not end after cancellation")
	}
	if strings.Contains(out.String(), "returned") {
		t.Fatalf("the script went on after a cancelled serve: %q", out.String())
	}
}

func TestServeGoAPI(t *testing.T) {
	bare := &starlark.Thread{Name: "bare"}
	if err := Serve(bare, ServeConfig{Name: "x"}); err == nil || err.Error() != "mcp.serve: must be called from a script running in a kite runtime" {
		t.Fatalf("bare thread: %v", err)
	}
	for _, c := range []struct {
		cfg  ServeConfig
		want string
	}{
		{ServeConfig{}, "mcp.serve: name is required"},
		{ServeConfig{Name: "x", Port: -2}, "mcp.serve: port must not be negative, got -2"},
		{ServeConfig{Name: "x", Port: 1, TLSKey: "k"}, "mcp.serve: tls_cert and tls_key must be set together"},
		{ServeConfig{Name: "x", Path: "/mcp"}, "mcp.serve: host/path/tls_* kwargs require port to be set"},
		{ServeConfig{Name: "x", Port: 1, Transport: "grpc"}, `mcp.serve: transport must be "http" or "sse", got "grpc"`},
		{ServeConfig{Name: "x", Resources: []ServeFunc{{Name: "", Fn: starlark.NewBuiltin("f", nil)}}}, `mcp.serve: resources keys must be non-empty strings, got ""`},
		{ServeConfig{Name: "x", Prompts: []ServeFunc{{Name: "p"}}}, `mcp.serve: prompts["p"]: expected a callable, got None`},
	} {
		if err := Serve(bare, c.cfg); err == nil || err.Error() != c.want {
			t.Errorf("Serve(%+v) = %v, want %q", c.cfg, err, c.want)
		}
	}

	// A Listener with the default Port serves HTTP; stdio EOF returns nil.
	h := &srvHarness{t: t, stderr: newSrvStderr()}
	h.srvRuntime(srvOptions{})
	r, w := io.Pipe()
	w.Close()
	var got error
	fn := starlark.NewBuiltin("run", func(thread *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		got = Serve(thread, ServeConfig{Name: "eof", Stdin: r, Stdout: io.Discard, Stderr: h.stderr})
		return starlark.None, nil
	})
	if _, err := h.rt.CallFn(context.Background(), fn, nil, nil); err != nil || got != nil {
		t.Fatalf("stdio EOF: %v / %v", err, got)
	}
}
