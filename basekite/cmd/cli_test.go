package cmd

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

const usageHint = "Run 'kitecmd --help' for usage.\n"

// cliCase is one end-to-end run of the kitecmd binary.
type cliCase struct {
	name  string
	files map[string]string // created in the working directory
	args  []string
	stdin string
	env   map[string]string

	code      int
	stdout    *string  // exact stdout (nil = not checked)
	stderr    *string  // exact stderr (nil = not checked)
	outHas    []string // substrings of stdout
	errHas    []string // substrings of stderr
	errPrefix string   // stderr prefix
	errNotHas []string // substrings stderr must not have
}

func str(s string) *string { return &s }

var empty = str("")

const (
	helloScript   = "print('hello')\n"
	loopScript    = "while True:\n    pass\n"
	mainScript    = "def main():\n    print('main ran')\nprint('top')\n"
	runtimeErrSrc = "def inner(x):\n    return 1 // x\n\ndef outer():\n    inner(0)\n\nouter()\n"
)

func TestCLI(t *testing.T) {
	cases := []cliCase{
		// --- run / implicit run / exec ---
		{name: "run", files: map[string]string{"s.star": helloScript}, args: []string{"run", "s.star"}, stdout: str("hello\n"), stderr: empty},
		{name: "run calls main", files: map[string]string{"s.star": mainScript}, args: []string{"run", "s.star"}, stdout: str("top\nmain ran\n"), stderr: empty},
		{name: "implicit run .star", files: map[string]string{"s.star": helloScript}, args: []string{"s.star"}, stdout: str("hello\n"), stderr: empty},
		{name: "implicit run ./path", files: map[string]string{"s.star": helloScript}, args: []string{"./s.star"}, stdout: str("hello\n")},
		{name: "implicit run sub/path", files: map[string]string{"sub/script": helloScript}, args: []string{"sub/script"}, stdout: str("hello\n")},
		{name: "implicit run existing file", files: map[string]string{"script": helloScript}, args: []string{"script"}, stdout: str("hello\n")},
		{name: "implicit run after global flag", files: map[string]string{"s.star": helloScript}, args: []string{"--timeout", "10", "s.star"}, stdout: str("hello\n")},
		{name: "implicit run missing .star", args: []string{"missing.star"}, code: 2, stderr: str("Error: script file not found: missing.star\n")},
		{name: "subcommand wins over file", files: map[string]string{"version": helloScript}, args: []string{"version", "--short"}, stdout: str(testVersion + "\n")},
		{name: "exec", args: []string{"exec", "print(1 + 2)"}, stdout: str("3\n"), stderr: empty},
		{name: "exec multi-line", args: []string{"exec", "x = 2\nprint(x * 21)"}, stdout: str("42\n")},
		{name: "exec stdin", args: []string{"exec", "-"}, stdin: "print('from stdin')\n", stdout: str("from stdin\n"), stderr: empty},
		{name: "exec calls main", args: []string{"exec", "def main():\n    print('m')"}, stdout: str("m\n")},
		{name: "exec code after --", args: []string{"exec", "--", "-1"}, stdout: empty, stderr: empty},

		// --- help / version ---
		{name: "no args prints help", args: nil, outHas: []string{"USAGE:", "run", "exec", "version", "--permissions"}, stderr: empty},
		{name: "--help", args: []string{"--help"}, outHas: []string{"USAGE:"}, stderr: empty},
		{name: "run --help", args: []string{"run", "--help"}, outHas: []string{"run", "<script>"}, stderr: empty},
		{name: "--version", args: []string{"--version"}, stdout: str("kite version " + testVersion + " (base) (commit: " + testCommit + ")\n"), stderr: empty},
		{name: "-v", args: []string{"-v"}, stdout: str("kite version " + testVersion + " (base) (commit: " + testCommit + ")\n")},
		{name: "version", args: []string{"version"}, stderr: empty, stdout: str("kite version " + testVersion + " (base)\n" +
			"  edition: base\n  commit:  " + testCommit + "\n  built:   " + testBuildTime + "\n" +
			"  go:      " + runtime.Version() + "\n  os/arch: " + runtime.GOOS + "/" + runtime.GOARCH + "\n")},
		{name: "version --short", args: []string{"version", "--short"}, stdout: str(testVersion + "\n"), stderr: empty},
		{name: "version extra arg", args: []string{"version", "x"}, code: 2, stderr: str("Error: version: unexpected argument \"x\"\n" + usageHint)},

		// --- flags anywhere ---
		{name: "debug after script", files: map[string]string{"s.star": helloScript}, args: []string{"s.star", "--debug", "--var", "a=1"},
			stdout: str("[DEBUG] Loaded variables: map[a:1]\n[DEBUG] Provider defaults: map[]\nhello\n")},
		{name: "debug between run and script", files: map[string]string{"s.star": helloScript}, args: []string{"run", "--debug", "s.star"}, outHas: []string{"[DEBUG] Loaded variables: map[]", "hello"}},
		{name: "debug before run", files: map[string]string{"s.star": helloScript}, args: []string{"--debug", "run", "s.star"}, outHas: []string{"[DEBUG] Loaded variables: map[]"}},
		{name: "var= form and comma kept", args: []string{"exec", "print(1)", "--var=t=a,b", "--var", "j=[1, 2]", "--debug"}, outHas: []string{"[DEBUG] Loaded variables: map[j:[1 2] t:a,b]"}},
		{name: "STARKITE_DEBUG", args: []string{"exec", "print(1)"}, env: map[string]string{"STARKITE_DEBUG": "true"},
			outHas: []string{"[DEBUG] Loaded variables:"}, errPrefix: "[DEBUG] Debug mode enabled via STARKITE_DEBUG\n[DEBUG] limits: ",
			errHas: []string{"max_steps = 100000000000 steps, enforced by Starlark execution steps", "max_memory = 4.0 GiB, enforced by heap watchdog", "timeout = 5m0s", "used 6 steps, 2 bytes of output"}},
		{name: "--debug=false beats STARKITE_DEBUG", args: []string{"exec", "print(1)", "--debug=false"}, env: map[string]string{"STARKITE_DEBUG": "1"}, stdout: str("1\n"), stderr: empty},
		{name: "var-file after script", files: map[string]string{"s.star": helloScript, "v.yaml": "a: 1\nm: {k: v}\n"}, args: []string{"s.star", "--var-file", "v.yaml", "--debug"},
			outHas: []string{"[DEBUG] Loaded variables: map[a:1 m:map[k:v] m.k:v]"}},
		{name: "STARKITE_VAR_ env", args: []string{"exec", "print(1)", "--debug"}, env: map[string]string{"STARKITE_VAR_DB_HOST": "h"}, outHas: []string{"map[db.host:h]"}},
		{name: "config.yaml vars", files: map[string]string{"config.yaml": "config:\n  region: eu\n  providers: {ssh: {user: u}}\n"}, args: []string{"exec", "print(1)", "--debug"},
			outHas: []string{"[DEBUG] Loaded variables: map[region:eu]", "[DEBUG] Provider defaults: map[ssh:map[user:u]]"}},

		// --- timeout ---
		{name: "timeout", args: []string{"exec", loopScript, "--timeout", "1"}, code: 5, stdout: empty, stderr: str("Error: script timed out after 1s (raise --timeout)\n")},
		{name: "timeout after script path", files: map[string]string{"loop.star": loopScript}, args: []string{"loop.star", "--timeout=1"}, code: 5, stderr: str("Error: script timed out after 1s (raise --timeout)\n")},
		{name: "STARKITE_TIMEOUT", args: []string{"exec", loopScript}, env: map[string]string{"STARKITE_TIMEOUT": "1"}, code: 5, errHas: []string{"timed out after 1s"}},
		{name: "invalid STARKITE_TIMEOUT ignored", args: []string{"exec", "print(1)"}, env: map[string]string{"STARKITE_TIMEOUT": "soon"}, stdout: str("1\n"), stderr: empty},
		{name: "--timeout beats STARKITE_TIMEOUT", args: []string{"exec", "print(1)", "--timeout", "0"}, env: map[string]string{"STARKITE_TIMEOUT": "1"}, stdout: str("1\n")},
		{name: "timeout 0 disables", args: []string{"exec", "print(1)", "--timeout", "0"}, stdout: str("1\n"), stderr: empty},
		{name: "timeout in main()", args: []string{"exec", "def main():\n    while True:\n        pass", "--timeout", "1"}, code: 5, errHas: []string{"timed out"}},

		// --- script errors ---
		{name: "syntax error", files: map[string]string{"syn.star": "print('never')\nx = = 1\n"}, args: []string{"run", "syn.star"}, code: 1, stdout: empty,
			stderr: str("Error: syn.star:2:5: got '=', want primary expression\n")},
		{name: "resolve errors", files: map[string]string{"res.star": "print(nope)\nprint(nada)\n"}, args: []string{"res.star"}, code: 1,
			stderr: str("Error: res.star:1:7: undefined: nope\nError: res.star:2:7: undefined: nada\n")},
		{name: "runtime error with backtrace", files: map[string]string{"err.star": runtimeErrSrc}, args: []string{"err.star"}, code: 1,
			stderr: str("Error: script error: floored division by zero\n  err.star:7:6: in <toplevel>\n  err.star:5:10: in outer\n  err.star:2:14: in inner\n")},
		{name: "fail", args: []string{"exec", `fail("x")`}, code: 1, stdout: empty, stderr: str("Error: script error: x\n  <inline>:1:5: in <toplevel>\n")},
		{name: "fail default message", args: []string{"exec", "fail()"}, code: 1, errPrefix: "Error: script error: script failed\n"},
		{name: "defer runs on error", args: []string{"exec", "defer(lambda: print('cleanup'))\nfail('x')"}, code: 1, stdout: str("cleanup\n"), errPrefix: "Error: script error: x\n"},
		{name: "exit(3) silent", args: []string{"exec", "print('before')\nexit(3)\nprint('after')"}, code: 3, stdout: str("before\n"), stderr: empty},
		{name: "exit(0)", args: []string{"exec", "exit(0)"}, code: 0, stdout: empty, stderr: empty},
		{name: "exit in main", args: []string{"exec", "def main():\n    exit(7)"}, code: 7, stderr: empty},
		{name: "deny-all allows compute and print", args: []string{"exec", "print(1)", "--permissions", "deny-all"}, stdout: str("1\n")},

		// --- file errors ---
		{name: "missing script", args: []string{"run", "nope.star"}, code: 2, stdout: empty, stderr: str("Error: script file not found: nope.star\n")},
		{name: "script is a directory", files: map[string]string{"d/x": ""}, args: []string{"run", "d"}, code: 2, stderr: str("Error: script path is a directory: d\n")},

		// --- usage errors ---
		{name: "unknown flag", args: []string{"--bogus"}, code: 2, stdout: empty, stderr: str("Error: unknown flag: --bogus\n" + usageHint)},
		{name: "unknown flag after script", files: map[string]string{"s.star": helloScript}, args: []string{"s.star", "--bogus"}, code: 2, stdout: empty, stderr: str("Error: unknown flag: --bogus\n" + usageHint)},
		{name: "unknown short flag", args: []string{"exec", "print(1)", "-z"}, code: 2, stderr: str("Error: unknown flag: -z\n" + usageHint)},
		{name: "run two args", args: []string{"run", "a", "b"}, code: 2, stdout: empty, stderr: str("Error: run: expected exactly 1 argument <script>, got 2\n" + usageHint)},
		{name: "implicit run two args", files: map[string]string{"s.star": helloScript}, args: []string{"s.star", "extra"}, code: 2, stdout: empty, errPrefix: "Error: run: expected exactly 1 argument"},
		{name: "run no args", args: []string{"run"}, code: 2, stderr: str("Error: run: expected exactly 1 argument <script>, got 0\n" + usageHint)},
		{name: "exec no args", args: []string{"exec"}, code: 2, errPrefix: "Error: exec: expected exactly 1 argument"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, stderr: str("Error: unknown command \"frobnicate\"\n" + usageHint)},
		{name: "bad timeout value", args: []string{"exec", "1", "--timeout", "soon"}, code: 2, stderr: str("Error: invalid value \"soon\" for flag --timeout: parse error\n" + usageHint)},
		{name: "flag missing value", args: []string{"exec", "1", "--var"}, code: 2, stderr: str("Error: flag needs an argument: --var\n" + usageHint)},
		{name: "flag missing value before command", args: []string{"--timeout"}, code: 2, stderr: str("Error: flag needs an argument: --timeout\n" + usageHint)},
		{name: "help unknown topic", args: []string{"help", "nope"}, code: 2, errPrefix: "Error: No help topic for 'nope'\n"},
		{name: "version --short --json", args: []string{"version", "--short", "--json"}, code: 2, errPrefix: "Error: version: --short and --json are mutually exclusive\n"},

		// --- config errors (exit 4) ---
		{name: "malformed --var", args: []string{"exec", "print(1)", "--var", "novalue"}, code: 4, stdout: empty, stderr: str("Error: invalid var format: novalue (expected key=value)\n")},
		{name: "missing var file", args: []string{"exec", "print(1)", "--var-file", "nope.yaml"}, code: 4, stderr: str("Error: failed to read var file nope.yaml: no such file or directory\n")},
		{name: "invalid var file", files: map[string]string{"v.yaml": "a: [\n"}, args: []string{"exec", "print(1)", "--var-file", "v.yaml"}, code: 4, errPrefix: "Error: failed to parse var file v.yaml: "},
		{name: "invalid config.yaml", files: map[string]string{"config.yaml": "region: eu\n"}, args: []string{"exec", "print(1)"}, code: 4, stdout: empty,
			errHas: []string{"Error: failed to parse ", `config.yaml: unknown top-level key "region"`, "config, permissions, sandbox"}},
		{name: "file error beats config error", files: map[string]string{"config.yaml": "bad: 1\n"}, args: []string{"run", "nope.star"}, code: 2, errPrefix: "Error: script file not found"},

		// --- permissions selection ---
		{name: "unknown permissions profile", args: []string{"exec", "print(1)", "--permissions", "strict"}, code: 1, stdout: empty,
			stderr: str("Error: permissions: unknown profile \"strict\" (built-ins: deny-all, allow-fs, allow-net, allow-local, allow-all; config-defined: [])\n")},
		{name: "built-in profile accepted", args: []string{"--permissions=allow-all", "exec", "print(1)"}, stdout: str("1\n"), stderr: empty},
		{name: "no flag is deny-all", files: map[string]string{"f": "x"}, args: []string{"exec", `read_text("f")`}, code: 1, stdout: empty,
			errHas: []string{`Error: script error: permission denied: fs.read read_file("`, `grant "fs.read" with --permissions=allow-fs (or higher)`}},
		{name: "alias flag", files: map[string]string{"f": "x"}, args: []string{"exec", `print(read_text("f"))`, "--allow-fs"}, stdout: str("x\n"), stderr: empty},
		{name: "alias flag before command", files: map[string]string{"f": "x"}, args: []string{"--allow-net", "exec", `print(read_text("f"))`}, stdout: str("x\n")},
		{name: "deny-all alias", files: map[string]string{"f": "x"}, args: []string{"exec", `read_text("f")`, "--deny-all"}, code: 1, errHas: []string{"permission denied: fs.read"}},
		{name: "two aliases", args: []string{"exec", "print(1)", "--allow-fs", "--allow-net"}, code: 1, stdout: empty,
			stderr: str("Error: only one permission flag may be set; got --allow-fs and --allow-net\n")},
		{name: "permissions and alias", args: []string{"--permissions=allow-fs", "exec", "print(1)", "--deny-all"}, code: 1,
			stderr: str("Error: only one permission flag may be set; got --permissions and --deny-all\n")},
		{name: "alias with false", args: []string{"exec", "print(1)", "--allow-all=false"}, code: 1,
			errHas: []string{"--allow-all takes no value"}},
		{name: "allow-all suggestion has no 'or higher'", args: []string{"exec", `write_text("/proc/kite-nope", "x")`, "--allow-fs"}, code: 1,
			errHas: []string{`grant "fs.write" with --permissions=allow-all, or an allow rule`}},
		{name: "config default profile", files: map[string]string{"f": "x", "config.yaml": "permissions:\n  default: allow-fs\n"},
			args: []string{"exec", `print(read_text("f"))`}, stdout: str("x\n"), stderr: empty},
		{name: "flag beats config default", files: map[string]string{"f": "x", "config.yaml": "permissions:\n  default: allow-fs\n"},
			args: []string{"exec", `read_text("f")`, "--deny-all"}, code: 1, errHas: []string{"permission denied: fs.read"}},
		{name: "config allow-list profile", files: map[string]string{"f": "x", "config.yaml": "permissions:\n  ci:\n    allow: [\"fs.read($CWD/**)\"]\n"},
			args: []string{"exec", `print(read_text("f"))` + "\n" + `write_text("g", "y")`, "--permissions=ci"}, code: 1, stdout: str("x\n"),
			errHas: []string{`permission denied: fs.write write("`, "no matching allow rule"}},
		{name: "config base with deny", files: map[string]string{"f": "x", "secret": "s", "config.yaml": "permissions:\n  release:\n    base: allow-fs\n    deny: [\"fs.read($CWD/secret)\"]\n"},
			args: []string{"exec", `print(read_text("f"))` + "\n" + `read_text("secret")`, "--permissions", "release"}, code: 1, stdout: str("x\n"),
			errHas: []string{`read_file("`, `- blocked by deny rule: fs.read($CWD/secret)`}},
		{name: "unknown profile lists config names", files: map[string]string{"config.yaml": "permissions:\n  default: allow-fs\n  ci:\n    allow: [fs.read]\n"},
			args: []string{"exec", "print(1)", "--permissions", "prod"}, code: 1,
			stderr: str("Error: permissions: unknown profile \"prod\" (built-ins: deny-all, allow-fs, allow-net, allow-local, allow-all; config-defined: [ci default])\n")},
		{name: "bad rule in config names file and column", files: map[string]string{"config.yaml": "permissions:\n  ci:\n    allow: [\"fs.read(/x\"]\n"},
			args: []string{"exec", "print(1)"}, code: 4, errHas: []string{"config.yaml: permissions: profile \"ci\": invalid allow rule \"fs.read(/x\"", "(column 8)"}},
		{name: "prompt without a terminal denies without asking", files: map[string]string{"f": "x"}, args: []string{"exec", `read_text("f")`, "--prompt"}, stdin: "y\n", code: 1,
			errHas: []string{"--prompt needs a terminal", "permission denied: fs.read"}},

		// --- output format ---
		{name: "invalid output", args: []string{"exec", "print(1)", "-o", "xml"}, code: 2, stdout: empty,
			errPrefix: "Error: invalid --output \"xml\" (want text, json, yaml, table)\n"},
		{name: "invalid STARKITE_OUTPUT ignored", args: []string{"exec", "print(1)"}, env: map[string]string{"STARKITE_OUTPUT": "xml"}, stdout: str("1\n"), stderr: empty},

		// --- execution limits ---
		{name: "max-steps stops a loop", args: []string{"exec", loopScript, "--max-steps", "1_000_000"}, code: 1, stdout: empty,
			stderr: str("Error: script stopped: max_steps limit exceeded: more than 1000000 steps (raise --max-steps)\n")},
		{name: "STARKITE_MAX_STEPS", args: []string{"exec", loopScript}, env: map[string]string{"STARKITE_MAX_STEPS": "100000"}, code: 1,
			errHas: []string{"more than 100000 steps (raise --max-steps)"}},
		{name: "max-steps 0 disables it", args: []string{"exec", "print(len([i for i in range(100000)]))", "--max-steps", "0", "-o", "json"}, stdout: str("100000\n"),
			errHas: []string{`{"limits_enforced":{"limits":{"timeout":300000000000,`}, errNotHas: []string{"max_steps"}},
		{name: "max-output caps what is printed", args: []string{"exec", `for i in range(1000): print("x" * 99)`, "--max-output", "1kB"}, code: 1,
			stdout: str(strings.Repeat(strings.Repeat("x", 99)+"\n", 10)), stderr: str("Error: script stopped: max_output limit exceeded: more than 1000 bytes of output (raise --max-output)\n")},
		{name: "max-memory stops list growth", args: []string{"exec", "x = []\nfor i in range(1 << 40):\n    x.append(str(i) * 10)", "--max-memory", "64MiB"}, code: 1,
			errHas: []string{"Error: script stopped: max_memory limit exceeded: heap at ", "(raise --max-memory)"}},
		{name: "-o json reports the limits", args: []string{"exec", loopScript, "--max-steps", "50000", "-o", "json"}, code: 1,
			errHas: []string{`"stopped_by":"max_steps"`, `"max_steps":50000`, `"enforced":{"max_goroutines":`}},
		{name: "-o yaml reports the limits", args: []string{"exec", "print(1)", "-o", "yaml"}, stdout: str("1\n"),
			errHas: []string{"limits_enforced:\n", "max_output_bytes: 1073741824\n"}},
		{name: "invalid max-memory", args: []string{"exec", "print(1)", "--max-memory", "lots"}, code: 2, stdout: empty,
			errPrefix: "Error: invalid --max-memory \"lots\": want a size such as 512MiB, 2GB or 1048576\n"},
		{name: "negative max-goroutines", args: []string{"exec", "print(1)", "--max-goroutines", "-1"}, code: 2, stdout: empty,
			errPrefix: "Error: invalid --max-goroutines \"-1\": want a whole number, 0 or more\n"},
		{name: "invalid STARKITE_MAX_OUTPUT", args: []string{"exec", "print(1)"}, env: map[string]string{"STARKITE_MAX_OUTPUT": "1 bushel"}, code: 2, stdout: empty,
			errPrefix: "Error: invalid STARKITE_MAX_OUTPUT \"1 bushel\": "},

		// --- debug error chain ---
		{name: "debug prints error chain", args: []string{"exec", `fail("x")`, "--debug"}, code: 1,
			errHas: []string{"Error: script error: x\n", "[DEBUG] error chain:", "*libkite.ScriptError", "*starlark.EvalError"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, content := range tc.files {
				writeFile(t, dir, name, content)
			}
			res := runBin(t, invocation{args: tc.args, stdin: tc.stdin, env: tc.env, dir: dir})
			check(t, tc, res)
		})
	}
}

