package ai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/aikite/internal/tool"
	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// --- scripted fake provider (the §Testing seam) ---------------------------

// answer is one scripted Complete result.
type answer struct {
	reply *Reply
	err   error
}

// streamScript is one scripted Stream: a start failure, or chunks then
// endErr (nil = clean io.EOF) with the usage reported at the end.
type streamScript struct {
	startErr error
	chunks   []string
	endErr   error
	in, out  int
}

// scripted is a Provider answering from queues and recording every
// request (deep-copied).
type scripted struct {
	mu      sync.Mutex
	answers []answer
	streams []streamScript
	reqs    []Request
	sreqs   []Request
	readers []*fakeReader
	builds  []string
	block   bool // Complete waits for the context to end
	repeat  bool // reuse the last answer forever
}

func (s *scripted) Complete(ctx context.Context, req *Request) (*Reply, error) {
	s.mu.Lock()
	s.reqs = append(s.reqs, copyReq(req))
	block := s.block
	var a answer
	switch {
	case len(s.answers) == 0:
		a = answer{err: errors.New("scripted: no answer left")}
	case s.repeat && len(s.answers) == 1:
		a = s.answers[0]
	default:
		a, s.answers = s.answers[0], s.answers[1:]
	}
	s.mu.Unlock()
	if block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if a.err != nil {
		return nil, a.err
	}
	r := *a.reply
	return &r, nil
}

func (s *scripted) Stream(ctx context.Context, req *Request) (StreamReader, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sreqs = append(s.sreqs, copyReq(req))
	if len(s.streams) == 0 {
		return nil, errors.New("scripted: no stream left")
	}
	sc := s.streams[0]
	s.streams = s.streams[1:]
	if sc.startErr != nil {
		return nil, sc.startErr
	}
	r := &fakeReader{ctx: ctx, sc: sc}
	s.readers = append(s.readers, r)
	return r, nil
}

func (s *scripted) requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

func (s *scripted) streamRequests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.sreqs...)
}

func copyReq(r *Request) Request {
	c := *r
	c.Messages = nil
	for _, m := range r.Messages {
		m.ToolCalls = append([]ToolCall(nil), m.ToolCalls...)
		c.Messages = append(c.Messages, m)
	}
	c.Tools = append([]ToolSpec(nil), r.Tools...)
	return c
}

// fakeReader replays a streamScript.
type fakeReader struct {
	ctx    context.Context
	sc     streamScript
	mu     sync.Mutex
	i      int
	closed int
}

func (r *fakeReader) Recv() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed > 0 {
		return "", errors.New("fakeReader: read after Close")
	}
	if err := r.ctx.Err(); err != nil {
		return "", err
	}
	if r.i < len(r.sc.chunks) {
		r.i++
		return r.sc.chunks[r.i-1], nil
	}
	if r.sc.endErr != nil {
		return "", r.sc.endErr
	}
	return "", io.EOF
}

func (r *fakeReader) Usage() (int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.i < len(r.sc.chunks) { // not drained: nothing reported yet
		return 0, 0
	}
	return r.sc.in, r.sc.out
}

func (r *fakeReader) Close() error {
	r.mu.Lock()
	r.closed++
	r.mu.Unlock()
	return nil
}

func (r *fakeReader) closeCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}

func text(s string, in, out int) answer {
	return answer{reply: &Reply{Text: s, InputTokens: in, OutputTokens: out}}
}

func toolCalls(in, out int, calls ...ToolCall) answer {
	return answer{reply: &Reply{ToolCalls: calls, InputTokens: in, OutputTokens: out}}
}

func tc(id, name, args string) ToolCall { return ToolCall{ID: id, Name: name, Arguments: args} }

func failWith(msg string) answer { return answer{err: errors.New(msg)} }

