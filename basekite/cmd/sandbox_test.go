package cmd

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/project-starkite/starkite/basekite/varstore"
	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/sandbox"
)

// TestExpandBareSandbox covers cli.md §2: a bare --sandbox means
// "default" and never takes the next word as its value.
func TestExpandBareSandbox(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"bare before script", []string{"kite", "run", "--sandbox", "s.star"}, []string{"kite", "run", "--sandbox=default", "s.star"}},
		{"bare after script", []string{"kite", "run", "s.star", "--sandbox"}, []string{"kite", "run", "s.star", "--sandbox=default"}},
		{"single dash", []string{"kite", "exec", "-sandbox", "print(1)"}, []string{"kite", "exec", "--sandbox=default", "print(1)"}},
		{"several", []string{"kite", "--sandbox", "exec", "--sandbox", "1"}, []string{"kite", "--sandbox=default", "exec", "--sandbox=default", "1"}},
		{"value attached", []string{"kite", "run", "--sandbox=opaque", "s.star"}, nil},
		{"empty value attached", []string{"kite", "run", "--sandbox=", "s.star"}, nil},
		{"alias", []string{"kite", "run", "--sandbox-opaque", "s.star"}, nil},
		{"after --", []string{"kite", "exec", "--", "--sandbox"}, nil},
		{"before and after --", []string{"kite", "--sandbox", "exec", "--", "--sandbox"}, []string{"kite", "--sandbox=default", "exec", "--", "--sandbox"}},
		{"argv[0]", []string{"--sandbox", "exec", "1"}, nil},
		{"none", []string{"kite", "exec", "1"}, nil},
		{"empty", []string{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			want := tc.want
			if want == nil {
				want = tc.in // unchanged
			}
			got := expandBareSandbox(in)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("expandBareSandbox(%q) = %q, want %q", tc.in, got, want)
			}
			if !reflect.DeepEqual(in, tc.in) {
				t.Errorf("expandBareSandbox modified its input: %q", in)
			}
		})
	}
}

// platformError is what kitecmd, which links no sandbox runner, reports
// for any sandbox request (sandbox.md §8).
var platformError = "Error: sandbox not available on " + runtime.GOOS + ", use container isolation\n"

// printsIfRun is a script that shows whether it ran natively.
const printsIfRun = "print('ran natively')\n"

