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
)

// anthropicVersion is the Messages API version header value.
const anthropicVersion = "2023-06-01"

// defaultAnthropicMaxTokens is sent when max_tokens is unset (the Messages
// API requires it).
const defaultAnthropicMaxTokens = 4096

// anthropicProvider speaks Anthropic's Messages API over net/http.
type anthropicProvider struct {
	url  string
	key  string
	http *http.Client
}

// anthropicBlock is one content block of a request turn.
type anthropicBlock struct {
	Type      string          `json:"type"`
	Text      *string         `json:"text,omitempty"`        // text
	ID        string          `json:"id,omitempty"`          // tool_use
	Name      string          `json:"name,omitempty"`        // tool_use
	Input     json.RawMessage `json:"input,omitempty"`       // tool_use
	ToolUseID string          `json:"tool_use_id,omitempty"` // tool_result
	Content   *string         `json:"content,omitempty"`     // tool_result
	IsError   bool            `json:"is_error,omitempty"`    // tool_result
}

// anthropicMessage is one request turn. A turn of a single text block is
// sent with string content, any other turn as a content-block array.
type anthropicMessage struct {
	Role   string
	Blocks []anthropicBlock
}

func (m anthropicMessage) MarshalJSON() ([]byte, error) {
	var content any = m.Blocks
	if len(m.Blocks) == 1 && m.Blocks[0].Type == "text" {
		content = *m.Blocks[0].Text
	}
	return json.Marshal(struct {
		Role    string `json:"role"`
		Content any    `json:"content"`
	}{m.Role, content})
}

type anthropicTool struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	InputSchema map[string]any `json:"input_schema"`
}

type anthropicRequest struct {
	Model         string             `json:"model"`
	System        string             `json:"system,omitempty"`
	Messages      []anthropicMessage `json:"messages"`
	Tools         []anthropicTool    `json:"tools,omitempty"`
	MaxTokens     int                `json:"max_tokens"`
	Temperature   *float64           `json:"temperature,omitempty"`
	TopP          *float64           `json:"top_p,omitempty"`
	TopK          *int               `json:"top_k,omitempty"`
	StopSequences *[]string          `json:"stop_sequences,omitempty"`
	Stream        bool               `json:"stream,omitempty"`
}

type anthropicResponse struct {
	Content []struct {
		Type  string          `json:"type"`
		Text  string          `json:"text"`
		ID    string          `json:"id"`
		Name  string          `json:"name"`
		Input json.RawMessage `json:"input"`
	} `json:"content"`
	StopReason string `json:"stop_reason"`
	Usage      struct {
		InputTokens  int `json:"input_tokens"`
		OutputTokens int `json:"output_tokens"`
	} `json:"usage"`
}