func check(t *testing.T, tc cliCase, res result) {
	t.Helper()
	if res.code != tc.code {
		t.Errorf("exit code %d, want %d", res.code, tc.code)
	}
	if tc.stdout != nil && res.stdout != *tc.stdout {
		t.Errorf("stdout = %q, want %q", res.stdout, *tc.stdout)
	}
	if tc.stderr != nil && res.stderr != *tc.stderr {
		t.Errorf("stderr = %q, want %q", res.stderr, *tc.stderr)
	}
	for _, s := range tc.outHas {
		if !strings.Contains(res.stdout, s) {
			t.Errorf("stdout lacks %q", s)
		}
	}
	for _, s := range tc.errHas {
		if !strings.Contains(res.stderr, s) {
			t.Errorf("stderr lacks %q", s)
		}
	}
	for _, s := range tc.errNotHas {
		if strings.Contains(res.stderr, s) {
			t.Errorf("stderr has %q", s)
		}
	}
	if tc.errPrefix != "" && !strings.HasPrefix(res.stderr, tc.errPrefix) {
		t.Errorf("stderr = %q, want prefix %q", res.stderr, tc.errPrefix)
	}
	// Errors are reported exactly once.
	if n := strings.Count("\n"+res.stderr, "\nError: "); n > 1 && !strings.Contains(res.stderr, "undefined:") {
		t.Errorf("error printed %d times", n)
	}
	if t.Failed() {
		t.Logf("args: %q\n%s", tc.args, res)
	}
}

