package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/basekite/varstore"
	"github.com/project-starkite/starkite/libkite"
)

// mainInProcess runs Main's logic with captured streams.
func mainInProcess(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errw bytes.Buffer
	code := runMain(append([]string{"/usr/local/bin/kitecmd"}, args...), streams{in: strings.NewReader(stdin), out: &out, err: &errw})
	return result{stdout: out.String(), stderr: errw.String(), code: code}
}

// isolate gives the test an empty HOME and working directory and clears
// STARKITE_* settings.
func isolate(t *testing.T) (home, cwd string) {
	t.Helper()
	home, cwd = t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Chdir(cwd)
	for _, k := range []string{envDebug, envOutput, envTimeout} {
		t.Setenv(k, "")
	}
	return home, cwd
}

// unsetenv removes k for the duration of the test.
func unsetenv(t *testing.T, k string) {
	t.Helper()
	t.Setenv(k, "") // registers the restore
	os.Unsetenv(k)
}

// probeModule exposes what a module and the runtime see:
// probe.get(name) reads the ModuleConfig's VarStore; probe.config()
// reports the runtime config and module config.
type probeModule struct{}

func (probeModule) Name() libkite.ModuleName     { return "probe" }
func (probeModule) Description() string          { return "test probe" }
func (probeModule) Aliases() starlark.StringDict { return nil }
func (probeModule) FactoryMethod() string        { return "" }
func (probeModule) Load(mc *libkite.ModuleConfig) (starlark.StringDict, error) {
	get := func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var name string
		if err := starlark.UnpackArgs(b.Name(), args, kw, "name", &name); err != nil {
			return nil, err
		}
		if mc.VarStore == nil {
			return starlark.None, nil
		}
		v, ok := mc.VarStore.Get(name)
		if !ok {
			return starlark.None, nil
		}
		return starlark.String(fmt.Sprintf("%v", v)), nil
	}
	config := func(th *starlark.Thread, b *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		rc := libkite.GetRuntime(th).Config()
		return starlark.String(fmt.Sprintf("output=%s debug=%v dry=%v mdebug=%v mdry=%v entry=%s path=%s",
			rc.OutputFormat, rc.Debug, rc.DryRun, mc.Debug, mc.DryRun, rc.EntryPoint, rc.ScriptPath)), nil
	}
	return starlark.StringDict{
		"get":    starlark.NewBuiltin("probe.get", get),
		"config": starlark.NewBuiltin("probe.config", config),
	}, nil
}

// withProbe makes NewRegistry add the probe module for the test.
func withProbe(t *testing.T) {
	t.Helper()
	orig := NewRegistry
	NewRegistry = func(mc *libkite.ModuleConfig) *libkite.Registry {
		r := orig(mc)
		r.Register(probeModule{})
		return r
	}
	t.Cleanup(func() { NewRegistry = orig })
}

func TestInProcessMain(t *testing.T) {
	isolate(t)
	tests := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"exec", "", []string{"exec", "print('hi')"}, 0, "hi\n", ""},
		{"exec stdin", "print(6 * 7)", []string{"exec", "-"}, 0, "42\n", ""},
		{"exit code", "", []string{"exec", "exit(9)"}, 9, "", ""},
		{"fail", "", []string{"exec", "fail('nope')"}, 1, "", "Error: script error: nope\n  <inline>:1:5: in <toplevel>\n"},
		{"usage", "", []string{"exec"}, 2, "", "Error: exec: expected exactly 1 argument '<code>', got 0\n" + usageHint},
		{"missing", "", []string{"missing.star"}, 2, "", "Error: script file not found: missing.star\n"},
		{"bad var", "", []string{"exec", "1", "--var", "x"}, 4, "", "Error: invalid var format: x (expected key=value)\n"},
		{"timeout", "", []string{"exec", "while True: pass", "--timeout", "1"}, 5, "", "Error: script timed out after 1s (raise --timeout)\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := mainInProcess(t, tc.stdin, tc.args...)
			if res.code != tc.code || res.stdout != tc.stdout || res.stderr != tc.stderr {
				t.Fatalf("got %s\nwant exit %d stdout %q stderr %q", res, tc.code, tc.stdout, tc.stderr)
			}
		})
	}
	// Main with an empty argv does not panic.
	if code := runMain(nil, streams{in: strings.NewReader(""), out: &bytes.Buffer{}, err: &bytes.Buffer{}}); code != 0 {
		t.Fatalf("empty argv: exit %d", code)
	}
}

