package ai

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/project-starkite/starkite/libkite/kitetest"
	jsonmod "github.com/project-starkite/starkite/libkite/modules/json"
)

// End-to-end: Starlark scripts driving the whole stack — tool loop, chat
// history, structured output, streaming — against loopback servers that
// speak the real wire formats. The provider-level details are in
// wire_test.go, the loop rules with scripted fakes in loop_test.go.

// queue answers successive requests with the scripted handlers in order
// (the last one repeats).
func queue(handlers ...func(http.ResponseWriter, *http.Request)) func(http.ResponseWriter, *http.Request) {
	var mu sync.Mutex
	n := 0
	return func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		h := handlers[min(n, len(handlers)-1)]
		n++
		mu.Unlock()
		h(w, r)
	}
}

func chatToolCalls(calls ...[3]string) string {
	var parts []string
	for _, c := range calls {
		parts = append(parts, fmt.Sprintf(`{"id":%q,"type":"function","function":{"name":%q,"arguments":%q}}`, c[0], c[1], c[2]))
	}
	return `{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[` +
		strings.Join(parts, ",") + `]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}`
}

func chatText(text string, in, out int) string {
	return fmt.Sprintf(`{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":%q},"finish_reason":"stop"}],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`, text, in, out, in+out)
}

const e2eTools = `
calls = []
def pod_restarts(namespace, min_restarts=3):
    """List pods whose containers restarted at least min_restarts times."""
    calls.append((namespace, min_restarts))
    return [{"pod": "api-1", "restarts": min_restarts + 2}]

def restart(pod):
    """Restart a pod."""
    if pod == "db-0":
        fail("refusing to restart the database")
    return "restarted " + pod
`

// TestE2EChatCompletionsToolTurns: three requests over the Chat
// Completions wire — two tool rounds (one with two calls, one failing
// tool fed back) and a final answer — then the history saved as JSON and
// reloaded into a new chat whose next request replays it on the wire.
func TestE2EChatCompletionsToolTurns(t *testing.T) {
	clearEnv(t)
	srv := newFake(t, queue(
		jsonReply(200, chatToolCalls([3]string{"call_a", "pod_restarts", `{"namespace":"shop","min_restarts":1}`}, [3]string{"call_b", "restart", `{"pod":"db-0"}`})),
		jsonReply(200, chatToolCalls([3]string{"call_c", "restart", `{"pod":"api-1"}`})),
		jsonReply(200, chatText("api-1 was crash-looping; restarted it.", 30, 9)),
		jsonReply(200, chatText("still fine", 1, 1)),
	))
	rt, _ := kitetest.New(t, nil, New(), jsonmod.New())
	pre := `ai.config(api_keys={"openai": "sk"}, base_urls={"openai": ` + kitetest.Lit(srv.URL+"/v1") + `})` + e2eTools + `
c = ai.chat(model="openai/gpt-4o-mini", system="terse SRE", tools=[pod_restarts, restart])
r = c.send("anything crash-looping in shop?")
saved = json.encode(c.history)
later = ai.chat(model="openai/gpt-4o-mini", tools=[pod_restarts, restart], history=json.decode(saved))
r2 = later.send("and now?")
`
	got, msg, _ := kitetest.Eval(rt, pre, `(r.text, r.usage.input, r.usage.output, r.usage.total, calls, len(c.history), r2.text)`)
	if msg != "" {
		t.Fatal(msg)
	}
	if want := `("api-1 was crash-looping; restarted it.", 50, 19, 69, [("shop", 1)], 8, "still fine")`; got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	if srv.hits() != 4 {
		t.Fatalf("requests = %d, want 4", srv.hits())
	}
	srv.mu.Lock()
	reqs := append([]seen(nil), srv.reqs...)
	srv.mu.Unlock()
	// request 1: system, user, the tools array
	first := reqs[0].Body
	if first["model"] != "gpt-4o-mini" || jsonOf(first["messages"]) != `[{"content":"terse SRE","role":"system"},{"content":"anything crash-looping in shop?","role":"user"}]` {
		t.Errorf("request 1 = %s", jsonOf(first))
	}
	if tools := jsonOf(first["tools"]); !strings.Contains(tools, `"name":"pod_restarts"`) || !strings.Contains(tools, `"min_restarts":{"default":3,"type":"integer"}`) || !strings.Contains(tools, `"required":["namespace"]`) {
		t.Errorf("tools = %s", tools)
	}
	// request 2: the assistant tool calls, then one tool message per call,
	// the failing one fed back as {"error": ...}
	msgs := reqs[1].Body["messages"].([]any)
	if len(msgs) != 5 {
		t.Fatalf("request 2 has %d messages: %s", len(msgs), jsonOf(msgs))
	}
	if got := jsonOf(msgs[3]); got != `{"content":"[{\"pod\":\"api-1\",\"restarts\":3}]","role":"tool","tool_call_id":"call_a"}` {
		t.Errorf("tool reply a = %s", got)
	}
	if got := jsonOf(msgs[4]); !strings.Contains(got, `"tool_call_id":"call_b"`) || !strings.Contains(got, `{\"error\":`) || !strings.Contains(got, "refusing to restart the database") {
		t.Errorf("tool reply b = %s", got)
	}
	// request 3 carries the second round's call and its reply
	msgs = reqs[2].Body["messages"].([]any)
	if got := jsonOf(msgs[len(msgs)-1]); got != `{"content":"restarted api-1","role":"tool","tool_call_id":"call_c"}` {
		t.Errorf("tool reply c = %s", got)
	}
	// request 4: the reloaded history on the wire — synthetic ids, each
	// tool message answering the nearest unmatched call of its name
	msgs = reqs[3].Body["messages"].([]any)
	wire := jsonOf(msgs)
	for _, want := range []string{
		`{"content":"anything crash-looping in shop?","role":"user"}`,
		`"tool_calls":[{"function":{"arguments":"{\"min_restarts\":1,\"namespace\":\"shop\"}","name":"pod_restarts"},"id":"call_1","type":"function"}]`,
		`{"content":"[{\"pod\":\"api-1\",\"restarts\":3}]","role":"tool","tool_call_id":"call_1"}`,
		`{"content":"api-1 was crash-looping; restarted it.","role":"assistant"}`,
		`{"content":"and now?","role":"user"}`,
	} {
		if !strings.Contains(wire, want) {
			t.Errorf("reloaded history on the wire lacks %s:\n%s", want, wire)
		}
	}
}