func TestVersionJSON(t *testing.T) {
	res := runBin(t, invocation{args: []string{"version", "--json"}})
	if res.code != 0 || res.stderr != "" {
		t.Fatalf("%s", res)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, res.stdout)
	}
	want := map[string]string{
		"version": testVersion, "edition": "base", "commit": testCommit, "built": testBuildTime,
		"go": runtime.Version(), "os": runtime.GOOS, "arch": runtime.GOARCH,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("version --json = %v, want %v", got, want)
	}
	if !strings.HasPrefix(res.stdout, "{\n  \"version\": ") {
		t.Errorf("want 2-space indented JSON, got %q", res.stdout)
	}
}

func TestShebang(t *testing.T) {
	dir := t.TempDir()
	script := writeFile(t, dir, "hello.star", "#!/usr/bin/env kitecmd\nprint('shebang ok')\n")
	if err := os.Chmod(script, 0o755); err != nil {
		t.Fatal(err)
	}
	pathEnv := binDir + string(os.PathListSeparator) + os.Getenv("PATH")
	for _, tc := range []struct {
		name string
		exe  string
		args []string
		dir  string
	}{
		{"absolute path", script, nil, t.TempDir()},
		{"relative path", "./hello.star", nil, dir},
		{"flags after script", script, []string{"--var", "a=1", "--debug"}, dir},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exe := tc.exe
			if !filepath.IsAbs(exe) {
				exe = filepath.Join(tc.dir, exe)
			}
			res := runExe(t, exe, invocation{args: tc.args, dir: tc.dir, env: map[string]string{"PATH": pathEnv}})
			if res.code != 0 || !strings.HasSuffix(res.stdout, "shebang ok\n") || tc.args == nil && res.stderr != "" {
				t.Fatalf("%s", res)
			}
			if tc.args != nil && !strings.Contains(res.stdout, "[DEBUG] Loaded variables: map[a:1]") {
				t.Fatalf("flags after the script were not applied:\n%s", res)
			}
		})
	}
}