// module returns a fresh ai module whose every client is s.
func (s *scripted) module() libkite.Module {
	return NewWithProviderFactory(func(provider, key, base string) (Provider, error) {
		s.mu.Lock()
		s.builds = append(s.builds, provider)
		s.mu.Unlock()
		return s, nil
	})
}

// probeModule is a stand-in for any permission-checked builtin:
// probe.touch(path) is checked as fs.write write_file(path).
func probeModule() libkite.Module {
	return &libkite.StaticModule{ID: "probe", Try: true, Build: func() starlark.StringDict {
		return starlark.StringDict{"touch": starlark.NewBuiltin("probe.touch", func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			var path string
			if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "path", &path); err != nil {
				return nil, err
			}
			if err := libkite.Check(thread, "fs", "write", "write_file", path); err != nil {
				return nil, err
			}
			return starlark.String("touched " + path), nil
		})}
	}}
}

// rtWith is a runtime under cfg holding the scripted ai module and probe.
func (s *scripted) rt(t testing.TB, cfg *libkite.Config) *libkite.Runtime {
	rt, _ := kitetest.New(t, cfg, s.module(), probeModule())
	return rt
}

// eval runs pre then expr on a fresh runtime over s.
func (s *scripted) eval(t testing.TB, pre, expr string) (string, string) {
	t.Helper()
	got, msg, _ := kitetest.Eval(s.rt(t, nil), pre, expr)
	return got, msg
}

func (s *scripted) mustEval(t testing.TB, pre, expr string) string {
	t.Helper()
	got, msg := s.eval(t, pre, expr)
	if msg != "" {
		t.Fatalf("unexpected error: %s", msg)
	}
	return got
}

// msgsJSON renders messages compactly for comparison.
func msgsJSON(ms []Message) string {
	var b strings.Builder
	for i, m := range ms {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s", m.Role)
		if m.Content != "" {
			fmt.Fprintf(&b, " %q", m.Content)
		}
		for _, c := range m.ToolCalls {
			fmt.Fprintf(&b, " call(%s %s %s)", c.ID, c.Name, c.Arguments)
		}
		if m.ToolCallID != "" {
			fmt.Fprintf(&b, " for=%s", m.ToolCallID)
		}
		if m.IsError {
			b.WriteString(" is_error")
		}
	}
	return b.String()
}

func wantMsgs(t *testing.T, what string, got []Message, want string) {
	t.Helper()
	if g := msgsJSON(got); g != want {
		t.Fatalf("%s messages:\n%s\nwant\n%s", what, g, want)
	}
}

// --- tests -----------------------------------------------------------------

const loopTools = `
def add(a, b=1):
    """Add two numbers."""
    return {"sum": a + b, "type": type(a)}

def greet(name, *, punct="!"):
    return "hi " + name + punct
`

