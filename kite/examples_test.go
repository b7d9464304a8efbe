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
// exampleArgs reads the flags of an example's `# example-args:` line.
func exampleArgs(t *testing.T, script string) []string {
	src, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(src), "\n") {
		if rest, ok := strings.CutPrefix(line, "# example-args:"); ok {
			return strings.Fields(rest)
		}
	}
	return nil
}

func mustAbs(t *testing.T, p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func TestExamples(t *testing.T) {
	bin := buildKite(t)
	scripts, err := filepath.Glob(filepath.Join("..", "examples", "*.star"))
	cloud, _ := filepath.Glob(filepath.Join("..", "examples", "cloud", "*.star"))
	aiex, _ := filepath.Glob(filepath.Join("..", "examples", "ai", "*.star"))
	scripts = append(append(scripts, cloud...), aiex...)
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	// what each example must print (beyond exiting 0); the longer checks
	// of snapshot, notes_api and hello follow the loop
	wants := map[string][]string{
		"fanout.star":        {"probed 20 items; first: 0b6983d2a3e0 evens: 10", `failed: ["item 3 is broken"]`, "  retry 2 after: connection reset (attempt 2)", "True payload after 3 attempts 3"},
		"report.star":        {"eu     | 31    | 294.50", "2 region(s); best: us", "round trip ok: True"},
		"render_config.star": {`changed: ["production.conf", "staging.conf"]`},
		"cleanup.star":       {"a.tmp | 10", "removed 2 file(s), 2010 bytes"},
		"remote_test.star":   {"Tests: 3 passed, 0 failed, 3 total"},
		"k8s_manifests.star": {"kind: Deployment", "targetPort: 8080", "# 3 objects for web (nginx:1.27)"},
		"text_tools.star":    {`word_stats: {"unique":false,"words":8}`, `top_words: [{"count":3,"word":"a"},{"count":3,"word":"rose"}]`, "tool top_words: The n most frequent words"},
	}
	if len(scripts) < 8 {
		t.Errorf("%d examples, want at least 8", len(scripts))
	}
	for _, s := range scripts {
		t.Run(filepath.Base(s), func(t *testing.T) {
			abs, _ := filepath.Abs(s)
			command := "run"
			if strings.HasSuffix(s, "_test.star") {
				command = "test" // test files run under the test runner (ssh.test_server exists only there)
			}
			// each example runs in a scratch working directory holding
			// two small files, with the flags its header asks for
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "a.txt"), []byte("alpha\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "b.log"), []byte("beta\n"), 0o644)
			c := exec.Command(bin, append([]string{command, abs}, exampleArgs(t, abs)...)...)
			c.Dir = dir
			c.Env = append(os.Environ(), "HOME="+t.TempDir())
			out, err := c.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", s, err, out)
			}
			for _, want := range wants[filepath.Base(s)] {
				if !strings.Contains(string(out), want) {
					t.Errorf("%s: output lacks %q:\n%s", s, want, out)
				}
			}
		})
	}

	// snapshot.star: fs, hash, csv, yaml, zip and template together
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("alpha\n"), 0o644)
	c := exec.Command(bin, "run", mustAbs(t, filepath.Join("..", "examples", "snapshot.star")), "--permissions=allow-fs")
	c.Dir = dir
	c.Env = append(os.Environ(), "HOME="+t.TempDir())
	if out, err := c.CombinedOutput(); err != nil || !strings.Contains(string(out), "a.txt                     6  ") ||
		!strings.Contains(string(out), "1 files -> snapshot (files.zip, manifest.csv, snapshot.yaml)") {
		t.Errorf("snapshot.star: %v\n%s", err, out)
	}
	if m, _ := os.ReadFile(filepath.Join(dir, "snapshot", "manifest.csv")); !strings.HasPrefix(string(m), "file,size,sha256\na.txt,6,") {
		t.Errorf("manifest.csv:\n%s", m)
	}

	// notes_api.star: http server + client + sql; a second run reuses notes.db
	dir = t.TempDir()
	for run, want := range []string{"201 /notes/1\nhello - from kite\n404\ntitle is required\n", "201 /notes/2\n"} {
		c = exec.Command(bin, "run", mustAbs(t, filepath.Join("..", "examples", "notes_api.star")), "--permissions=allow-local")
		c.Dir = dir
		c.Env = append(os.Environ(), "HOME="+t.TempDir())
		if out, err := c.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), want) {
			t.Errorf("notes_api.star run %d: %v\n%s\nwant prefix %q", run+1, err, out, want)
		}
	}
	c = exec.Command(bin, "run", mustAbs(t, filepath.Join("..", "examples", "notes_api.star")), "--permissions=allow-net")
	c.Dir = dir
	if out, err := c.CombinedOutput(); err == nil || !strings.Contains(string(out), "permission denied: http.server server") {
		t.Errorf("notes_api.star under allow-net: %v\n%s", err, out)
	}

	// hello.star: variables, printf and modules, with the --var tier.
	c = exec.Command(bin, filepath.Join("..", "examples", "hello.star"), "--var", "name=Ada")
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
