//go:build unix

package os_test

import (
	"errors"
	stdos "os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
)

func TestModuleShape(t *testing.T) {
	m := kiteos.New()
	if m.Name() != "os" {
		t.Fatalf("Name() = %q", m.Name())
	}
	exports, err := m.Load(&libkite.ModuleConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if len(exports) != 1 || exports["os"] == nil {
		t.Fatalf("Load() keys = %v, want only os", exports.Keys())
	}
	wantAliases := []string{"chdir", "cwd", "env", "exec", "exit", "groupid", "home", "hostname", "pid", "ppid",
		"setenv", "try_exec", "user", "userid", "username", "which"}
	if got := m.Aliases().Keys(); strings.Join(got, " ") != strings.Join(wantAliases, " ") {
		t.Fatalf("Aliases() = %v\nwant %v", got, wantAliases)
	}
}

func TestNamespace(t *testing.T) {
	funcs := []string{"chdir", "cwd", "env", "exec", "exit", "groupid", "home", "hostname", "pid", "ppid",
		"setenv", "try_exec", "userid", "username", "which"}
	var wantDir []string
	for _, f := range funcs {
		wantDir = append(wantDir, f, "try_"+f)
	}
	sort.Strings(wantDir)
	wantDir = dedup(wantDir)

	runCases(t, nil, []scriptCase{
		{name: "dir lists each function and its try_ twin once", src: `print(dir(os))`,
			want: `["` + strings.Join(wantDir, `", "`) + `"]`},
		{name: "type of module and builtins", src: `print(type(os), type(os.env), type(env), type(user))`,
			want: "module builtin_function_or_method builtin_function_or_method struct"},
		{name: "aliases are the module functions", src: `
print(env == os.env, setenv == os.setenv, cwd == os.cwd, chdir == os.chdir, hostname == os.hostname)
print(pid == os.pid, ppid == os.ppid, exec == os.exec, try_exec == os.try_exec, which == os.which)
print(username == os.username, userid == os.userid, groupid == os.groupid, home == os.home)`,
			want: "True True True True True\nTrue True True True True\nTrue True True True"},
		{name: "global exit is the runtime's, not os.exit", src: `print(exit == os.exit)`, want: "False"},
		{name: "user struct fields are the identity functions", src: `
print(dir(user))
print(user.name == username, user.id == userid, user.gid == groupid, user.home == home)`,
			want: "[\"gid\", \"home\", \"id\", \"name\"]\nTrue True True True"},
		{name: "try_ of unknown name", src: `os.try_nope`, wantErr: "module has no .try_nope field or method"},
		{name: "try_try_exec exists", src: `print(type(os.try_try_exec("true")))`, want: "Result"},
		{name: "no try_ globals except try_exec", src: `try_env("X")`, wantErr: "undefined: try_env"},
	})
}

func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func TestEnv(t *testing.T) {
	t.Setenv("KITE_OS_SET", "value")
	t.Setenv("KITE_OS_EMPTY", "")
	stdos.Unsetenv("KITE_OS_UNSET")
	runCases(t, nil, []scriptCase{
		{name: "set variable", src: `print(env("KITE_OS_SET"))`, want: "value"},
		{name: "unset variable is empty", src: `print(repr(env("KITE_OS_UNSET")))`, want: `""`},
		{name: "unset variable with default", src: `print(env("KITE_OS_UNSET", "fb"))`, want: "fb"},
		{name: "default by keyword", src: `print(os.env("KITE_OS_UNSET", default="kw"))`, want: "kw"},
		{name: "set to empty wins over default", src: `print(repr(env("KITE_OS_EMPTY", "fb")))`, want: `""`},
		{name: "try_env default", src: `print(os.try_env("KITE_OS_UNSET", "fb").value)`, want: "fb"},
		{name: "try_env ok", src: `print(os.try_env("KITE_OS_SET"))`, want: `Result(ok=True, value="value")`},
		{name: "default None refused", src: `env("KITE_OS_UNSET", None)`, wantErr: "env: for parameter default: got NoneType, want string"},
		{name: "name must be str", src: `env(1)`, wantErr: "env: for parameter name: got int, want string"},
		{name: "missing name", src: `env()`, wantErr: "env: missing required argument: name"},
		{name: "surplus positional", src: `env("a", "b", "c")`, wantErr: "env: unexpected positional argument at index 2"},
		{name: "unknown keyword", src: `env(nme="x")`, wantErr: "env: unknown keyword argument: nme"},
		{name: "try_env captures binding error", src: `print(os.try_env())`,
			want: `Result(ok=False, error="env: missing required argument: name")`},
	})
}

func TestSetenv(t *testing.T) {
	const name = "KITE_OS_SETENV"
	t.Cleanup(func() { stdos.Unsetenv(name) })
	runCases(t, nil, []scriptCase{
		{name: "round trip", src: `
setenv("KITE_OS_SETENV", "v1")
print(env("KITE_OS_SETENV"))`, want: "v1"},
		{name: "children see it", src: `
os.setenv("KITE_OS_SETENV", "child")
print(repr(exec("echo $KITE_OS_SETENV")))`, want: `"child\n"`},
		{name: "returns None", src: `print(setenv("KITE_OS_SETENV", "x"))`, want: "None"},
		{name: "value must be str", src: `setenv("KITE_OS_SETENV", 1)`, wantErr: "setenv: for parameter value: got int, want string"},
		{name: "missing value", src: `setenv("KITE_OS_SETENV")`, wantErr: "setenv: missing required argument: value"},
		{name: "try_setenv ok", src: `print(os.try_setenv("KITE_OS_SETENV", "t"))`, want: "Result(ok=True, value=None)"},
		{name: "try_setenv invalid", src: `print(os.try_setenv("KITE_OS_SETENV", None).ok)`, want: "False"},
	})
	if got := stdos.Getenv(name); got != "t" {
		t.Fatalf("process env %s = %q after the scripts, want %q", name, got, "t")
	}
}

func TestCwdChdir(t *testing.T) {
	start, err := stdos.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(start) // restores the process cwd after the test
	dir := kitetest.TempDir(t)
	runCases(t, nil, []scriptCase{
		{name: "cwd is the process cwd", src: `print(cwd())`, want: start},
		{name: "cwd takes no arguments", src: `cwd(1)`, wantErr: "cwd takes no arguments"},
		{name: "try_cwd", src: `
r = os.try_cwd()
print(type(r), bool(r), str(r).startswith("Result(ok=True"))`, want: "Result True True"},
		{name: "chdir and back", src: `
orig = cwd()
chdir(` + lit(dir) + `)
print(cwd())
chdir(orig)
print(cwd() == orig)`, want: dir + "\nTrue"},
		{name: "chdir relative", src: `
orig = cwd()
chdir(` + lit(dir) + `)
chdir("..")
print(cwd())
chdir(orig)`, want: filepath.Dir(dir)},
		{name: "chdir missing directory", src: `chdir("/no/such/dir")`, wantErr: "chdir /no/such/dir: no such file or directory"},
		{name: "try_chdir ok", src: `
orig = cwd()
print(os.try_chdir(` + lit(dir) + `).ok)
chdir(orig)`, want: "True"},
		{name: "try_chdir failure", src: `print(os.try_chdir("/no/such/dir"))`,
			want: `Result(ok=False, error="chdir /no/such/dir: no such file or directory")`},
		{name: "chdir path must be str", src: `chdir(None)`, wantErr: "chdir: for parameter path: got NoneType, want string"},
	})
	if got, _ := stdos.Getwd(); got != start {
		t.Fatalf("cwd after the scripts = %q, want %q", got, start)
	}
}

func TestProcessIdentity(t *testing.T) {
	host, err := stdos.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, nil, []scriptCase{
		{name: "hostname", src: `print(hostname())`, want: host},
		{name: "pid", src: `print(pid(), type(pid()))`, want: strconv.Itoa(stdos.Getpid()) + " int"},
		{name: "ppid", src: `print(ppid(), ppid() != pid())`, want: strconv.Itoa(stdos.Getppid()) + " True"},
		{name: "username", src: `print(username())`, want: u.Username},
		{name: "userid is a string", src: `print(repr(userid()))`, want: strconv.Quote(u.Uid)},
		{name: "groupid is a string", src: `print(repr(groupid()))`, want: strconv.Quote(u.Gid)},
		{name: "home from the account database", src: `print(home())`, want: u.HomeDir},
		{name: "user struct", src: `print(user.name(), user.id(), user.gid(), user.home())`,
			want: u.Username + " " + u.Uid + " " + u.Gid + " " + u.HomeDir},
		{name: "try forms", src: `print(os.try_pid().value == pid(), os.try_username().value == username(), os.try_home().ok)`,
			want: "True True True"},
		{name: "no-arg functions refuse arguments", src: `pid(1)`, wantErr: "pid takes no arguments"},
		{name: "no-arg refuses keywords", src: `hostname(x=1)`, wantErr: "hostname takes no arguments"},
		{name: "try of no-arg with argument", src: `print(os.try_userid(1))`,
			want: `Result(ok=False, error="userid takes no arguments")`},
	})
}