// TestInProcessVarPrecedence checks cli.md §4.1 end to end through a
// module's ModuleConfig.VarStore (independent of the vars module).
func TestInProcessVarPrecedence(t *testing.T) {
	withProbe(t)
	src := "print(probe.get('k'))\nprint(probe.get('nested.x'))\n"
	tests := []struct {
		name     string
		home     string
		local    string
		varFiles []string
		env      string
		vars     []string
		want     string
	}{
		{"none", "", "", nil, "", nil, "None\nNone\n"},
		{"env", "", "", nil, "env", nil, "env\nNone\n"},
		{"home config beats env", "config: {k: home}\n", "", nil, "env", nil, "home\nNone\n"},
		{"local config beats home", "config: {k: home}\n", "config: {k: local, nested: {x: 1}}\n", nil, "env", nil, "local\n1\n"},
		{"var file beats config", "", "config: {k: local}\n", []string{"k: f1\n"}, "", nil, "f1\nNone\n"},
		{"later var file wins", "", "", []string{"k: f1\n", "k: f2\nnested: {x: y}\n"}, "", nil, "f2\ny\n"},
		{"--var beats all", "config: {k: home}\n", "config: {k: local}\n", []string{"k: f\n"}, "env", []string{"k=cli", "nested.x=z"}, "cli\nz\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home, cwd := isolate(t)
			if tc.home != "" {
				writeFile(t, home, ".starkite/config.yaml", tc.home)
			}
			if tc.local != "" {
				writeFile(t, cwd, "config.yaml", tc.local)
			}
			if tc.env != "" {
				t.Setenv("STARKITE_VAR_K", tc.env)
			} else {
				unsetenv(t, "STARKITE_VAR_K") // an empty value would still be a value
			}
			args := []string{"exec", src}
			for i, content := range tc.varFiles {
				name := fmt.Sprintf("v%d.yaml", i)
				writeFile(t, cwd, name, content)
				args = append(args, "--var-file", name)
			}
			for _, v := range tc.vars {
				args = append(args, "--var", v)
			}
			res := mainInProcess(t, "", args...)
			if res.code != 0 || res.stdout != tc.want {
				t.Fatalf("want stdout %q\n%s", tc.want, res)
			}
		})
	}
}

func TestInProcessRuntimeConfig(t *testing.T) {
	withProbe(t)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"defaults", nil, []string{"exec", "print(probe.config())"},
			"output=text debug=false dry=false mdebug=false mdry=false entry=main path=<inline>\n"},
		{"flags", nil, []string{"exec", "print(probe.config())", "-o", "json", "--dry-run"},
			"output=json debug=false dry=true mdebug=false mdry=true entry=main path=<inline>\n"},
		{"env output", map[string]string{envOutput: "yaml"}, []string{"exec", "print(probe.config())"},
			"output=yaml debug=false dry=false mdebug=false mdry=false entry=main path=<inline>\n"},
		{"flag beats env output", map[string]string{envOutput: "yaml"}, []string{"--output=table", "exec", "print(probe.config())"},
			"output=table debug=false dry=false mdebug=false mdry=false entry=main path=<inline>\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			res := mainInProcess(t, "", tc.args...)
			if res.code != 0 || res.stdout != tc.want {
				t.Fatalf("want %q\n%s", tc.want, res)
			}
		})
	}
	// Debug reaches the runtime and the modules.
	isolate(t)
	res := mainInProcess(t, "", "exec", "print(probe.config())", "--debug")
	if !strings.HasSuffix(res.stdout, "output=text debug=true dry=false mdebug=true mdry=false entry=main path=<inline>\n") {
		t.Fatalf("%s", res)
	}
	// run passes the script path.
	_, cwd := isolate(t)
	writeFile(t, cwd, "p.star", "print(probe.config())\n")
	res = mainInProcess(t, "", "p.star")
	if !strings.HasSuffix(res.stdout, "path=p.star\n") {
		t.Fatalf("%s", res)
	}
}

