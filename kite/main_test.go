package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// kiteBin is the all-in-one binary, built once by TestMain the way the
// Makefile builds it (static: it links gVisor).
var kiteBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "kite-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	kiteBin = filepath.Join(dir, "kite")
	if out, err := goBuild(kiteBin); err != nil {
		fmt.Fprintf(os.Stderr, "building kite: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// goBuild builds this package into bin with CGO_ENABLED=0 and extra
// build arguments.
func goBuild(bin string, args ...string) ([]byte, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	c := exec.Command(goTool, append(append([]string{"build", "-tags", "urfave_cli_no_docs"}, args...), "-o", bin, ".")...)
	c.Env = append(os.Environ(), "CGO_ENABLED=0")
	return c.CombinedOutput()
}

// buildKite returns the binary TestMain built.
func buildKite(t *testing.T) string {
	t.Helper()
	return kiteBin
}

// TestAllInOneWiring checks what kite's main adds to the shared CLI: the
// "all" edition, the strict all-in-one registry and the kube commands.
func TestAllInOneWiring(t *testing.T) {
	bin := buildKite(t)

	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatalf("version --json: %v", err)
	}
	var v map[string]string
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("version --json: %v\n%s", err, out)
	}
	if v["edition"] != "all" {
		t.Errorf("edition = %q, want all", v["edition"])
	}

	out, err = exec.Command(bin, "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "kite version ") || !strings.Contains(string(out), "(all)") {
		t.Errorf("--version = %q, %v", out, err)
	}

	c := exec.Command(bin, "exec", "print('ok')")
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err = c.Output()
	if err != nil || string(out) != "ok\n" {
		t.Errorf("exec = %q, %v\n%s", out, err, stderr.String())
	}

	// The cloud edition's kube commands, with this binary in the Dockerfile.
	dir := t.TempDir()
	c = exec.Command(bin, "kube", "gen-webhook-artifacts", "--image", "reg/w:1", "--name", "w", "--dockerfile", "Dockerfile")
	c.Dir = dir
	out, err = c.Output()
	df, _ := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil || !strings.Contains(string(out), "kind: Service") || !strings.Contains(string(df), `CMD ["kite","run","/app/webhook.star"]`) {
		t.Errorf("kube gen-webhook-artifacts: %v\n%s\n%s", err, out, df)
	}

	// The AI edition's modules and its mcp serve command: a one-line tool
	// server answering an initialize and a tools/call on stdin.
	c = exec.Command(bin, "exec", `print(type(ai.chat), type(mcp.connect))`)
	if out, err = c.Output(); err != nil || string(out) != "builtin_function_or_method builtin_function_or_method\n" {
		t.Errorf("ai/mcp in kite: %q, %v", out, err)
	}
	script := filepath.Join(dir, "tools.star")
	os.WriteFile(script, []byte("def double(n=0):\n    \"\"\"Twice n.\"\"\"\n    return n * 2\n"), 0o644)
	c = exec.Command(bin, "mcp", "serve", script, "--permissions=allow-local")
	stdin, _ := c.StdinPipe()
	stdout, _ := c.StdoutPipe()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	io.WriteString(stdin, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`+"\n"+
		`{"jsonrpc":"2.0","method":"notifications/initialized"}`+"\n"+
		`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"double","arguments":{"n":21}}}`+"\n")
	var replies []string
	sc := bufio.NewScanner(stdout)
	for len(replies) < 2 && sc.Scan() {
		replies = append(replies, sc.Text())
	}
	stdin.Close()                      // EOF ends the server
	all := strings.Join(replies, "\n") // answers may come in either order
	if err := c.Wait(); err != nil || len(replies) != 2 ||
		!strings.Contains(all, `"serverInfo":{"name":"tools","version":"0.1.0"}`) || !strings.Contains(all, `{"type":"text","text":"42"}`) {
		t.Errorf("kite mcp serve: %v\n%s", err, strings.Join(replies, "\n"))
	}

	// Edition set at link time is kept.
	bin2 := filepath.Join(t.TempDir(), "kite")
	b, err := goBuild(bin2, "-ldflags", "-X github.com/project-starkite/starkite/basekite/version.Edition=custom")
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	out, _ = exec.Command(bin2, "version", "--short").Output()
	full, _ := exec.Command(bin2, "version").Output()
	if !strings.Contains(string(full), "(custom)") || strings.TrimSpace(string(out)) == "" {
		t.Errorf("link-time edition lost: %q", full)
	}
}