// TestSandboxCLI runs kitecmd (no sandbox backend) with sandbox requests:
// every sandbox-honouring command refuses before running anything, the
// recursion guard runs natively, and other commands ignore the flags.
func TestSandboxCLI(t *testing.T) {
	if sandbox.Available() {
		t.Fatal("the base CLI links a sandbox runner")
	}
	scripts := map[string]string{"s.star": printsIfRun, "x_test.star": "print('ran natively')\ndef test_x():\n    pass\n",
		"y_test.star": "def test_y():\n    pass\n"}
	inside := map[string]string{sandbox.InsideEnvVar: "1"}
	platform := cliCase{code: 1, stdout: empty, stderr: str(platformError)}
	with := func(c cliCase, name string, args []string, env map[string]string) cliCase {
		c.name, c.args, c.env, c.files = name, args, env, scripts
		return c
	}
	selectorErr := func(name string, args []string, msg string) cliCase {
		return cliCase{name: name, args: args, files: scripts, code: 1, stdout: empty, errHas: []string{msg}}
	}
	cases := []cliCase{
		with(platform, "exec --sandbox", []string{"exec", "--sandbox", "print('ran natively')"}, nil),
		with(platform, "exec --sandbox before the command", []string{"--sandbox", "exec", "print('ran natively')"}, nil),
		with(platform, "run --sandbox-opaque", []string{"run", "s.star", "--sandbox-opaque"}, nil),
		with(platform, "run script after bare --sandbox", []string{"run", "--sandbox", "s.star"}, nil),
		with(platform, "run bare --sandbox after script", []string{"run", "s.star", "--sandbox"}, nil),
		with(platform, "implicit run --sandbox", []string{"s.star", "--sandbox"}, nil),
		with(platform, "run --sandbox=custom", []string{"run", "s.star", "--sandbox=whatever"}, nil),
		with(platform, "repl --sandbox=host", []string{"repl", "--sandbox=host"}, nil),
		with(platform, "test one file --sandbox", []string{"test", "x_test.star", "--sandbox"}, nil),
		with(platform, "test two files --sandbox", []string{"test", "x_test.star", "y_test.star", "--sandbox"}, nil),
		with(platform, "watch --sandbox-net-access", []string{"watch", "s.star", "--sandbox-net-access"}, nil),
		with(platform, "env engages exec", []string{"exec", "print('ran natively')"}, map[string]string{sandbox.EngagementEnvVar: "opaque"}),
		with(platform, "env engages run", []string{"s.star"}, map[string]string{sandbox.EngagementEnvVar: " default "}),
		with(platform, "flag beats empty env", []string{"exec", "--sandbox-host", "1"}, map[string]string{sandbox.EngagementEnvVar: ""}),

		// the recursion guard: inside a sandbox nothing is sandboxed again
		{name: "inside: exec --sandbox runs natively", args: []string{"exec", "--sandbox", "print(1)"}, env: inside, stdout: str("1\n"), stderr: empty},
		{name: "inside: run --sandbox-opaque runs natively", files: scripts, args: []string{"run", "s.star", "--sandbox-opaque"}, env: inside, stdout: str("ran natively\n"), stderr: empty},
		{name: "inside: env is ignored", args: []string{"exec", "print(1)"}, env: map[string]string{sandbox.InsideEnvVar: "1", sandbox.EngagementEnvVar: "opaque"}, stdout: str("1\n"), stderr: empty},
		{name: "inside: conflicting flags not checked", args: []string{"exec", "--sandbox", "--sandbox-host", "print(1)"}, env: inside, stdout: str("1\n")},
		with(platform, "inside must be exactly 1", []string{"exec", "--sandbox", "print(1)"}, map[string]string{sandbox.InsideEnvVar: "true"}),

		// nothing requested: native
		{name: "empty env: native", args: []string{"exec", "print(1)"}, env: map[string]string{sandbox.EngagementEnvVar: ""}, stdout: str("1\n"), stderr: empty},
		{name: "blank env: native", args: []string{"exec", "print(1)"}, env: map[string]string{sandbox.EngagementEnvVar: "  "}, stdout: str("1\n"), stderr: empty},

		// commands that do not honour the sandbox ignore the flags
		{name: "version ignores --sandbox", args: []string{"version", "--short", "--sandbox"}, stdout: str(testVersion + "\n"), stderr: empty},
		{name: "version ignores --sandbox-opaque", args: []string{"--sandbox-opaque", "version", "--short"}, stdout: str(testVersion + "\n"), stderr: empty},
		{name: "version ignores env", args: []string{"version", "--short"}, env: map[string]string{sandbox.EngagementEnvVar: "opaque"}, stdout: str(testVersion + "\n"), stderr: empty},
		{name: "validate ignores --sandbox", files: scripts, args: []string{"validate", "s.star", "--sandbox=host"}, code: 0},

		// selector conflicts and bad values (exit 1, cli.md §2)
		selectorErr("two sandbox flags", []string{"exec", "--sandbox", "--sandbox-opaque", "print(1)"}, "Error: only one sandbox flag may be set; got --sandbox and --sandbox-opaque\n"),
		selectorErr("two aliases", []string{"exec", "print(1)", "--sandbox-opaque", "--sandbox-host"}, "only one sandbox flag may be set; got --sandbox-opaque and --sandbox-host"),
		selectorErr("named and alias", []string{"run", "s.star", "--sandbox=opaque", "--sandbox-net-access"}, "only one sandbox flag may be set; got --sandbox and --sandbox-net-access"),
		{name: "conflict beats env", args: []string{"exec", "--sandbox-opaque", "--sandbox-host", "1"}, env: map[string]string{sandbox.EngagementEnvVar: "opaque"},
			code: 1, stdout: empty, errHas: []string{"only one sandbox flag may be set"}},
		selectorErr("alias =false", []string{"exec", "--sandbox-host=false", "print(1)"}, "--sandbox-host takes no value"),
		selectorErr("empty name", []string{"exec", "--sandbox=", "print(1)"}, "--sandbox needs a profile name (built-ins: opaque, net-access, host)"),
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { runCLICase(t, tc) })
	}
}

