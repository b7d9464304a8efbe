package cmd

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
)

// TestAuditLog: --audit-log appends one JSON line per decision, allowed
// and denied, with the rule that decided; the file is the operator's
// (0600) and a second run appends.
func TestAuditLog(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "f", "x")
	script := `print(read_text("f"))` + "\n" + `try_res = path("/proc/kite-audit").try_write_text("y")` + "\nprint(try_res.ok)"
	for run := 1; run <= 2; run++ {
		res := runBin(t, invocation{args: []string{"exec", script, "--allow-fs", "--audit-log", "audit.jsonl"}, dir: dir})
		if res.code != 0 || res.stdout != "x\nFalse\n" {
			t.Fatalf("run %d: %s", run, res)
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d audit lines, want 4 (2 per run):\n%s", len(lines), data)
	}
	type entry struct {
		Time, Module, Category, Function, Resource, Decision, Rule string
	}
	var first, second entry
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	canon := libkite.CanonicalPath(filepath.Join(dir, "f"))
	if first.Module != "fs" || first.Category != "read" || first.Function != "read_file" || first.Resource != canon ||
		first.Decision != "allow" || first.Rule != "fs.read" || first.Time == "" {
		t.Errorf("allow line: %+v", first)
	}
	if second.Category != "write" || second.Resource != "/proc/kite-audit" || second.Decision != "deny" || second.Rule != "default deny" {
		t.Errorf("deny line: %+v", second)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "audit.jsonl")); fi.Mode().Perm() != 0o600 {
		t.Errorf("audit log mode %v, want 0600", fi.Mode().Perm())
	}
	// an audit log that cannot be opened is a config error, before the script runs
	res := runBin(t, invocation{args: []string{"exec", `print("ran")`, "--audit-log", filepath.Join(dir, "no", "such", "dir", "a.jsonl")}, dir: dir})
	if res.code != 4 || res.stdout != "" || !strings.HasPrefix(res.stderr, "Error: --audit-log: open ") {
		t.Errorf("unopenable audit log: %s", res)
	}
}

// TestPromptAnswers drives the --prompt hook with scripted answers: the
// question names the call; y allows once, a always, anything else or end
// of input denies.
func TestPromptAnswers(t *testing.T) {
	d := libkite.PermissionDecision{Module: "fs", Category: "write", Function: "write", Resource: "/x"}
	for input, want := range map[string]libkite.PermissionAnswer{
		"y\n": libkite.PermissionAllowOnce, "YES\n": libkite.PermissionAllowOnce,
		"a\n": libkite.PermissionAllowAlways, "always\n": libkite.PermissionAllowAlways,
		"n\n": libkite.PermissionDeny, "\n": libkite.PermissionDeny, "": libkite.PermissionDeny, "maybe\n": libkite.PermissionDeny,
	} {
		var asked strings.Builder
		got := promptOn(bufio.NewReader(strings.NewReader(input)), &asked)(d)
		if got != want {
			t.Errorf("answer %q → %v, want %v", input, got, want)
		}
		if !strings.HasPrefix(asked.String(), `allow fs.write("/x")? [y/N/a(lways)] `) {
			t.Errorf("question = %q", asked.String())
		}
	}
	if got := describeCall(libkite.PermissionDecision{Module: "http", Category: "server", Function: "server"}); got != "http.server" {
		t.Errorf("no resource: %q", got)
	}
	if got := describeCall(libkite.PermissionDecision{Module: "http", Category: "client", Function: "GET", Resource: "https://a/"}); got != `http.client GET("https://a/")` {
		t.Errorf("function shown: %q", got)
	}
}

// TestPromptInRuntime: through a real runtime, an "always" answer is
// asked once for repeated identical calls and a "no" fails with the usual
// denial.
func TestPromptInRuntime(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, dir, "f", "x")
	var asked strings.Builder
	prompt := promptOn(bufio.NewReader(strings.NewReader("a\nn\n")), &asked)
	rt, err := libkite.New(&libkite.Config{Permissions: libkite.DenyAllPermissions(), PermissionPrompt: prompt,
		Registry: NewRegistry(nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	if err := rt.Execute(t.Context(), `[read_text("f") for _ in range(3)]`); err != nil {
		t.Fatalf("always: %v", err)
	}
	err = rt.Execute(t.Context(), `write_text("g", "y")`)
	if !libkite.IsPermissionError(err) || strings.Count(asked.String(), "allow ") != 2 {
		t.Fatalf("err %v; asked %q", err, asked.String())
	}
	if _, statErr := os.Stat(filepath.Join(dir, "g")); statErr == nil {
		t.Fatal("a refused write happened")
	}
}
