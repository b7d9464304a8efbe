//go:build unix

package os_test

import (
	"bytes"
	"context"
	"errors"
	stdos "os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
)

func TestExec(t *testing.T) {
	dir := kitetest.TempDir(t)
	t.Setenv("KITE_OS_INHERIT", "inherited")
	runCases(t, nil, []scriptCase{
		{name: "stdout kept exactly", src: `print(repr(exec("echo hello")))`, want: `"hello\n"`},
		{name: "no trailing newline", src: `print(repr(exec("printf test")))`, want: `"test"`},
		{name: "module form", src: `print(repr(os.exec("echo hi")))`, want: `"hi\n"`},
		{name: "stderr joined before stdout on success", src: `print(repr(exec("echo warn >&2; echo out")))`, want: `"warn\n out\n"`},
		{name: "runs through the shell", src: `print(repr(exec("echo a | tr a b && echo c")))`, want: `"b\nc\n"`},
		{name: "non-zero exit raises with stderr", src: `exec("echo out; echo boom >&2; exit 3")`,
			wantErr: "command failed (exit code 3): boom"},
		{name: "non-zero exit falls back to stdout", src: `exec("echo out; exit 2")`, wantErr: "command failed (exit code 2): out"},
		{name: "non-zero exit without output", src: `exec("exit 5")`, wantErr: "command failed (exit code 5)"},
		{name: "missing command is 127", src: `exec("kite-no-such-command")`, wantErr: "command failed (exit code 127)"},
		{name: "env adds variables", src: `print(repr(exec("echo $V", env={"V": "x"})))`, want: `"x\n"`},
		{name: "env overrides inherited", src: `print(repr(exec("echo $KITE_OS_INHERIT", env={"KITE_OS_INHERIT": "over"})))`, want: `"over\n"`},
		{name: "inherited env without override", src: `print(repr(exec("echo $KITE_OS_INHERIT", env={"OTHER": "1"})))`, want: `"inherited\n"`},
		{name: "env drops non-string items", src: `print(repr(exec("echo \"[$A][$B]\"", env={"A": 1, 2: "x", "B": "y"})))`, want: `"[][y]\n"`},
		{name: "env that is not a dict is ignored", src: `print(repr(exec("echo ok", env=["A=1"])))`, want: `"ok\n"`},
		{name: "cwd", src: `print(exec("pwd", cwd=` + lit(dir) + `).strip())`, want: dir},
		{name: "cwd non-string ignored", src: `print(exec("pwd", cwd=1).strip() == cwd())`, want: "True"},
		{name: "cwd empty ignored", src: `print(exec("pwd", cwd="").strip() == cwd())`, want: "True"},
		{name: "shell option", src: `print(repr(exec("echo $0", shell="/bin/sh")))`, want: `"/bin/sh\n"`},
		{name: "shell non-string ignored", src: `print(repr(exec("echo hi", shell=1)))`, want: `"hi\n"`},
		{name: "bad shell", src: `exec("echo hi", shell="/bad/shell")`, wantErr: "fork/exec /bad/shell: no such file or directory"},
		{name: "missing cwd", src: `exec("pwd", cwd="/no/such/dir")`, wantErr: "chdir /no/such/dir: no such file or directory"},
		{name: "no stdin", src: `print(repr(exec("cat")))`, want: `""`},
		{name: "timeout", src: `exec("sleep 5", timeout="200ms")`, wantErr: "command timed out after 200ms"},
		{name: "timeout None is the default", src: `print(repr(exec("echo t", timeout=None)))`, want: `"t\n"`},
		{name: "zero timeout means none", src: `print(repr(exec("sleep 0.2; echo t", timeout="0s")))`, want: `"t\n"`},
		{name: "timeout not reached", src: `print(repr(exec("echo t", timeout="10s")))`, want: `"t\n"`},
		{name: "timeout must be a string", src: `exec("true", timeout=5)`,
			wantErr: `os.exec: timeout must be a duration string (e.g. "60s"), got int`},
		{name: "timeout unparsable", src: `exec("true", timeout="abc")`, wantErr: `os.exec: invalid timeout "abc": time: invalid duration "abc"`},
		{name: "cmd must be a string", src: `exec(["echo", "hi"])`, wantErr: "exec: cmd must be a string, got list"},
		{name: "cmd required", src: `exec()`, wantErr: "exec: expected at least 1 argument (cmd)"},
		{name: "cmd is positional-only", src: `exec(cmd="echo hi")`, wantErr: "exec: expected at least 1 argument (cmd)"},
		{name: "surplus positionals and unknown keywords ignored", src: `print(repr(exec("echo a", "extra", bogus=1)))`, want: `"a\n"`},
		{name: "signal death", src: `exec("kill -9 $$")`, wantErr: "command failed (exit code -1): signal: killed"},
	})
}