// runCLICase runs one cliCase through the kitecmd binary.
func runCLICase(t *testing.T, tc cliCase) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range tc.files {
		writeFile(t, dir, name, content)
	}
	res := runBin(t, invocation{args: tc.args, stdin: tc.stdin, dir: dir, env: tc.env})
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf("kitecmd %q: "+format+"\n%s", append(append([]any{tc.args}, args...), res)...)
	}
	if res.code != tc.code {
		fail("exit %d, want %d", res.code, tc.code)
	}
	if tc.stdout != nil && res.stdout != *tc.stdout {
		fail("stdout %q, want %q", res.stdout, *tc.stdout)
	}
	if tc.stderr != nil && res.stderr != *tc.stderr {
		fail("stderr %q, want %q", res.stderr, *tc.stderr)
	}
	for _, s := range tc.outHas {
		if !strings.Contains(res.stdout, s) {
			fail("stdout lacks %q", s)
		}
	}
	for _, s := range tc.errHas {
		if !strings.Contains(res.stderr, s) {
			fail("stderr lacks %q", s)
		}
	}
	if tc.errPrefix != "" && !strings.HasPrefix(res.stderr, tc.errPrefix) {
		fail("stderr does not start with %q", tc.errPrefix)
	}
}

// TestSandboxInProcess checks the platform error through runMain too
// (no process boundary: nothing may run, nothing may be printed).
func TestSandboxInProcess(t *testing.T) {
	isolate(t)
	unsetenv(t, sandbox.InsideEnvVar)
	unsetenv(t, sandbox.EngagementEnvVar)
	res := mainInProcess(t, "", "exec", "--sandbox", "print('ran natively')")
	if res.code != 1 || res.stdout != "" || res.stderr != platformError {
		t.Fatalf("got %s", res)
	}
	t.Setenv(sandbox.InsideEnvVar, "1")
	if res := mainInProcess(t, "", "exec", "--sandbox", "print(1)"); res.code != 0 || res.stdout != "1\n" || res.stderr != "" {
		t.Fatalf("inside: got %s", res)
	}
}

// handedFixture is a session as the outer kite resolves it.
func handedFixture(t *testing.T) (*varstore.Vars, *libkite.PermissionConfig) {
	t.Helper()
	v := varstore.New()
	file := writeFile(t, t.TempDir(), "v.yaml", "name: file\nratio: 0.5\nflag: true\nnested: {a: 1, b: {c: d}, l: [1, x]}\n")
	if err := v.LoadFromFile(file); err != nil {
		t.Fatal(err)
	}
	if err := v.LoadFromCLI([]string{"name=kite", `list=[1, "two"]`}); err != nil {
		t.Fatal(err)
	}
	v.Set("count", 3)
	perms := &libkite.PermissionConfig{Allow: []string{"os.env", "fs.read($CWD/**)"}, Deny: []string{"fs.write"}}
	return v, perms
}

func resetHanded(t *testing.T) {
	t.Helper()
	oh, oe := handed, handedErr
	t.Cleanup(func() { handed, handedErr = oh, oe })
	handed, handedErr = nil, nil
}

