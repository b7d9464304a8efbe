package ai

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// TestMain makes every provider client refuse non-loopback hosts: the
// suite never reaches the internet.
func TestMain(m *testing.M) {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport = &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("test transport: refusing non-loopback host %q", host)
		}
		return dialer.DialContext(ctx, network, addr)
	}}
	os.Exit(m.Run())
}

// clearEnv unsets every variable the module reads.
func clearEnv(t *testing.T) {
	for _, k := range []string{"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "OLLAMA_HOST"} {
		t.Setenv(k, "")
	}
}

// seen is one request a fake server received.
type seen struct {
	Path   string
	Header http.Header
	Body   map[string]any
}

// fake is a loopback HTTP server recording requests and answering each
// with reply.
type fake struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []seen
	reply func(w http.ResponseWriter, r *http.Request)
}

func newFake(t *testing.T, reply func(w http.ResponseWriter, r *http.Request)) *fake {
	f := &fake{reply: reply}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		f.mu.Lock()
		f.reqs = append(f.reqs, seen{Path: r.URL.Path, Header: r.Header.Clone(), Body: body})
		f.mu.Unlock()
		f.reply(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) hits() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

func (f *fake) last(t *testing.T) seen {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("server got no request")
	}
	return f.reqs[len(f.reqs)-1]
}

