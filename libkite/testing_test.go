package libkite_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/project-starkite/starkite/libkite"
)

const suite = `
def setup():
    print("setup")
def teardown():
    print("teardown")
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
	results, err := rt.ExecuteTests(context.Background(), suite)
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
	if r.Passed || !errors.As(r.Error, &xe) || xe.Code != 3 || r.Error.Error() != "test called exit(3): " {
		t.Errorf("test_exit: %+v", r)
	}
}

func TestExecuteTestsSemantics(t *testing.T) {
	cases := []struct {
		name, src string
		want      string // name=outcome, in order
		err       string // error returned by ExecuteTests
	}{
		{name: "globals are frozen after the top level",
			src:  "STATE = {}\ndef test_mutate():\n    STATE['x'] = 1\n",
			want: "test_mutate=fail:cannot insert into frozen hash table"},
		{name: "exit(0) inside a test fails it",
			src:  "def test_a():\n    exit(0)\ndef test_b():\n    pass\n",
			want: "test_a=fail:test called exit(0):  test_b=pass"},
		{name: "exit wins over a skip phrase",
			src:  "def test_a():\n    exit(2)\n",
			want: "test_a=fail:test called exit(2): "},
		{name: "skip in setup is a setup failure",
			src:  "def setup():\n    fail('test skipped: no db')\ndef test_a():\n    pass\n",
			want: "test_a=fail:setup failed: test skipped: no db"},
		{name: "teardown error fails a passing test only",
			src:  "def teardown():\n    fail('cleanup')\ndef test_a():\n    pass\ndef test_b():\n    fail('own')\ndef test_c():\n    fail('test skipped: later')\n",
			want: "test_a=fail:teardown failed: cleanup test_b=fail:own test_c=skip:test skipped: later"},
		{name: "builtin bound to a test name runs",
			src:  "test_len = len\n",
			want: "test_len=fail:len: got 0 arguments, want 1"},
		{name: "byte-wise order",
			src:  "def test_b():\n    pass\ndef test_C():\n    pass\ndef test_a():\n    pass\n",
			want: "test_C=pass test_a=pass test_b=pass"},
		{name: "top-level exit(4)", src: "exit(4)\ndef test_a():\n    pass\n", err: "exit 4"},
		{name: "top-level exit(0)", src: "exit(0)\ndef test_a():\n    pass\n", want: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rt, _ := capture(t, nil)
			results, err := rt.ExecuteTests(context.Background(), c.src)
			if c.err != "" {
				var xe *libkite.ExitError
				if !errors.As(err, &xe) || fmt.Sprintf("exit %d", xe.Code) != c.err || len(results) != 0 {
					t.Fatalf("err = %v, results %v", err, results)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range results {
				outcome := "pass"
				switch {
				case r.Skipped:
					outcome = "skip:" + r.Error.Error()
				case !r.Passed:
					outcome = "fail:" + r.Error.Error()
				}
				got = append(got, r.Name+"="+outcome)
			}
			if g := strings.Join(got, " "); g != c.want {
				t.Fatalf("got  %s\nwant %s", g, c.want)
			}
		})
	}
}

func TestExecuteTestsAfterDeadlineFailEveryRemainingTest(t *testing.T) {
	rt, _ := capture(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	src := "def test_a():\n    while True:\n        pass\ndef test_b():\n    pass\n"
	results, err := rt.ExecuteTests(ctx, src)
	if !errors.Is(err, context.DeadlineExceeded) || len(results) != 2 {
		t.Fatalf("results %v, err %v", results, err)
	}
	for _, r := range results {
		if r.Passed {
			t.Errorf("%s passed after the deadline", r.Name)
		}
	}
	if !strings.HasPrefix(results[1].Error.Error(), "test not started: ") {
		t.Errorf("test_b: %v", results[1].Error)
	}
}
