package ai

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Message is one conversation message on the provider-neutral wire.
//
// An assistant turn may carry ToolCalls (with or without Content); a
// "tool" message answers one call: ToolCallID names it, Content is the
// reply text and IsError marks a feedback error (the Messages wire sends
// it as "is_error": true; Chat Completions has no such flag). Providers
// map these to their wire (§5.4, §5.5 step 5, §9.3): Chat Completions
// sends one "tool" message per reply; Messages groups consecutive tool
// replies into one user turn of tool_result blocks and merges adjacent
// same-role turns.
type Message struct {
	Role       string // "user", "assistant", "tool"
	Content    string
	ToolCalls  []ToolCall
	ToolCallID string
	IsError    bool
}

// ToolCall is one tool invocation requested by the model. Arguments is
// the JSON text of the argument object (Chat Completions sends a string;
// for Messages it is the JSON encoding of the tool_use input).
type ToolCall struct {
	ID        string
	Name      string
	Arguments string
}

// ToolSpec is a tool offered to the model (§5.4).
type ToolSpec struct {
	Name        string
	Description string
	Parameters  map[string]any // JSON Schema
}

// ResponseFormat asks for structured output (§6): Chat Completions sends
// response_format json_schema named Name; Messages appends an instruction
// to the system prompt (the caller does that, see §6).
type ResponseFormat struct {
	Name   string
	Schema map[string]any
}

// Sampling holds the sampling kwargs of §2.3; nil / HasStop=false means
// absent (presence, not value, decides what goes on the wire).
type Sampling struct {
	Temperature *float64
	TopP        *float64
	MaxTokens   *int
	TopK        *int
	Stop        []string
	HasStop     bool
}

// Request is one provider request. Model is the provider's model id (the
// part after the first slash, verbatim). Stream is set by the caller of
// Provider.Stream only.
type Request struct {
	Model          string
	System         string
	Messages       []Message
	Tools          []ToolSpec
	ResponseFormat *ResponseFormat
	Stream         bool
	Sampling       Sampling
}

// Reply is a provider's answer to a non-streamed request. ToolCalls is
// non-empty when the model asks for tools (Text may be set too).
type Reply struct {
	Text         string
	ToolCalls    []ToolCall
	InputTokens  int
	OutputTokens int
	FinishReason string
}

// Provider is one provider client (an adapter over one wire protocol).
type Provider interface {
	// Complete sends one request and returns the whole answer.
	Complete(ctx context.Context, req *Request) (*Reply, error)
	// Stream starts a streamed request (§7). An error here is a failure
	// to start (transport, HTTP status); later failures come from Recv.
	// Cancelling ctx aborts the stream.
	Stream(ctx context.Context, req *Request) (StreamReader, error)
}

// StreamReader reads one streamed answer.
type StreamReader interface {
	// Recv returns the next text delta (possibly ""), io.EOF after a
	// clean end, or the error that ended the stream (a connection dropped
	// mid-stream, a malformed frame, an error event).
	Recv() (string, error)
	// Usage is the token usage reported so far (complete after io.EOF).
	Usage() (input, output int)
	// Close releases the connection; safe to call more than once and
	// before the end (abandoning the stream).
	Close() error
}

// providerInfo is one row of the §2.1 table.
type providerInfo struct {
	name        string
	defaultBase string
	keyEnv      []string // first non-empty wins
	baseEnv     string
	needsKey    bool
	messages    bool // Anthropic Messages wire instead of Chat Completions
}

var providers = map[string]providerInfo{
	"openai":    {name: "openai", defaultBase: "https://api.openai.com/v1", keyEnv: []string{"OPENAI_API_KEY"}, baseEnv: "OPENAI_BASE_URL", needsKey: true},
	"anthropic": {name: "anthropic", defaultBase: "https://api.anthropic.com", keyEnv: []string{"ANTHROPIC_API_KEY"}, baseEnv: "ANTHROPIC_BASE_URL", needsKey: true, messages: true},
	"googleai":  {name: "googleai", defaultBase: "https://generativelanguage.googleapis.com/v1beta/openai", keyEnv: []string{"GEMINI_API_KEY", "GOOGLE_API_KEY"}, needsKey: true},
	"ollama":    {name: "ollama", defaultBase: "http://localhost:11434", baseEnv: "OLLAMA_HOST"},
}