func TestTryExec(t *testing.T) {
	runCases(t, nil, []scriptCase{
		{name: "false", src: `r = try_exec("false"); print(r.ok, r.code, repr(r.error))`, want: `False 1 ""`},
		{name: "exit 1", src: `r = try_exec("exit 1"); print(r.ok, r.code)`, want: "False 1"},
		{name: "exit 42", src: `print(try_exec("exit 42").code)`, want: "42"},
		{name: "stderr on success", src: `r = try_exec("echo err >&2"); print(r.ok, repr(r.stderr), repr(r.stdout), repr(r.error))`,
			want: `True "err\n" "" ""`},
		{name: "module form stdout", src: `print(repr(os.try_exec("echo hello").stdout))`, want: `"hello\n"`},
		{name: "error is trimmed stderr", src: `r = try_exec("echo out; echo ' boom ' >&2; exit 3")
print(r.code, repr(r.error), repr(r.stdout), repr(r.stderr))`, want: `3 "boom" "out\n" " boom \n"`},
		{name: "no output gives empty error", src: `r = try_exec("exit 5"); print(r.ok, r.code, repr(r.error))`, want: `False 5 ""`},
		{name: "missing command inside shell", src: `print(try_exec("kite-no-such-command").code)`, want: "127"},
		{name: "could not start", src: `r = try_exec("true", shell="/bad/shell"); print(r.ok, r.code, r.error)`,
			want: "False -1 fork/exec /bad/shell: no such file or directory"},
		{name: "timed out", src: `r = try_exec("echo partial; sleep 5", timeout="300ms"); print(r.ok, r.code, r.error, repr(r.stdout))`,
			want: `False -1 command timed out after 300ms "partial\n"`},
		{name: "signal death", src: `r = try_exec("kill -9 $$"); print(r.ok, r.code, r.error)`, want: "False -1 signal: killed"},
		{name: "argument errors raise", src: `try_exec(1)`, wantErr: "exec: cmd must be a string, got int"},
		{name: "bad timeout raises", src: `try_exec("true", timeout=[])`,
			wantErr: `os.exec: timeout must be a duration string (e.g. "60s"), got list`},
		{name: "try_try_exec wraps the ExecResult", src: `r = os.try_try_exec("exit 1"); print(r.ok, r.value)`,
			want: "True ExecResult(ok=False, code=1, error=\"\")"},
		{name: "try_try_exec captures argument errors", src: `print(os.try_try_exec([1]))`,
			want: `Result(ok=False, error="exec: cmd must be a string, got list")`},
	})
}

func TestExecResult(t *testing.T) {
	runCases(t, nil, []scriptCase{
		{name: "type", src: `print(type(try_exec("true")))`, want: "ExecResult"},
		{name: "str ok", src: `print(str(try_exec("true")), repr(try_exec("true")))`, want: "ExecResult(ok=True, code=0) ExecResult(ok=True, code=0)"},
		{name: "str failure quotes the error", src: `print(try_exec("echo 'b\"oom' >&2; exit 3"))`,
			want: `ExecResult(ok=False, code=3, error="b\"oom")`},
		{name: "dir", src: `print(dir(try_exec("true")))`, want: `["code", "error", "ok", "stderr", "stdout"]`},
		{name: "truth is ok", src: `print(bool(try_exec("true")), bool(try_exec("false")))`, want: "True False"},
		{name: "attribute types", src: `r = try_exec("true"); print(type(r.stdout), type(r.stderr), type(r.code), type(r.ok), type(r.error))`,
			want: "string string int bool string"},
		{name: "unhashable", src: `{try_exec("true"): 1}`, wantErr: "unhashable type: ExecResult"},
		{name: "unknown attribute", src: `try_exec("true").nope`, wantErr: "ExecResult has no .nope field or method"},
		{name: "no try_ methods", src: `try_exec("true").try_ok`, wantErr: "ExecResult has no .try_ok field or method"},
	})
}

// TestExecTimeoutKillsProcessGroup: a command that backgrounds a
// grandchild and then blocks is killed as a whole on timeout.
func TestExecTimeoutKillsProcessGroup(t *testing.T) {
	cases := []struct {
		name string
		cmd  string // writes the pids to watch into PIDFILE, one per line
		pids int
	}{
		{name: "grandchild of a nested shell", cmd: `sh -c 'sleep 30 & echo $! > PIDFILE; sleep 30'`, pids: 1},
		{name: "background child and the blocking shell", cmd: `sleep 30 & echo $! > PIDFILE; echo $$ >> PIDFILE; sleep 30`, pids: 2},
		{name: "shell exited, background child holds the pipes", cmd: `sleep 30 & echo $! > PIDFILE`, pids: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pidfile := filepath.Join(kitetest.TempDir(t), "pids")
			cmd := strings.ReplaceAll(tc.cmd, "PIDFILE", pidfile)
			start := time.Now()
			out, err := run(t, nil, `r = try_exec(`+lit(cmd)+`, timeout="500ms"); print(r.code, r.error)`)
			if err != nil {
				t.Fatal(err)
			}
			if out != "-1 command timed out after 500ms" {
				t.Fatalf("output = %q", out)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("exec took %v after a 500ms timeout", d)
			}
			assertGone(t, readPids(t, pidfile, tc.pids)...)
		})
	}
}

