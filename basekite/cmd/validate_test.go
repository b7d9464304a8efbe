package cmd

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const validationFailed = "Error: validation failed\n"

func TestValidate(t *testing.T) {
	cases := []cliCase{
		{name: "valid file", files: map[string]string{"a.star": "print('x')\n"}, args: []string{"validate", "a.star"},
			stdout: str("a.star: OK\n"), stderr: empty},
		{name: "does not run the file", files: map[string]string{"a.star": "print('ran')\nfail('boom')\nexit(3)\n"}, args: []string{"validate", "a.star"},
			stdout: str("a.star: OK\n"), stderr: empty},
		{name: "syntax error stops at the first", files: map[string]string{"s.star": "x = = 1\ny = = 2\n"}, args: []string{"validate", "s.star"}, code: 1,
			stdout: str("s.star: FAILED (1 errors)\n  s.star:1:5: got '=', want primary expression\n"), stderr: str(validationFailed)},
		{name: "every undefined name", files: map[string]string{"u.star": "print(nope)\ndef f():\n    return nada + 1\nprint(zilch)\n"}, args: []string{"validate", "u.star"}, code: 1,
			stdout: str("u.star: FAILED (3 errors)\n  u.star:1:7: undefined: nope\n  u.star:3:12: undefined: nada\n  u.star:4:7: undefined: zilch\n"), stderr: str(validationFailed)},
		{name: "builtins, modules and aliases are known", files: map[string]string{"k.star": "#!/usr/bin/env kite\n" +
			"defer(lambda: None)\non_signal('SIGINT', lambda s: None)\nr = Result(ok = True, value = 1)\n" +
			"print(var_str('a', 'b'), yaml.encode({}), json, os, path, printf, fail, exit, _config)\n" +
			"assert_equal(1, 1)\nset_ = set([1])\nwhile False:\n    pass\n"}, args: []string{"validate", "k.star"},
			stdout: str("k.star: OK\n"), stderr: empty},
		{name: "load binds names", files: map[string]string{"lib.star": "def f():\n    pass\n", "m.star": "load('./lib.star', 'lib')\nlib.f()\n"},
			args: []string{"validate", "m.star"}, stdout: str("m.star: OK\n")},
		{name: "missing load path", files: map[string]string{"sub/m.star": "load('./lib.star', 'lib')\nload('helpers', 'helpers')\nprint(lib, helpers)\n"},
			args: []string{"validate", "sub/m.star"}, code: 1, stderr: str(validationFailed),
			stdout: str("sub/m.star: FAILED (1 errors)\n  sub/m.star:1:6: cannot load ./lib.star: file not found\n")},
		{name: "load path relative to the file", files: map[string]string{"sub/lib.star": "x = 1\n", "sub/m.star": "load('./lib.star', 'lib')\nprint(lib.x)\n"},
			args: []string{"validate", "sub/m.star"}, stdout: str("sub/m.star: OK\n")},
		{name: "missing file reported with the others", files: map[string]string{"a.star": "print(1)\n", "b.star": "print(nope)\n"},
			args: []string{"validate", "a.star", "missing.star", "b.star"}, code: 2, stderr: str(validationFailed),
			stdout: str("a.star: OK\nmissing.star: FAILED (1 errors)\n  missing.star:0:0: failed to read file: open missing.star: no such file or directory\n" +
				"b.star: FAILED (1 errors)\n  b.star:1:7: undefined: nope\n")},
		{name: "directory walked for .star files", files: map[string]string{
			"d/b.star": "print(1)\n", "d/a/x.star": "print(nope)\n", "d/.hidden/h.star": "x = = 1\n", "d/notes.txt": "x = = 1\n",
		}, args: []string{"validate", "d"}, code: 1, stderr: str(validationFailed),
			stdout: str("d/a/x.star: FAILED (1 errors)\n  d/a/x.star:1:7: undefined: nope\nd/b.star: OK\n")},
		{name: "explicit file of any name", files: map[string]string{"script": "print(1)\n"}, args: []string{"validate", "script"}, stdout: str("script: OK\n")},
		{name: "empty directory", files: map[string]string{"d/readme": ""}, args: []string{"validate", "d"}, stdout: str("No .star files found\n"), stderr: empty},
		{name: "empty directory as JSON", files: map[string]string{"d/readme": ""}, args: []string{"validate", "--json", "d"}, stdout: str("[]\n"), stderr: empty},
		{name: "no arguments", args: []string{"validate"}, code: 2, stdout: empty,
			stderr: str("Error: validate: expected at least 1 argument <file.star|dir>\n" + usageHint)},
		{name: "global flags accepted", files: map[string]string{"a.star": "print(1)\n"}, args: []string{"validate", "a.star", "--timeout", "3"}, stdout: str("a.star: OK\n")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, content := range tc.files {
				writeFile(t, dir, name, content)
			}
			check(t, tc, runBin(t, invocation{args: tc.args, dir: dir}))
		})
	}
}

func TestValidateJSON(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "ok.star", "print(1)\n")
	writeFile(t, dir, "bad.star", "print(nope)\n")
	res := runBin(t, invocation{args: []string{"validate", "--json", "ok.star", "bad.star"}, dir: dir})
	if res.code != 1 || res.stderr != validationFailed {
		t.Fatalf("%s", res)
	}
	want := `[
  {
    "file": "ok.star",
    "valid": true
  },
  {
    "file": "bad.star",
    "valid": false,
    "errors": [
      {
        "file": "bad.star",
        "line": 1,
        "column": 7,
        "message": "undefined: nope"
      }
    ]
  }
]
`
	if res.stdout != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", res.stdout, want)
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if _, has := got[0]["errors"]; has {
		t.Errorf("errors present for a valid file: %v", got[0])
	}

	res = runBin(t, invocation{args: []string{"validate", "--json", "gone.star"}, dir: dir})
	var unreadable []fileValidation
	if err := json.Unmarshal([]byte(res.stdout), &unreadable); err != nil || res.code != 2 {
		t.Fatalf("%v\n%s", err, res)
	}
	wantErr := []validationError{{File: "gone.star", Message: "failed to read file: open gone.star: no such file or directory"}}
	if !reflect.DeepEqual(unreadable[0].Errors, wantErr) {
		t.Errorf("errors = %+v, want %+v", unreadable[0].Errors, wantErr)
	}
}

// TestValidateShippedScripts checks that every .star file of the
// repository (conformance suites, examples, init templates) validates:
// validate knows every name the runtime predeclares.
func TestValidateShippedScripts(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cwd, _ := filepath.Abs(".")
	// examples/ itself holds base-module scripts; its subdirectories
	// (cloud/) need other editions' modules and are run by kite's tests.
	examples, err := filepath.Glob(filepath.Join(root, "examples", "*.star"))
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	args := append([]string{"validate", filepath.Join(root, "tests"), filepath.Join(cwd, "templates")}, examples...)
	res := runBin(t, invocation{args: args})
	if res.code != 0 || strings.Count(res.stdout, ": OK\n") < 30 {
		t.Fatalf("%s", res)
	}
}