func jsonReply(status int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

const chatOK = `{"id":"c1","object":"chat.completion","model":"served-id","choices":[{"index":0,"message":{"role":"assistant","content":"hello there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":4,"total_tokens":15}}`

const messagesOK = `{"id":"m1","type":"message","role":"assistant","model":"served","content":[{"type":"text","text":"bonjour"},{"type":"text","text":" monde"}],"stop_reason":"end_turn","usage":{"input_tokens":7,"output_tokens":3}}`

func newRT(t *testing.T, cfg *libkite.Config) *libkite.Runtime {
	rt, _ := kitetest.New(t, cfg, New())
	return rt
}

// eval runs pre and expr on a fresh runtime with a fresh module.
func eval(t *testing.T, pre, expr string) (string, string) {
	t.Helper()
	got, msg, _ := kitetest.Eval(newRT(t, nil), pre, expr)
	return got, msg
}

func mustEval(t *testing.T, pre, expr string) string {
	t.Helper()
	got, msg := eval(t, pre, expr)
	if msg != "" {
		t.Fatalf("unexpected error: %s", msg)
	}
	return got
}

func wantErr(t *testing.T, msg string, parts ...string) {
	t.Helper()
	if msg == "" {
		t.Fatalf("want an error containing %q, got success", parts)
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Fatalf("error %q lacks %q", msg, p)
		}
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestOpenAIWire(t *testing.T) {
	clearEnv(t)
	srv := newFake(t, jsonReply(200, chatOK))
	pre := `ai.config(api_keys={"openai": "sk-test"}, base_urls={"openai": ` + kitetest.Lit(srv.URL+"/v1/") + `})
r = ai.generate("hi", model="openai/meta/llama-3-8b", system="Be terse.", temperature=0, max_tokens=300, top_p=0.5, top_k=5, stop=["END"])`
	got := mustEval(t, pre, `(r.text, r.model, r.usage.input, r.usage.output, r.usage.total, str(r.usage), r.data, bool(r), str(r))`)
	if want := `("hello there", "openai/meta/llama-3-8b", 11, 4, 15, "ai.Usage(input=11, output=4)", None, True, "hello there")`; got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	s := srv.last(t)
	if s.Path != "/v1/chat/completions" {
		t.Errorf("path = %q", s.Path)
	}
	if a := s.Header.Get("Authorization"); a != "Bearer sk-test" {
		t.Errorf("Authorization = %q", a)
	}
	b := s.Body
	if b["model"] != "meta/llama-3-8b" {
		t.Errorf("model = %v", b["model"])
	}
	if got, want := jsonOf(b["messages"]), `[{"content":"Be terse.","role":"system"},{"content":"hi","role":"user"}]`; got != want {
		t.Errorf("messages = %s, want %s", got, want)
	}
	if v, ok := b["temperature"]; !ok || v != 0.0 {
		t.Errorf("temperature = %v (present %v), want 0 present", v, ok)
	}
	if b["max_tokens"] != 300.0 || b["top_p"] != 0.5 || jsonOf(b["stop"]) != `["END"]` {
		t.Errorf("sampling = max_tokens %v top_p %v stop %v", b["max_tokens"], b["top_p"], b["stop"])
	}
	if _, ok := b["top_k"]; ok {
		t.Errorf("top_k sent on the Chat Completions wire")
	}
}

func TestOpenAIAbsentParamsAndKeyless(t *testing.T) {
	clearEnv(t)
	srv := newFake(t, jsonReply(200, `{"choices":[{"message":{"role":"assistant","content":"x"}}]}`))
	got := mustEval(t, `ai.config(base_urls={"openai": `+kitetest.Lit(srv.URL+"/v1")+`})
r = ai.generate("q", model="openai/local")`, `(r.text, r.usage.total, bool(r.usage), str(r.usage))`)
	if got != `("x", 0, False, "ai.Usage(input=0, output=0)")` {
		t.Fatalf("got %s", got)
	}
	s := srv.last(t)
	if _, ok := s.Header["Authorization"]; ok {
		t.Errorf("keyless call sent Authorization %q", s.Header.Get("Authorization"))
	}
	for _, k := range []string{"temperature", "max_tokens", "top_p", "top_k", "stop"} {
		if _, ok := s.Body[k]; ok {
			t.Errorf("absent kwarg %s was sent", k)
		}
	}
	if jsonOf(s.Body["messages"]) != `[{"content":"q","role":"user"}]` {
		t.Errorf("messages = %s", jsonOf(s.Body["messages"]))
	}
}

func TestOllamaAndGoogleAI(t *testing.T) {
	clearEnv(t)
	srv := newFake(t, jsonReply(200, chatOK))
	t.Setenv("OLLAMA_HOST", strings.TrimPrefix(srv.URL, "http://")) // no scheme
	mustEval(t, "", `ai.generate("p", model="ollama/llama3.2:3b")`)
	s := srv.last(t)
	if s.Path != "/v1/chat/completions" || s.Body["model"] != "llama3.2:3b" {
		t.Fatalf("ollama: path %q model %v", s.Path, s.Body["model"])
	}
	if _, ok := s.Header["Authorization"]; ok {
		t.Errorf("ollama sent Authorization")
	}
	// A base URL already ending in /v1 is not extended.
	mustEval(t, `ai.config(base_urls={"ollama": `+kitetest.Lit(srv.URL+"/v1/")+`})`, `ai.generate("p", model="ollama/m")`)
	if p := srv.last(t).Path; p != "/v1/chat/completions" {
		t.Errorf("ollama /v1 base: path %q", p)
	}

	t.Setenv("GOOGLE_API_KEY", "g-key")
	mustEval(t, `ai.config(base_urls={"googleai": `+kitetest.Lit(srv.URL+"/v1beta/openai")+`})`, `ai.generate("p", model="googleai/gemini-2.0-flash")`)
	s = srv.last(t)
	if s.Path != "/v1beta/openai/chat/completions" || s.Header.Get("Authorization") != "Bearer g-key" || s.Body["model"] != "gemini-2.0-flash" {
		t.Fatalf("googleai: path %q auth %q model %v", s.Path, s.Header.Get("Authorization"), s.Body["model"])
	}
	t.Setenv("GEMINI_API_KEY", "gem-key") // wins over GOOGLE_API_KEY
	mustEval(t, `ai.config(base_urls={"googleai": `+kitetest.Lit(srv.URL)+`})`, `ai.generate("p", model="googleai/g", temperature=0.7, top_k=3)`)
	s = srv.last(t)
	if s.Header.Get("Authorization") != "Bearer gem-key" || s.Body["temperature"] != 0.7 {
		t.Fatalf("googleai: auth %q temperature %v", s.Header.Get("Authorization"), s.Body["temperature"])
	}
	if _, ok := s.Body["top_k"]; ok {
		t.Errorf("googleai: top_k sent")
	}
}

func TestAnthropicWire(t *testing.T) {
	clearEnv(t)
	srv := newFake(t, jsonReply(200, messagesOK))
	t.Setenv("ANTHROPIC_BASE_URL", srv.URL)
	t.Setenv("ANTHROPIC_API_KEY", "ak-env")
	got := mustEval(t, `r = ai.generate("hi", model="anthropic/claude-3-5-haiku-latest", system="S")`, `(r.text, r.model, str(r.usage), r.usage.total)`)
	if got != `("bonjour monde", "anthropic/claude-3-5-haiku-latest", "ai.Usage(input=7, output=3)", 10)` {
		t.Fatalf("got %s", got)
	}
	s := srv.last(t)
	if s.Path != "/v1/messages" {
		t.Errorf("path %q", s.Path)
	}
	if s.Header.Get("x-api-key") != "ak-env" || s.Header.Get("anthropic-version") != "2023-06-01" {
		t.Errorf("headers x-api-key %q anthropic-version %q", s.Header.Get("x-api-key"), s.Header.Get("anthropic-version"))
	}
	if _, ok := s.Header["Authorization"]; ok {
		t.Errorf("anthropic sent Authorization")
	}
	b := s.Body
	if b["model"] != "claude-3-5-haiku-latest" || b["max_tokens"] != 4096.0 || b["system"] != "S" {
		t.Errorf("body model %v max_tokens %v system %v", b["model"], b["max_tokens"], b["system"])
	}
	if jsonOf(b["messages"]) != `[{"content":"hi","role":"user"}]` {
		t.Errorf("messages %s", jsonOf(b["messages"]))
	}
	for _, k := range []string{"temperature", "top_p", "top_k", "stop_sequences"} {
		if _, ok := b[k]; ok {
			t.Errorf("absent %s sent", k)
		}
	}
	// Sampling forwarded; per-call key wins; a /v1 base gets just /messages.
	mustEval(t, "", `ai.generate("hi", model="anthropic/c", api_key="ak-call", base_url=`+kitetest.Lit(srv.URL+"/v1")+`, temperature=0, max_tokens=50, top_p=0.9, top_k=4, stop=["Z"])`)
	s = srv.last(t)
	b = s.Body
	if s.Path != "/v1/messages" || s.Header.Get("x-api-key") != "ak-call" {
		t.Errorf("path %q key %q", s.Path, s.Header.Get("x-api-key"))
	}
	if v, ok := b["temperature"]; !ok || v != 0.0 || b["max_tokens"] != 50.0 || b["top_p"] != 0.9 || b["top_k"] != 4.0 || jsonOf(b["stop_sequences"]) != `["Z"]` {
		t.Errorf("sampling %s", jsonOf(b))
	}
	if _, ok := b["system"]; ok {
		t.Errorf("system sent though unset")
	}
}

func TestProviderErrors(t *testing.T) {
	clearEnv(t)
	t.Setenv("OPENAI_API_KEY", "k")
	t.Setenv("ANTHROPIC_API_KEY", "k")
	cases := []struct {
		name, model string
		reply       func(http.ResponseWriter, *http.Request)
		want        []string
	}{
		{"openai 401", "openai/m", jsonReply(401, `{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}`),
			[]string{"ai.generate: openai: HTTP 401", "Incorrect API key provided"}},
		{"openai 500", "openai/m", jsonReply(500, `{"error":{"message":"The server had an error","type":"server_error"}}`),
			[]string{"ai.generate: openai: HTTP 500", "The server had an error"}},
		{"openai 502 non-json", "openai/m", jsonReply(502, `upstream gone`), []string{"HTTP 502", "upstream gone"}},
		{"openai malformed", "openai/m", jsonReply(200, `{"choices": [`), []string{"ai.generate: openai: malformed response"}},
		{"openai no choices", "openai/m", jsonReply(200, `{"choices": []}`), []string{"openai: malformed response: no choices"}},
		{"openai 429", "openai/m", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			jsonReply(429, `{"error":{"message":"Rate limit reached","type":"rate_limit_exceeded"}}`)(w, r)
		}, []string{"HTTP 429", "Rate limit reached", "retry after 7s"}},
		{"anthropic 401", "anthropic/c", jsonReply(401, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`),
			[]string{"ai.generate: anthropic: HTTP 401", "invalid x-api-key (authentication_error)"}},
		{"anthropic 500", "anthropic/c", jsonReply(500, `{"type":"error","error":{"type":"api_error","message":"Internal server error"}}`),
			[]string{"anthropic: HTTP 500", "Internal server error"}},
		{"anthropic malformed", "anthropic/c", jsonReply(200, `{"content": [}`), []string{"ai.generate: anthropic: malformed response"}},
		{"anthropic 429", "anthropic/c", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "12")
			jsonReply(429, `{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests exceeded"}}`)(w, r)
		}, []string{"anthropic: HTTP 429", "Number of requests exceeded", "retry after 12s"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := newFake(t, c.reply)
			_, msg := eval(t, "", `ai.generate("x", model=`+kitetest.Lit(c.model)+`, base_url=`+kitetest.Lit(srv.URL)+`)`)
			wantErr(t, msg, c.want...)
			if srv.hits() != 1 {
				t.Errorf("hits = %d, want 1", srv.hits())
			}
		})
	}
}

// slow answers only when the client gives up (or after a long while).
func slow(started chan<- struct{}) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if started != nil {
			started <- struct{}{}
		}
		select {
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	}
}

func TestTimeouts(t *testing.T) {
	clearEnv(t)
	t.Setenv("OPENAI_API_KEY", "k")
	t.Setenv("ANTHROPIC_API_KEY", "k")
	srv := newFake(t, slow(nil))
	for _, model := range []string{"openai/m", "anthropic/c"} {
		t.Run(model+" config", func(t *testing.T) {
			_, msg := eval(t, `ai.config(timeout="100ms", base_urls={"openai": `+kitetest.Lit(srv.URL)+`, "anthropic": `+kitetest.Lit(srv.URL)+`})`,
				`ai.generate("x", model=`+kitetest.Lit(model)+`)`)
			wantErr(t, msg, "ai.generate: ", "timed out after 100ms", "deadline exceeded")
		})
		t.Run(model+" per call", func(t *testing.T) {
			_, msg := eval(t, `ai.config(timeout="1h")`, `ai.generate("x", model=`+kitetest.Lit(model)+`, base_url=`+kitetest.Lit(srv.URL)+`, timeout="100ms")`)
			wantErr(t, msg, "timed out after 100ms", "deadline exceeded")
		})
	}
}

func TestCancellationViaRunContext(t *testing.T) {
	clearEnv(t)
	t.Setenv("OPENAI_API_KEY", "k")
	t.Setenv("ANTHROPIC_API_KEY", "k")
	for _, model := range []string{"openai/m", "anthropic/c"} {
		t.Run(model, func(t *testing.T) {
			started := make(chan struct{}, 1)
			srv := newFake(t, slow(started))
			rt := newRT(t, nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				<-started
				cancel()
			}()
			err := rt.Execute(ctx, `ai.generate("x", model=`+kitetest.Lit(model)+`, base_url=`+kitetest.Lit(srv.URL)+`)`)
			wantErr(t, kitetest.ErrMsg(err), "canceled")
		})
	}
}

func TestModelStrings(t *testing.T) {
	clearEnv(t)
	kitetest.RunCases(t, func(t testing.TB) *libkite.Runtime { rt, _ := kitetest.New(t, nil, New()); return rt }, []kitetest.Case{
		{Expr: `ai.generate("x", model="gpt4")`, Err: `ai.generate: invalid model "gpt4": expected the form "provider/name" (e.g. "openai/gpt-4o-mini")`},
		{Expr: `ai.generate("x", model="openai/")`, Err: `provider/name`, ErrContains: true},
		{Expr: `ai.generate("x", model="/m")`, Err: `provider/name`, ErrContains: true},
		{Expr: `ai.generate("x", model="mistral/large")`, Err: `ai.generate: unknown provider "mistral" in model "mistral/large" (known: anthropic, googleai, ollama, openai)`},
		{Expr: `ai.generate("x")`, Err: `ai.generate: model is required`, ErrContains: true},
		{Pre: `ai.config(default_model="bad")`, Expr: `ai.generate("x")`, Err: `invalid model "bad"`, ErrContains: true},
	})
}

func TestAvailability(t *testing.T) {
	clearEnv(t)
	kitetest.RunCases(t, func(t testing.TB) *libkite.Runtime { rt, _ := kitetest.New(t, nil, New()); return rt }, []kitetest.Case{
		{Expr: `ai.generate("x", model="openai/gpt-4o-mini")`, Err: `ai.generate: openai provider is unavailable — set OPENAI_API_KEY, or pass api_key= per-call`},
		{Expr: `ai.generate("x", model="anthropic/c")`, Err: `ai.generate: anthropic provider is unavailable — set ANTHROPIC_API_KEY, or pass api_key= per-call`},
		{Expr: `ai.generate("x", model="googleai/g")`, Err: `ai.generate: googleai provider is unavailable — set GEMINI_API_KEY or GOOGLE_API_KEY, or pass api_key= per-call`},
		// A base URL alone does not make anthropic/googleai available.
		{Pre: `ai.config(base_urls={"anthropic": "http://127.0.0.1:1"})`, Expr: `ai.generate("x", model="anthropic/c")`, Err: `anthropic provider is unavailable`, ErrContains: true},
		// The default openai base URL spelled out still needs a key.
		{Pre: `ai.config(base_urls={"openai": "https://api.openai.com/v1/"})`, Expr: `ai.generate("x", model="openai/m")`, Err: `openai provider is unavailable`, ErrContains: true},
	})
	// ollama needs no key; a down server is a request error.
	_, msg := eval(t, `ai.config(base_urls={"ollama": "http://127.0.0.1:1"})`, `ai.generate("x", model="ollama/m")`)
	wantErr(t, msg, "ai.generate: ollama: request failed")
}

func TestBaseURLPrecedence(t *testing.T) {
	clearEnv(t)
	t.Setenv("OPENAI_API_KEY", "k")
	env, cfg, call := newFake(t, jsonReply(200, chatOK)), newFake(t, jsonReply(200, chatOK)), newFake(t, jsonReply(200, chatOK))
	t.Setenv("OPENAI_BASE_URL", env.URL)
	mustEval(t, "", `ai.generate("x", model="openai/m")`)
	mustEval(t, `ai.config(base_urls={"openai": `+kitetest.Lit(cfg.URL)+`})`, `ai.generate("x", model="openai/m")`)
	mustEval(t, `ai.config(base_urls={"openai": `+kitetest.Lit(cfg.URL)+`})`, `ai.generate("x", model="openai/m", base_url=`+kitetest.Lit(call.URL)+`)`)
	if env.hits() != 1 || cfg.hits() != 1 || call.hits() != 1 {
		t.Fatalf("hits env %d config %d call %d, want 1 each", env.hits(), cfg.hits(), call.hits())
	}
	// Key precedence: per-call → config → env.
	mustEval(t, `ai.config(api_keys={"openai": "cfg-key"})`, `ai.generate("x", model="openai/m")`)
	if a := env.last(t).Header.Get("Authorization"); a != "Bearer cfg-key" {
		t.Errorf("config key: %q", a)
	}
	mustEval(t, `ai.config(api_keys={"openai": "cfg-key"})`, `ai.generate("x", model="openai/m", api_key="call-key")`)
	if a := env.last(t).Header.Get("Authorization"); a != "Bearer call-key" {
		t.Errorf("per-call key: %q", a)
	}
	mustEval(t, "", `ai.generate("x", model="openai/m")`)
	if a := env.last(t).Header.Get("Authorization"); a != "Bearer k" {
		t.Errorf("env key: %q", a)
	}
}

func TestConfigDropsCache(t *testing.T) {
	clearEnv(t)
	a, b := newFake(t, jsonReply(200, chatOK)), newFake(t, jsonReply(200, chatOK))
	rt := newRT(t, nil)
	script := `ai.config(base_urls={"openai": ` + kitetest.Lit(a.URL) + `})
ai.generate("1", model="openai/m")
ai.generate("2", model="openai/m", base_url=` + kitetest.Lit(b.URL) + `)  # per-call: uncached
ai.generate("3", model="openai/m")  # still the cached client on a
ai.config(base_urls={"openai": ` + kitetest.Lit(b.URL) + `})
ai.generate("4", model="openai/m")
`
	if err := rt.Execute(context.Background(), script); err != nil {
		t.Fatal(err)
	}
	if a.hits() != 2 || b.hits() != 2 {
		t.Fatalf("hits a %d b %d, want 2 and 2", a.hits(), b.hits())
	}
	if got := jsonOf(b.last(t).Body["messages"]); !strings.Contains(got, `"4"`) {
		t.Errorf("last request on b: %s", got)
	}
}

// fakeProvider counts builds and answers canned text.
type fakeProvider struct{ base string }

func (f *fakeProvider) Complete(context.Context, *Request) (*Reply, error) {
	return &Reply{Text: f.base}, nil
}

func (f *fakeProvider) Stream(context.Context, *Request) (StreamReader, error) {
	return nil, fmt.Errorf("fakeProvider does not stream")
}

func TestClientCache(t *testing.T) {
	clearEnv(t)
	var mu sync.Mutex
	var builds []string
	mod := NewWithProviderFactory(func(provider, key, base string) (Provider, error) {
		mu.Lock()
		builds = append(builds, provider+" "+key+" "+base)
		mu.Unlock()
		return &fakeProvider{base: base}, nil
	})
	rt, _ := kitetest.New(t, nil, mod)
	got, msg, _ := kitetest.Eval(rt, `ai.config(base_urls={"ollama": "http://h1"})
r1 = ai.generate("x", model="ollama/a").text
r2 = ai.generate("x", model="ollama/b").text
r3 = ai.generate("x", model="ollama/a", base_url="http://h2").text
r4 = ai.generate("x", model="ollama/a", api_key="k").text
r5 = ai.generate("x", model="ollama/a").text
ai.config(base_urls={"ollama": "http://h3"})
r6 = ai.generate("x", model="ollama/a").text`, `[r1, r2, r3, r4, r5, r6]`)
	if msg != "" || got != `["http://h1", "http://h1", "http://h2", "http://h1", "http://h1", "http://h3"]` {
		t.Fatalf("got %s (%s)", got, msg)
	}
	want := []string{"ollama  http://h1", "ollama  http://h2", "ollama k http://h1", "ollama  http://h3"}
	if jsonOf(builds) != jsonOf(want) {
		t.Fatalf("builds %q, want %q", builds, want)
	}
}

func TestConcurrentCalls(t *testing.T) {
	clearEnv(t)
	srv := newFake(t, jsonReply(200, chatOK))
	m := &module{build: newProvider}
	m.cfg = settings{baseURLs: map[string]string{"ollama": srv.URL}}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%3 == 0 {
				m.mu.Lock()
				m.cache = nil
				m.mu.Unlock()
			}
			p, err := m.client(resolve(providers["ollama"], m.snapshot(), "", ""), false)
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := p.Complete(context.Background(), &Request{Model: "m", Messages: []Message{{Role: "user", Content: "x"}}}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if srv.hits() != 8 {
		t.Fatalf("hits %d", srv.hits())
	}
}

func TestPermissions(t *testing.T) {
	clearEnv(t)
	t.Setenv("OPENAI_API_KEY", "k")
	srv := newFake(t, jsonReply(200, chatOK))
	t.Setenv("OPENAI_BASE_URL", srv.URL)
	t.Setenv("OLLAMA_HOST", srv.URL)
	denyAll := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	localOnly := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"ai.generate(ollama/*)"}}}
	denial := kitetest.Denied("ai.generate", "generate", "openai/gpt-4o-mini")
	kitetest.RunPermCases(t, func(t testing.TB, cfg *libkite.Config) *libkite.Runtime {
		rt, _ := kitetest.New(t, cfg, New())
		return rt
	}, []kitetest.PermCase{
		{Name: "deny-all", Cfg: denyAll, Expr: `ai.generate("x", model="openai/gpt-4o-mini")`, ErrPrefix: denial},
		{Name: "deny-all try", Cfg: denyAll, Expr: `ai.try_generate("x", model="openai/gpt-4o-mini")`, Want: `Result(ok=False, error="permission denied: ai.generate generate(`},
		{Name: "config unchecked", Cfg: denyAll, Expr: `ai.config(timeout="1s")`, Want: `None`},
		{Name: "local only denies openai", Cfg: localOnly, Expr: `ai.generate("x", model="openai/gpt-4o-mini")`, ErrPrefix: denial},
		{Name: "allow-net denies", Cfg: &libkite.Config{Permissions: libkite.AllowNetPermissions()}, Expr: `ai.generate("x", model="openai/gpt-4o-mini")`, ErrPrefix: denial},
	}, func(t *testing.T) {
		if n := srv.hits(); n != 0 {
			t.Fatalf("denied call reached the server (%d hits)", n)
		}
	})
	// Validation errors come before the permission check.
	_, msg, _ := kitetest.Eval(newRT(t, denyAll), "", `ai.generate("x", model="nope")`)
	wantErr(t, msg, "ai.generate: invalid model")
	// The permission check comes before availability.
	clearEnv(t)
	_, msg, _ = kitetest.Eval(newRT(t, denyAll), "", `ai.generate("x", model="openai/gpt-4o-mini")`)
	wantErr(t, msg, denial)
	// Allowed calls go through.
	t.Setenv("OLLAMA_HOST", srv.URL)
	for _, cfg := range []*libkite.Config{localOnly, {Permissions: libkite.AllowLocalPermissions()}} {
		if got, msg, _ := kitetest.Eval(newRT(t, cfg), "", `ai.generate("x", model="ollama/llama3.2:3b").text`); msg != "" || got != "hello there" {
			t.Fatalf("allowed call: %s (%s)", got, msg)
		}
	}
}