func marshalHanded(t *testing.T, v *varstore.Vars, perms *libkite.PermissionConfig) string {
	t.Helper()
	snap, err := v.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := yaml.Marshal(handedSession{Permissions: perms, Vars: snap})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestHandedSession covers the session hand-in (sandbox.md §9 S1).
func TestHandedSession(t *testing.T) {
	v, perms := handedFixture(t)
	data := marshalHanded(t, v, perms)

	t.Run("inside accepts", func(t *testing.T) {
		resetHanded(t)
		t.Setenv(sessionEnvVar, data)
		t.Setenv(sandbox.InsideEnvVar, "1")
		takeHandedSession()
		if _, ok := os.LookupEnv(sessionEnvVar); ok {
			t.Error("the session variable is still set")
		}
		if handedErr != nil || handed == nil {
			t.Fatalf("handed = %v, handedErr = %v", handed, handedErr)
		}
		s := &session{opts: &options{}}
		if err := handed.apply(s); err != nil {
			t.Fatal(err)
		}
		if got, want := s.vars.All(), v.All(); !reflect.DeepEqual(got, want) {
			t.Errorf("vars = %#v\nwant %#v", got, want)
		}
		if n, _ := s.vars.Get("count"); n != 3 {
			t.Errorf("count = %#v (%T), want int 3", n, n)
		}
		if !reflect.DeepEqual(s.perms, perms) {
			t.Errorf("perms = %+v, want %+v", s.perms, perms)
		}
		if s.audit != nil {
			t.Errorf("audit = %v, want none", s.audit)
		}
	})

	t.Run("outside refuses but removes", func(t *testing.T) {
		resetHanded(t)
		t.Setenv(sessionEnvVar, data)
		unsetenv(t, sandbox.InsideEnvVar)
		takeHandedSession()
		if _, ok := os.LookupEnv(sessionEnvVar); ok {
			t.Error("the session variable is still set")
		}
		if handed != nil || handedErr != nil {
			t.Errorf("outside a sandbox: handed = %v, handedErr = %v", handed, handedErr)
		}
	})

	t.Run("inside=0 refuses", func(t *testing.T) {
		resetHanded(t)
		t.Setenv(sessionEnvVar, data)
		t.Setenv(sandbox.InsideEnvVar, "0")
		takeHandedSession()
		if handed != nil {
			t.Errorf("handed = %v", handed)
		}
	})

	t.Run("none", func(t *testing.T) {
		resetHanded(t)
		unsetenv(t, sessionEnvVar)
		t.Setenv(sandbox.InsideEnvVar, "1")
		takeHandedSession()
		if handed != nil || handedErr != nil {
			t.Errorf("handed = %v, handedErr = %v", handed, handedErr)
		}
	})

	t.Run("corrupt", func(t *testing.T) {
		resetHanded(t)
		t.Setenv(sessionEnvVar, "permissions: [unclosed\n")
		t.Setenv(sandbox.InsideEnvVar, "1")
		takeHandedSession()
		if _, ok := os.LookupEnv(sessionEnvVar); ok {
			t.Error("the session variable is still set")
		}
		if handed != nil || handedErr == nil || !strings.HasPrefix(handedErr.Error(), "sandbox: ") {
			t.Errorf("handed = %v, handedErr = %v", handed, handedErr)
		}
	})

	t.Run("no permissions means deny-all", func(t *testing.T) {
		h := &handedSession{Vars: []byte("cli: {a: 1}\n")}
		s := &session{opts: &options{}}
		if err := h.apply(s); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s.perms, libkite.DenyAllPermissions()) {
			t.Errorf("perms = %+v, want deny-all", s.perms)
		}
	})

	t.Run("corrupt vars", func(t *testing.T) {
		h := &handedSession{Vars: []byte("cli: [unclosed\n")}
		if err := h.apply(&session{opts: &options{}}); err == nil || !strings.HasPrefix(err.Error(), "sandbox: ") {
			t.Errorf("apply = %v, want a sandbox: error", err)
		}
	})
}