func TestToolLoopMultiRound(t *testing.T) {
	clearEnv(t)
	s := &scripted{answers: []answer{
		toolCalls(10, 2, tc("c1", "add", `{"a": 2, "b": 3}`), tc("c2", "greet", `{"name": "bo"}`)),
		toolCalls(20, 3, tc("c3", "add", `{"a": 2.5}`)),
		text("all done", 30, 4),
	}}
	got := s.mustEval(t, loopTools+`r = ai.generate("go", model="ollama/llama3.2:3b", system="sys", tools=[add, ai.tool(greet, description="Greets.")], temperature=0)`,
		`(r.text, r.model, r.usage.input, r.usage.output, r.usage.total, r.data)`)
	if want := `("all done", "ollama/llama3.2:3b", 60, 9, 69, None)`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	reqs := s.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	r0 := reqs[0]
	if r0.Model != "llama3.2:3b" || r0.System != "sys" || r0.Sampling.Temperature == nil || *r0.Sampling.Temperature != 0 || r0.ResponseFormat != nil {
		t.Fatalf("request 0: %+v", r0)
	}
	if got, want := jsonOf(r0.Tools), `[{"Name":"add","Description":"Add two numbers.","Parameters":{"properties":{"a":{"type":"string"},"b":{"default":1,"type":"integer"}},"required":["a"],"type":"object"}},{"Name":"greet","Description":"Greets.","Parameters":{"properties":{"name":{"type":"string"},"punct":{"default":"!","type":"string"}},"required":["name"],"type":"object"}}]`; got != want {
		t.Fatalf("tools:\n%s\nwant\n%s", got, want)
	}
	wantMsgs(t, "request 0", r0.Messages, `user "go"`)
	wantMsgs(t, "request 1", reqs[1].Messages, `user "go"
assistant call(c1 add {"a": 2, "b": 3}) call(c2 greet {"name": "bo"})
tool "{\"sum\":5,\"type\":\"int\"}" for=c1
tool "hi bo!" for=c2`)
	wantMsgs(t, "request 2", reqs[2].Messages, `user "go"
assistant call(c1 add {"a": 2, "b": 3}) call(c2 greet {"name": "bo"})
tool "{\"sum\":5,\"type\":\"int\"}" for=c1
tool "hi bo!" for=c2
assistant call(c3 add {"a": 2.5})
tool "{\"sum\":3.5,\"type\":\"float\"}" for=c3`)
	for _, r := range reqs {
		if len(r.Tools) != 2 || r.Stream {
			t.Fatalf("every round offers the tools, unstreamed: %+v", r)
		}
	}
}

func TestToolLoopFeedback(t *testing.T) {
	clearEnv(t)
	s := &scripted{answers: []answer{
		toolCalls(1, 1,
			tc("a", "nope", `{}`),
			tc("b", "add", `{"a": 1`),
			tc("c", "add", `[1, 2]`),
			tc("d", "boom", `{"why": "disk full"}`),
			tc("e", "add", ``),
			tc("", "add", `{"a": 1}`)),
		text("recovered", 1, 1),
	}}
	got := s.mustEval(t, loopTools+`
def boom(why):
    fail("tool broke: " + why)
`, `ai.generate("go", model="ollama/m", tools=[add, boom]).text`)
	if got != "recovered" {
		t.Fatalf("got %q", got)
	}
	reqs := s.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	msgs := reqs[1].Messages
	wantMsgs(t, "feedback", msgs, `user "go"
assistant call(a nope {}) call(b add {"a": 1) call(c add [1, 2]) call(d boom {"why": "disk full"}) call(e add ) call(call_0_5 add {"a": 1})
tool "{\"error\":\"unknown tool \\\"nope\\\"\"}" for=a is_error
tool "{\"error\":\"invalid tool arguments: unexpected EOF\"}" for=b is_error
tool "{\"error\":\"invalid tool arguments: expected a JSON object, got an array\"}" for=c is_error
tool "{\"error\":\"tool broke: disk full\"}" for=d is_error
tool "{\"error\":\"function add missing 1 argument (a)\"}" for=e is_error
tool "{\"sum\":2,\"type\":\"int\"}" for=call_0_5`)
}

func TestToolLoopHalt(t *testing.T) {
	clearEnv(t)
	cases := []struct {
		call ToolCall
		want string
	}{
		{tc("a", "boom", `{"why": "x"}`), `ai.generate: tool "boom": tool broke: x`},
		{tc("a", "nope", `{}`), `ai.generate: unknown tool "nope"`},
		{tc("a", "boom", `nope`), `ai.generate: tool "boom": invalid tool arguments: invalid character 'o' in literal null (expecting 'u')`},
	}
	for _, c := range cases {
		t.Run(c.call.Name+c.call.Arguments, func(t *testing.T) {
			s := &scripted{answers: []answer{toolCalls(1, 1, c.call, tc("b", "boom", `{"why": "never"}`)), text("unreached", 0, 0)}}
			_, msg := s.eval(t, `
def boom(why):
    fail("tool broke: " + why)
`, `ai.generate("go", model="ollama/m", tools=[boom], on_tool_error="halt")`)
			if msg != c.want {
				t.Fatalf("error %q\nwant  %q", msg, c.want)
			}
			if n := len(s.requests()); n != 1 {
				t.Fatalf("%d requests, want 1", n)
			}
		})
	}
}