func TestEditionCommandHook(t *testing.T) {
	isolate(t)
	var got []string
	orig := RegisterEditionCommands
	t.Cleanup(func() { RegisterEditionCommands = orig })
	RegisterEditionCommands = append(RegisterEditionCommands, func(app *cli.App) {
		app.Commands = append(app.Commands, &cli.Command{
			Name: "gen",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "output"}, // shadows the global -o/--output
				&cli.BoolFlag{Name: "force"},
			},
			Action: func(c *cli.Context) error {
				got = append(got, c.String("output"), fmt.Sprint(c.Bool("force")), fmt.Sprint(c.Args().Slice()),
					fmt.Sprint(c.StringSlice(flagVar)))
				return nil
			},
		})
	})
	res := mainInProcess(t, "", "gen", "pos1", "--output", "script", "--var", "a=1", "--force", "pos2")
	if res.code != 0 {
		t.Fatalf("%s", res)
	}
	want := []string{"script", "true", "[pos1 pos2]", "[a=1]"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("edition command saw %q, want %q", got, want)
	}
	// Its usage errors are reported like the base commands'.
	res = mainInProcess(t, "", "gen", "--nope")
	if res.code != 2 || res.stderr != "Error: unknown flag: --nope\n"+usageHint {
		t.Fatalf("%s", res)
	}
}