// TestHandedSessionCLI checks the hand-in end to end through kitecmd:
// inside, the script sees the handed variables and permissions (not the
// local config.yaml, not the default deny-all) and not the session
// variable; outside, the session variable is ignored.
func TestHandedSessionCLI(t *testing.T) {
	v, perms := handedFixture(t)
	data := marshalHanded(t, v, perms)
	files := map[string]string{"config.yaml": "config:\n  name: local\n"}
	code := "print(var_str('name'), var_int('count'))\nprint(os.env('" + sessionEnvVar + "', 'gone'))"
	tests := []cliCase{
		{name: "inside", files: files, args: []string{"exec", code},
			env:    map[string]string{sandbox.InsideEnvVar: "1", sessionEnvVar: data},
			stdout: str("kite 3\ngone\n"), stderr: empty},
		{name: "outside", files: files, args: []string{"exec", code},
			env:  map[string]string{sessionEnvVar: data},
			code: 1, stdout: str("local 0\n"), errHas: []string{"permission denied"}},
		{name: "inside, corrupt", args: []string{"exec", "print(1)"},
			env:  map[string]string{sandbox.InsideEnvVar: "1", sessionEnvVar: "vars: [unclosed"},
			code: 1, stdout: empty, errHas: []string{"sandbox: reading the session handed in from outside"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runCLICase(t, tc) })
	}
}

// TestCheckVisible covers the early "script outside the profile" check.
func TestCheckVisible(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir()) // stands in for /tmp
	if err != nil {
		t.Fatal(err)
	}
	proj := filepath.Join(base, "w", "proj")
	script := writeFile(t, proj, "sub/s.star", "")
	inTmp := writeFile(t, base, "other/s.star", "")
	elsewhere, err := filepath.EvalSymlinks(writeFile(t, t.TempDir(), "s.star", ""))
	if err != nil {
		t.Fatal(err)
	}
	opaque := sandbox.Profile{Name: "opaque", Mounts: []sandbox.Mount{
		{Source: proj, Destination: proj, Type: sandbox.MountBind, Mode: sandbox.ReadWrite},
		{Destination: base, Type: sandbox.MountTmpfs, Mode: sandbox.ReadWrite},
	}}
	moved := sandbox.Profile{Name: "moved", Mounts: []sandbox.Mount{
		{Source: filepath.Join(base, "elsewhere"), Destination: proj, Type: sandbox.MountBind, Mode: sandbox.ReadOnly},
	}}
	nested := sandbox.Profile{Name: "nested", Mounts: []sandbox.Mount{
		{Source: base, Destination: base, Type: sandbox.MountBind, Mode: sandbox.ReadOnly},
		{Destination: filepath.Join(proj, "sub"), Type: sandbox.MountTmpfs, Mode: sandbox.ReadWrite},
	}}
	root := sandbox.Profile{Name: "root", Mounts: []sandbox.Mount{{Source: "/", Destination: "/", Type: sandbox.MountBind, Mode: sandbox.ReadOnly}}}
	tests := []struct {
		name    string
		profile sandbox.Profile
		path    string
		ok      bool
	}{
		{"under the cwd bind", opaque, script, true},
		{"the bind itself", opaque, proj, true},
		{"under the tmpfs only", opaque, inTmp, false},
		{"elsewhere", opaque, elsewhere, false},
		{"prefix but not a parent", opaque, proj + "x/s.star", false},
		{"bind with another source", moved, script, false},
		{"deepest mount is a tmpfs", nested, script, false},
		{"shallower bind still shows it", nested, filepath.Join(proj, "s.star"), true},
		{"no mounts", sandbox.Profile{Name: "empty"}, script, false},
		{"root bind", root, elsewhere, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkVisible(tc.profile, tc.path)
			switch {
			case tc.ok && err != nil:
				t.Errorf("checkVisible(%s) = %v, want nil", tc.path, err)
			case !tc.ok && err == nil:
				t.Errorf("checkVisible(%s) = nil, want an error", tc.path)
			case !tc.ok && !strings.Contains(err.Error(), "is outside what profile "+`"`+tc.profile.Name+`"`):
				t.Errorf("checkVisible(%s) = %v, want \"is outside what profile\"", tc.path, err)
			}
		})
	}

	t.Run("relative path", func(t *testing.T) {
		t.Chdir(proj)
		if err := checkVisible(opaque, "sub/s.star"); err != nil {
			t.Errorf("relative path under the cwd: %v", err)
		}
		if err := checkVisible(opaque, "../../other/s.star"); err == nil {
			t.Error("relative path outside the cwd: no error")
		}
	})

	t.Run("symlink out of the bind", func(t *testing.T) {
		link := filepath.Join(proj, "link.star")
		if err := os.Symlink(elsewhere, link); err != nil {
			t.Fatal(err)
		}
		if err := checkVisible(opaque, link); err == nil {
			t.Error("a symlink to a file outside the bind: no error")
		}
	})
}