// TestVarPrecedenceScript checks cli.md §4.1 through var_str in a script.
// The same rules are covered at the Go level by the varstore tests and
// in-process by TestInProcessVarPrecedence.
func TestVarPrecedenceScript(t *testing.T) {
	script := "print(var_str('k', 'default'))\n"
	tests := []struct {
		name     string
		home     string // ~/.starkite/config.yaml
		local    string // ./config.yaml
		varFiles []string
		env      map[string]string
		vars     []string
		want     string
	}{
		{"script default", "", "", nil, nil, nil, "default"},
		{"env", "", "", nil, map[string]string{"STARKITE_VAR_K": "env"}, nil, "env"},
		{"home config beats env", "config: {k: home}\n", "", nil, map[string]string{"STARKITE_VAR_K": "env"}, nil, "home"},
		{"local config beats home", "config: {k: home}\n", "config: {k: local}\n", nil, nil, nil, "local"},
		{"var file beats config", "", "config: {k: local}\n", []string{"k: file1\n"}, nil, nil, "file1"},
		{"later var file wins", "", "", []string{"k: file1\n", "k: file2\n"}, nil, nil, "file2"},
		{"--var beats all", "config: {k: home}\n", "config: {k: local}\n", []string{"k: file\n"}, map[string]string{"STARKITE_VAR_K": "env"}, []string{"k=cli"}, "cli"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home, dir := t.TempDir(), t.TempDir()
			if tc.home != "" {
				writeFile(t, home, ".starkite/config.yaml", tc.home)
			}
			if tc.local != "" {
				writeFile(t, dir, "config.yaml", tc.local)
			}
			writeFile(t, dir, "s.star", script)
			args := []string{"s.star"}
			for i, content := range tc.varFiles {
				name := "vars" + string(rune('0'+i)) + ".yaml"
				writeFile(t, dir, name, content)
				args = append(args, "--var-file", name)
			}
			for _, v := range tc.vars {
				args = append(args, "--var", v)
			}
			res := runBin(t, invocation{args: args, dir: dir, home: home, env: tc.env})
			if res.code != 0 || res.stdout != tc.want+"\n" {
				t.Fatalf("want %q\n%s", tc.want, res)
			}
		})
	}
}
