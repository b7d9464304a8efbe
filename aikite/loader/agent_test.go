package loader

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// TestRegistry: the AI edition is the base set plus ai and mcp.
func TestRegistry(t *testing.T) {
	r := NewAIRegistry(nil)
	if _, err := r.LoadAll(); err != nil {
		t.Fatalf("LoadAll: %v", err)
	}
	have := map[string]bool{}
	for _, n := range r.Names() {
		have[n] = true
	}
	for _, n := range []string{"ai", "mcp", "fs", "http", "json"} {
		if !have[n] {
			t.Errorf("module %s missing", n)
		}
	}
	if have["k8s"] {
		t.Error("k8s must not be in the AI edition")
	}
}

// TestAgentWithMCPTools is the seed's agent pattern end to end: a script
// connects to an MCP server (mcp-go, streamable HTTP on loopback), hands
// one of its tools straight to ai.chat, and a model (a loopback server
// speaking Chat Completions) calls it; the tool's answer goes back to the
// model and the final text comes out.
func TestAgentWithMCPTools(t *testing.T) {
	for _, k := range []string{"OPENAI_API_KEY", "OPENAI_BASE_URL", "OLLAMA_HOST", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"} {
		t.Setenv(k, "")
	}
	var mu sync.Mutex
	var issueCalls []map[string]any
	s := server.NewMCPServer("issues", "1.0.0")
	s.AddTool(mcp.NewTool("get_issue", mcp.WithDescription("Fetch one issue by number."),
		mcp.WithNumber("number", mcp.Required())),
		func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			mu.Lock()
			issueCalls = append(issueCalls, req.GetArguments())
			mu.Unlock()
			n, err := req.RequireInt("number")
			if err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
			return mcp.NewToolResultText(fmt.Sprintf("#%d: timeout in checkout (open)", n)), nil
		})
	mcpSrv := httptest.NewServer(server.NewStreamableHTTPServer(s))
	defer mcpSrv.Close()

	var reqs []map[string]any
	model := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		json.Unmarshal(raw, &body)
		mu.Lock()
		reqs = append(reqs, body)
		n := len(reqs)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if n == 1 {
			io.WriteString(w, `{"choices":[{"index":0,"message":{"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"get_issue","arguments":"{\"number\":7}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":30,"completion_tokens":8}}`)
			return
		}
		io.WriteString(w, `{"choices":[{"index":0,"message":{"role":"assistant","content":"Issue 7 mentions a timeout."},"finish_reason":"stop"}],"usage":{"prompt_tokens":50,"completion_tokens":6}}`)
	}))
	defer model.Close()

	var out strings.Builder
	rt, err := libkite.New(&libkite.Config{
		Registry:    NewAIRegistry(nil),
		Permissions: libkite.AllowLocalPermissions(),
		NoSignals:   true,
		Print:       func(_ *starlark.Thread, msg string) { out.WriteString(msg + "\n") },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	script := fmt.Sprintf(`
gh = mcp.connect(%q)
t = gh.tools.get_issue
bot = ai.chat(model="openai/gpt-4o-mini", base_url=%q, tools=[t])
r = bot.send("Which issue mentions a timeout?")
print(r.text, r.usage.total)
print([e.get("tool_name", "") + ":" + str(e.get("tool_output", "")) for e in bot.history if e["role"] == "tool"])
gh.close()
`, mcpSrv.URL, model.URL+"/v1")
	if err := rt.Execute(context.Background(), script); err != nil {
		t.Fatalf("script: %v", err)
	}
	want := "Issue 7 mentions a timeout. 94\n[\"get_issue:#7: timeout in checkout (open)\"]\n"
	if out.String() != want {
		t.Errorf("output = %q, want %q", out.String(), want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(issueCalls) != 1 || fmt.Sprint(issueCalls[0]["number"]) != "7" {
		t.Errorf("MCP server calls = %v, want one with number 7", issueCalls)
	}
	// the model saw the MCP tool's own name, description and schema, and
	// got its text back as the tool message
	tools, _ := json.Marshal(reqs[0]["tools"])
	for _, want := range []string{`"name":"get_issue"`, `"description":"Fetch one issue by number."`, `"number":{"type":"number"}`, `"required":["number"]`} {
		if !strings.Contains(string(tools), want) {
			t.Errorf("tools sent to the model lack %s: %s", want, tools)
		}
	}
	msgs, _ := json.Marshal(reqs[1]["messages"])
	if !strings.Contains(string(msgs), `{"content":"#7: timeout in checkout (open)","role":"tool","tool_call_id":"t1"}`) {
		t.Errorf("second model request lacks the tool reply: %s", msgs)
	}
}