// TestCheckVisibleSymlinkedCwd: a shell started in a directory reached
// through a symlink has that path as $PWD, os.Getwd returns it, and the
// profile's $CWD bind uses it; the script in it is visible inside.
func TestCheckVisibleSymlinkedCwd(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	writeFile(t, real, "s.star", "")
	link := filepath.Join(base, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	t.Chdir(link) // sets $PWD to the link path
	p, err := sandbox.LoadProfile(sandbox.Opaque)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkVisible(p, "s.star"); err != nil {
		t.Errorf("script in a symlinked cwd refused: %v", err)
	}
}

// TestForwardedTestFlags covers the flags of a per-file test child
// (cli.md §8.4): paths become absolute, defaults are not repeated.
func TestForwardedTestFlags(t *testing.T) {
	cwd := t.TempDir()
	t.Chdir(cwd)
	ctx := func(t *testing.T, args ...string) *cli.Context {
		t.Helper()
		set := flag.NewFlagSet("test", flag.ContinueOnError)
		for _, f := range testCommand().Flags {
			if err := f.Apply(set); err != nil {
				t.Fatal(err)
			}
		}
		if err := set.Parse(args); err != nil {
			t.Fatal(err)
		}
		return cli.NewContext(nil, set, nil)
	}
	tests := []struct {
		name  string
		args  []string
		opts  options
		perms string
		want  []string
	}{
		{name: "defaults", opts: options{Timeout: defaultTimeout}, want: nil},
		{name: "everything", args: []string{"--verbose", "--run=db"},
			opts: options{Timeout: 7, Debug: true, DryRun: true, Vars: []string{"a=1", "b=x,y"},
				VarFiles: []string{"v.yaml", "/abs/w.yaml"}, AuditLog: "logs/audit.jsonl"},
			perms: "allow-fs",
			want: []string{"--verbose", "--run=db", "--permissions=allow-fs", "--debug", "--dry-run", "--timeout=7",
				"--var=a=1", "--var=b=x,y", "--var-file=" + filepath.Join(cwd, "v.yaml"), "--var-file=/abs/w.yaml",
				"--audit-log=" + filepath.Join(cwd, "logs/audit.jsonl")}},
		{name: "timeout 0 is forwarded", opts: options{Timeout: 0}, want: []string{"--timeout=0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.opts
			got, err := forwardedTestFlags(ctx(t, tc.args...), &o, tc.perms)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("forwardedTestFlags =\n %q\nwant\n %q", got, tc.want)
			}
		})
	}
}

// fakeRunner records the sandbox runs it is asked for.
type fakeRunner struct {
	specs []sandbox.ExecSpec
	err   error
}

func (f *fakeRunner) Run(_ context.Context, spec sandbox.ExecSpec) error {
	f.specs = append(f.specs, spec)
	return f.err
}

// withBackend makes r this process's sandbox backend for the test.
func withBackend(t *testing.T, r sandbox.Runner) {
	t.Helper()
	orig := sandbox.Backend
	sandbox.Backend = r
	t.Cleanup(func() { sandbox.Backend = orig })
}

