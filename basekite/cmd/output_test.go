package cmd

import (
	"encoding/json"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestOutputJSONParsedBack: --output json turns the reports of test and
// version into documents a program can read.
func TestOutputJSONParsedBack(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a_test.star", "def test_ok():\n    print('from a')\n\ndef test_bad():\n    assert_equal(1, 2)\n")
	writeFile(t, dir, "b_test.star", "def test_skipped():\n    skip('not today')\n")
	res := runBin(t, invocation{args: []string{"test", ".", "--output", "json"}, dir: dir})
	if res.code != 1 || !strings.Contains(res.stderr, "Error: tests failed") {
		t.Fatalf("exit/stderr: %s", res)
	}
	var rep testReport
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, res.stdout)
	}
	if rep.Passed != 1 || rep.Failed != 1 || rep.Skipped != 1 || rep.Total != 3 || len(rep.Files) != 2 {
		t.Fatalf("report: %+v", rep)
	}
	a := rep.Files[0]
	if !strings.HasSuffix(a.File, "a_test.star") || a.Output != "from a\n" || len(a.Tests) != 2 {
		t.Fatalf("file a: %+v", a)
	}
	if bad := a.Tests[0]; bad.Name != "test_bad" || bad.Status != "failed" || !strings.Contains(bad.Error, "1") {
		t.Errorf("failed test: %+v", bad)
	}
	if sk := rep.Files[1].Tests[0]; sk.Status != "skipped" || !strings.Contains(sk.Error, "not today") {
		t.Errorf("skipped test: %+v", sk)
	}
	// yaml too, and a passing run exits 0
	res = runBin(t, invocation{args: []string{"test", "b_test.star", "-o", "yaml"}, dir: dir})
	var y testReport
	if err := yaml.Unmarshal([]byte(res.stdout), &y); res.code != 0 || err != nil || y.Skipped != 1 {
		t.Fatalf("yaml: %v %s", err, res)
	}
	// version
	res = runBin(t, invocation{args: []string{"version", "--output", "json"}})
	var v versionInfo
	if err := json.Unmarshal([]byte(res.stdout), &v); err != nil || v.Version != testVersion || v.Go == "" {
		t.Fatalf("version json: %v %s", err, res)
	}
}