// TestExecDetachedChildSurvives: a background child whose output is
// redirected away is not waited for, and is left running (only timeouts,
// cancellation and kite's own death kill a group).
func TestExecDetachedChildSurvives(t *testing.T) {
	start := time.Now()
	out, err := run(t, nil, `print(exec("sleep 30 > /dev/null 2>&1 & echo $!").strip())`)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("exec waited %v for a detached child", d)
	}
	pid, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	defer syscall.Kill(pid, syscall.SIGKILL)
	time.Sleep(100 * time.Millisecond)
	if !alive(pid) {
		t.Fatalf("detached child %d was killed", pid)
	}
}

// TestExecCancelKillsProcessGroup: cancelling the script's context stops
// a running command and its background children, and raises even in
// try_exec.
func TestExecCancelKillsProcessGroup(t *testing.T) {
	for _, fn := range []string{"exec", "try_exec"} {
		t.Run(fn, func(t *testing.T) {
			pidfile := filepath.Join(kitetest.TempDir(t), "pids")
			rt, _ := kit.New(t, nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				readPids(t, pidfile, 2)
				cancel()
			}()
			start := time.Now()
			err := rt.Execute(ctx, fn+`(`+lit("sleep 30 & echo $! > "+pidfile+"; echo $$ >> "+pidfile+"; sleep 30")+`)`)
			if err == nil || !errors.Is(err, context.Canceled) {
				t.Fatalf("Execute error = %v, want context.Canceled", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("cancellation took %v", d)
			}
			assertGone(t, readPids(t, pidfile, 2)...)
		})
	}
}

// TestExecChildrenDieWithKite: children live in their own process group,
// so a terminal's Ctrl-C does not reach them; whichever way kite ends while
// a command runs (SIGINT/SIGTERM handled by the runtime, SIGKILL), the
// command and its background children do not outlive it.
func TestExecChildrenDieWithKite(t *testing.T) {
	cases := []struct {
		sig      syscall.Signal
		wantExit int
	}{
		{syscall.SIGINT, 130},
		{syscall.SIGTERM, 143},
		{syscall.SIGKILL, -1},
	}
	for _, tc := range cases {
		t.Run(tc.sig.String(), func(t *testing.T) {
			pidfile := filepath.Join(kitetest.TempDir(t), "pids")
			cmd := helperCmd(t, "signal", `exec(`+lit("sleep 30 & echo $! > "+pidfile+"; echo $$ >> "+pidfile+"; sleep 30")+`)`)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			pids := readPids(t, pidfile, 2)
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != tc.wantExit {
				t.Fatalf("helper exit = %d (%v), want %d; output:\n%s", code, err, tc.wantExit, out.String())
			}
			assertGone(t, pids...)
		})
	}
}

// helperCmd re-runs the test binary as a kite host executing script.
func helperCmd(t *testing.T, mode, script string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(stdos.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(stdos.Environ(), "KITE_OS_HELPER="+mode, "KITE_OS_HELPER_SCRIPT="+script)
	return cmd
}

// runHelper runs script in a helper process and returns its output and
// exit status.
func runHelper(t *testing.T, mode, script string) (string, int) {
	t.Helper()
	cmd := helperCmd(t, mode, script)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// TestHelperProcess is the body of helper processes, not a test.
func TestHelperProcess(t *testing.T) {
	mode := stdos.Getenv("KITE_OS_HELPER")
	if mode == "" {
		t.Skip("helper process only")
	}
	reg := libkite.NewRegistry(nil)
	reg.Register(kiteos.New())
	rt, err := libkite.New(&libkite.Config{Registry: reg})
	if err != nil {
		stdos.Exit(90)
	}
	err = rt.Execute(context.Background(), stdos.Getenv("KITE_OS_HELPER_SCRIPT"))
	var ee *libkite.ExitError
	switch {
	case errors.As(err, &ee):
		stdos.Exit(ee.Code)
	case err != nil:
		stdos.Stderr.WriteString(err.Error() + "\n")
		stdos.Exit(91)
	}
	stdos.Exit(0)
}
