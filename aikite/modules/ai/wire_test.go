package ai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Wire tests: the providers against real loopback HTTP servers, called
// through the Provider interface with hand-built Requests.

// wireClearEnv unsets every variable the providers read.
func wireClearEnv(t *testing.T) {
	t.Helper()
	for _, k := range []string{"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "OLLAMA_HOST"} {
		t.Setenv(k, "")
	}
}

// wireSeen is one request a wireServer received.
type wireSeen struct {
	Path   string
	Header http.Header
	Raw    []byte
	Body   map[string]json.RawMessage
}

// wireServer is a loopback server recording requests and answering each
// with the next handler of a queue (the last one repeats).
type wireServer struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []wireSeen
	replies []http.HandlerFunc
}

func newWireServer(t *testing.T, replies ...http.HandlerFunc) *wireServer {
	t.Helper()
	s := &wireServer{replies: replies}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]json.RawMessage
		_ = json.Unmarshal(raw, &body)
		s.mu.Lock()
		n := len(s.reqs)
		s.reqs = append(s.reqs, wireSeen{Path: r.URL.Path, Header: r.Header.Clone(), Raw: raw, Body: body})
		h := s.replies[min(n, len(s.replies)-1)]
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *wireServer) seen(t *testing.T, i int) wireSeen {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if i >= len(s.reqs) {
		t.Fatalf("server got %d requests, want request #%d", len(s.reqs), i+1)
	}
	return s.reqs[i]
}

