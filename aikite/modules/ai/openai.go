package ai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	openai "github.com/sashabaranov/go-openai"
)

// chatProvider speaks OpenAI Chat Completions through go-openai (openai,
// googleai, ollama and every compatible server).
type chatProvider struct {
	name   string
	client *openai.Client
}

func newChatProvider(name, base, key string, hc *http.Client) *chatProvider {
	cfg := openai.DefaultConfig(key) // an empty key sends no Authorization header
	cfg.BaseURL = base
	cfg.HTTPClient = &chatDoer{http: hc}
	return &chatProvider{name: name, client: openai.NewClientWithConfig(cfg)}
}

// chatCall is the per-request state the doer sees through the request's
// context: body fields written by kite rather than go-openai (omitempty
// hides a legal 0 temperature and an empty tool reply; response_format
// would gain a "strict" member), the Retry-After of the answer and, for a
// stream, whether the "data: [DONE]" terminator arrived.
type chatCall struct {
	extra      map[string]any
	retryAfter string
	stream     bool
	done       *doneWatcher
}

type chatCallKey struct{}

// maxErrorBody bounds how much of a failed answer is read.
const maxErrorBody = 1 << 20

// chatDoer is go-openai's HTTPDoer: it writes kite's fields into the JSON
// body, records Retry-After, buffers error bodies (go-openai leaves a
// failed stream's body open) and watches a stream for its terminator.
type chatDoer struct{ http *http.Client }

func (d *chatDoer) Do(req *http.Request) (*http.Response, error) {
	call, _ := req.Context().Value(chatCallKey{}).(*chatCall)
	if call != nil && len(call.extra) > 0 && req.Body != nil {
		raw, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		var body map[string]json.RawMessage
		if err := json.Unmarshal(raw, &body); err != nil {
			return nil, fmt.Errorf("encoding request: %w", err)
		}
		for k, v := range call.extra {
			b, err := json.Marshal(v)
			if err != nil {
				return nil, fmt.Errorf("encoding request: %w", err)
			}
			body[k] = b
		}
		raw, err = json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encoding request: %w", err)
		}
		req.Body = io.NopCloser(bytes.NewReader(raw))
		req.ContentLength = int64(len(raw))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }
	}
	resp, err := d.http.Do(req)
	if err != nil || call == nil {
		return resp, err
	}
	call.retryAfter = resp.Header.Get("Retry-After")
	switch {
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(data))
	case call.stream:
		call.done = &doneWatcher{rc: resp.Body}
		resp.Body = call.done
	}
	return resp, nil
}

// doneWatcher passes a stream body through and notes whether a
// "data: [DONE]" line went by: go-openai reports both that terminator and
// a body cut short after a whole line as io.EOF.
type doneWatcher struct {
	rc   io.ReadCloser
	line []byte // the current line's start (bounded)
	long bool   // the current line outgrew line: not the terminator
	seen bool
}

func (w *doneWatcher) Read(p []byte) (int, error) {
	n, err := w.rc.Read(p)
	for _, c := range p[:n] {
		switch {
		case c == '\n':
			w.endLine()
		case w.long:
		case len(w.line) >= 32:
			w.long = true
		default:
			w.line = append(w.line, c)
		}
	}
	if err == io.EOF {
		w.endLine()
	}
	return n, err
}

func (w *doneWatcher) endLine() {
	if !w.long {
		if rest, ok := bytes.CutPrefix(bytes.TrimSpace(w.line), []byte("data:")); ok && string(bytes.TrimSpace(rest)) == "[DONE]" {
			w.seen = true
		}
	}
	w.line, w.long = w.line[:0], false
}

func (w *doneWatcher) Close() error { return w.rc.Close() }

// chatMessage is one Chat Completions message as kite sends it: content is
// present unless an assistant turn carries only tool calls.
type chatMessage struct {
	Role       string         `json:"role"`
	Content    *string        `json:"content,omitempty"`
	ToolCalls  []chatToolCall `json:"tool_calls,omitempty"`
	ToolCallID string         `json:"tool_call_id,omitempty"`
}

