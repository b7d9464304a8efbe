package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/project-starkite/starkite/libkite/kitetest"
)

// kiteaiBin is the kiteai binary, built once by TestMain.
var kiteaiBin string

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "kiteai-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	kiteaiBin = filepath.Join(dir, "kiteai")
	c := exec.Command(goTool, "build", "-tags", "urfave_cli_no_docs", "-o", kiteaiBin, ".")
	c.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := c.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building kiteai: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

func runKiteai(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	c := exec.Command(kiteaiBin, args...)
	var o, e strings.Builder
	c.Stdout, c.Stderr = &o, &e
	c.Run()
	return o.String(), e.String(), c.ProcessState.ExitCode()
}

// TestKiteaiWiring checks what kiteai's main adds to the shared CLI: the
// "ai" edition, ai and mcp beside the base modules, no k8s, the mcp
// command, and no sandbox runner.
func TestKiteaiWiring(t *testing.T) {
	if out, _, _ := runKiteai(t, "version"); !strings.Contains(out, "(ai)") {
		t.Errorf("version = %q, want the ai edition", out)
	}
	out, errOut, code := runKiteai(t, "exec", `print(type(ai), type(mcp), type(json))`)
	if code != 0 || out != "module module module\n" {
		t.Errorf("exec: exit %d %q %s", code, out, errOut)
	}
	if _, errOut, code = runKiteai(t, "exec", `k8s`); code != 1 || !strings.Contains(errOut, "undefined: k8s") {
		t.Errorf("k8s in kiteai: exit %d %q, want undefined", code, errOut)
	}
	out, errOut, code = runKiteai(t, "exec", `print(sorted([m for m in dir(ai) if not m.startswith("try_")]), sorted([m for m in dir(mcp) if not m.startswith("try_")]))`)
	if code != 0 || out != `["chat", "config", "generate", "run_until", "tool"] ["connect", "serve"]`+"\n" {
		t.Errorf("module members: exit %d %q %s", code, out, errOut)
	}
	out, errOut, code = runKiteai(t, "mcp", "serve", "--help")
	if code != 0 || !strings.Contains(out, "serve a script's functions as MCP tools over stdio") {
		t.Errorf("mcp serve --help: exit %d %q %s", code, out, errOut)
	}
	_, errOut, code = runKiteai(t, "exec", "--sandbox", "print(1)")
	if code != 1 || errOut != "Error: sandbox not available on "+runtime.GOOS+", use container isolation\n" {
		t.Errorf("--sandbox in kiteai: exit %d %q", code, errOut)
	}
}

// TestMCPServeErrors covers the bad invocations of `mcp serve`.
func TestMCPServeErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.star")
	os.WriteFile(empty, []byte("x = 1\ndef _private(): pass\n"), 0o644)
	broken := filepath.Join(dir, "broken.star")
	os.WriteFile(broken, []byte("def f(:\n"), 0o644)
	tools := filepath.Join(dir, "tools.star")
	os.WriteFile(tools, []byte("x = 1\ndef f(a): return a\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no script", []string{"mcp", "serve"}, 2, "mcp serve: expected exactly 1 argument <script>, got 0"},
		{"missing file", []string{"mcp", "serve", filepath.Join(dir, "nope.star")}, 2, "script file not found"},
		{"no functions", []string{"mcp", "serve", empty}, 1, "defines no public top-level function to serve"},
		{"syntax error", []string{"mcp", "serve", broken}, 1, "broken.star:1:8: got ':', want ')'"},
		{"unknown --tool", []string{"mcp", "serve", tools, "--tool", "g"}, 1, `--tool g: the script defines no function "g"`},
		{"--tool not a function", []string{"mcp", "serve", tools, "--tool", "x"}, 1, `"x" is a int, not a function`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := exec.Command(kiteaiBin, tc.args...)
			c.Stdin = strings.NewReader("")
			var o, e strings.Builder
			c.Stdout, c.Stderr = &o, &e
			c.Run()
			if code := c.ProcessState.ExitCode(); code != tc.code || !strings.Contains(e.String(), tc.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d containing %q", code, e.String(), tc.code, tc.msg)
			}
			if o.Len() != 0 {
				t.Errorf("stdout must stay clean for the protocol, got %q", o.String())
			}
		})
	}
}

const serveScript = `
print("loading tools")   # must reach stderr, never the protocol stream

def word_stats(text, unique=False):
    """Count the words in a piece of text."""
    print("word_stats called")
    words = text.split()
    if unique:
        return {"words": len({w: True for w in words}), "unique": True}
    return {"words": len(words), "unique": False}

def read_file(path):
    """Read a file (needs fs.read)."""
    return read_text(path)

def _helper():
    pass

def main():
    fail("main must not run under mcp serve")
`

