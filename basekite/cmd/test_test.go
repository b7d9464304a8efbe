package cmd

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const passingSuite = `
calls = []
def setup():
    calls.append("setup")
def test_one():
    print("hello from one")
def test_two():
    pass
def test_skipped():
    fail("test skipped: not today")  # skip() arrives with the test module
`

const failingSuite = `
def test_ok():
    pass
def test_bad():
    fail("boom")
def test_exit():
    exit(3)
`

func TestTestCommand(t *testing.T) {
	_, cwd := isolate(t)
	os.MkdirAll(filepath.Join(cwd, "suite", "nested"), 0o755)
	os.MkdirAll(filepath.Join(cwd, "suite", ".hidden"), 0o755)
	writeFile(t, cwd, "suite/a_test.star", passingSuite)
	writeFile(t, cwd, "suite/nested/b_test.star", failingSuite)
	writeFile(t, cwd, "suite/.hidden/c_test.star", failingSuite)
	writeFile(t, cwd, "suite/helper.star", "x = 1\n")
	writeFile(t, cwd, "suite/broken_test.star", "def test_x(:\n")

	t.Run("verbose run of a directory", func(t *testing.T) {
		r := mainInProcess(t, "", "test", "-v", "suite")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\n%s", r.code, r)
		}
		for _, want := range []string{
			"Found 3 test file(s)\n",
			"Running suite/a_test.star\n",
			"hello from one\n",
			"  - test_skipped [SKIPPED] (not today)\n",
			"  ✗ test_bad: boom\n",
			"  ✗ test_exit: test called exit(3)",
			"  ✗ suite/broken_test.star: suite/broken_test.star:1:13: got ':', want ')'",
			"Tests: 3 passed, 3 failed, 1 skipped, 7 total\n",
			"Failed tests:\n",
			"  ✗ test_bad (suite/nested/b_test.star)\n    Error: boom\n",
			"hello from one\n  ✓ test_one (",
		} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("output lacks %q:\n%s", want, r.stdout)
			}
		}
		if !regexp.MustCompile(`  ✓ test_one \(\d`).MatchString(r.stdout) {
			t.Errorf("no timed pass line:\n%s", r.stdout)
		}
		if strings.Contains(r.stdout, ".hidden") || strings.Contains(r.stdout, "helper.star") {
			t.Errorf("hidden dir or non-test file was run:\n%s", r.stdout)
		}
		if r.stderr != "Error: tests failed\n" {
			t.Errorf("stderr = %q", r.stderr)
		}
		rule := strings.Repeat("=", 60)
		if strings.Count(r.stdout, rule) != 2 {
			t.Errorf("want the summary between two rules:\n%s", r.stdout)
		}
	})
	t.Run("filter and file argument", func(t *testing.T) {
		r := mainInProcess(t, "", "test", "suite/nested/b_test.star", "--run", "ok")
		if r.code != 0 || !strings.Contains(r.stdout, "Filter: ok\n") ||
			!strings.Contains(r.stdout, "Tests: 1 passed, 0 failed, 1 total\n") {
			t.Fatalf("exit %d\n%s", r.code, r)
		}
		if strings.Contains(r.stdout, "✓") {
			t.Errorf("per-test lines without -v:\n%s", r.stdout)
		}
	})
	t.Run("parallel keeps file order", func(t *testing.T) {
		r := mainInProcess(t, "", "test", "-v", "-p", "3", "suite")
		a, b := strings.Index(r.stdout, "Running suite/a_test.star"), strings.Index(r.stdout, "Running suite/nested/b_test.star")
		if r.code != 1 || a < 0 || b < a || !strings.Contains(r.stdout, "7 total") {
			t.Fatalf("exit %d\n%s", r.code, r)
		}
	})
	t.Run("permissions apply inside tests", func(t *testing.T) {
		writeFile(t, cwd, "perm_test.star", "def test_env():\n    env('HOME')\n")
		if r := mainInProcess(t, "", "test", "perm_test.star"); r.code != 1 || !strings.Contains(r.stdout, "permission denied") {
			t.Fatalf("deny-all default: exit %d\n%s", r.code, r)
		}
		if r := mainInProcess(t, "", "test", "perm_test.star", "--permissions=allow-all"); r.code != 0 {
			t.Fatalf("allow-all: exit %d\n%s", r.code, r)
		}
	})
	t.Run("no files and bad arguments", func(t *testing.T) {
		os.Mkdir(filepath.Join(cwd, "empty"), 0o755)
		if r := mainInProcess(t, "", "test", "empty"); r.code != 0 || r.stdout != "No test files found\n" {
			t.Fatalf("empty dir: %s", r)
		}
		if r := mainInProcess(t, "", "test", "missing"); r.code != 2 || !strings.Contains(r.stderr, "test path not found: missing") {
			t.Fatalf("missing path: %s", r)
		}
		if r := mainInProcess(t, "", "test", "suite/helper.txt"); r.code != 2 {
			t.Fatalf("missing file: %s", r)
		}
		writeFile(t, cwd, "notes.txt", "")
		if r := mainInProcess(t, "", "test", "notes.txt"); r.code != 2 || !strings.Contains(r.stderr, "not a .star file") {
			t.Fatalf("non-.star file: %s", r)
		}
		if r := mainInProcess(t, "", "test"); r.code != 2 {
			t.Fatalf("no argument: %s", r)
		}
	})
}
