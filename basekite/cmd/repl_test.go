package cmd

import (
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

const replBanner = "starkite " + testVersion + " - Starlark Controller\nType .help for help, .exit to quit\n\n"

// TestReplPiped drives the REPL through a pipe: no prompts, no escape
// codes, the same input rules as on a terminal.
func TestReplPiped(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout string   // after the banner (exact) unless outHas is set
		outHas []string // substrings of stdout instead
	}{
		{name: "bindings persist", stdin: "x = 40\ny = x + 2\nprint(y)\n", stdout: "42\n"},
		{name: "def block ends at empty line", stdin: "def double(a):\n    return a * 2\n\nprint(double(21))\n", stdout: "42\n"},
		{name: "for block", stdin: "for i in range(3):\n    print(i)\n\nprint('done')\n", stdout: "0\n1\n2\ndone\n"},
		{name: "backslash continuation", stdin: "z = 1 + \\\n    2\nprint(z)\n", stdout: "3\n"},
		{name: "expression value printed", stdin: "1 + 2\n'a' * 2\nNone\nprint('p')\n[x for x in range(2)]\n", stdout: "3\n\"aa\"\np\n[0, 1]\n"},
		{name: "error then continue", stdin: "1 // 0\nprint('after')\n", stdout: "Error: script error: floored division by zero\n  <repl>:1:3: in <expr>\nafter\n"},
		{name: "undefined name", stdin: "nope\nx = nada\nprint('after')\n", stdout: "Error: <repl>:1:1: undefined: nope\nError: <repl>:1:5: undefined: nada\nafter\n"},
		{name: "syntax error then continue", stdin: "x = = 1\nprint('after')\n", stdout: "Error: <repl>:1:5: got '=', want primary expression\nafter\n"},
		{name: "fail", stdin: "fail('boom')\nprint('after')\n", outHas: []string{"Error: script error: boom\n", "after\n"}},
		{name: ".vars", args: []string{"--var", "b=2", "--var", "a=1"}, stdin: ".vars\n", stdout: "Variables:\n  a = 1\n  b = 2\n"},
		{name: ".vars empty", stdin: ".vars\n", stdout: "No variables loaded\n"},
		{name: "var_str", args: []string{"--var", "who=kite"}, stdin: "print(var_str('who'))\n", stdout: "kite\n"},
		{name: ".exit", stdin: "print(1)\n.exit\nprint(2)\n", stdout: "1\nGoodbye!\n"},
		{name: ".quit", stdin: "  .quit  \nprint(2)\n", stdout: "Goodbye!\n"},
		{name: ".help", stdin: ".help\n", outHas: []string{"Commands:\n  .help", ".vars", "Modules (dir(<module>) lists a module's members):\n", "json"}},
		{name: ".clear", stdin: ".clear\n", stdout: "\033[H\033[2J"},
		{name: "unknown command", stdin: ".nope\n", stdout: "Unknown command .nope (type .help)\n"},
		{name: "exit(3) ends with 3", stdin: "print('before')\nexit(3)\nprint('after')\n", code: 3, stdout: "before\n"},
		{name: "exit() ends with 0", stdin: "exit()\nprint('after')\n", stdout: ""},
		{name: "exit in a function", stdin: "def quit():\n    exit(4)\n\nquit()\nprint('after')\n", code: 4, stdout: ""},
		{name: "EOF ends with 0", stdin: "print('last')", stdout: "last\n"},
		{name: "EOF runs an open block", stdin: "for i in range(2):\n    print(i)", stdout: "0\n1\n"},
		{name: "empty lines ignored", stdin: "\n\n   \nprint('x')\n", stdout: "x\n"},
		{name: "deny-all by default", stdin: "os.env('HOME')\nprint('after')\n", outHas: []string{"Error: ", "permission denied", "after\n"}},
		{name: "timeout per input", args: []string{"--timeout", "1"}, stdin: "while True:\n    pass\n\nprint('next')\n", stdout: "Error: script timed out after 1s (raise --timeout)\nnext\n"},
		{name: "load", stdin: "load('./lib.star', 'lib'); print(lib.x)\n", stdout: "7\n"},
		{name: "load binding persists", stdin: "load('./lib.star', 'lib')\nprint(lib.x)\n", stdout: "7\n"},
		{name: "augmented assignment across inputs", stdin: "n = 1\nn += 41\nl = []\nl.append(n)\nprint(n, l)\n", stdout: "42 [42]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeFile(t, dir, "lib.star", "x = 7\n")
			res := runBin(t, invocation{args: append([]string{"repl"}, tt.args...), stdin: tt.stdin, dir: dir})
			if res.code != tt.code || res.stderr != "" || !strings.HasPrefix(res.stdout, replBanner) {
				t.Fatalf("got %s\nwant exit %d, banner, empty stderr", res, tt.code)
			}
			out := strings.TrimPrefix(res.stdout, replBanner)
			if tt.outHas == nil && out != tt.stdout {
				t.Errorf("stdout after banner:\n%q\nwant\n%q", out, tt.stdout)
			}
			for _, s := range tt.outHas {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %q:\n%s", s, out)
				}
			}
		})
	}
}