func TestToolLoopMaxIterations(t *testing.T) {
	clearEnv(t)
	for _, c := range []struct {
		kw       string
		requests int
	}{{"", 11}, {", max_iterations=0", 11}, {", max_iterations=2", 3}, {", max_iterations=1", 2}} {
		t.Run(c.kw, func(t *testing.T) {
			s := &scripted{answers: []answer{toolCalls(1, 1, tc("x", "add", `{"a": 1}`))}, repeat: true}
			_, msg := s.eval(t, loopTools, `ai.generate("go", model="ollama/m", tools=[add]`+c.kw+`)`)
			wantErr(t, msg, "ai.generate: ", "max_iterations")
			if n := len(s.requests()); n != c.requests {
				t.Fatalf("%d requests, want %d", n, c.requests)
			}
		})
	}
	// A final answer in the last allowed round is fine.
	s := &scripted{answers: []answer{toolCalls(1, 1, tc("x", "add", `{"a": 1}`)), text("ok", 1, 1)}}
	if got := s.mustEval(t, loopTools, `ai.generate("go", model="ollama/m", tools=[add], max_iterations=1).usage.total`); got != "4" {
		t.Fatalf("usage %s", got)
	}
}

func TestToolLoopProviderErrorMidLoop(t *testing.T) {
	clearEnv(t)
	s := &scripted{answers: []answer{toolCalls(1, 1, tc("x", "add", `{"a": 1}`)), failWith("ollama: HTTP 500 Internal Server Error: boom")}}
	_, msg := s.eval(t, loopTools, `ai.generate("go", model="ollama/m", tools=[add])`)
	if msg != "ai.generate: ollama: HTTP 500 Internal Server Error: boom" {
		t.Fatalf("error %q", msg)
	}
}

func TestToolsRunUnderCallerPermissions(t *testing.T) {
	clearEnv(t)
	cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"ai.generate"}}}
	denial := kitetest.Denied("fs.write", "write_file", "/etc/x")
	script := `
def touch(path):
    return probe.touch(path)
`
	// Feedback: the denial goes back to the model.
	s := &scripted{answers: []answer{toolCalls(1, 1, tc("a", "touch", `{"path": "/etc/x"}`)), text("denied, fine", 1, 1)}}
	got, msg, _ := kitetest.Eval(s.rt(t, cfg), script, `ai.generate("go", model="ollama/m", tools=[touch]).text`)
	if msg != "" || got != "denied, fine" {
		t.Fatalf("got %q (%s)", got, msg)
	}
	if c := s.requests()[1].Messages[2].Content; !strings.Contains(c, `{"error":"`+strings.ReplaceAll(denial, `"`, `\"`)) {
		t.Fatalf("feedback %q lacks the denial %q", c, denial)
	}
	// Halt: the call fails with the permission error.
	s = &scripted{answers: []answer{toolCalls(1, 1, tc("a", "touch", `{"path": "/etc/x"}`)), text("unreached", 1, 1)}}
	_, msg, err := kitetest.Eval(s.rt(t, cfg), script, `ai.generate("go", model="ollama/m", tools=[touch], on_tool_error="halt")`)
	if !libkite.IsPermissionError(err) || !strings.HasPrefix(msg, `ai.generate: tool "touch": `+denial) {
		t.Fatalf("halt error %q (permission error %v)", msg, libkite.IsPermissionError(err))
	}
	// The same tool runs when the caller may write.
	s = &scripted{answers: []answer{toolCalls(1, 1, tc("a", "touch", `{"path": "/tmp/x"}`)), text("ok", 1, 1)}}
	if _, msg, _ := kitetest.Eval(s.rt(t, nil), script, `ai.generate("go", model="ollama/m", tools=[touch], on_tool_error="halt")`); msg != "" {
		t.Fatal(msg)
	}
	if c := s.requests()[1].Messages[2].Content; c != "touched /tmp/x" {
		t.Fatalf("tool reply %q", c)
	}
}