func TestNormalizeArgs(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, dir, "script", "")
	writeFile(t, dir, "adir/x", "")
	app := newApp("kitecmd", streams{})
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"--help", "--help"},
		{"s.star", "run s.star"},
		{"./s", "run ./s"},
		{"/abs/s", "run /abs/s"},
		{"../s", "run ../s"},
		{`dir\s`, `run dir\s`},
		{"script", "run script"}, // existing file
		{"adir", "adir"},         // existing directory: not a run target
		{"nofile", "nofile"},     // unknown command, reported later
		{"version", "version"},   // subcommands never match
		{"run s.star --var a=1", "--var a=1 run s.star"},
		{"s.star --var a=1 --debug", "--var a=1 --debug run s.star"},
		{"s.star --var=a=1 -o json", "--var=a=1 -o json run s.star"},
		{"--timeout 5 s.star --dry-run", "--timeout 5 --dry-run run s.star"},
		{"run --var -x=1 s.star", "--var -x=1 run s.star"}, // a flag value may start with -
		{"run s.star --bogus", "run --bogus s.star"},       // unknown: left for the parser
		{"run s.star -- --var a=1", "run -- s.star --var a=1"},
		{"exec - --debug", "--debug exec -"},
		{"exec -- -1", "exec -- -1"},
		{"version --json --debug", "--debug version --json"},
		{"help run", "help run"},
		{"--debug", "--debug"},
		{"-- s.star", "-- s.star"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			argv, err := normalizeArgs(app, append([]string{"kitecmd"}, strings.Fields(tc.in)...))
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(argv[1:], " ")
			if got != tc.want {
				t.Fatalf("normalizeArgs(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestNormalizeArgsSubcommands(t *testing.T) {
	app := newApp("kitecmd", streams{})
	app.Commands = append(app.Commands, &cli.Command{
		Name:  "edition",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "verbose"}},
		Subcommands: []*cli.Command{{
			Name:  "use",
			Flags: []cli.Flag{&cli.StringFlag{Name: "from"}, &cli.BoolFlag{Name: "force"}},
		}},
	})
	in := "edition --verbose use cloud --from /tmp/bin --debug --force"
	want := "--debug edition --verbose use --from /tmp/bin --force cloud"
	argv, err := normalizeArgs(app, append([]string{"k"}, strings.Fields(in)...))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(argv[1:], " ")
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestRewriteFlagError(t *testing.T) {
	tests := map[string]string{
		"flag provided but not defined: -bogus":            "unknown flag: --bogus",
		"flag provided but not defined: -z":                "unknown flag: -z",
		"flag needs an argument: -var":                     "flag needs an argument: --var",
		"flag needs an argument: -o":                       "flag needs an argument: -o",
		`invalid value "x" for flag -timeout: parse error`: `invalid value "x" for flag --timeout: parse error`,
		"something else":                                   "something else",
	}
	for in, want := range tests {
		if got := rewriteFlagError(in); got != want {
			t.Errorf("rewriteFlagError(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResolvePermissions(t *testing.T) {
	for _, name := range []string{"", "deny-all", "allow-fs", "allow-net", "allow-local", "allow-all"} {
		cfg, err := resolvePermissions(&options{Permissions: name}, varstore.New())
		if err != nil || cfg == nil {
			t.Errorf("%q: %v, %v", name, cfg, err)
		}
	}
	def, _ := resolvePermissions(&options{}, varstore.New())
	deny, _ := resolvePermissions(&options{Permissions: "deny-all"}, varstore.New())
	if !reflect.DeepEqual(def, deny) {
		t.Errorf("default = %+v, want deny-all %+v", def, deny)
	}
	_, err := resolvePermissions(&options{Permissions: "allow-everything"}, varstore.New())
	want := `permissions: unknown profile "allow-everything" (built-ins: deny-all, allow-fs, allow-net, allow-local, allow-all; config-defined: [])`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func TestReportError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code int
		out  string
	}{
		{"nil", nil, 0, ""},
		{"handled", errHandled, 0, ""},
		{"exit", &libkite.ExitError{Code: 42}, 42, ""},
		{"wrapped exit", fmt.Errorf("x: %w", &libkite.ExitError{Code: 3}), 3, ""},
		{"usage", usageErrorf("bad"), 2, "Error: bad\nRun 'kitecmd --help' for usage.\n"},
		{"coded", withExitCode(4, errors.New("cfg")), 4, "Error: cfg\n"},
		{"timeout", &timeoutError{seconds: 7}, 5, "Error: script timed out after 7s (raise --timeout)\n"},
		{"script error without eval error", libkite.NewScriptError("script error", 1, errors.New("boom")), 1, "Error: script error: boom\n"},
		{"cli exit coder", cli.Exit("custom", 6), 6, "Error: custom\n"},
		{"plain", errors.New("plain"), 1, "Error: plain\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if code := reportError(&buf, "kitecmd", tc.err, false); code != tc.code || buf.String() != tc.out {
				t.Fatalf("got %d %q, want %d %q", code, buf.String(), tc.code, tc.out)
			}
		})
	}
}

func TestDebugRequested(t *testing.T) {
	t.Setenv(envDebug, "")
	tests := []struct {
		args string
		env  string
		want bool
	}{
		{"exec x", "", false},
		{"exec x --debug", "", true},
		{"-debug exec x", "", true},
		{"exec x --debug=false", "1", false},
		{"exec x --debug=true", "", true},
		{"exec x", "true", true},
		{"exec x -- --debug", "", false},
	}
	for _, tc := range tests {
		t.Setenv(envDebug, tc.env)
		if got := debugRequested(append([]string{"k"}, strings.Fields(tc.args)...)); got != tc.want {
			t.Errorf("debugRequested(%q, env=%q) = %v", tc.args, tc.env, got)
		}
	}
}