type chatToolCall struct {
	ID       string           `json:"id"`
	Type     string           `json:"type"`
	Function chatToolFunction `json:"function"`
}

type chatToolFunction struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// chatMessages maps req's system prompt and messages to the wire (§5.5
// step 5, §9.3): one "tool" message per tool reply.
func chatMessages(req *Request) []chatMessage {
	msgs := make([]chatMessage, 0, len(req.Messages)+1)
	if req.System != "" {
		msgs = append(msgs, chatMessage{Role: openai.ChatMessageRoleSystem, Content: strPtr(req.System)})
	}
	for _, m := range req.Messages {
		cm := chatMessage{Role: m.Role, ToolCallID: m.ToolCallID}
		if m.Content != "" || len(m.ToolCalls) == 0 {
			cm.Content = strPtr(m.Content)
		}
		for _, tc := range m.ToolCalls {
			args := tc.Arguments
			if strings.TrimSpace(args) == "" {
				args = "{}"
			}
			cm.ToolCalls = append(cm.ToolCalls, chatToolCall{ID: tc.ID, Type: string(openai.ToolTypeFunction),
				Function: chatToolFunction{Name: tc.Name, Arguments: args}})
		}
		msgs = append(msgs, cm)
	}
	return msgs
}

func strPtr(s string) *string { return &s }

// toolParameters is a tool's schema, an empty object schema when unset.
func toolParameters(t ToolSpec) map[string]any {
	if t.Parameters == nil {
		return map[string]any{"type": "object", "properties": map[string]any{}}
	}
	return t.Parameters
}

// prepare builds the go-openai request and the doer's per-call state.
func (p *chatProvider) prepare(req *Request) (openai.ChatCompletionRequest, *chatCall) {
	call := &chatCall{extra: map[string]any{"messages": chatMessages(req)}}
	s := req.Sampling
	if s.Temperature != nil {
		call.extra["temperature"] = *s.Temperature
	}
	if s.MaxTokens != nil {
		call.extra["max_tokens"] = *s.MaxTokens
	}
	if s.TopP != nil {
		call.extra["top_p"] = *s.TopP
	}
	if s.HasStop {
		call.extra["stop"] = append([]string{}, s.Stop...)
	}
	// top_k is not in the Chat Completions schema (§2.3): never sent.
	if rf := req.ResponseFormat; rf != nil {
		name := rf.Name
		if name == "" {
			name = "output"
		}
		call.extra["response_format"] = map[string]any{"type": "json_schema",
			"json_schema": map[string]any{"name": name, "schema": rf.Schema}}
	}
	oreq := openai.ChatCompletionRequest{Model: req.Model}
	for _, t := range req.Tools {
		oreq.Tools = append(oreq.Tools, openai.Tool{Type: openai.ToolTypeFunction,
			Function: &openai.FunctionDefinition{Name: t.Name, Description: t.Description, Parameters: toolParameters(t)}})
	}
	return oreq, call
}

func (p *chatProvider) Complete(ctx context.Context, req *Request) (*Reply, error) {
	oreq, call := p.prepare(req)
	resp, err := p.client.CreateChatCompletion(context.WithValue(ctx, chatCallKey{}, call), oreq)
	if err != nil {
		return nil, p.wrap(ctx, call, err)
	}
	if len(resp.Choices) == 0 {
		return nil, fmt.Errorf("%s: malformed response: no choices", p.name)
	}
	c := resp.Choices[0]
	reply := &Reply{
		Text:         c.Message.Content,
		InputTokens:  resp.Usage.PromptTokens,
		OutputTokens: resp.Usage.CompletionTokens,
		FinishReason: string(c.FinishReason),
	}
	for i, tc := range c.Message.ToolCalls {
		if tc.Function.Name == "" {
			return nil, fmt.Errorf("%s: malformed response: tool call %d has no function name", p.name, i)
		}
		id := tc.ID
		if id == "" { // some compatible servers omit ids; the reply must name one
			id = fmt.Sprintf("call_%d", i)
		}
		args := tc.Function.Arguments
		if strings.TrimSpace(args) == "" {
			args = "{}"
		}
		reply.ToolCalls = append(reply.ToolCalls, ToolCall{ID: id, Name: tc.Function.Name, Arguments: args})
	}
	return reply, nil
}