func TestToolBuiltinsAndSources(t *testing.T) {
	clearEnv(t)
	s := &scripted{answers: []answer{toolCalls(1, 1, tc("a", "dict", `{"k": [1, 2.5, null, true]}`)), text("ok", 1, 1)}}
	s.mustEval(t, "", `ai.generate("go", model="ollama/m", tools=[ai.tool(dict, description="Echo.", params={"type": "object"})])`)
	reqs := s.requests()
	if jsonOf(reqs[0].Tools) != `[{"Name":"dict","Description":"Echo.","Parameters":{"type":"object"}}]` {
		t.Fatalf("tools %s", jsonOf(reqs[0].Tools))
	}
	if c := reqs[1].Messages[2].Content; c != `{"k":[1,2.5,null,true]}` {
		t.Fatalf("reply %q", c)
	}
}

func TestToolValue(t *testing.T) {
	clearEnv(t)
	s := &scripted{}
	pre := `
def f(a, b=2, *, c=True):
    """Does f.

    Second paragraph."""
    return a
def v(*args):
    return args
t = ai.tool(f)
`
	kitetest.RunCases(t, func(tb testing.TB) *libkite.Runtime { return s.rt(tb, nil) }, []kitetest.Case{
		{Pre: pre, Expr: `(type(t), str(t), t.name, t.description, bool(t), dir(t))`, Want: `("ai.Tool", "<ai.Tool name=\"f\">", "f", "Does f.\n\n    Second paragraph.", True, ["description", "name"])`},
		{Pre: pre, Expr: `ai.tool(f, description="").description`, Want: ``},
		{Pre: pre, Expr: `ai.tool(f, description="D", params={"type": "object"}).description`, Want: `D`},
		{Pre: pre, Expr: `ai.tool(v, params={"type": "object"}).name`, Want: `v`},
		{Pre: pre, Expr: `ai.tool(v)`, Err: `ai.tool: function v uses *args/**kwargs, which cannot be described as tool parameters; pass params= explicitly`},
		{Pre: pre, Expr: `ai.tool(len)`, Err: `ai.tool: len is a builtin_function_or_method, which cannot be introspected: pass both description= and params=`},
		{Pre: pre, Expr: `ai.tool(len, description="x")`, Err: `ai.tool: len is a builtin_function_or_method, which cannot be introspected: pass both description= and params=`},
		{Pre: pre, Expr: `ai.tool(len, description="Length.", params={"type": "object"}).name`, Want: `len`},
		{Pre: pre, Expr: `ai.tool(1)`, Err: `ai.tool: expected a callable, got int`},
		{Pre: pre, Expr: `ai.tool()`, Err: `ai.tool: expected 1 positional argument (a function), got 0`},
		{Pre: pre, Expr: `ai.tool(f, f)`, Err: `ai.tool: expected 1 positional argument (a function), got 2`},
		{Pre: pre, Expr: `ai.tool(f, name="g")`, Err: `ai.tool: unknown keyword argument: name`},
		{Pre: pre, Expr: `ai.tool(f, params=[])`, Err: `ai.tool: params must be a dict (JSON Schema), got list`},
		{Pre: pre, Expr: `ai.tool(f, description=1)`, Err: `ai.tool: description must be a str, got int`},
		{Pre: pre, Expr: `{t: 1}`, Err: `unhashable type: ai.Tool`},
		{Pre: pre, Expr: `ai.try_tool(1)`, Want: `Result(ok=False, error="ai.tool: expected a callable, got int")`},
		// tools= coercion errors.
		{Pre: pre, Expr: `ai.generate("x", model="ollama/m", tools=[t, len])`, Err: `ai.generate: tools[1]: len (builtin_function_or_method) cannot be auto-inferred; wrap it with ai.tool(fn, description=, params=)`},
		{Pre: pre, Expr: `ai.generate("x", model="ollama/m", tools=[1])`, Err: `ai.generate: tools[0]: expected function or ai.Tool, got int`},
		{Pre: pre, Expr: `ai.generate("x", model="ollama/m", tools=3)`, Err: `ai.generate: tools must be a list of functions or ai.Tool values, got int`},
		{Pre: pre, Expr: `ai.generate("x", model="ollama/m", tools=[f, t])`, Err: `ai.generate: tools[1]: duplicate tool name "f"`},
		{Pre: pre, Expr: `ai.generate("x", model="ollama/m", tools=[v])`, Err: `ai.generate: tools[0]: function v uses *args/**kwargs, which cannot be described as tool parameters; pass params= explicitly`},
	})
}