// handedFromEnv decodes the session an ExecSpec hands in; it fails the
// test unless exactly one session entry is there.
func handedFromEnv(t *testing.T, env []string) *handedSession {
	t.Helper()
	var data []string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, sessionEnvVar+"="); ok {
			data = append(data, v)
		}
	}
	if len(data) != 1 {
		t.Fatalf("%d %s entries in the inner environment", len(data), sessionEnvVar)
	}
	var h handedSession
	if err := yaml.Unmarshal([]byte(data[0]), &h); err != nil {
		t.Fatal(err)
	}
	return &h
}

// samePerms compares policies, an empty rule list equal to a nil one.
func samePerms(a, b *libkite.PermissionConfig) bool {
	if a == nil || b == nil {
		return a == b
	}
	return slices.Equal(a.Allow, b.Allow) && slices.Equal(a.Deny, b.Deny) && a.Default == b.Default
}

// TestHandOff runs the CLI in-process with a fake backend: the outer kite
// runs nothing itself, hands the runner the stripped argv, the profile
// and its resolved session, and turns the inner exit status into its own.
func TestHandOff(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		runErr   error
		code     int
		stderr   string
		wantArgs []string // nil: the runner must not be called
		script   string
		profile  string
	}{
		{name: "exec bare --sandbox", args: []string{"exec", "--sandbox", "print('ran natively')"},
			wantArgs: []string{"exec", "print('ran natively')"}, profile: sandbox.Opaque},
		{name: "run, script after bare --sandbox", args: []string{"run", "--sandbox", "s.star", "--var", "a=1"},
			wantArgs: []string{"run", "s.star", "--var", "a=1"}, script: "s.star", profile: sandbox.Opaque},
		{name: "implicit run with alias", args: []string{"s.star", "--sandbox-host"},
			wantArgs: []string{"s.star"}, script: "s.star", profile: sandbox.Host},
		{name: "selector after -- kept", args: []string{"--sandbox-net-access", "exec", "--", "--sandbox"},
			wantArgs: []string{"exec", "--", "--sandbox"}, profile: sandbox.NetAccess},
		{name: "repl", args: []string{"repl", "--sandbox=opaque"}, wantArgs: []string{"repl"}, profile: sandbox.Opaque},
		{name: "test one file", args: []string{"test", "x_test.star", "--sandbox"},
			wantArgs: []string{"test", "x_test.star"}, script: "x_test.star", profile: sandbox.Opaque},
		{name: "inner exit status propagates", args: []string{"exec", "--sandbox", "1"}, runErr: &sandbox.ExitError{Code: 7},
			code: 7, wantArgs: []string{"exec", "1"}, profile: sandbox.Opaque},
		{name: "runner failure", args: []string{"exec", "--sandbox", "1"}, runErr: errors.New("sandbox run: boom"),
			code: 1, stderr: "Error: sandbox run: boom\n", wantArgs: []string{"exec", "1"}, profile: sandbox.Opaque},
		{name: "unknown profile", args: []string{"exec", "--sandbox=nope", "1"}, code: 1},
		{name: "script outside the profile", args: []string{"run", "--sandbox", "OUTSIDE"}, code: 1, stderr: "outside what profile"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, cwd := isolate(t)
			unsetenv(t, sandbox.InsideEnvVar)
			unsetenv(t, sandbox.EngagementEnvVar)
			t.Setenv(sessionEnvVar, "stale")
			writeFile(t, cwd, "s.star", printsIfRun)
			writeFile(t, cwd, "x_test.star", printsIfRun+"def test_x():\n    pass\n")
			outside := writeFile(t, t.TempDir(), "s.star", printsIfRun)
			args := slices.Clone(tc.args)
			if i := slices.Index(args, "OUTSIDE"); i >= 0 {
				args[i] = outside
			}
			fake := &fakeRunner{err: tc.runErr}
			withBackend(t, fake)
			res := mainInProcess(t, "", args...)
			if res.code != tc.code || res.stdout != "" {
				t.Fatalf("got %s\nwant exit %d and no output", res, tc.code)
			}
			if !strings.Contains(res.stderr, tc.stderr) || (tc.code == 0 && res.stderr != "") {
				t.Fatalf("stderr %q, want %q", res.stderr, tc.stderr)
			}
			if tc.wantArgs == nil {
				if len(fake.specs) != 0 {
					t.Fatalf("runner called: %+v", fake.specs)
				}
				if res.stderr == "" {
					t.Fatal("no error printed")
				}
				return
			}
			if len(fake.specs) != 1 {
				t.Fatalf("runner called %d times", len(fake.specs))
			}
			spec := fake.specs[0]
			if !reflect.DeepEqual(spec.Args, tc.wantArgs) {
				t.Errorf("inner args %q, want %q", spec.Args, tc.wantArgs)
			}
			if spec.ScriptPath != tc.script {
				t.Errorf("ScriptPath %q, want %q", spec.ScriptPath, tc.script)
			}
			if spec.Profile.Name != tc.profile {
				t.Errorf("profile %q, want %q", spec.Profile.Name, tc.profile)
			}
			h := handedFromEnv(t, spec.Env)
			if !samePerms(h.Permissions, libkite.DenyAllPermissions()) {
				t.Errorf("handed permissions %+v, want deny-all", h.Permissions)
			}
			if h.AuditFD != 0 || len(spec.ExtraFiles) != 0 || spec.Debug {
				t.Errorf("audit fd %d, extra files %v, debug %v; want none", h.AuditFD, spec.ExtraFiles, spec.Debug)
			}
		})
	}
}