func TestWhich(t *testing.T) {
	dir := kitetest.TempDir(t)
	tool := writeExecutable(t, dir, "kite-which-tool", "x")
	t.Setenv("PATH", dir+string(filepath.ListSeparator)+stdos.Getenv("PATH"))
	runCases(t, nil, []scriptCase{
		{name: "finds a tool on PATH", src: `print(which("kite-which-tool"))`, want: tool},
		{name: "sh", src: `print("sh" in which("sh"))`, want: "True"},
		{name: "unknown is None", src: `print(which("kite-no-such-tool"))`, want: "None"},
		{name: "path is checked directly", src: `print(which(` + lit(tool) + `))`, want: tool},
		{name: "path to a missing file", src: `print(which("/no/such/tool"))`, want: "None"},
		{name: "try_which missing is ok None", src: `print(os.try_which("kite-no-such-tool"))`, want: "Result(ok=True, value=None)"},
		{name: "name must be str", src: `which(1)`, wantErr: "which: for parameter name: got int, want string"},
	})
}

func TestExit(t *testing.T) {
	var codes []int
	defer kiteos.SetExitForTest(func(c int) { codes = append(codes, c) })()
	cases := []struct {
		name      string
		src       string
		wantCodes []int
		wantExit  int // *ExitError code; 0 = Execute returns nil
		wantErr   string
	}{
		{name: "code", src: `os.exit(3)`, wantCodes: []int{3}, wantExit: 3},
		{name: "default code 0", src: `os.exit()`, wantCodes: []int{0}},
		{name: "keyword code", src: `os.exit(code=9)`, wantCodes: []int{9}, wantExit: 9},
		{name: "stops the script", src: "os.exit(2)\nfail(\"after exit\")", wantCodes: []int{2}, wantExit: 2},
		{name: "try_exit does not swallow the exit", src: `os.try_exit(4)`, wantCodes: []int{4}, wantExit: 4},
		{name: "global exit is not os.exit", src: `exit(5)`, wantExit: 5},
		{name: "code must be int", src: `os.exit("1")`, wantErr: "exit: for parameter code: got string, want int"},
		{name: "bool refused", src: `os.exit(True)`, wantErr: "exit: for parameter code: got bool, want int"},
		{name: "try_exit binding error", src: `print(os.try_exit("x").ok)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			codes = nil
			_, err := run(t, nil, tc.src)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
			} else if tc.wantExit != 0 {
				var ee *libkite.ExitError
				if !errors.As(err, &ee) || ee.Code != tc.wantExit {
					t.Fatalf("error = %v, want ExitError %d", err, tc.wantExit)
				}
			} else if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if fmtInts(codes) != fmtInts(tc.wantCodes) {
				t.Fatalf("process exit calls = %v, want %v", codes, tc.wantCodes)
			}
		})
	}
}

func fmtInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// TestExitReal runs os.exit in a child process: the process ends with the
// code and deferred functions do not run.
func TestExitReal(t *testing.T) {
	out, code := runHelper(t, "exit", `
defer(lambda: print("deferred ran"))
os.exit(7)
`)
	if code != 7 {
		t.Fatalf("exit status = %d, want 7 (output %q)", code, out)
	}
	if strings.Contains(out, "deferred ran") {
		t.Fatalf("deferred function ran: %q", out)
	}
}
