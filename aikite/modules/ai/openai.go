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
// context: body fields go-openai would drop (omitempty hides a legal 0
// temperature) and the Retry-After of the answer.
type chatCall struct {
	extra      map[string]any
	retryAfter string
}

type chatCallKey struct{}

// chatDoer is go-openai's HTTPDoer: it writes the presence-decided
// sampling fields into the JSON body and records Retry-After.
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
	if err == nil && call != nil {
		call.retryAfter = resp.Header.Get("Retry-After")
	}
	return resp, err
}

func (p *chatProvider) Complete(ctx context.Context, req *Request) (*Reply, error) {
	if req.Stream || len(req.Tools) > 0 || req.ResponseFormat != nil {
		return nil, fmt.Errorf("%s: streaming, tools and structured output are not supported yet", p.name)
	}
	var msgs []openai.ChatCompletionMessage
	if req.System != "" {
		msgs = append(msgs, openai.ChatCompletionMessage{Role: openai.ChatMessageRoleSystem, Content: req.System})
	}
	for _, m := range req.Messages {
		msgs = append(msgs, openai.ChatCompletionMessage{Role: m.Role, Content: m.Content})
	}
	call := &chatCall{extra: map[string]any{}}
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
	resp, err := p.client.CreateChatCompletion(context.WithValue(ctx, chatCallKey{}, call),
		openai.ChatCompletionRequest{Model: req.Model, Messages: msgs})
	if err != nil {
		return nil, p.wrap(ctx, call, err)
	}
	if len(resp.Choices) == 0 {
		return nil, fmt.Errorf("%s: malformed response: no choices", p.name)
	}
	c := resp.Choices[0]
	return &Reply{
		Text:         c.Message.Content,
		InputTokens:  resp.Usage.PromptTokens,
		OutputTokens: resp.Usage.CompletionTokens,
		FinishReason: string(c.FinishReason),
	}, nil
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

func (p *chatProvider) Stream(context.Context, *Request) (StreamReader, error) {
	return nil, fmt.Errorf("%s: streaming is not supported yet", p.name)
}