func (s *wireServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

func wireJSON(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// canon re-encodes JSON with sorted keys and no spaces.
func canon(t *testing.T, raw []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("invalid JSON %q: %v", raw, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// wantField asserts body[key] decodes to the JSON want (compared canonically).
func wantField(t *testing.T, body map[string]json.RawMessage, key, want string) {
	t.Helper()
	raw, ok := body[key]
	if !ok {
		t.Errorf("%s: absent, want %s", key, want)
		return
	}
	if got, w := canon(t, raw), canon(t, []byte(want)); got != w {
		t.Errorf("%s =\n  %s\nwant\n  %s", key, got, w)
	}
}

func chatProviderFor(t *testing.T, url string) Provider {
	t.Helper()
	wireClearEnv(t)
	p, err := newProvider(resolve(providers["openai"], settings{}, "sk-wire", url+"/v1"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func messagesProviderFor(t *testing.T, url string) Provider {
	t.Helper()
	wireClearEnv(t)
	p, err := newProvider(resolve(providers["anthropic"], settings{}, "ak-wire", url))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func f64(v float64) *float64 { return &v }
func intp(v int) *int        { return &v }

var lookupSchema = map[string]any{"type": "object",
	"properties": map[string]any{"namespace": map[string]any{"type": "string"}},
	"required":   []any{"namespace"}}

// toolTranscript is a history with a two-call tool round: the assistant
// asks for two tools, both reply (the second with a feedback error), the
// assistant answers, and the user follows up.
func toolTranscript() []Message {
	return []Message{
		{Role: "user", Content: "check the cluster"},
		{Role: "assistant", ToolCalls: []ToolCall{
			{ID: "call_a", Name: "pods", Arguments: `{"namespace": "default"}`},
			{ID: "call_b", Name: "nodes", Arguments: `{}`},
		}},
		{Role: "tool", ToolCallID: "call_a", Content: `["web-1","web-2"]`},
		{Role: "tool", ToolCallID: "call_b", Content: `{"error": "forbidden"}`, IsError: true},
		{Role: "assistant", Content: "Two pods; nodes are not visible."},
		{Role: "user", Content: "thanks"},
	}
}

var wireTools = []ToolSpec{
	{Name: "pods", Description: "List pods", Parameters: lookupSchema},
	{Name: "nodes"}, // no description, no schema
}

func TestWireChatToolsRequest(t *testing.T) {
	srv := newWireServer(t, wireJSON(200, `{"choices":[{"index":0,"message":{"role":"assistant","content":null,
		"tool_calls":[{"id":"call_1","type":"function","function":{"name":"pods","arguments":"{\"namespace\":\"kube-system\"}"}},
		              {"id":"call_2","type":"function","function":{"name":"nodes","arguments":"{}"}}]},
		"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":30,"completion_tokens":12}}`))
	p := chatProviderFor(t, srv.URL)
	rep, err := p.Complete(context.Background(), &Request{
		Model: "gpt-4o-mini", System: "Be terse.", Messages: toolTranscript(), Tools: wireTools,
		ResponseFormat: &ResponseFormat{Name: "output", Schema: map[string]any{"type": "object"}},
		Sampling:       Sampling{Temperature: f64(0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := srv.seen(t, 0)
	if s.Path != "/v1/chat/completions" || s.Header.Get("Authorization") != "Bearer sk-wire" {
		t.Errorf("path %q Authorization %q", s.Path, s.Header.Get("Authorization"))
	}
	wantField(t, s.Body, "model", `"gpt-4o-mini"`)
	wantField(t, s.Body, "messages", `[
		{"role":"system","content":"Be terse."},
		{"role":"user","content":"check the cluster"},
		{"role":"assistant","tool_calls":[
			{"id":"call_a","type":"function","function":{"name":"pods","arguments":"{\"namespace\": \"default\"}"}},
			{"id":"call_b","type":"function","function":{"name":"nodes","arguments":"{}"}}]},
		{"role":"tool","tool_call_id":"call_a","content":"[\"web-1\",\"web-2\"]"},
		{"role":"tool","tool_call_id":"call_b","content":"{\"error\": \"forbidden\"}"},
		{"role":"assistant","content":"Two pods; nodes are not visible."},
		{"role":"user","content":"thanks"}]`)
	wantField(t, s.Body, "tools", `[
		{"type":"function","function":{"name":"pods","description":"List pods","parameters":`+jsonOf(lookupSchema)+`}},
		{"type":"function","function":{"name":"nodes","parameters":{"type":"object","properties":{}}}}]`)
	wantField(t, s.Body, "response_format", `{"type":"json_schema","json_schema":{"name":"output","schema":{"type":"object"}}}`)
	wantField(t, s.Body, "temperature", `0`)
	for _, k := range []string{"stream", "stream_options"} {
		if v, ok := s.Body[k]; ok && string(v) != "false" {
			t.Errorf("%s = %s on a non-streamed request", k, v)
		}
	}

	want := []ToolCall{{ID: "call_1", Name: "pods", Arguments: `{"namespace":"kube-system"}`}, {ID: "call_2", Name: "nodes", Arguments: `{}`}}
	if jsonOf(rep.ToolCalls) != jsonOf(want) {
		t.Errorf("tool calls %s, want %s", jsonOf(rep.ToolCalls), jsonOf(want))
	}
	if rep.Text != "" || rep.FinishReason != "tool_calls" || rep.InputTokens != 30 || rep.OutputTokens != 12 {
		t.Errorf("reply %+v", rep)
	}
}

func TestWireChatNoToolsOmitsFields(t *testing.T) {
	srv := newWireServer(t, wireJSON(200, `{"choices":[{"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}`))
	p := chatProviderFor(t, srv.URL)
	rep, err := p.Complete(context.Background(), &Request{Model: "m", Messages: []Message{{Role: "user", Content: ""}}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Text != "hi" || len(rep.ToolCalls) != 0 {
		t.Errorf("reply %+v", rep)
	}
	s := srv.seen(t, 0)
	for _, k := range []string{"tools", "response_format", "temperature", "max_tokens", "top_p", "stop", "stream_options"} {
		if _, ok := s.Body[k]; ok {
			t.Errorf("%s sent: %s", k, s.Body[k])
		}
	}
	// An empty user message keeps its (empty) content.
	wantField(t, s.Body, "messages", `[{"role":"user","content":""}]`)
}

func TestWireChatToolReplyQuirks(t *testing.T) {
	// Servers omitting ids or arguments: ids are synthesised per position,
	// empty arguments read as {}; text next to tool calls is kept.
	srv := newWireServer(t, wireJSON(200, `{"choices":[{"message":{"role":"assistant","content":"Let me look.",
		"tool_calls":[{"type":"function","function":{"name":"a","arguments":""}},{"id":"x9","type":"function","function":{"name":"b","arguments":"{\"n\":1}"}}]}}]}`))
	rep, err := chatProviderFor(t, srv.URL).Complete(context.Background(), &Request{Model: "m", Messages: []Message{{Role: "user", Content: "q"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []ToolCall{{ID: "call_0", Name: "a", Arguments: "{}"}, {ID: "x9", Name: "b", Arguments: `{"n":1}`}}
	if rep.Text != "Let me look." || jsonOf(rep.ToolCalls) != jsonOf(want) {
		t.Errorf("reply text %q calls %s", rep.Text, jsonOf(rep.ToolCalls))
	}
}

func TestWireChatMalformed(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"no choices", `{"choices":[]}`, "openai: malformed response: no choices"},
		{"truncated", `{"choices":[{"message":`, "openai: malformed response"},
		{"not json", `<html>gateway</html>`, "openai: malformed response"},
		{"empty tool name", `{"choices":[{"message":{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"","arguments":"{}"}}]}}]}`,
			"openai: malformed response: tool call 0 has no function name"},
		{"arguments not a string", `{"choices":[{"message":{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":{"a":1}}}]}}]}`,
			"openai: malformed response"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newWireServer(t, wireJSON(200, c.body))
			_, err := chatProviderFor(t, srv.URL).Complete(context.Background(), &Request{Model: "m", Messages: []Message{{Role: "user", Content: "q"}}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestWireMessagesToolsRequest(t *testing.T) {
	srv := newWireServer(t, wireJSON(200, `{"type":"message","role":"assistant","content":[
		{"type":"text","text":"Checking"},
		{"type":"tool_use","id":"toolu_1","name":"pods","input":{ "namespace" : "kube-system" }},
		{"type":"text","text":" both."},
		{"type":"tool_use","id":"toolu_2","name":"nodes","input":{}}],
		"stop_reason":"tool_use","usage":{"input_tokens":40,"output_tokens":20}}`))
	p := messagesProviderFor(t, srv.URL)
	msgs := append(toolTranscript()[:4:4],
		Message{Role: "user", Content: "also: be brief"}, // merges into the tool_result turn
		Message{Role: "assistant", Content: "Two pods."},
		Message{Role: "assistant", Content: "Done.", ToolCalls: []ToolCall{{ID: "call_c", Name: "pods", Arguments: ` {"namespace":"x"} `}}},
		Message{Role: "tool", ToolCallID: "call_c", Content: ""},
	)
	rep, err := p.Complete(context.Background(), &Request{Model: "claude-x", System: "Be terse.", Messages: msgs, Tools: wireTools,
		ResponseFormat: &ResponseFormat{Name: "output", Schema: map[string]any{"type": "object"}}})
	if err != nil {
		t.Fatal(err)
	}
	s := srv.seen(t, 0)
	if s.Path != "/v1/messages" || s.Header.Get("x-api-key") != "ak-wire" || s.Header.Get("anthropic-version") != "2023-06-01" {
		t.Errorf("path %q x-api-key %q version %q", s.Path, s.Header.Get("x-api-key"), s.Header.Get("anthropic-version"))
	}
	wantField(t, s.Body, "system", `"Be terse."`)
	wantField(t, s.Body, "max_tokens", `4096`)
	wantField(t, s.Body, "messages", `[
		{"role":"user","content":"check the cluster"},
		{"role":"assistant","content":[
			{"type":"tool_use","id":"call_a","name":"pods","input":{"namespace":"default"}},
			{"type":"tool_use","id":"call_b","name":"nodes","input":{}}]},
		{"role":"user","content":[
			{"type":"tool_result","tool_use_id":"call_a","content":"[\"web-1\",\"web-2\"]"},
			{"type":"tool_result","tool_use_id":"call_b","content":"{\"error\": \"forbidden\"}","is_error":true},
			{"type":"text","text":"also: be brief"}]},
		{"role":"assistant","content":[
			{"type":"text","text":"Two pods."},
			{"type":"text","text":"Done."},
			{"type":"tool_use","id":"call_c","name":"pods","input":{"namespace":"x"}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_c","content":""}]}]`)
	wantField(t, s.Body, "tools", `[
		{"name":"pods","description":"List pods","input_schema":`+jsonOf(lookupSchema)+`},
		{"name":"nodes","input_schema":{"type":"object","properties":{}}}]`)
	// The exact input encoding is kept (compacted), not re-ordered.
	if !strings.Contains(string(s.Raw), `"input":{"namespace":"default"}`) {
		t.Errorf("tool_use input not compact JSON: %s", s.Raw)
	}
	for _, k := range []string{"response_format", "stream", "temperature"} {
		if _, ok := s.Body[k]; ok {
			t.Errorf("%s sent on the Messages wire", k)
		}
	}

	want := []ToolCall{{ID: "toolu_1", Name: "pods", Arguments: `{"namespace":"kube-system"}`}, {ID: "toolu_2", Name: "nodes", Arguments: `{}`}}
	if jsonOf(rep.ToolCalls) != jsonOf(want) {
		t.Errorf("tool calls %s, want %s", jsonOf(rep.ToolCalls), jsonOf(want))
	}
	if rep.Text != "Checking both." || rep.FinishReason != "tool_use" || rep.InputTokens != 40 || rep.OutputTokens != 20 {
		t.Errorf("reply %+v", rep)
	}
}

func TestWireMessagesBadToolArguments(t *testing.T) {
	srv := newWireServer(t, wireJSON(200, `{"content":[{"type":"text","text":"x"}]}`))
	p := messagesProviderFor(t, srv.URL)
	for _, args := range []string{`{"a":`, `[1,2]`, `"s"`, `null`} {
		_, err := p.Complete(context.Background(), &Request{Model: "c", Messages: []Message{
			{Role: "user", Content: "q"},
			{Role: "assistant", ToolCalls: []ToolCall{{ID: "t1", Name: "f", Arguments: args}}},
			{Role: "tool", ToolCallID: "t1", Content: "r"},
		}})
		if err == nil || !strings.Contains(err.Error(), `anthropic: tool call "t1" (f): arguments are not a JSON object`) {
			t.Errorf("arguments %s: err = %v", args, err)
		}
	}
	if n := srv.count(); n != 0 {
		t.Errorf("invalid arguments still sent %d requests", n)
	}
}

func TestWireMessagesMalformed(t *testing.T) {
	cases := []struct{ name, body, want string }{
		{"truncated", `{"content":[`, "anthropic: malformed response"},
		{"tool_use without name", `{"content":[{"type":"tool_use","id":"t","input":{}}]}`, "anthropic: malformed response: tool_use block 0 has no name"},
		{"content not a list", `{"content":"text"}`, "anthropic: malformed response"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newWireServer(t, wireJSON(200, c.body))
			_, err := messagesProviderFor(t, srv.URL).Complete(context.Background(), &Request{Model: "c", Messages: []Message{{Role: "user", Content: "q"}}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// sseFrames answers with text/event-stream frames, flushing after each and
// waiting for the client's ack after frames whose index is in ackAfter (so
// the test proves frames arrive one by one). end decides how the answer
// ends: "" = normally, "abort" = connection dropped.
func sseFrames(frames []string, ackAfter map[int]bool, ack <-chan struct{}, end string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		fl := w.(http.Flusher)
		for i, f := range frames {
			io.WriteString(w, f)
			fl.Flush()
			if ackAfter[i] {
				select {
				case <-ack:
				case <-r.Context().Done():
					return
				case <-time.After(10 * time.Second):
					return
				}
			}
		}
		if end == "abort" {
			panic(http.ErrAbortHandler) // close the connection mid-body
		}
	}
}

func chatChunk(content string) string {
	return fmt.Sprintf("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q},\"finish_reason\":null}],\"usage\":null}\n\n", content)
}

// recvAll reads a stream to its end, returning the pieces and the final error.
func recvAll(t *testing.T, s StreamReader) ([]string, error) {
	t.Helper()
	var pieces []string
	for i := 0; i < 1000; i++ {
		text, err := s.Recv()
		if err != nil {
			return pieces, err
		}
		if text != "" {
			pieces = append(pieces, text)
		}
	}
	t.Fatal("stream never ended")
	return nil, nil
}

func TestWireChatStream(t *testing.T) {
	ack := make(chan struct{}, 1)
	frames := []string{
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
		chatChunk("Hel"),
		": keep-alive comment\n\n" + chatChunk("lo, "),
		chatChunk("wörld"),
		"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
		"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12}}\n\n",
		"data: [DONE]\n\n",
	}
	srv := newWireServer(t, sseFrames(frames, map[int]bool{1: true, 2: true, 3: true}, ack, ""))
	p := chatProviderFor(t, srv.URL)
	st, err := p.Stream(context.Background(), &Request{Model: "m", System: "S", Messages: []Message{{Role: "user", Content: "hi"}},
		Stream: true, Sampling: Sampling{Temperature: f64(0), MaxTokens: intp(64), HasStop: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var pieces []string
	for _, want := range []string{"Hel", "lo, ", "wörld"} {
		got, err := st.Recv()
		if err != nil || got != want {
			t.Fatalf("Recv = %q, %v; want %q", got, err, want)
		}
		if in, out := st.Usage(); in != 0 || out != 0 {
			t.Errorf("usage before the end = %d/%d", in, out)
		}
		pieces = append(pieces, got)
		ack <- struct{}{} // only now does the server send the next frame
	}
	if _, err := st.Recv(); err != io.EOF {
		t.Fatalf("final Recv err = %v, want io.EOF", err)
	}
	if _, err := st.Recv(); err != io.EOF {
		t.Errorf("Recv after the end = %v, want io.EOF again", err)
	}
	if strings.Join(pieces, "") != "Hello, wörld" {
		t.Errorf("text %q", strings.Join(pieces, ""))
	}
	if in, out := st.Usage(); in != 9 || out != 3 {
		t.Errorf("usage %d/%d, want 9/3", in, out)
	}
	if err := st.Close(); err != nil {
		t.Errorf("Close after the end: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	s := srv.seen(t, 0)
	if s.Path != "/v1/chat/completions" || s.Header.Get("Accept") != "text/event-stream" {
		t.Errorf("path %q Accept %q", s.Path, s.Header.Get("Accept"))
	}
	wantField(t, s.Body, "stream", `true`)
	wantField(t, s.Body, "stream_options", `{"include_usage":true}`)
	wantField(t, s.Body, "temperature", `0`)
	wantField(t, s.Body, "max_tokens", `64`)
	wantField(t, s.Body, "stop", `[]`)
	wantField(t, s.Body, "messages", `[{"role":"system","content":"S"},{"role":"user","content":"hi"}]`)
}

func TestWireChatStreamDropped(t *testing.T) {
	srv := newWireServer(t, sseFrames([]string{chatChunk("partial "), chatChunk("text")}, nil, nil, "abort"))
	st, err := chatProviderFor(t, srv.URL).Stream(context.Background(), &Request{Model: "m", Messages: []Message{{Role: "user", Content: "q"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pieces, err := recvAll(t, st)
	if strings.Join(pieces, "") != "partial text" {
		t.Errorf("partial text %q", strings.Join(pieces, ""))
	}
	if err == nil || err == io.EOF || !strings.Contains(err.Error(), "openai: stream interrupted") {
		t.Fatalf("err = %v, want a non-EOF interruption", err)
	}
	if _, err2 := st.Recv(); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("Recv after the failure = %v, want the same error", err2)
	}
}

func TestWireChatStreamEndings(t *testing.T) {
	cases := []struct {
		name   string
		frames []string
		text   string
		want   string
	}{
		{"no DONE", []string{chatChunk("a"), "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"}, "a",
			"openai: stream ended unexpectedly"},
		{"error frame", []string{chatChunk("a"), "data: {\"error\":{\"message\":\"model overloaded\",\"type\":\"server_error\"}}\n\n"}, "a",
			"model overloaded"},
		{"malformed frame", []string{chatChunk("a"), "data: {\"choices\":[{\"delta\":{\"content\":\n\n"}, "a",
			"openai: malformed stream frame"},
		{"tool call delta", []string{"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c\",\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}}]}\n\n", "data: [DONE]\n\n"}, "",
			"openai: the model asked for a tool call"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newWireServer(t, sseFrames(c.frames, nil, nil, ""))
			st, err := chatProviderFor(t, srv.URL).Stream(context.Background(), &Request{Model: "m", Messages: []Message{{Role: "user", Content: "q"}}})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			pieces, err := recvAll(t, st)
			if strings.Join(pieces, "") != c.text {
				t.Errorf("text %q, want %q", strings.Join(pieces, ""), c.text)
			}
			if err == nil || err == io.EOF || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestWireStreamStartErrors(t *testing.T) {
	rateLimited := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			wireJSON(429, body)(w, r)
		}
	}
	cases := []struct {
		name  string
		prov  func(*testing.T, string) Provider
		reply http.HandlerFunc
		want  string
	}{
		{"openai 429", chatProviderFor, rateLimited(`{"error":{"message":"Rate limit reached","type":"rate_limit_exceeded"}}`),
			"openai: HTTP 429 Too Many Requests: Rate limit reached (rate limited; retry after 7s)"},
		{"openai 502 text", chatProviderFor, wireJSON(502, "upstream gone"), "openai: HTTP 502 Bad Gateway: upstream gone"},
		{"anthropic 429", messagesProviderFor, rateLimited(`{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests exceeded"}}`),
			"anthropic: HTTP 429 Too Many Requests: Number of requests exceeded (rate_limit_error) (rate limited; retry after 7s)"},
		{"anthropic 401", messagesProviderFor, wireJSON(401, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`),
			"anthropic: HTTP 401 Unauthorized: invalid x-api-key (authentication_error)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newWireServer(t, c.reply)
			st, err := c.prov(t, srv.URL).Stream(context.Background(), &Request{Model: "m", Messages: []Message{{Role: "user", Content: "q"}}})
			if st != nil {
				t.Fatalf("got a stream despite the failure")
			}
			var he *httpError
			if !errors.As(err, &he) || err.Error() != c.want {
				t.Fatalf("err = %v (%T), want httpError %q", err, err, c.want)
			}
			// Complete words the same failure identically.
			_, err = c.prov(t, srv.URL).Complete(context.Background(), &Request{Model: "m", Messages: []Message{{Role: "user", Content: "q"}}})
			if err == nil || err.Error() != c.want {
				t.Errorf("Complete err = %v, want %q", err, c.want)
			}
		})
	}
}

func msgEvent(name, data string) string { return "event: " + name + "\ndata: " + data + "\n\n" }

func textDelta(text string) string {
	return msgEvent("content_block_delta", fmt.Sprintf(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":%q}}`, text))
}

var messagesHead = []string{
	msgEvent("message_start", `{"type":"message_start","message":{"id":"m","type":"message","role":"assistant","content":[],"usage":{"input_tokens":25,"output_tokens":1}}}`),
	msgEvent("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`),
	msgEvent("ping", `{"type": "ping"}`),
}

func TestWireMessagesStream(t *testing.T) {
	ack := make(chan struct{}, 1)
	frames := append(append([]string{}, messagesHead...),
		textDelta("Bon"),
		textDelta("jour"),
		msgEvent("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}`)+textDelta(" à tous"),
		msgEvent("content_block_stop", `{"type":"content_block_stop","index":0}`),
		msgEvent("message_delta", `{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}`),
		msgEvent("message_stop", `{"type":"message_stop"}`),
	)
	srv := newWireServer(t, sseFrames(frames, map[int]bool{3: true, 4: true, 5: true}, ack, ""))
	st, err := messagesProviderFor(t, srv.URL).Stream(context.Background(), &Request{Model: "claude-x", Messages: []Message{{Role: "user", Content: "hi"}},
		Stream: true, Sampling: Sampling{Temperature: f64(0), TopK: intp(3)}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var pieces []string
	for _, want := range []string{"Bon", "jour", " à tous"} {
		got, err := st.Recv()
		if err != nil || got != want {
			t.Fatalf("Recv = %q, %v; want %q", got, err, want)
		}
		pieces = append(pieces, got)
		ack <- struct{}{}
	}
	if in, _ := st.Usage(); in != 25 {
		t.Errorf("input tokens after message_start = %d, want 25", in)
	}
	if _, err := st.Recv(); err != io.EOF {
		t.Fatalf("final Recv err = %v, want io.EOF", err)
	}
	if _, err := st.Recv(); err != io.EOF {
		t.Errorf("Recv after the end = %v, want io.EOF", err)
	}
	if strings.Join(pieces, "") != "Bonjour à tous" {
		t.Errorf("text %q", strings.Join(pieces, ""))
	}
	if in, out := st.Usage(); in != 25 || out != 15 {
		t.Errorf("usage %d/%d, want 25/15", in, out)
	}
	s := srv.seen(t, 0)
	if s.Header.Get("Accept") != "text/event-stream" || s.Header.Get("x-api-key") != "ak-wire" {
		t.Errorf("Accept %q x-api-key %q", s.Header.Get("Accept"), s.Header.Get("x-api-key"))
	}
	wantField(t, s.Body, "stream", `true`)
	wantField(t, s.Body, "max_tokens", `4096`)
	wantField(t, s.Body, "temperature", `0`)
	wantField(t, s.Body, "top_k", `3`)
	wantField(t, s.Body, "messages", `[{"role":"user","content":"hi"}]`)
}

func TestWireMessagesStreamEndings(t *testing.T) {
	cases := []struct {
		name   string
		frames []string
		end    string
		want   string
	}{
		{"dropped", []string{textDelta("part")}, "abort", "anthropic: stream interrupted"},
		{"no message_stop", []string{textDelta("part")}, "", "anthropic: stream ended unexpectedly"},
		{"error event", []string{textDelta("part"), msgEvent("error", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)}, "",
			"anthropic: stream error: Overloaded (overloaded_error)"},
		{"malformed event", []string{textDelta("part"), msgEvent("content_block_delta", `{"type":`)}, "", "anthropic: malformed stream event"},
		{"tool use", []string{textDelta("part"), msgEvent("content_block_start", `{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}`)}, "",
			"anthropic: the model asked for a tool call"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newWireServer(t, sseFrames(append(append([]string{}, messagesHead...), c.frames...), nil, nil, c.end))
			st, err := messagesProviderFor(t, srv.URL).Stream(context.Background(), &Request{Model: "c", Messages: []Message{{Role: "user", Content: "q"}}})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			pieces, err := recvAll(t, st)
			if strings.Join(pieces, "") != "part" {
				t.Errorf("text %q, want the partial text", strings.Join(pieces, ""))
			}
			if err == nil || err == io.EOF || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if in, _ := st.Usage(); in != 25 {
				t.Errorf("input tokens %d, want 25 from message_start", in)
			}
		})
	}
}

// hangAfter writes frames, then holds the connection open until the client
// goes away, reporting that on gone.
func hangAfter(frames []string, gone chan<- struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, f := range frames {
			io.WriteString(w, f)
		}
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			gone <- struct{}{}
		case <-time.After(20 * time.Second):
		}
	}
}

func TestWireStreamCloseAndCancel(t *testing.T) {
	type wire struct {
		name   string
		prov   func(*testing.T, string) Provider
		frames []string
	}
	wires := []wire{
		{"openai", chatProviderFor, []string{chatChunk("first")}},
		{"anthropic", messagesProviderFor, append(append([]string{}, messagesHead...), textDelta("first"))},
	}
	for _, w := range wires {
		for _, how := range []string{"close", "cancel"} {
			t.Run(w.name+" "+how, func(t *testing.T) {
				gone := make(chan struct{}, 1)
				srv := newWireServer(t, hangAfter(w.frames, gone))
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				st, err := w.prov(t, srv.URL).Stream(ctx, &Request{Model: "m", Messages: []Message{{Role: "user", Content: "q"}}})
				if err != nil {
					t.Fatal(err)
				}
				if got, err := st.Recv(); got != "first" || err != nil {
					t.Fatalf("Recv = %q, %v", got, err)
				}
				done := make(chan error, 1)
				start := time.Now()
				if how == "close" {
					go func() { done <- st.Close() }()
					select {
					case <-done:
					case <-time.After(5 * time.Second):
						t.Fatal("Close hung on an unfinished stream")
					}
					if _, err := st.Recv(); err == nil || err == io.EOF {
						t.Errorf("Recv after Close = %v, want an error", err)
					}
				} else {
					// A blocked Recv returns once the context is cancelled.
					go func() { _, err := st.Recv(); done <- err }()
					time.Sleep(50 * time.Millisecond)
					cancel()
					select {
					case err := <-done:
						if err == nil || err == io.EOF || !strings.Contains(err.Error(), "canceled") {
							t.Errorf("Recv after cancel = %v, want a cancellation error", err)
						}
					case <-time.After(5 * time.Second):
						t.Fatal("Recv hung after the context was cancelled")
					}
					st.Close()
				}
				select {
				case <-gone:
				case <-time.After(5 * time.Second):
					t.Fatal("the server never saw the client go away")
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("took %s", d)
				}
			})
		}
	}
}

func TestWireSSEReader(t *testing.T) {
	in := ": comment\r\nevent: a\r\ndata: one\r\ndata:two\r\n\r\nevent: lonely\n\n\ndata: {\"x\":1}\nid: 7\n\nevent: cut\ndata: never dispatched"
	r := newSSEReader(strings.NewReader(in))
	var got []string
	for {
		ev, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.name+"|"+ev.data)
	}
	if want := []string{"a|one\ntwo", "|{\"x\":1}"}; jsonOf(got) != jsonOf(want) {
		t.Errorf("events %q, want %q", got, want)
	}
	// A line longer than bufio's default 64 KiB is fine.
	long := strings.Repeat("x", 300<<10)
	ev, err := newSSEReader(strings.NewReader("data: " + long + "\n\n")).next()
	if err != nil || ev.data != long {
		t.Errorf("long line: len %d, err %v", len(ev.data), err)
	}
}

func TestWireMessagesToolResultsLeadUserTurn(t *testing.T) {
	// A user text before tool replies merges into one user turn whose
	// tool_result blocks come first (the API requires that order).
	srv := newWireServer(t, wireJSON(200, `{"content":[{"type":"text","text":"ok"}]}`))
	_, err := messagesProviderFor(t, srv.URL).Complete(context.Background(), &Request{Model: "c", Messages: []Message{
		{Role: "assistant", Content: "hi", ToolCalls: []ToolCall{{ID: "t1", Name: "f", Arguments: `{"a":[1, 2]}`}}},
		{Role: "user", Content: "note"},
		{Role: "tool", ToolCallID: "t1", Content: "r1", IsError: false},
	}})
	if err != nil {
		t.Fatal(err)
	}
	wantField(t, srv.seen(t, 0).Body, "messages", `[
		{"role":"assistant","content":[{"type":"text","text":"hi"},{"type":"tool_use","id":"t1","name":"f","input":{"a":[1,2]}}]},
		{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"r1"},{"type":"text","text":"note"}]}]`)
}
