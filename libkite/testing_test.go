package libkite_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
)

const suite = `
log = []
def setup():
    log.append("setup")
def teardown():
    log.append("teardown")
def test_pass():
    pass
def test_fail():
    fail("expected failure")
def test_skip():
    fail("test skipped: not on this host")
def test_exit():
    exit(3)
def test_integration_db():
    pass
def helper_test_not_a_test():
    fail("must not run")
test_not_callable = 1
def test_():
    fail("bare test_ is not a test")
`

func TestExecuteTests(t *testing.T) {
	rt, _ := capture(t, nil)
	results, err := rt.ExecuteTests(context.Background(), strings.Replace(suite, "log = []", "log = list()", 1))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]libkite.TestResult{}
	var order []string
	for _, r := range results {
		got[r.Name] = r
		order = append(order, r.Name)
	}
	if strings.Join(order, ",") != "test_exit,test_fail,test_integration_db,test_pass,test_skip" {
		t.Fatalf("tests run: %v", order)
	}
	if r := got["test_pass"]; !r.Passed || r.Skipped || r.Error != nil {
		t.Errorf("test_pass: %+v", r)
	}
	if r := got["test_fail"]; r.Passed || r.Error == nil || !strings.Contains(r.Error.Error(), "expected failure") {
		t.Errorf("test_fail: %+v", r)
	}
	if r := got["test_skip"]; !r.Passed || !r.Skipped || !libkite.IsSkipError(r.Error) || r.Error.Error() != "test skipped: not on this host" {
		t.Errorf("test_skip: %+v", r)
	}
	r := got["test_exit"]
	var xe *libkite.ExitError
	if r.Passed || !errors.As(r.Error, &xe) || xe.Code != 3 || !strings.HasPrefix(r.Error.Error(), "test called exit(3)") {
		t.Errorf("test_exit: %+v", r)
	}
}

func TestExecuteTestsFilterSetupTeardown(t *testing.T) {
	rt, out := capture(t, nil)
	src := `
def setup():
    print("setup")
def teardown():
    print("teardown")
def test_integration_a():
    print("a")
def test_unit_b():
    print("b")
`
	results, err := rt.ExecuteTestsWithConfig(context.Background(), src, libkite.TestConfig{Filter: "integration", Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].Name != "test_integration_a" || !results[0].Passed {
		t.Fatalf("results %+v", results)
	}
	if out.String() != "setup\na\nteardown" {
		t.Errorf("order %q", out.String())
	}
}

func TestExecuteTestsSetupAndTeardownErrors(t *testing.T) {
	rt, _ := capture(t, nil)
	results, err := rt.ExecuteTests(context.Background(), "def setup():\n  fail('db down')\ndef test_a():\n  pass")
	if err != nil || len(results) != 1 || results[0].Passed || !strings.Contains(results[0].Error.Error(), "setup failed: db down") {
		t.Fatalf("setup error: %+v %v", results, err)
	}
	rt2, _ := capture(t, nil)
	results, err = rt2.ExecuteTests(context.Background(), "def teardown():\n  fail('leak')\ndef test_a():\n  pass")
	if err != nil || len(results) != 1 || results[0].Passed || !strings.Contains(results[0].Error.Error(), "teardown failed: leak") {
		t.Fatalf("teardown error: %+v %v", results, err)
	}
}

func TestExecuteTestsTopLevelExit(t *testing.T) {
	rt, _ := capture(t, nil)
	results, err := rt.ExecuteTests(context.Background(), "exit(0)\ndef test_a():\n  pass")
	if err != nil || results != nil {
		t.Fatalf("exit(0): %v %v", results, err)
	}
	rt2, _ := capture(t, nil)
	_, err = rt2.ExecuteTestsWithConfig(context.Background(), "exit(2)\ndef test_a():\n  pass", libkite.TestConfig{})
	var xe *libkite.ExitError
	if !errors.As(err, &xe) || xe.Code != 2 {
		t.Fatalf("exit(2): %v", err)
	}
}

func TestExecuteTestsReportStreamsResults(t *testing.T) {
	rt, out := capture(t, nil)
	var seen []string
	cfg := libkite.TestConfig{Filter: "test_p", Report: func(r libkite.TestResult) {
		// each result arrives after its test printed, before the next runs
		seen = append(seen, r.Name+":"+strings.Join(out.Lines(), ","))
	}}
	src := "def test_pa():\n    print('a')\ndef test_pb():\n    print('b')\ndef test_other():\n    print('x')\n"
	results, err := rt.ExecuteTestsWithConfig(context.Background(), src, cfg)
	if err != nil || len(results) != 2 {
		t.Fatalf("results %v, err %v", results, err)
	}
	if strings.Join(seen, " ") != "test_pa:a test_pb:a,b" {
		t.Fatalf("reports = %v", seen)
	}
}
