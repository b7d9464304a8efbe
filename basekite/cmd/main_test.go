package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Link-time values baked into the test binary.
const (
	testVersion   = "9.8.7-test"
	testCommit    = "abc1234"
	testBuildTime = "2030-01-02T03:04:05Z"
)

// binDir holds the kitecmd binary built once by TestMain.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "kitecmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := buildBinary(dir); err != nil {
		fmt.Fprintln(os.Stderr, "building kitecmd:", err)
		return 1
	}
	binDir = dir
	return m.Run()
}

func buildBinary(dir string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	const pkg = "github.com/project-starkite/starkite/basekite/version"
	ldflags := fmt.Sprintf("-X %s.Version=%s -X %s.GitCommit=%s -X %s.BuildTime=%s",
		pkg, testVersion, pkg, testCommit, pkg, testBuildTime)
	c := exec.Command(goBin, "build", "-ldflags", ldflags, "-o", filepath.Join(dir, "kitecmd"), "..")
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("%v\n%s", err, stderr.String())
	}
	return nil
}

func kitecmdPath() string { return filepath.Join(binDir, "kitecmd") }

// invocation describes one run of the binary.
type invocation struct {
	args  []string
	stdin string
	dir   string            // working directory (default: fresh temp dir)
	home  string            // HOME (default: fresh temp dir)
	env   map[string]string // extra environment
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// cleanEnv is the process environment without STARKITE_* and HOME, so the
// developer's settings cannot leak into tests.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "STARKITE_") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// runBin runs the built kitecmd binary.
func runBin(t *testing.T, inv invocation) result {
	t.Helper()
	return runExe(t, kitecmdPath(), inv)
}

func runExe(t *testing.T, exe string, inv invocation) result {
	t.Helper()
	c := exec.Command(exe, inv.args...)
	c.Dir = inv.dir
	if c.Dir == "" {
		c.Dir = t.TempDir()
	}
	home := inv.home
	if home == "" {
		home = t.TempDir()
	}
	c.Env = append(cleanEnv(), "HOME="+home)
	for k, v := range inv.env {
		c.Env = append(c.Env, k+"="+v)
	}
	c.Stdin = strings.NewReader(inv.stdin)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running %s %v: %v", exe, inv.args, err)
	}
	return res
}

// writeFile creates dir/name (and parents) with content.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