func TestConfigValidation(t *testing.T) {
	clearEnv(t)
	kitetest.RunCases(t, func(t testing.TB) *libkite.Runtime { rt, _ := kitetest.New(t, nil, New()); return rt }, []kitetest.Case{
		{Expr: `ai.config("openai/m")`, Err: `ai.config: takes only keyword arguments`},
		{Expr: `ai.config(api_keys={"openai": 1})`, Err: `ai.config: api_keys["openai"] must be a str, got int`},
		{Expr: `ai.config(base_urls={"ollama": None})`, Err: `ai.config: base_urls["ollama"] must be a str, got NoneType`},
		{Expr: `ai.config(api_keys={1: "k"})`, Err: `ai.config: api_keys keys must be provider names (str), got int`},
		{Expr: `ai.config(timeout="soon")`, Err: `ai.config: invalid timeout "soon"`, ErrContains: true},
		{Expr: `ai.config(timeout="-1s")`, Err: `ai.config: timeout must not be negative, got "-1s"`},
		{Expr: `ai.config(model="x")`, Err: `ai.config: unknown keyword argument: model`},
		{Expr: `ai.config(api_keys=[])`, Err: `ai.config`, ErrContains: true},
		{Expr: `ai.try_config(timeout="soon")`, Want: `Result(ok=False, error="ai.config: invalid timeout \"soon\": time: invalid duration \"soon\"")`},
		// Replace-all: the second call resets default_model.
		{Pre: `ai.config(default_model="ollama/m")
ai.config(timeout="1s")`, Expr: `ai.generate("x")`, Err: `model is required`, ErrContains: true},
	})
}

