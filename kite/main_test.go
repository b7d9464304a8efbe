package main

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildKite builds the all-in-one binary into a temp dir.
func buildKite(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not in PATH")
	}
	bin := filepath.Join(t.TempDir(), "kite")
	out, err := exec.Command(goBin, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestAllInOneWiring checks what kite's main adds to the shared CLI: the
// "all" edition and the strict all-in-one registry.
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

	// Edition set at link time is kept.
	bin2 := filepath.Join(t.TempDir(), "kite")
	b, err := exec.Command("go", "build", "-ldflags",
		"-X github.com/project-starkite/starkite/basekite/version.Edition=custom", "-o", bin2, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	out, _ = exec.Command(bin2, "version", "--short").Output()
	full, _ := exec.Command(bin2, "version").Output()
	if !strings.Contains(string(full), "(custom)") || strings.TrimSpace(string(out)) == "" {
		t.Errorf("link-time edition lost: %q", full)
	}
}