func knownProviders() string {
	names := make([]string, 0, len(providers))
	for n := range providers {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// parseModel splits "<provider>/<model-id>" at the first slash.
func parseModel(s string) (providerInfo, string, error) {
	p, id, ok := strings.Cut(s, "/")
	if !ok || p == "" || id == "" {
		return providerInfo{}, "", fmt.Errorf("invalid model %q: expected the form \"provider/name\" (e.g. \"openai/gpt-4o-mini\")", s)
	}
	info, ok := providers[p]
	if !ok {
		return providerInfo{}, "", fmt.Errorf("unknown provider %q in model %q (known: %s)", p, s, knownProviders())
	}
	return info, id, nil
}

// settings is the module configuration set by ai.config (§3).
type settings struct {
	defaultModel string
	apiKeys      map[string]string
	baseURLs     map[string]string
	timeout      time.Duration
}

// endpoint is a provider's resolved key and base URL (before joining).
type endpoint struct {
	info    providerInfo
	apiKey  string
	baseURL string // resolved root, trailing "/" trimmed
}

// resolve applies the §2.1 precedence: per-call → ai.config → env → default.
func resolve(info providerInfo, cfg settings, callKey, callBase string) endpoint {
	key := callKey
	if key == "" {
		key = cfg.apiKeys[info.name]
	}
	for _, env := range info.keyEnv {
		if key != "" {
			break
		}
		key = os.Getenv(env)
	}
	base := callBase
	if base == "" {
		base = cfg.baseURLs[info.name]
	}
	if base == "" && info.baseEnv != "" {
		base = os.Getenv(info.baseEnv)
		if base != "" && info.name == "ollama" && !strings.Contains(base, "://") {
			base = "http://" + base
		}
	}
	if base == "" {
		base = info.defaultBase
	}
	return endpoint{info: info, apiKey: key, baseURL: strings.TrimRight(base, "/")}
}

// available reports the §2.2 availability error, or nil. Kite: a keyless
// openai with a non-default base URL is allowed (no Authorization sent).
func (e endpoint) available() error {
	if !e.info.needsKey || e.apiKey != "" {
		return nil
	}
	if e.info.name == "openai" && e.baseURL != e.info.defaultBase {
		return nil
	}
	hint := strings.Join(e.info.keyEnv, " or ")
	return fmt.Errorf("%s provider is unavailable — set %s, or pass api_key= per-call", e.info.name, hint)
}

// url is the request URL per the §2.1 joining rules.
func (e endpoint) url() string {
	base := e.baseURL
	switch e.info.name {
	case "anthropic":
		if strings.HasSuffix(base, "/v1") {
			return base + "/messages"
		}
		return base + "/v1/messages"
	case "ollama":
		if !strings.HasSuffix(base, "/v1") {
			base += "/v1"
		}
	}
	return base + "/chat/completions"
}

// chatBase is the Chat Completions root (the URL without /chat/completions).
func (e endpoint) chatBase() string { return strings.TrimSuffix(e.url(), "/chat/completions") }

// transport is the RoundTripper under every provider client; tests swap in
// one refusing non-loopback hosts.
var transport http.RoundTripper = http.DefaultTransport

// newProvider builds the client for e.
func newProvider(e endpoint) (Provider, error) {
	hc := &http.Client{Transport: transport}
	if e.info.messages {
		return &anthropicProvider{url: e.url(), key: e.apiKey, http: hc}, nil
	}
	return newChatProvider(e.info.name, e.chatBase(), e.apiKey, hc), nil
}

// httpError is a non-2xx provider answer.
type httpError struct {
	provider   string
	status     int
	message    string
	retryAfter string
}

func (e *httpError) Error() string {
	msg := fmt.Sprintf("%s: HTTP %d %s", e.provider, e.status, http.StatusText(e.status))
	if e.message != "" {
		msg += ": " + e.message
	}
	if e.status == http.StatusTooManyRequests {
		if e.retryAfter != "" {
			msg += " (rate limited; retry after " + retryDelay(e.retryAfter) + ")"
		} else {
			msg += " (rate limited)"
		}
	}
	return msg
}

// retryDelay renders a Retry-After value: seconds as "<n>s", else verbatim.
func retryDelay(v string) string {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		return (time.Duration(n) * time.Second).String()
	}
	return v
}

// transportError words a failed HTTP exchange, naming a deadline or a
// cancellation plainly.
func transportError(ctx context.Context, provider string, err error) error {
	timeout, _ := ctx.Value(timeoutKey{}).(time.Duration)
	switch ctx.Err() {
	case context.DeadlineExceeded:
		if timeout > 0 {
			return fmt.Errorf("%s: request timed out after %s (context deadline exceeded)", provider, timeout)
		}
		return fmt.Errorf("%s: request failed: context deadline exceeded", provider)
	case context.Canceled:
		return fmt.Errorf("%s: request canceled: %w", provider, context.Canceled)
	}
	return fmt.Errorf("%s: request failed: %w", provider, err)
}

// timeoutKey carries the per-request deadline's duration in the context
// (for the error text only; the deadline itself is the context's).
type timeoutKey struct{}

// withTimeout bounds ctx by d (0 = no client-side deadline).
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(context.WithValue(ctx, timeoutKey{}, d), d)
}