// TestE2EMessagesToolTurns: the same agent turn over Anthropic's Messages
// wire: tool_use blocks in, tool_result blocks (is_error for the failure)
// out in one merged user turn, usage summed.
func TestE2EMessagesToolTurns(t *testing.T) {
	clearEnv(t)
	srv := newFake(t, queue(
		jsonReply(200, `{"type":"message","role":"assistant","content":[{"type":"text","text":"checking"},{"type":"tool_use","id":"tu_1","name":"pod_restarts","input":{"namespace":"shop"}},{"type":"tool_use","id":"tu_2","name":"restart","input":{"pod":"db-0"}}],"stop_reason":"tool_use","usage":{"input_tokens":20,"output_tokens":6}}`),
		jsonReply(200, `{"type":"message","role":"assistant","content":[{"type":"text","text":"done"}],"stop_reason":"end_turn","usage":{"input_tokens":40,"output_tokens":2}}`),
	))
	t.Setenv("ANTHROPIC_API_KEY", "ak")
	t.Setenv("ANTHROPIC_BASE_URL", srv.URL)
	got, msg := eval(t, e2eTools, `[ai.generate("check shop", model="anthropic/claude-x", tools=[pod_restarts, restart], max_tokens=100)][0].usage`)
	if msg != "" {
		t.Fatal(msg)
	}
	if got != "ai.Usage(input=60, output=8)" {
		t.Errorf("usage = %s", got)
	}
	srv.mu.Lock()
	second := srv.reqs[1]
	srv.mu.Unlock()
	if second.Path != "/v1/messages" || second.Header.Get("x-api-key") != "ak" {
		t.Errorf("path %s, x-api-key %q", second.Path, second.Header.Get("x-api-key"))
	}
	msgs := jsonOf(second.Body["messages"])
	for _, want := range []string{
		`{"content":"check shop","role":"user"}`,
		`{"id":"tu_1","input":{"namespace":"shop"},"name":"pod_restarts","type":"tool_use"}`,
		`{"content":"[{\"pod\":\"api-1\",\"restarts\":5}]","tool_use_id":"tu_1","type":"tool_result"}`,
		`"is_error":true`,
		`"tool_use_id":"tu_2"`,
	} {
		if !strings.Contains(msgs, want) {
			t.Errorf("second request lacks %s:\n%s", want, msgs)
		}
	}
	// alternation: user, assistant, user (both tool results in one turn)
	if n := strings.Count(msgs, `"role":`); n != 3 {
		t.Errorf("second request has %d turns, want 3: %s", n, msgs)
	}
}

// TestE2EStructuredOutput: schema= on the wire, a fenced JSON reply
// decoded into .data.
func TestE2EStructuredOutput(t *testing.T) {
	clearEnv(t)
	srv := newFake(t, jsonReply(200, chatText("```json\n{\"severity\": \"high\", \"services\": [\"api\", \"db\"], \"count\": 2}\n```", 5, 5)))
	t.Setenv("OLLAMA_HOST", srv.URL)
	got := mustEval(t, `s = {"type": "object", "properties": {"severity": {"type": "string", "enum": ["low", "high"]}, "services": {"type": "array", "items": {"type": "string"}}}, "required": ["severity", "services"]}
r = ai.generate("classify", model="ollama/llama3.2", schema=s)`, `(r.data["severity"], r.data["services"], r.data["count"], r.text.startswith("`+"```"+`"))`)
	if got != `("high", ["api", "db"], 2, True)` {
		t.Errorf("got %s", got)
	}
	body := srv.last(t).Body
	if rf := jsonOf(body["response_format"]); !strings.Contains(rf, `"type":"json_schema"`) || !strings.Contains(rf, `"name":"output"`) || !strings.Contains(rf, `"enum":["low","high"]`) {
		t.Errorf("response_format = %s", rf)
	}
	if sys := jsonOf(body["messages"]); !strings.Contains(sys, `"role":"system"`) || !strings.Contains(sys, "JSON") {
		t.Errorf("no structured-output instruction in the system prompt: %s", sys)
	}
}