// TestMCPServeSubprocess is the MCP-host view: an mcp-go stdio client
// launches the built kiteai with `mcp serve <script>` and drives it.
func TestMCPServeSubprocess(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "text_tools.star")
	if err := os.WriteFile(script, []byte(serveScript), 0o644); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "secret.txt")
	os.WriteFile(secret, []byte("s3cret"), 0o644)

	// a config profile granting MCP but not the file system: tool calls
	// must be refused by the runtime's policy, not by the host
	cfg := "permissions:\n  tools:\n    base: allow-local\n    deny: [\"fs.read\"]\n"
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stderr := &kitetest.SyncBuffer{}
	c, err := client.NewStdioMCPClientWithOptions(kiteaiBin, nil, []string{"mcp", "serve", script, "--permissions=tools"},
		transport.WithCommandFunc(func(ctx context.Context, command string, env, args []string) (*exec.Cmd, error) {
			cmd := exec.CommandContext(ctx, command, args...)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), env...)
			return cmd, nil
		}),
		transport.WithCommandStderrWriter(stderr))
	if err != nil {
		t.Fatalf("starting kiteai: %v", err)
	}
	defer c.Close()
	var init mcp.InitializeRequest
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "test-host", Version: "1"}
	res, err := c.Initialize(ctx, init)
	if err != nil {
		t.Fatalf("initialize: %v", err)
	}
	if res.ServerInfo.Name != "text_tools" || res.ServerInfo.Version != "0.1.0" {
		t.Errorf("server info = %+v, want text_tools 0.1.0", res.ServerInfo)
	}
	tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	// mcp-go lists tools by name
	if strings.Join(names, ",") != "read_file,word_stats" {
		t.Fatalf("served tools = %v, want read_file,word_stats (public, no main/_helper)", names)
	}
	ws := tools.Tools[1]
	schema, _ := json.Marshal(ws.RawInputSchema)
	if len(ws.RawInputSchema) == 0 {
		schema, _ = json.Marshal(ws.InputSchema)
	}
	var got map[string]any
	json.Unmarshal(schema, &got)
	want := map[string]any{"type": "object",
		"properties": map[string]any{"text": map[string]any{"type": "string"}, "unique": map[string]any{"type": "boolean", "default": false}},
		"required":   []any{"text"}}
	if g, w := fmt.Sprint(got), fmt.Sprint(want); g != w {
		t.Errorf("inputSchema = %s, want %s", g, w)
	}
	if ws.Description != "Count the words in a piece of text." {
		t.Errorf("description = %q", ws.Description)
	}

	call := func(name string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		var req mcp.CallToolRequest
		req.Params.Name, req.Params.Arguments = name, args
		r, err := c.CallTool(ctx, req)
		if err != nil {
			t.Fatalf("tools/call %s: %v", name, err)
		}
		return r
	}
	text := func(r *mcp.CallToolResult) string {
		var b strings.Builder
		for _, ct := range r.Content {
			if tc, ok := mcp.AsTextContent(ct); ok {
				b.WriteString(tc.Text)
			}
		}
		return b.String()
	}
	if r := call("word_stats", map[string]any{"text": "a b a c"}); r.IsError || text(r) != `{"unique":false,"words":4}` {
		t.Errorf("word_stats = %v %q", r.IsError, text(r))
	}
	if r := call("word_stats", map[string]any{"text": "a b a c", "unique": true}); r.IsError || text(r) != `{"unique":true,"words":3}` {
		t.Errorf("word_stats unique = %v %q", r.IsError, text(r))
	}
	// the policy of --permissions reaches tool bodies
	if r := call("read_file", map[string]any{"path": secret}); !r.IsError || !strings.Contains(text(r), "permission denied") {
		t.Errorf("read_file under a no-fs policy = %v %q, want a permission error", r.IsError, text(r))
	}
	if r := call("word_stats", map[string]any{}); !r.IsError || !strings.Contains(text(r), "text") {
		t.Errorf("missing argument = %v %q, want an error naming it", r.IsError, text(r))
	}
	// closing stdin ends the server cleanly; print() went to stderr
	c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stderr.String(), "word_stats called") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if e := stderr.String(); !strings.Contains(e, "loading tools") || !strings.Contains(e, "word_stats called") {
		t.Errorf("stderr = %q, want the script's print() output", e)
	}
}
