package ai

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
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

type anthropicMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

type anthropicRequest struct {
	Model         string             `json:"model"`
	System        string             `json:"system,omitempty"`
	Messages      []anthropicMessage `json:"messages"`
	MaxTokens     int                `json:"max_tokens"`
	Temperature   *float64           `json:"temperature,omitempty"`
	TopP          *float64           `json:"top_p,omitempty"`
	TopK          *int               `json:"top_k,omitempty"`
	StopSequences *[]string          `json:"stop_sequences,omitempty"`
}

type anthropicResponse struct {
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
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

func (p *anthropicProvider) Complete(ctx context.Context, req *Request) (*Reply, error) {
	if req.Stream || len(req.Tools) > 0 || req.ResponseFormat != nil {
		return nil, fmt.Errorf("anthropic: streaming, tools and structured output are not supported yet")
	}
	s := req.Sampling
	body := anthropicRequest{Model: req.Model, System: req.System, MaxTokens: defaultAnthropicMaxTokens,
		Temperature: s.Temperature, TopP: s.TopP, TopK: s.TopK}
	if s.MaxTokens != nil {
		body.MaxTokens = *s.MaxTokens
	}
	if s.HasStop {
		stop := append([]string{}, s.Stop...)
		body.StopSequences = &stop
	}
	for _, m := range req.Messages {
		if m.Role == "system" {
			body.System = m.Content
			continue
		}
		body.Messages = append(body.Messages, anthropicMessage{Role: m.Role, Content: m.Content})
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("anthropic: encoding request: %w", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("anthropic: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("anthropic-version", anthropicVersion)
	if p.key != "" {
		hreq.Header.Set("x-api-key", p.key)
	}
	resp, err := p.http.Do(hreq)
	if err != nil {
		return nil, transportError(ctx, "anthropic", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, transportError(ctx, "anthropic", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		he := &httpError{provider: "anthropic", status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
		var ae anthropicError
		if json.Unmarshal(data, &ae) == nil && ae.Error.Message != "" {
			he.message = ae.Error.Message
			if ae.Error.Type != "" {
				he.message += " (" + ae.Error.Type + ")"
			}
		} else {
			he.message = bodySnippet(data)
		}
		return nil, he
	}
	var ar anthropicResponse
	if err := json.Unmarshal(data, &ar); err != nil {
		return nil, fmt.Errorf("anthropic: malformed response: %v", err)
	}
	var text strings.Builder
	for _, b := range ar.Content {
		if b.Type == "text" {
			text.WriteString(b.Text)
		}
	}
	return &Reply{Text: text.String(), InputTokens: ar.Usage.InputTokens, OutputTokens: ar.Usage.OutputTokens, FinishReason: ar.StopReason}, nil
}

func (p *anthropicProvider) Stream(context.Context, *Request) (StreamReader, error) {
	return nil, fmt.Errorf("anthropic: streaming is not supported yet")
}
