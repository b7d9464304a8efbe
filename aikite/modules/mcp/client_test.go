package mcp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"github.com/mark3labs/mcp-go/server/servertest"
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/aikite/internal/tool"
	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

var clientTestKit = kitetest.Modules{New}

var (
	clientTestPNG   = []byte("\x89PNG\r\n\x1a\n\x00\x01binary")
	clientTestAudio = []byte("RIFF\x00\x00WAVEfmt ")
	clientTestBlob  = []byte{0, 1, 2, 255}
)

// clientTestCounts counts tools/list requests a test server answered.
type clientTestCounts struct{ listTools atomic.Int32 }

// clientTestServer is the MCP server the client tests talk to, over every
// transport: 7 tools (listed 2 per page), 2 resources, 1 prompt.
func clientTestServer(counts *clientTestCounts) *server.MCPServer {
	hooks := &server.Hooks{}
	if counts != nil {
		hooks.AddBeforeListTools(func(context.Context, any, *mcpgo.ListToolsRequest) { counts.listTools.Add(1) })
	}
	s := server.NewMCPServer("test-server", "1.2.3",
		server.WithToolCapabilities(false),
		server.WithResourceCapabilities(false, false),
		server.WithPromptCapabilities(false),
		server.WithPaginationLimit(2),
		server.WithHooks(hooks))

	echo := mcpgo.NewToolWithRawSchema("echo", "Echo a message.", json.RawMessage(
		`{"type":"object","properties":{"msg":{"type":"string","description":"what to say"},"times":{"type":"integer","default":1}},"required":["msg"]}`))
	s.AddTool(echo, func(_ context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		msg, _ := req.GetArguments()["msg"].(string)
		n := 1
		if f, ok := req.GetArguments()["times"].(float64); ok {
			n = int(f)
		}
		return mcpgo.NewToolResultText(strings.Repeat(msg, n)), nil
	})
	s.AddTool(mcpgo.NewTool("args", mcpgo.WithDescription("Return the arguments as JSON.")),
		func(_ context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
			b, _ := json.Marshal(req.GetArguments())
			return mcpgo.NewToolResultText(string(b)), nil
		})
	s.AddTool(mcpgo.NewTool("read-file"), func(context.Context, mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		return mcpgo.NewToolResultText("dashed"), nil
	})
	s.AddTool(mcpgo.NewTool("fs.read"), func(context.Context, mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		return mcpgo.NewToolResultText("dotted"), nil
	})
	s.AddTool(mcpgo.NewTool("media"), func(context.Context, mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		return &mcpgo.CallToolResult{Content: []mcpgo.Content{
			mcpgo.NewTextContent("a "),
			mcpgo.NewImageContent(base64.StdEncoding.EncodeToString(clientTestPNG), "image/png"),
			mcpgo.NewAudioContent(base64.StdEncoding.EncodeToString(clientTestAudio), "audio/wav"),
			mcpgo.NewResourceLink("file:///notes.txt", "notes", "Some notes", "text/plain"),
			mcpgo.NewEmbeddedResource(mcpgo.TextResourceContents{URI: "mem://t", MIMEType: "text/plain", Text: "inner"}),
			mcpgo.NewEmbeddedResource(mcpgo.BlobResourceContents{URI: "mem://b", MIMEType: "application/octet-stream", Blob: base64.StdEncoding.EncodeToString(clientTestBlob)}),
			mcpgo.NewTextContent("b"),
		}}, nil
	})
	s.AddTool(mcpgo.NewTool("fail"), func(context.Context, mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		return mcpgo.NewToolResultError("boom"), nil
	})
	s.AddTool(mcpgo.NewTool("structured"), func(context.Context, mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		return mcpgo.NewToolResultStructured(map[string]any{"count": 3, "ratio": 0.5, "items": []string{"x"}}, `{"count":3}`), nil
	})
	s.AddTool(mcpgo.NewTool("slow"), func(ctx context.Context, _ mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Second):
			return mcpgo.NewToolResultText("too late"), nil
		}
	})
	s.AddTool(mcpgo.NewTool("pid"), func(context.Context, mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		return mcpgo.NewToolResultText(strconv.Itoa(os.Getpid())), nil
	})

	s.AddResource(mcpgo.NewResource("file:///notes.txt", "notes", mcpgo.WithResourceDescription("Some notes"), mcpgo.WithMIMEType("text/plain")),
		func(_ context.Context, req mcpgo.ReadResourceRequest) ([]mcpgo.ResourceContents, error) {
			return []mcpgo.ResourceContents{
				mcpgo.TextResourceContents{URI: req.Params.URI, MIMEType: "text/plain", Text: "hello "},
				mcpgo.TextResourceContents{URI: req.Params.URI, MIMEType: "text/plain", Text: "notes"},
			}, nil
		})
	s.AddResource(mcpgo.NewResource("file:///blob.bin", "blob"),
		func(_ context.Context, req mcpgo.ReadResourceRequest) ([]mcpgo.ResourceContents, error) {
			return []mcpgo.ResourceContents{mcpgo.BlobResourceContents{URI: req.Params.URI, MIMEType: "application/octet-stream",
				Blob: base64.StdEncoding.EncodeToString(clientTestBlob)}}, nil
		})
	s.AddPrompt(mcpgo.NewPrompt("review", mcpgo.WithPromptDescription("Ask for a review."),
		mcpgo.WithArgument("language", mcpgo.RequiredArgument(), mcpgo.ArgumentDescription("the language")),
		mcpgo.WithArgument("level")),
		func(_ context.Context, req mcpgo.GetPromptRequest) (*mcpgo.GetPromptResult, error) {
			a := req.Params.Arguments
			return mcpgo.NewGetPromptResult("A review", []mcpgo.PromptMessage{
				mcpgo.NewPromptMessage(mcpgo.RoleUser, mcpgo.NewTextContent("Review "+a["language"])),
				mcpgo.NewPromptMessage(mcpgo.RoleAssistant, mcpgo.NewTextContent("level="+a["level"])),
				mcpgo.NewPromptMessage(mcpgo.RoleUser, mcpgo.NewImageContent(base64.StdEncoding.EncodeToString(clientTestPNG), "image/png")),
			}), nil
		})
	return s
}