func TestGenerateValidation(t *testing.T) {
	clearEnv(t)
	kitetest.RunCases(t, func(t testing.TB) *libkite.Runtime { rt, _ := kitetest.New(t, nil, New()); return rt }, []kitetest.Case{
		{Expr: `ai.generate()`, Err: `ai.generate: expected 1 positional argument (prompt), got 0`},
		{Expr: `ai.generate("a", "b")`, Err: `ai.generate: expected 1 positional argument (prompt), got 2`},
		{Expr: `ai.generate(1)`, Err: `ai.generate: prompt must be a str, got int`},
		{Expr: `ai.generate(prompt="x")`, Err: `ai.generate: expected 1 positional argument (prompt), got 0`},
		{Expr: `ai.generate("x", colour="red")`, Err: `ai.generate: unknown keyword argument: colour`},
		{Expr: `ai.generate("x", model="ollama/m", temperature="hot")`, Err: `ai.generate: temperature must be a number, got string`},
		{Expr: `ai.generate("x", model="ollama/m", max_tokens=1.5)`, Err: `ai.generate: max_tokens must be an int, got float`},
		{Expr: `ai.generate("x", model="ollama/m", stop="END")`, Err: `ai.generate: stop must be a list of str, got string`},
		{Expr: `ai.generate("x", model="ollama/m", stop=[1])`, Err: `ai.generate: stop[0] must be a str, got int`},
		{Expr: `ai.generate("x", model="ollama/m", timeout="later")`, Err: `ai.generate: invalid timeout "later"`, ErrContains: true},
		{Expr: `ai.generate("x", model="ollama/m", stream=True, schema={})`, Err: `ai.generate: stream=True and schema= are mutually exclusive`},
		{Expr: `ai.generate("x", model="ollama/m", stream=True, tools=[])`, Err: `ai.generate: stream=True with tools= is not supported`},
		{Expr: `ai.generate("x", model="ollama/m", schema=[])`, Err: `ai.generate: schema must be a dict (JSON Schema), got list`},
		{Expr: `ai.generate("x", model="ollama/m", on_tool_error="ignore")`, Err: `ai.generate: on_tool_error must be "feedback" or "halt", got "ignore"`},
		{Expr: `ai.generate("x", model="ollama/m", max_iterations=-1)`, Err: `ai.generate: max_iterations must not be negative, got -1`},
		{Expr: `ai.try_generate(1)`, Want: `Result(ok=False, error="ai.generate: prompt must be a str, got int")`},
	})
}

func TestResponseValue(t *testing.T) {
	clearEnv(t)
	srv := newFake(t, jsonReply(200, `{"choices":[{"message":{"role":"assistant","content":""}}],"usage":{"prompt_tokens":2,"completion_tokens":0}}`))
	pre := `r = ai.generate("x", model="ollama/m", base_url=` + kitetest.Lit(srv.URL) + `)`
	if got := mustEval(t, pre, `(bool(r), type(r), type(r.usage), bool(r.usage), r.usage.total, dir(r), dir(r.usage))`); got != `(False, "ai.Response", "ai.Usage", True, 2, ["data", "model", "text", "usage"], ["input", "output", "total"])` {
		t.Fatalf("got %s", got)
	}
	_, msg := eval(t, pre, `{r: 1}`)
	wantErr(t, msg, "unhashable")
}