type anthropicError struct {
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// message is the error's text: "<message> (<type>)".
func (e *anthropicError) message() string {
	if e.Error.Type != "" {
		return e.Error.Message + " (" + e.Error.Type + ")"
	}
	return e.Error.Message
}

// toolInput is a tool call's Arguments as a tool_use input: a compact JSON
// object ("" counts as {}).
func toolInput(tc ToolCall) (json.RawMessage, error) {
	args := strings.TrimSpace(tc.Arguments)
	if args == "" {
		return json.RawMessage("{}"), nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(args), &obj); err != nil || obj == nil {
		if err == nil {
			err = errors.New("not a JSON object")
		}
		return nil, fmt.Errorf("anthropic: tool call %q (%s): arguments are not a JSON object: %v", tc.ID, tc.Name, err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(args)); err != nil {
		return nil, fmt.Errorf("anthropic: tool call %q (%s): %v", tc.ID, tc.Name, err)
	}
	return buf.Bytes(), nil
}

// anthropicMessages maps messages to turns (§5.5 step 5, §9.3): assistant
// tool calls become tool_use blocks after the text, tool replies become
// tool_result blocks of a user turn, and adjacent same-role turns merge
// (the API requires alternation), tool_result blocks first in a user turn.
func anthropicMessages(msgs []Message) ([]anthropicMessage, error) {
	var out []anthropicMessage
	for _, m := range msgs {
		var turn anthropicMessage
		switch m.Role {
		case "tool":
			content := m.Content
			turn = anthropicMessage{Role: "user", Blocks: []anthropicBlock{{Type: "tool_result",
				ToolUseID: m.ToolCallID, Content: &content, IsError: m.IsError}}}
		default:
			turn.Role = m.Role
			if m.Content != "" || len(m.ToolCalls) == 0 {
				text := m.Content
				turn.Blocks = append(turn.Blocks, anthropicBlock{Type: "text", Text: &text})
			}
			for _, tc := range m.ToolCalls {
				input, err := toolInput(tc)
				if err != nil {
					return nil, err
				}
				turn.Blocks = append(turn.Blocks, anthropicBlock{Type: "tool_use", ID: tc.ID, Name: tc.Name, Input: input})
			}
		}
		if n := len(out); n > 0 && out[n-1].Role == turn.Role {
			out[n-1].Blocks = append(out[n-1].Blocks, turn.Blocks...)
			continue
		}
		out = append(out, turn)
	}
	for i := range out {
		if out[i].Role != "user" {
			continue
		}
		var results, rest []anthropicBlock
		for _, b := range out[i].Blocks {
			if b.Type == "tool_result" {
				results = append(results, b)
			} else {
				rest = append(rest, b)
			}
		}
		out[i].Blocks = append(results, rest...)
	}
	return out, nil
}

// request builds the JSON body for req.
func (p *anthropicProvider) request(req *Request, stream bool) ([]byte, error) {
	s := req.Sampling
	body := anthropicRequest{Model: req.Model, System: req.System, MaxTokens: defaultAnthropicMaxTokens,
		Temperature: s.Temperature, TopP: s.TopP, TopK: s.TopK, Stream: stream}
	if s.MaxTokens != nil {
		body.MaxTokens = *s.MaxTokens
	}
	if s.HasStop {
		stop := append([]string{}, s.Stop...)
		body.StopSequences = &stop
	}
	var msgs []Message
	for _, m := range req.Messages {
		if m.Role == "system" {
			if body.System != "" {
				body.System += "\n\n"
			}
			body.System += m.Content
			continue
		}
		msgs = append(msgs, m)
	}
	var err error
	if body.Messages, err = anthropicMessages(msgs); err != nil {
		return nil, err
	}
	for _, t := range req.Tools {
		body.Tools = append(body.Tools, anthropicTool{Name: t.Name, Description: t.Description, InputSchema: toolParameters(t)})
	}
	// req.ResponseFormat has no Messages field: the caller instructs via
	// the system prompt (§6).
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("anthropic: encoding request: %w", err)
	}
	return raw, nil
}

// post sends body and returns a 2xx response (the caller closes it), or
// the transport error or httpError.
func (p *anthropicProvider) post(ctx context.Context, body []byte, accept string) (*http.Response, error) {
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("anthropic: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", accept)
	hreq.Header.Set("anthropic-version", anthropicVersion)
	if p.key != "" {
		hreq.Header.Set("x-api-key", p.key)
	}
	resp, err := p.http.Do(hreq)
	if err != nil {
		return nil, transportError(ctx, "anthropic", err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return resp, nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil && ctx.Err() != nil {
		return nil, transportError(ctx, "anthropic", err)
	}
	he := &httpError{provider: "anthropic", status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	var ae anthropicError
	if json.Unmarshal(data, &ae) == nil && ae.Error.Message != "" {
		he.message = ae.message()
	} else {
		he.message = bodySnippet(data)
	}
	return nil, he
}

func (p *anthropicProvider) Complete(ctx context.Context, req *Request) (*Reply, error) {
	body, err := p.request(req, false)
	if err != nil {
		return nil, err
	}
	resp, err := p.post(ctx, body, "application/json")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, transportError(ctx, "anthropic", err)
	}
	var ar anthropicResponse
	if err := json.Unmarshal(data, &ar); err != nil {
		return nil, fmt.Errorf("anthropic: malformed response: %v", err)
	}
	reply := &Reply{InputTokens: ar.Usage.InputTokens, OutputTokens: ar.Usage.OutputTokens, FinishReason: ar.StopReason}
	var text strings.Builder
	for i, b := range ar.Content {
		switch b.Type {
		case "text":
			text.WriteString(b.Text)
		case "tool_use":
			if b.Name == "" {
				return nil, fmt.Errorf("anthropic: malformed response: tool_use block %d has no name", i)
			}
			args := "{}"
			if in := bytes.TrimSpace(b.Input); len(in) > 0 && string(in) != "null" {
				var buf bytes.Buffer
				if err := json.Compact(&buf, in); err != nil {
					return nil, fmt.Errorf("anthropic: malformed response: tool_use block %d: %v", i, err)
				}
				args = buf.String()
			}
			reply.ToolCalls = append(reply.ToolCalls, ToolCall{ID: b.ID, Name: b.Name, Arguments: args})
		}
	}
	reply.Text = text.String()
	return reply, nil
}

// Stream starts a streamed Messages request (§7).
func (p *anthropicProvider) Stream(ctx context.Context, req *Request) (StreamReader, error) {
	body, err := p.request(req, true)
	if err != nil {
		return nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	resp, err := p.post(sctx, body, "text/event-stream")
	if err != nil {
		cancel()
		return nil, err
	}
	return &anthropicStream{ctx: ctx, cancel: cancel, body: resp.Body, sse: newSSEReader(resp.Body)}, nil
}

// anthropicStream reads a Messages SSE answer.
type anthropicStream struct {
	ctx     context.Context // the caller's (for error wording)
	cancel  context.CancelFunc
	body    io.ReadCloser
	sse     *sseReader
	err     error // sticky end: io.EOF or the failure
	in, out int

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// anthropicEvent is the union of the stream events kite reads.
type anthropicEvent struct {
	Type    string `json:"type"`
	Message struct {
		Usage anthropicUsage `json:"usage"`
	} `json:"message"`
	ContentBlock struct {
		Type string `json:"type"`
	} `json:"content_block"`
	Delta struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"delta"`
	Usage anthropicUsage `json:"usage"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

type anthropicUsage struct {
	InputTokens  *int `json:"input_tokens"`
	OutputTokens *int `json:"output_tokens"`
}

func (s *anthropicStream) Recv() (string, error) {
	if s.err != nil {
		return "", s.err
	}
	text, err := s.next()
	if err != nil {
		s.err = err
	}
	return text, err
}

func (s *anthropicStream) next() (string, error) {
	for {
		ev, err := s.sse.next()
		switch {
		case err == io.EOF:
			return "", errors.New("anthropic: stream ended unexpectedly (no message_stop)")
		case err != nil && s.closed.Load():
			return "", errors.New("anthropic: stream closed")
		case err != nil && s.ctx.Err() != nil:
			return "", transportError(s.ctx, "anthropic", err)
		case err != nil:
			return "", fmt.Errorf("anthropic: stream interrupted: %w", err)
		}
		var e anthropicEvent
		if err := json.Unmarshal([]byte(ev.data), &e); err != nil {
			return "", fmt.Errorf("anthropic: malformed stream event %q: %v", ev.name, err)
		}
		name := ev.name
		if name == "" {
			name = e.Type
		}
		switch name {
		case "message_start":
			s.usage(e.Message.Usage)
		case "content_block_start":
			if e.ContentBlock.Type == "tool_use" {
				return "", errors.New("anthropic: the model asked for a tool call, which a streamed request cannot answer")
			}
		case "content_block_delta":
			if e.Delta.Type == "text_delta" && e.Delta.Text != "" {
				return e.Delta.Text, nil
			}
		case "message_delta":
			if u := e.Usage.InputTokens; u != nil && *u == 0 {
				e.Usage.InputTokens = nil // counts are cumulative; keep message_start's
			}
			s.usage(e.Usage)
		case "message_stop":
			return "", io.EOF
		case "error":
			ae := anthropicError{Error: e.Error}
			if ae.Error.Message == "" {
				ae.Error.Message = "unknown error"
			}
			return "", fmt.Errorf("anthropic: stream error: %s", ae.message())
		}
		// ping, content_block_stop and unknown events carry nothing for us.
	}
}

func (s *anthropicStream) usage(u anthropicUsage) {
	if u.InputTokens != nil {
		s.in = *u.InputTokens
	}
	if u.OutputTokens != nil {
		s.out = *u.OutputTokens
	}
}

func (s *anthropicStream) Usage() (int, int) { return s.in, s.out }

func (s *anthropicStream) Close() error {
	s.closed.Store(true)
	s.cancel()
	s.closeOnce.Do(func() { s.closeErr = s.body.Close() })
	return s.closeErr
}