func TestReplUsage(t *testing.T) {
	res := runBin(t, invocation{args: []string{"repl", "x"}})
	if want := "Error: repl: unexpected argument \"x\"\n" + usageHint; res.code != 2 || res.stderr != want {
		t.Errorf("got %s\nwant exit 2, stderr %q", res, want)
	}
	res = runBin(t, invocation{args: []string{"repl", "--var", "bad"}})
	if res.code != 4 || !strings.Contains(res.stderr, "invalid var format") {
		t.Errorf("bad --var: %s", res)
	}
}

func TestReplComplete(t *testing.T) {
	isolate(t)
	reg := NewRegistry(&libkite.ModuleConfig{})
	defer reg.Close()
	rt, err := libkite.New(&libkite.Config{Registry: reg, NoSignals: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	r := &repl{rt: rt}
	r.names = r.predeclared()
	r.names["rec"] = libkite.NewModule("rec", starlark.StringDict{
		"alpha": starlark.MakeInt(1),
		"beta":  libkite.NewModule("beta", starlark.StringDict{"gamma": starlark.MakeInt(2)}),
		"_priv": starlark.MakeInt(3),
	})
	if err := rt.ExecuteRepl(t.Context(), "my_value = 1\nmy_var = 2\ns = 'x'"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, line string
		pos        int // -1 = end
		want       string
		wantPos    int
		show       []string
	}{
		{name: "module member", line: "json.enc", pos: -1, want: "json.encode", wantPos: 11},
		{name: "member mid-line", line: "x = json.dec(s)", pos: 12, want: "x = json.decode(s)", wantPos: 15},
		{name: "global", line: "pri", pos: -1, want: "print", wantPos: 5},
		{name: "keyword", line: "retu", pos: -1, want: "return", wantPos: 6},
		{name: "binding common prefix", line: "my_", pos: -1, want: "my_va", wantPos: 5},
		{name: "ambiguous shows candidates", line: "my_va", pos: -1, want: "my_va", wantPos: 5, show: []string{"my_value", "my_var"}},
		{name: "nested attribute", line: "rec.beta.ga", pos: -1, want: "rec.beta.gamma", wantPos: 14},
		{name: "string method", line: "s.up", pos: -1, want: "s.upper", wantPos: 7},
		{name: "private members hidden", line: "rec.", pos: -1, want: "rec.", wantPos: 4, show: []string{"alpha", "beta"}},
		{name: "private members on request", line: "rec._", pos: -1, want: "rec._priv", wantPos: 9},
		{name: "unknown base", line: "nothing.x", pos: -1, want: "nothing.x", wantPos: 9},
		{name: "no match", line: "zzzq", pos: -1, want: "zzzq", wantPos: 4},
		{name: "tab indents in leading space", line: "  ", pos: -1, want: "      ", wantPos: 6},
		{name: "tab after a non-name does nothing", line: "x = (", pos: -1, want: "x = (", wantPos: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pos := tt.pos
			if pos < 0 {
				pos = len(tt.line)
			}
			got, gotPos, show := r.complete(tt.line, pos)
			if got != tt.want || gotPos != tt.wantPos || strings.Join(show, ",") != strings.Join(tt.show, ",") {
				t.Errorf("complete(%q, %d) = %q, %d, %v; want %q, %d, %v", tt.line, pos, got, gotPos, show, tt.want, tt.wantPos, tt.show)
			}
		})
	}
}
