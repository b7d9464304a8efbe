package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestExamples runs every script in examples/ through the built kite, so
// the examples the README points at keep working.
func TestExamples(t *testing.T) {
	bin := buildKite(t)
	scripts, err := filepath.Glob(filepath.Join("..", "examples", "*.star"))
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, s := range scripts {
		t.Run(filepath.Base(s), func(t *testing.T) {
			c := exec.Command(bin, "run", s)
			c.Env = append(os.Environ(), "HOME="+t.TempDir())
			out, err := c.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", s, err, out)
			}
		})
	}

	// hello.star: variables, printf and modules, with the --var tier.
	c := exec.Command(bin, filepath.Join("..", "examples", "hello.star"), "--var", "name=Ada")
	c.Env = append(os.Environ(), "HOME="+t.TempDir())
	out, err := c.Output()
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	wantFirst := "Hello, Ada! (from " + host + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"
	if len(lines) != 2 || lines[0] != wantFirst || !strings.HasPrefix(lines[1], `{"cpus":`) || !strings.Contains(lines[1], `"greeting":"Hello, Ada!"`) {
		t.Errorf("hello.star output:\n%s\nwant first line %q and a JSON report", out, wantFirst)
	}
}