// sseServer writes frames, flushing after each; drop cuts the connection
// after the frames instead of ending cleanly.
func sseServer(frames []string, drop bool) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		for _, f := range frames {
			io.WriteString(w, f+"\n\n")
			fl.Flush()
		}
		if drop {
			panic(http.ErrAbortHandler)
		}
	}
}

// TestE2EStreaming: stream=True over both SSE dialects, a chat stream
// committing its text to history, and a connection dropped mid-stream
// reported through .error with the partial text kept.
func TestE2EStreaming(t *testing.T) {
	clearEnv(t)
	chatFrames := []string{
		`data: {"id":"s","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Lim"}}]}`,
		`data: {"id":"s","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"erick "}}]}`,
		`data: {"id":"s","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"of etcd"},"finish_reason":"stop"}]}`,
		`data: {"id":"s","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12}}`,
		`data: [DONE]`,
	}
	srv := newFake(t, sseServer(chatFrames, false))
	t.Setenv("OLLAMA_HOST", srv.URL)
	got := mustEval(t, `s = ai.generate("limerick", model="ollama/llama3.2", stream=True)
parts = [str(p) for p in s]
again = [p for p in s]`, `(parts, s.error, s.usage, again, s.model)`)
	if got != `(["Lim", "erick ", "of etcd"], "", ai.Usage(input=9, output=3), [], "ollama/llama3.2")` {
		t.Errorf("chat completions stream: %s", got)
	}
	if b := srv.last(t).Body; b["stream"] != true || jsonOf(b["stream_options"]) != `{"include_usage":true}` {
		t.Errorf("stream request = %s", jsonOf(b))
	}

	msgFrames := []string{
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":12,\"output_tokens\":1}}}",
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}",
		"event: ping\ndata: {\"type\":\"ping\"}",
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Bon\"}}",
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"jour\"}}",
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":4}}",
		"event: message_stop\ndata: {\"type\":\"message_stop\"}",
	}
	msrv := newFake(t, sseServer(msgFrames, false))
	t.Setenv("ANTHROPIC_API_KEY", "ak")
	t.Setenv("ANTHROPIC_BASE_URL", msrv.URL)
	got = mustEval(t, `c = ai.chat(model="anthropic/claude-x")
s = c.send("hi", stream=True)
text = "".join([p.text for p in s])`, `(type(s), text, s.usage, c.history)`)
	if got != `("ai.ChatStream", "Bonjour", ai.Usage(input=12, output=4), [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Bonjour"}])` {
		t.Errorf("messages chat stream: %s", got)
	}

	dropped := newFake(t, sseServer(chatFrames[:2], true))
	t.Setenv("OLLAMA_HOST", dropped.URL)
	got = mustEval(t, `c = ai.chat(model="ollama/llama3.2")
s = c.send("go", stream=True)
text = "".join([p.text for p in s])`, `(text, s.error != "", c.history[-1]["content"].startswith("Limerick  [error: "))`)
	if got != `("Limerick ", True, True)` {
		t.Errorf("dropped stream: %s", got)
	}
}

// TestE2ERateLimitedTurn: a 429 in the middle of a tool loop fails the
// send with the Retry-After delay; history keeps the user message and an
// [error: ...] entry (tool entries are recorded for successful turns only,
// §9.2).
func TestE2ERateLimitedTurn(t *testing.T) {
	clearEnv(t)
	srv := newFake(t, queue(
		jsonReply(200, chatToolCalls([3]string{"x1", "pod_restarts", `{"namespace":"a"}`})),
		func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "7")
			jsonReply(429, `{"error":{"message":"slow down","type":"rate_limit"}}`)(w, nil)
		},
	))
	t.Setenv("OLLAMA_HOST", srv.URL)
	got, msg := eval(t, e2eTools+`
c = ai.chat(model="ollama/m", tools=[pod_restarts])
r = c.try_send("go")`, `(r.ok, r.error, [e.get("tool_name", e.get("content")) for e in c.history])`)
	if msg != "" {
		t.Fatal(msg)
	}
	for _, want := range []string{"False", "ai.chat.send: ", "HTTP 429", "slow down", "retry after 7s", `["go", "[error: ollama: HTTP 429`} {
		if !strings.Contains(got, want) {
			t.Errorf("result %s lacks %q", got, want)
		}
	}
}