func TestStructuredOutput(t *testing.T) {
	clearEnv(t)
	s := &scripted{answers: []answer{text("  ```json\n{\"severity\": \"high\", \"n\": 3, \"x\": 1.5, \"l\": [null, true]}\n```\n", 5, 6)}}
	got := s.mustEval(t, `r = ai.generate("classify", model="ollama/m", system="Be brief.", schema={"type": "object", "required": ["severity"]})`,
		`(r.data, type(r.data["n"]), r.text.startswith("  `+"```"+`json"), r.usage.total)`)
	if want := `({"l": [None, True], "n": 3, "severity": "high", "x": 1.5}, "int", True, 11)`; got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	req := s.requests()[0]
	if req.ResponseFormat == nil || req.ResponseFormat.Name != "output" || jsonOf(req.ResponseFormat.Schema) != `{"required":["severity"],"type":"object"}` {
		t.Fatalf("response format %+v", req.ResponseFormat)
	}
	if !strings.HasPrefix(req.System, "Be brief.\n\n") || !strings.Contains(req.System, `JSON Schema: {"required":["severity"],"type":"object"}`) || !strings.Contains(req.System, "single JSON value") {
		t.Fatalf("system %q", req.System)
	}
	// Without a system prompt the instruction is the system prompt.
	s = &scripted{answers: []answer{text(`[1, 2]`, 0, 0)}}
	if got := s.mustEval(t, "", `ai.generate("x", model="ollama/m", schema={"type": "array"}).data`); got != "[1, 2]" {
		t.Fatalf("got %s", got)
	}
	if sys := s.requests()[0].System; !strings.HasPrefix(sys, schemaInstruction) {
		t.Fatalf("system %q", sys)
	}
	// Invalid JSON.
	for _, reply := range []string{"Sure! {\"a\": 1}", "", "{\"a\": 1} trailing", "```json\n{\"a\": \n```"} {
		s = &scripted{answers: []answer{text(reply, 0, 0)}}
		_, msg := s.eval(t, "", `ai.generate("x", model="ollama/m", schema={"type": "object"})`)
		wantErr(t, msg, "ai.generate: parsing structured output: ")
	}
	// schema + tools: the loop runs, then the final text is parsed.
	s = &scripted{answers: []answer{toolCalls(1, 1, tc("a", "add", `{"a": 1}`)), text(`{"ok": true}`, 1, 1)}}
	if got := s.mustEval(t, loopTools, `ai.generate("x", model="ollama/m", tools=[add], schema={"type": "object"}).data`); got != `{"ok": True}` {
		t.Fatalf("got %s", got)
	}
	if reqs := s.requests(); reqs[1].ResponseFormat == nil || len(reqs[1].Tools) != 1 {
		t.Fatalf("second round lost schema or tools: %+v", reqs[1])
	}
}