// TestHandOffSession checks what the outer kite resolves and hands in:
// variables from flags and config, the selected permissions, the open
// audit log and --debug.
func TestHandOffSession(t *testing.T) {
	_, cwd := isolate(t)
	unsetenv(t, sandbox.InsideEnvVar)
	unsetenv(t, sandbox.EngagementEnvVar)
	writeFile(t, cwd, "config.yaml", "config:\n  region: eu\n  n: 2\n")
	fake := &fakeRunner{}
	withBackend(t, fake)
	res := mainInProcess(t, "", "exec", "print(1)", "--sandbox-opaque", "--var", "a=1", "--allow-fs", "--audit-log=audit.jsonl", "--debug")
	if res.code != 0 || len(fake.specs) != 1 {
		t.Fatalf("got %s, %d runs", res, len(fake.specs))
	}
	spec := fake.specs[0]
	if want := []string{"exec", "print(1)", "--var", "a=1", "--allow-fs", "--audit-log=audit.jsonl", "--debug"}; !reflect.DeepEqual(spec.Args, want) {
		t.Errorf("inner args %q, want %q", spec.Args, want)
	}
	if !spec.Debug {
		t.Error("Debug not passed to the runner")
	}
	h := handedFromEnv(t, spec.Env)
	if h.AuditFD != 3 || len(spec.ExtraFiles) != 1 || filepath.Base(spec.ExtraFiles[0].Name()) != "audit.jsonl" {
		t.Errorf("audit fd %d, extra files %v; want audit.jsonl as fd 3", h.AuditFD, spec.ExtraFiles)
	}
	h.AuditFD = 0 // fd 3 of this process is not the audit log: never wrap it
	s := &session{opts: &options{}}
	if err := h.apply(s); err != nil {
		t.Fatal(err)
	}
	vars := s.vars.All()
	if vars["a"] != "1" || vars["region"] != "eu" || vars["n"] != 2 {
		t.Errorf("handed vars %#v, want a=1 region=eu n=2", vars)
	}
	if !samePerms(s.perms, libkite.AllowFSPermissions()) {
		t.Errorf("handed permissions %+v, want allow-fs", s.perms)
	}
}
