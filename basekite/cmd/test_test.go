package cmd

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const passingSuite = `
def setup():
    print("setup")
def test_one():
    print("hello from one")
def test_two():
    pass
def test_skipped():
    skip("not today")
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
			"  ✗ test_exit: test called exit(3): \n",
			"  ✗ suite/broken_test.star: failed to execute tests: suite/broken_test.star:1:13: got ':', want ')'",
			"Tests: 3 passed, 3 failed, 1 skipped, 7 total\n",
			"Failed tests:\n",
			"  ✗ test_bad (suite/nested/b_test.star)\n    Error: boom\n",
			"setup\nhello from one\n  ✓ test_one (",
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
	t.Run("--filter is --run", func(t *testing.T) {
		r := mainInProcess(t, "", "test", "suite/nested/b_test.star", "--filter", "ok")
		if r.code != 0 || !strings.Contains(r.stdout, "Filter: ok\n") || !strings.Contains(r.stdout, "1 total") {
			t.Fatalf("exit %d\n%s", r.code, r)
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
		if r := mainInProcess(t, "", "test", "missing"); r.code != 1 || !strings.Contains(r.stderr, "Error: failed to find test files: stat missing: no such file or directory") {
			t.Fatalf("missing path: %s", r)
		}
		writeFile(t, cwd, "notes.txt", "")
		if r := mainInProcess(t, "", "test", "notes.txt"); r.code != 1 || r.stderr != "Error: not a .star file: notes.txt\n" {
			t.Fatalf("non-.star file: %s", r)
		}
		if r := mainInProcess(t, "", "test"); r.code != 2 {
			t.Fatalf("no argument: %s", r)
		}
	})
}

func TestTestCommandRunnerCases(t *testing.T) {
	_, cwd := isolate(t)
	writeFile(t, cwd, "setup_test.star", "def setup():\n    fail('no fixture')\ndef teardown():\n    print('teardown ran')\ndef test_a():\n    pass\n")
	writeFile(t, cwd, "teardown_test.star", "def teardown():\n    fail('cleanup broke')\ndef test_a():\n    pass\ndef test_b():\n    fail('own failure')\n")
	writeFile(t, cwd, "exit0_test.star", "exit(0)\ndef test_never():\n    fail('ran')\n")
	writeFile(t, cwd, "exit4_test.star", "exit(4)\ndef test_never():\n    fail('ran')\n")
	writeFile(t, cwd, "frozen_test.star", "STATE = {}\ndef test_mutate():\n    STATE['x'] = 1\n")
	writeFile(t, cwd, "mid_test.star", "def test_1():\n    pass\ndef test_2():\n    exit(5)\ndef test_3():\n    pass\n")

	cases := []struct {
		file  string
		code  int
		wants []string
		not   []string
	}{
		{"setup_test.star", 1, []string{"  ✗ test_a: setup failed: no fixture\n", "Tests: 0 passed, 1 failed, 1 total"}, []string{"teardown ran"}},
		{"teardown_test.star", 1, []string{"  ✗ test_a: teardown failed: cleanup broke\n", "  ✗ test_b: own failure\n"}, nil},
		{"exit0_test.star", 0, []string{"Tests: 0 passed, 0 failed, 0 total"}, []string{"ran"}},
		{"exit4_test.star", 1, []string{"  ✗ exit4_test.star: failed to execute tests: ", "Tests: 0 passed, 1 failed, 1 total"}, nil},
		{"frozen_test.star", 1, []string{"  ✗ test_mutate: cannot insert into frozen hash table"}, nil},
		{"mid_test.star", 1, []string{"  ✓ test_1 (", "  ✗ test_2: test called exit(5): \n", "  ✓ test_3 (", "Tests: 2 passed, 1 failed, 3 total"}, nil},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			r := mainInProcess(t, "", "test", "-v", c.file)
			if r.code != c.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, c.code, r)
			}
			for _, w := range c.wants {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, n := range c.not {
				if strings.Contains(r.stdout, n) {
					t.Errorf("output has %q:\n%s", n, r.stdout)
				}
			}
		})
	}
}

func TestTestCommandJUnit(t *testing.T) {
	_, cwd := isolate(t)
	writeFile(t, cwd, "a_test.star", passingSuite)
	writeFile(t, cwd, "b_test.star", failingSuite)
	out := filepath.Join(cwd, "reports", "junit.xml")
	os.Mkdir(filepath.Dir(out), 0o755)
	r := mainInProcess(t, "", "test", ".", "--junit", out)
	if r.code != 1 {
		t.Fatalf("exit %d\n%s", r.code, r)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("junit output does not parse: %v\n%s", err, data)
	}
	if doc.Tests != 6 || doc.Failures != 2 || doc.Skipped != 1 || len(doc.Suites) != 2 {
		t.Fatalf("totals tests=%d failures=%d skipped=%d suites=%d\n%s", doc.Tests, doc.Failures, doc.Skipped, len(doc.Suites), data)
	}
	b := doc.Suites[1]
	if b.Name != "b_test.star" || b.Tests != 3 || b.Failures != 2 {
		t.Fatalf("suite b: %+v", b)
	}
	byName := map[string]junitCase{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			byName[c.Name] = c
		}
	}
	if c := byName["test_bad"]; c.Failure == nil || c.Failure.Message != "boom" || c.Classname != "b_test.star" {
		t.Errorf("test_bad: %+v", c)
	}
	if c := byName["test_skipped"]; c.Skipped == nil || c.Skipped.Message != "not today" || c.Failure != nil {
		t.Errorf("test_skipped: %+v", c)
	}
	if c := byName["test_ok"]; c.Failure != nil || c.Skipped != nil {
		t.Errorf("test_ok: %+v", c)
	}
	if !strings.HasPrefix(string(data), "<?xml") {
		t.Errorf("no XML header:\n%s", data)
	}
	// an unwritable report path is an error, and the run still reports
	if r := mainInProcess(t, "", "test", "a_test.star", "--junit", filepath.Join(cwd, "missing", "x.xml")); r.code != 1 || !strings.Contains(r.stderr, "junit report") {
		t.Fatalf("unwritable junit path: %s", r)
	}
}

func TestTestCommandMultiFileSuiteWithLoad(t *testing.T) {
	_, cwd := isolate(t)
	os.MkdirAll(filepath.Join(cwd, "suite", "lib", "pkg"), 0o755)
	writeFile(t, cwd, "suite/lib/helper.star", "def double(x):\n    return 2 * x\n")
	writeFile(t, cwd, "suite/lib/pkg/main.star", "def name():\n    return 'pkg'\n")
	writeFile(t, cwd, "suite/lib/pkg/extra.star", "def more():\n    return 'merged'\n_private = 1\n")
	writeFile(t, cwd, "suite/a_test.star", `load("./lib/helper.star", "helper")
load("./lib/pkg", "pkg")
def test_helper():
    assert_equal(helper.double(21), 42)
def test_directory_module():
    assert_equal(pkg.name(), "pkg")
    assert_equal(pkg.more(), "merged")
    assert_false(hasattr(pkg, "_private"))
test_helper()  # a test function may also run at top level
`)
	// a second file loads the same helper into its own fresh runtime
	writeFile(t, cwd, "suite/b_test.star", "load('./lib/helper.star', h='helper')\ndef test_own_load():\n    assert_equal(h.double(1), 2)\n")
	r := mainInProcess(t, "", "test", "-v", "suite")
	if r.code != 0 || !strings.Contains(r.stdout, "Tests: 3 passed, 0 failed, 3 total") {
		t.Fatalf("exit %d\n%s", r.code, r)
	}
}