func TestStripFence(t *testing.T) {
	for in, want := range map[string]string{
		"```json\n{\"a\":1}\n```": `{"a":1}`,
		"```\n[1]\n```":           `[1]`,
		"```JSON {\"a\":1}```":    `{"a":1}`,
		"```{\"a\":1}```":         `{"a":1}`,
		"```true```":              `true`,
		"```\n42\n```":            `42`,
		"{\"a\":1}":               `{"a":1}`,
		"```json\n{}":             "```json\n{}",
	} {
		if got := stripFence(in); got != want {
			t.Errorf("stripFence(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGenerateRequestPath(t *testing.T) {
	clearEnv(t)
	// Model resolution: per call → ai.config default; sampling and stop.
	s := &scripted{answers: []answer{text("a", 0, 0), text("b", 0, 0)}}
	s.mustEval(t, `ai.config(default_model="ollama/dflt")
ai.generate("1", max_tokens=5, top_p=0.5, top_k=2, stop=["X"])`, `ai.generate("2", model="anthropic/c", api_key="k")`)
	reqs := s.requests()
	if reqs[0].Model != "dflt" || *reqs[0].Sampling.MaxTokens != 5 || *reqs[0].Sampling.TopP != 0.5 || *reqs[0].Sampling.TopK != 2 || !reqs[0].Sampling.HasStop || reqs[0].Sampling.Stop[0] != "X" || reqs[0].Sampling.Temperature != nil {
		t.Fatalf("request 0 %+v", reqs[0])
	}
	if reqs[1].Model != "c" || reqs[1].System != "" || reqs[1].Sampling.HasStop {
		t.Fatalf("request 1 %+v", reqs[1])
	}
	if jsonOf(s.builds) != `["ollama","anthropic"]` {
		t.Fatalf("builds %v", s.builds)
	}
	// Per-call timeout bounds each request.
	s = &scripted{block: true, answers: []answer{text("never", 0, 0)}}
	_, msg := s.eval(t, "", `ai.generate("x", model="ollama/m", timeout="50ms")`)
	wantErr(t, msg, "ai.generate: ", "deadline exceeded")
	// Cancelling the run cancels the request.
	s = &scripted{block: true, answers: []answer{text("never", 0, 0)}}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(s.requests()) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	err := s.rt(t, nil).Execute(ctx, `ai.generate("x", model="ollama/m")`)
	wantErr(t, kitetest.ErrMsg(err), "canceled")
}

func TestGeneratePermissionBeforeIO(t *testing.T) {
	clearEnv(t)
	s := &scripted{answers: []answer{text("x", 0, 0)}}
	cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"ai.generate(ollama/*)"}}}
	for _, expr := range []string{
		`ai.generate("x", model="openai/gpt-4o-mini")`,
		`ai.generate("x", model="openai/gpt-4o-mini", stream=True)`,
		`ai.generate("x", model="openai/gpt-4o-mini", schema={}, tools=[lambda: 1])`,
	} {
		_, msg, err := kitetest.Eval(s.rt(t, cfg), "", expr)
		if !libkite.IsPermissionError(err) || !strings.HasPrefix(msg, kitetest.Denied("ai.generate", "generate", "openai/gpt-4o-mini")) {
			t.Fatalf("%s: %q", expr, msg)
		}
	}
	if len(s.requests()) != 0 || len(s.streamRequests()) != 0 || len(s.builds) != 0 {
		t.Fatalf("a denied call reached the provider: %d requests, builds %v", len(s.requests()), s.builds)
	}
	if got, msg, _ := kitetest.Eval(s.rt(t, cfg), "", `ai.generate("x", model="ollama/m").text`); got != "x" {
		t.Fatalf("allowed call: %s (%s)", got, msg)
	}
}