// wrap turns a go-openai error into a kite error naming the provider, the
// HTTP status and the provider's message.
func (p *chatProvider) wrap(ctx context.Context, call *chatCall, err error) error {
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &apiErr) && apiErr.HTTPStatusCode > 0:
		return &httpError{provider: p.name, status: apiErr.HTTPStatusCode, message: apiErr.Message, retryAfter: call.retryAfter}
	case errors.As(err, &reqErr):
		return &httpError{provider: p.name, status: reqErr.HTTPStatusCode, message: bodySnippet(reqErr.Body), retryAfter: call.retryAfter}
	case ctx.Err() != nil:
		return transportError(ctx, p.name, err)
	case errors.As(err, &syn), errors.As(err, &typ), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s: malformed response: %v", p.name, err)
	}
	return transportError(ctx, p.name, err)
}

// bodySnippet is an error body as text, trimmed and bounded.
func bodySnippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}

// Stream starts a streamed Chat Completion (§7): "stream": true with
// "stream_options": {"include_usage": true}.
func (p *chatProvider) Stream(ctx context.Context, req *Request) (StreamReader, error) {
	oreq, call := p.prepare(req)
	call.stream = true
	oreq.StreamOptions = &openai.StreamOptions{IncludeUsage: true}
	sctx, cancel := context.WithCancel(ctx)
	st, err := p.client.CreateChatCompletionStream(context.WithValue(sctx, chatCallKey{}, call), oreq)
	if err != nil {
		cancel()
		return nil, p.wrap(ctx, call, err)
	}
	return &chatStream{p: p, ctx: ctx, cancel: cancel, call: call, st: st}, nil
}

// chatStream reads a Chat Completions SSE answer.
type chatStream struct {
	p       *chatProvider
	ctx     context.Context // the caller's (for error wording)
	cancel  context.CancelFunc
	call    *chatCall
	st      *openai.ChatCompletionStream
	err     error // sticky end: io.EOF or the failure
	in, out int

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

func (s *chatStream) Recv() (string, error) {
	if s.err != nil {
		return "", s.err
	}
	for {
		chunk, err := s.st.Recv()
		if err != nil {
			s.err = s.fail(err)
			return "", s.err
		}
		if chunk.Usage != nil {
			s.in, s.out = chunk.Usage.PromptTokens, chunk.Usage.CompletionTokens
		}
		if len(chunk.Choices) == 0 { // e.g. the usage frame
			continue
		}
		d := chunk.Choices[0].Delta
		if len(d.ToolCalls) > 0 || d.FunctionCall != nil {
			s.err = fmt.Errorf("%s: the model asked for a tool call, which a streamed request cannot answer", s.p.name)
			return "", s.err
		}
		if d.Content != "" {
			return d.Content, nil
		}
	}
}

// fail words the error that ended the stream.
func (s *chatStream) fail(err error) error {
	name := s.p.name
	var apiErr *openai.APIError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		if s.call.done != nil && s.call.done.seen {
			return io.EOF
		}
		return fmt.Errorf("%s: stream ended unexpectedly (no [DONE])", name)
	case s.closed.Load():
		return fmt.Errorf("%s: stream closed", name)
	case s.ctx.Err() != nil:
		return transportError(s.ctx, name, err)
	case errors.As(err, &apiErr):
		return fmt.Errorf("%s: stream error: %s", name, apiErr.Message)
	case errors.As(err, &syn), errors.As(err, &typ):
		return fmt.Errorf("%s: malformed stream frame: %v", name, err)
	case errors.Is(err, openai.ErrTooManyEmptyStreamMessages):
		return fmt.Errorf("%s: malformed stream: %v", name, err)
	}
	return fmt.Errorf("%s: stream interrupted: %w", name, err)
}

func (s *chatStream) Usage() (int, int) { return s.in, s.out }

func (s *chatStream) Close() error {
	s.closed.Store(true)
	s.cancel()
	s.closeOnce.Do(func() { s.closeErr = s.st.Close() })
	return s.closeErr
}