// clientTestToolNames is every tool clientTestServer advertises, in the
// order tools/list returns them.
func clientTestToolNames(t *testing.T) []string {
	t.Helper()
	mc, err := client.NewInProcessClient(clientTestServer(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	ctx := context.Background()
	if err := mc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := mc.Initialize(ctx, mcpgo.InitializeRequest{}); err != nil {
		t.Fatal(err)
	}
	res, err := mc.ListTools(ctx, mcpgo.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
	}
	return names
}

// clientInProcess wraps an in-process client of s as an mcp.Client value.
func clientInProcess(t *testing.T, s *server.MCPServer) *clientValue {
	t.Helper()
	mc, err := client.NewInProcessClient(s)
	if err != nil {
		t.Fatal(err)
	}
	v, err := clientHandshake(context.Background(), mc, nil, 5*time.Second)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	t.Cleanup(func() { _ = v.conn.close(true) })
	return v
}

// clientTestRuntime is a runtime with the mcp module and c bound to the
// in-process client value.
func clientTestRuntime(t *testing.T, c *clientValue) (*libkite.Runtime, *kitetest.Output) {
	t.Helper()
	return clientTestKit.New(t, &libkite.Config{Globals: map[string]any{"c": c}})
}

func clientEval(t *testing.T, rt *libkite.Runtime, c kitetest.Case) {
	t.Helper()
	got, msg, _ := kitetest.Eval(rt, c.Pre, c.Expr)
	c.Check(t, got, msg)
}

func TestClientInProcessValues(t *testing.T) {
	c := clientInProcess(t, clientTestServer(nil))
	rt, _ := clientTestRuntime(t, c)
	for _, tc := range []kitetest.Case{
		{Expr: `type(c)`, Want: "mcp.Client"},
		{Expr: `str(c)`, Want: "<mcp.Client>"},
		{Expr: `bool(c)`, Want: "True"},
		{Expr: `c.tools == c.tools`, Want: "True"},
		{Expr: `(type(c.tools), str(c.tools), bool(c.tools))`, Want: `("mcp.Tools", "<mcp.Tools>", True)`},
		{Expr: `{c: 1}`, Err: "unhashable type: mcp.Client"},
		{Expr: `{c.tools: 1}`, Err: "unhashable type: mcp.Tools"},
		{Expr: `{c.tools.echo: 1}`, Err: "unhashable type: mcp.Tool"},
		{Expr: `c.server_info`, Want: `{"name": "test-server", "version": "1.2.3", "protocol_version": "` + c.init.ProtocolVersion + `"}`},
		{Expr: `[n for n in dir(c) if not n.startswith("try_")]`, Want: `["call", "close", "get_prompt", "list_prompts", "list_resources", "ping", "read_resource", "server_info", "tools"]`},
		{Expr: `c.ping()`, Want: "None"},
		{Expr: `str(c.tools.echo)`, Want: `<mcp.Tool name="echo">`},
		{Expr: `(type(c.tools.echo), c.tools.echo.name, c.tools.echo.description, c.tools.args.description)`,
			Want: `("mcp.Tool", "echo", "Echo a message.", "Return the arguments as JSON.")`},
		{Expr: `c.tools.pid.description`, Want: ""},
		{Expr: `c.tools.echo.input_schema`,
			Want: `{"type": "object", "properties": {"msg": {"description": "what to say", "type": "string"}, "times": {"default": 1, "type": "integer"}}, "required": ["msg"]}`},
		{Expr: `c.tools.echo.input_schema["required"].append("x")`, Err: "append: cannot append to frozen list", ErrContains: true},
		{Expr: `dir(c.tools.echo)`, Want: `["description", "input_schema", "name"]`},
		{Expr: `c.tools.echo(msg="hi", times=3).text`, Want: "hihihi"},
		{Expr: `c.call("echo", msg="yo").text`, Want: "yo"},
		{Expr: `c.try_call("echo", msg="yo").value.text`, Want: "yo"},
		{Expr: `c.call("read-file").text + c.call("fs.read").text`, Want: "dasheddotted"},
		{Expr: `c.call("args", s="x", n=2, f=1.5, b=True, l=[1, "a"], d={"k": None}).text`,
			Want: `{"b":true,"d":{"k":null},"f":1.5,"l":[1,"a"],"n":2,"s":"x"}`},
		{Expr: `c.call("args").text`, Want: `{}`},
	} {
		t.Run(tc.TestName(), func(t *testing.T) { clientEval(t, rt, tc) })
	}
}

func TestClientDiscoveryCachedAndPaginated(t *testing.T) {
	counts := &clientTestCounts{}
	c := clientInProcess(t, clientTestServer(counts))
	rt, _ := clientTestRuntime(t, c)
	if n := counts.listTools.Load(); n != 0 {
		t.Fatalf("tools/list before any access: %d", n)
	}
	all := clientTestToolNames(t)
	pages := int32((len(all) + 1) / 2)
	if pages < 2 {
		t.Fatalf("want several pages, have %d tools", len(all))
	}
	quoted := make([]string, len(all))
	var idents []string
	for i, n := range all {
		quoted[i] = strconv.Quote(n)
		if !strings.ContainsAny(n, "-.") {
			idents = append(idents, strconv.Quote(n))
		}
	}
	for _, tc := range []kitetest.Case{
		{Expr: `[t.name for t in c.tools]`, Want: "[" + strings.Join(quoted, ", ") + "]"},
		{Expr: `c.tools.echo.name`, Want: "echo"},
		{Expr: `dir(c.tools) == sorted([` + strings.Join(idents, ", ") + `])`, Want: "True"},
		{Expr: `hasattr(c.tools, "read-file") or hasattr(c.tools, "fs.read")`, Want: "False"},
		{Expr: `getattr(c.tools, "read-file")`, Err: "mcp.Tools has no .read-file field or method", ErrContains: true},
		{Expr: `c.tools.nope`, Err: "mcp.Tools has no .nope field or method", ErrContains: true},
		{Expr: `c.call("nope")`, Err: `mcp.Client.call: no such tool "nope" on server`},
		{Expr: `c.call("echo", msg="x").text`, Want: "x"},
	} {
		t.Run(tc.TestName(), func(t *testing.T) { clientEval(t, rt, tc) })
	}
	if n := counts.listTools.Load(); n != pages {
		t.Fatalf("tools/list requests = %d, want %d (one discovery over %d pages)", n, pages, pages)
	}
}

func TestClientDiscoveryFailureCached(t *testing.T) {
	// A server without the tools capability rejects tools/list.
	counts := &clientTestCounts{}
	hooks := &server.Hooks{}
	hooks.AddBeforeAny(func(_ context.Context, _ any, method mcpgo.MCPMethod, _ any) {
		if method == mcpgo.MethodToolsList {
			counts.listTools.Add(1)
		}
	})
	s := server.NewMCPServer("bare", "0", server.WithHooks(hooks))
	c := clientInProcess(t, s)
	rt, _ := clientTestRuntime(t, c)
	got, msg, _ := kitetest.Eval(rt, "", `[t for t in c.tools]`)
	if msg != "" || got != "[]" {
		t.Fatalf("iteration after failed discovery = %q, %q; want []", got, msg)
	}
	_, msg1, _ := kitetest.Eval(rt, "", `c.tools.echo`)
	_, msg2, _ := kitetest.Eval(rt, "", `c.call("echo")`)
	if !strings.Contains(msg1, "list tools: ") || !strings.HasPrefix(msg2, "mcp.Client.call: list tools: ") {
		t.Fatalf("errors = %q, %q", msg1, msg2)
	}
	if got, _, _ := kitetest.Eval(rt, "", `dir(c.tools)`); got != "[]" {
		t.Fatalf("dir = %s", got)
	}
	if n := counts.listTools.Load(); n > 1 {
		t.Fatalf("failed discovery retried: %d tools/list requests", n)
	}
}

func TestClientResultMapping(t *testing.T) {
	c := clientInProcess(t, clientTestServer(nil))
	rt, _ := clientTestRuntime(t, c)
	png, audio, blob := starlark.Bytes(clientTestPNG).String(), starlark.Bytes(clientTestAudio).String(), starlark.Bytes(clientTestBlob).String()
	for _, tc := range []kitetest.Case{
		{Pre: `r = c.call("media")`, Expr: `(type(r), r.text, r.is_error, bool(r), str(r), r.structured)`,
			Want: `("mcp.Result", "a b", False, True, "<mcp.Result text=\"a b\">", None)`},
		{Pre: `r = c.call("media")`, Expr: `r.content[0]`, Want: `{"type": "text", "text": "a "}`},
		{Pre: `r = c.call("media")`, Expr: `r.content[1]`, Want: `{"type": "image", "data": ` + png + `, "mime_type": "image/png"}`},
		{Pre: `r = c.call("media")`, Expr: `r.content[2]`, Want: `{"type": "audio", "data": ` + audio + `, "mime_type": "audio/wav"}`},
		{Pre: `r = c.call("media")`, Expr: `r.content[3]`,
			Want: `{"type": "resource_link", "uri": "file:///notes.txt", "name": "notes", "mime_type": "text/plain", "description": "Some notes"}`},
		{Pre: `r = c.call("media")`, Expr: `r.content[4]`, Want: `{"type": "resource", "uri": "mem://t", "mime_type": "text/plain", "text": "inner"}`},
		{Pre: `r = c.call("media")`, Expr: `r.content[5]`,
			Want: `{"type": "resource", "uri": "mem://b", "mime_type": "application/octet-stream", "blob": ` + blob + `}`},
		{Pre: `r = c.call("media")`, Expr: `len(r.content)`, Want: "7"},
		{Pre: `r = c.call("media")`, Expr: `r.content.append(1)`, Err: "cannot append to frozen list", ErrContains: true},
		{Pre: `r = c.call("media")`, Expr: `r.content[0].update(x=1)`, Err: "frozen", ErrContains: true},
		{Pre: `r = c.call("fail")`, Expr: `(r.text, r.is_error, bool(r), str(r))`, Want: `("boom", True, False, "<mcp.Result error=\"boom\">")`},
		{Pre: `r = c.tools.fail()`, Expr: `"ok" if r else "tool failed: " + r.text`, Want: "tool failed: boom"},
		{Pre: `r = c.call("structured")`, Expr: `(r.structured, r.text)`, Want: `({"count": 3, "items": ["x"], "ratio": 0.5}, "{\"count\":3}")`},
		{Pre: `r = c.call("structured")`, Expr: `r.structured.update(a=1)`, Err: "frozen", ErrContains: true},
		{Expr: `{c.call("echo", msg="x"): 1}`, Err: "unhashable type: mcp.Result"},
		{Expr: `c.tools.echo("positional")`, Err: `mcp tool "echo": takes only keyword arguments, got 1 positional`},
		{Expr: `c.call()`, Err: `mcp.Client.call: expected 1 positional argument (tool name), got 0`},
		{Expr: `c.call("echo", "x")`, Err: `mcp.Client.call: expected 1 positional argument (tool name), got 2`},
		{Expr: `c.call(1)`, Err: `mcp.Client.call: tool name must be a string, got int`},
		{Expr: `c.call("echo", msg="x", _timeout="10s").text`, Want: "x"},
		{Expr: `c.call("echo", msg="x", _timeout="soon")`, Err: `mcp.Client.call: _timeout: invalid duration "soon"`},
	} {
		t.Run(tc.Expr, func(t *testing.T) { clientEval(t, rt, tc) })
	}
}

func TestClientResourcesAndPrompts(t *testing.T) {
	c := clientInProcess(t, clientTestServer(nil))
	rt, _ := clientTestRuntime(t, c)
	png, blob := starlark.Bytes(clientTestPNG).String(), starlark.Bytes(clientTestBlob).String()
	for _, tc := range []kitetest.Case{
		{Expr: `c.list_resources()`, Want: `[{"uri": "file:///blob.bin", "name": "blob", "description": "", "mime_type": ""}, ` +
			`{"uri": "file:///notes.txt", "name": "notes", "description": "Some notes", "mime_type": "text/plain"}]`},
		{Pre: `r = c.read_resource("file:///notes.txt")`, Expr: `(type(r), r.text, len(r.contents), r.contents[0], bool(r))`,
			Want: `("mcp.ResourceResult", "hello notes", 2, {"uri": "file:///notes.txt", "mime_type": "text/plain", "text": "hello "}, True)`},
		{Pre: `r = c.read_resource("file:///blob.bin")`, Expr: `(r.text, r.contents)`,
			Want: `("", [{"uri": "file:///blob.bin", "mime_type": "application/octet-stream", "blob": ` + blob + `}])`},
		{Expr: `c.read_resource("file:///missing")`, Err: "mcp.Client.read_resource: ", ErrContains: true},
		{Expr: `c.read_resource()`, Err: "mcp.Client.read_resource: expected 1 positional argument (uri), got 0"},
		{Expr: `c.list_prompts()`, Want: `[{"name": "review", "description": "Ask for a review.", "arguments": [` +
			`{"name": "language", "description": "the language", "required": True}, {"name": "level", "description": "", "required": False}]}]`},
		{Pre: `p = c.get_prompt("review", language="Go", level=3)`, Expr: `(type(p), p.description, p.text, bool(p))`,
			Want: `("mcp.PromptResult", "A review", "Review Go\nlevel=3", True)`},
		{Pre: `p = c.get_prompt("review", language="Go", level=3)`, Expr: `p.messages`,
			Want: `[{"role": "user", "type": "text", "text": "Review Go"}, {"role": "assistant", "type": "text", "text": "level=3"}, ` +
				`{"role": "user", "type": "image", "data": ` + png + `, "mime_type": "image/png"}]`},
		{Expr: `c.get_prompt("nope")`, Err: "mcp.Client.get_prompt: ", ErrContains: true},
	} {
		t.Run(tc.TestName(), func(t *testing.T) { clientEval(t, rt, tc) })
	}
}

func TestClientCloseIdempotent(t *testing.T) {
	c := clientInProcess(t, clientTestServer(nil))
	rt, _ := clientTestRuntime(t, c)
	for _, tc := range []kitetest.Case{
		{Pre: `t = c.tools.echo`, Expr: `(c.close(), c.close(), bool(c))`, Want: "(None, None, False)"},
		{Expr: `c.call("echo", msg="x")`, Err: "mcp client is closed"},
		{Expr: `t(msg="x")`, Err: "mcp client is closed"},
		{Expr: `c.list_resources()`, Err: "mcp.Client.list_resources: mcp client is closed"},
		{Expr: `c.ping()`, Err: "mcp.Client.ping: mcp client is closed"},
		{Expr: `c.close(1)`, Err: "mcp.Client.close takes no arguments"},
	} {
		t.Run(tc.TestName(), func(t *testing.T) { clientEval(t, rt, tc) })
	}
}

func TestClientToolSource(t *testing.T) {
	c := clientInProcess(t, clientTestServer(nil))
	rt, _ := clientTestRuntime(t, c)
	if err := rt.Execute(context.Background(), "tools = [c.tools.echo]\n"); err != nil {
		t.Fatal(err)
	}
	v, _ := rt.GetGlobalVal("tools")
	tools, err := tool.Coerce(v)
	if err != nil || len(tools) != 1 {
		t.Fatalf("Coerce = %v, %v", tools, err)
	}
	tl := tools[0]
	schema, _ := json.Marshal(tl.SchemaOrEmpty())
	if tl.Name != "echo" || tl.Description != "Echo a message." ||
		string(schema) != `{"properties":{"msg":{"description":"what to say","type":"string"},"times":{"default":1,"type":"integer"}},"required":["msg"],"type":"object"}` {
		t.Fatalf("tool = %q %q %s", tl.Name, tl.Description, schema)
	}
	res, err := tl.Call(rt.NewThread("tool"), map[string]any{"msg": "ab", "times": json.Number("2")})
	if err != nil {
		t.Fatal(err)
	}
	if text, isErr := tool.ResultText(res); text != "abab" || isErr {
		t.Fatalf("ResultText = %q, %v", text, isErr)
	}
	fail := &clientToolValue{client: c, info: &clientToolInfo{name: "fail"}}
	res, err = fail.KiteTool().Call(rt.NewThread("tool"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if text, isErr := tool.ResultText(res); text != "boom" || !isErr {
		t.Fatalf("ResultText(fail) = %q, %v", text, isErr)
	}
}

func TestClientCallCancelledWithRun(t *testing.T) {
	c := clientInProcess(t, clientTestServer(nil))
	rt, _ := clientTestRuntime(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	err := rt.Execute(ctx, `c.call("slow")`)
	if err == nil {
		t.Fatal("cancelled call succeeded")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancellation took %s", d)
	}
	// The client is still usable afterwards.
	got, msg, _ := kitetest.Eval(rt, "", `c.call("echo", msg="after").text`)
	if got != "after" {
		t.Fatalf("after cancel: %q %q", got, msg)
	}
}

// --- HTTP transports on loopback ---

// clientHeaderRecorder wraps h, recording the X-Kite-Test header of every
// request.
type clientHeaderRecorder struct {
	mu   sync.Mutex
	seen []string
	h    http.Handler
}

func (r *clientHeaderRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.seen = append(r.seen, req.Header.Get("X-Kite-Test"))
	r.mu.Unlock()
	r.h.ServeHTTP(w, req)
}

func (r *clientHeaderRecorder) headers() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

func TestConnectStreamableHTTP(t *testing.T) {
	rec := &clientHeaderRecorder{h: server.NewStreamableHTTPServer(clientTestServer(nil))}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	out, err := clientTestKit.Run(t, nil, fmt.Sprintf(`
c = mcp.connect(%q, headers={"X-Kite-Test": "bearer-ok"}, timeout="10s")
print(type(c), bool(c), c.server_info["name"])
print(c.call("echo", msg="over http").text)
print([t.name for t in c.tools][:2], c.read_resource("file:///notes.txt").text)
c.close()
print(bool(c))
`, srv.URL+"/mcp"))
	kitetest.CheckOutput(t, out, err, "mcp.Client True test-server\nover http\n[\"args\", \"echo\"] hello notes\nFalse", "")
	seen := rec.headers()
	if len(seen) == 0 {
		t.Fatal("no request reached the server")
	}
	for i, h := range seen {
		if h != "bearer-ok" {
			t.Fatalf("request %d carried X-Kite-Test %q", i, h)
		}
	}
}

func TestConnectSSE(t *testing.T) {
	t.Run("auto-detected", func(t *testing.T) {
		sse := server.NewSSEServer(clientTestServer(nil))
		rec := &clientHeaderRecorder{h: sse}
		srv := httptest.NewServer(rec)
		defer srv.Close()
		server.WithBaseURL(srv.URL)(sse)
		out, err := clientTestKit.Run(t, nil, fmt.Sprintf(`
c = mcp.connect(%q, headers={"X-Kite-Test": "sse"})
print(c.call("echo", msg="over sse").text)
c.close()
`, srv.URL+"/sse"))
		kitetest.CheckOutput(t, out, err, "over sse", "")
		seen := rec.headers()
		if len(seen) < 2 {
			t.Fatalf("requests = %q, want the stream and messages", seen)
		}
		for i, h := range seen {
			if h != "sse" {
				t.Fatalf("request %d carried X-Kite-Test %q", i, h)
			}
		}
	})
	t.Run("forced", func(t *testing.T) {
		srv := servertest.NewTestServer(clientTestServer(nil), server.WithSSEEndpoint("/events"))
		defer srv.Close()
		out, err := clientTestKit.Run(t, nil, fmt.Sprintf(`
c = mcp.connect(%q, transport="sse")
print(c.call("echo", msg="forced sse").text)
c.close()
`, srv.URL+"/events"))
		kitetest.CheckOutput(t, out, err, "forced sse", "")
	})
	t.Run("streamable URL is not SSE", func(t *testing.T) {
		srv := servertest.NewTestServer(clientTestServer(nil), server.WithSSEEndpoint("/events"))
		defer srv.Close()
		_, err := clientTestKit.Run(t, nil, fmt.Sprintf(`mcp.connect(%q, timeout="3s")`, srv.URL+"/events"))
		if msg := kitetest.ErrMsg(err); !strings.HasPrefix(msg, "mcp.connect: ") {
			t.Fatalf("streamable HTTP against an SSE endpoint: %q", msg)
		}
	})
}

// --- argument errors ---

func TestConnectArgumentErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String() + "/mcp"
	l.Close()
	clientTestKit.RunCases(t, nil, []kitetest.Case{
		{Expr: `mcp.connect()`, Err: "mcp.connect: expected 1 positional argument (command list or URL), got 0"},
		{Expr: `mcp.connect("http://a", "b")`, Err: "mcp.connect: expected 1 positional argument (command list or URL), got 2"},
		{Expr: `mcp.connect(target="http://a")`, Err: "mcp.connect: expected 1 positional argument (command list or URL), got 0"},
		{Expr: `mcp.connect("ftp://example.com")`, Err: `mcp.connect: URL must start with http:// or https://, got "ftp://example.com"`},
		{Expr: `mcp.connect("example.com/mcp")`, Err: `mcp.connect: URL must start with http:// or https://, got "example.com/mcp"`},
		{Expr: `mcp.connect([])`, Err: "mcp.connect: command list must not be empty"},
		{Expr: `mcp.connect(())`, Err: "mcp.connect: command list must not be empty"},
		{Expr: `mcp.connect(["srv", 1])`, Err: "mcp.connect: command list elements must be strings, got int"},
		{Expr: `mcp.connect(1)`, Err: "mcp.connect: expected a command list or http(s) URL, got int"},
		{Expr: `mcp.connect({"a": 1})`, Err: "mcp.connect: expected a command list or http(s) URL, got dict"},
		{Expr: `mcp.connect("http://a", timeout="soon")`, Err: `mcp.connect: timeout: time: invalid duration "soon"`},
		{Expr: `mcp.connect("http://a", timeout="-1s")`, Err: `mcp.connect: timeout must be positive, got "-1s"`},
		{Expr: `mcp.connect("http://a", timeout=5)`, Err: `mcp.connect: for parameter "timeout": got int, want string`},
		{Expr: `mcp.connect("http://a", transport="ws")`, Err: `mcp.connect: transport must be "auto", "stdio", "http" or "sse", got "ws"`},
		{Expr: `mcp.connect("http://a", transport="stdio")`, Err: `mcp.connect: transport "stdio" needs a command list, got a URL`},
		{Expr: `mcp.connect(["srv"], transport="http")`, Err: `mcp.connect: transport "http" needs an http(s) URL, got a command list`},
		{Expr: `mcp.connect("http://a", headers={"X": 1})`, Err: `mcp.connect: headers["X"] must be a string, got int`},
		{Expr: `mcp.connect(["srv"], env={1: "x"})`, Err: `mcp.connect: env keys must be strings, got int`},
		{Expr: `mcp.connect(["srv"], headers={"X": "y"})`, Err: `mcp.connect: headers= applies only to the http and sse transports`},
		{Expr: `mcp.connect("http://a", env={"X": "y"})`, Err: `mcp.connect: env= applies only to the stdio transport`},
		{Expr: `mcp.connect("http://a", bogus=1)`, Err: `mcp.connect: unknown keyword argument: bogus`},
		{Expr: `mcp.try_connect(1)`, Want: `Result(ok=False, error="mcp.connect: expected a command list or http(s) URL, got int")`},
		{Name: "closed port", Expr: fmt.Sprintf(`mcp.connect(%q, timeout="5s")`, closed), Err: "mcp.connect: ", ErrContains: true},
	})
}