func TestConcurrentGenerateWithTools(t *testing.T) {
	clearEnv(t)
	s := &scripted{answers: []answer{toolCalls(1, 1, tc("a", "add", `{"a": 1}`))}, repeat: true}
	// Every thread's loop gives up after one round: a shared module and
	// provider under concurrent tool loops.
	mod := s.module()
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rt, _ := kitetest.New(t, nil, mod)
			_, msg, _ := kitetest.Eval(rt, loopTools, fmt.Sprintf(`ai.generate("%d", model="ollama/m", tools=[add], max_iterations=1)`, i))
			if !strings.Contains(msg, "max_iterations") {
				t.Errorf("thread %d: %q", i, msg)
			}
		}()
	}
	wg.Wait()
	if n := len(s.requests()); n != 12 {
		t.Fatalf("%d requests, want 12", n)
	}
}

// texter is a stand-in for mcp.Result: a tool result carrying its own text.
type texter struct {
	text  string
	isErr bool
}

func (texter) String() string                          { return "<texter>" }
func (texter) Type() string                            { return "mcp.Result" }
func (texter) Freeze()                                 {}
func (texter) Truth() starlark.Bool                    { return true }
func (texter) Hash() (uint32, error)                   { return 0, errors.New("unhashable") }
func (x texter) ToolText() (text string, isError bool) { return x.text, x.isErr }

// remoteTool is a stand-in for mcp.Tool: a tool.Source whose calls return
// texter results.
type remoteTool struct{}

func (remoteTool) String() string        { return "<mcp.Tool>" }
func (remoteTool) Type() string          { return "mcp.Tool" }
func (remoteTool) Freeze()               {}
func (remoteTool) Truth() starlark.Bool  { return true }
func (remoteTool) Hash() (uint32, error) { return 0, errors.New("unhashable") }
func (remoteTool) KiteTool() *tool.Tool {
	return &tool.Tool{Name: "remote", Description: "Remote lookup.", Schema: map[string]any{"type": "object", "properties": map[string]any{"q": map[string]any{"type": "string"}}},
		Fn: starlark.NewBuiltin("remote", func(_ *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			q := string(kwargs[0][1].(starlark.String))
			return texter{text: "result for " + q, isErr: q == "bad"}, nil
		})}
}

func TestToolSourcesAndTexterResults(t *testing.T) {
	clearEnv(t)
	cfg := &libkite.Config{Globals: map[string]any{"remote": remoteTool{}}}
	s := &scripted{answers: []answer{
		toolCalls(1, 1, tc("a", "remote", `{"q": "good"}`), tc("b", "remote", `{"q": "bad"}`)),
		text("ok", 1, 1),
		toolCalls(1, 1, tc("c", "remote", `{"q": "bad"}`)),
	}}
	rt := s.rt(t, cfg)
	got, msg, _ := kitetest.Eval(rt, `c = ai.chat(model="ollama/m", tools=[remote])
c.send("go")`, `(c.history[1:5], c.try_send("again", on_tool_error="halt").error)`)
	want := `([{"role": "assistant", "tool_name": "remote", "tool_input": {"q": "good"}}, {"role": "tool", "tool_name": "remote", "tool_output": "result for good"}, ` +
		`{"role": "assistant", "tool_name": "remote", "tool_input": {"q": "bad"}}, {"role": "tool", "tool_name": "remote", "tool_error": "result for bad"}], ` +
		`"ai.chat.send: tool \"remote\": result for bad")`
	if msg != "" || got != want {
		t.Fatalf("got  %s (%s)\nwant %s", got, msg, want)
	}
	reqs := s.requests()
	if jsonOf(reqs[0].Tools) != `[{"Name":"remote","Description":"Remote lookup.","Parameters":{"properties":{"q":{"type":"string"}},"type":"object"}}]` {
		t.Fatalf("tools %s", jsonOf(reqs[0].Tools))
	}
	wantMsgs(t, "texter replies", reqs[1].Messages[2:], `tool "result for good" for=a
tool "result for bad" for=b is_error`)
}
