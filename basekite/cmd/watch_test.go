//go:build unix

package cmd

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/project-starkite/starkite/libkite/kitetest"
)

// watchProc is a running `kitecmd watch`, stdout and stderr merged.
type watchProc struct {
	t   *testing.T
	cmd *exec.Cmd
	out *kitetest.SyncBuffer
}

func startWatch(t *testing.T, dir string, args ...string) *watchProc {
	t.Helper()
	c := exec.Command(kitecmdPath(), append([]string{"watch"}, args...)...)
	c.Dir = dir
	c.Env = append(cleanEnv(), "HOME="+dir)
	out := &kitetest.SyncBuffer{}
	c.Stdout, c.Stderr = out, out
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	p := &watchProc{t: t, cmd: c, out: out}
	t.Cleanup(func() {
		if c.ProcessState == nil {
			c.Process.Kill()
			c.Wait()
		}
	})
	return p
}

// waitFor polls the output until cond holds (10 s at most).
func (p *watchProc) waitFor(what string, cond func(out string) bool) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond(p.out.String()) {
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for %s; output so far:\n%s", what, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitRuns waits until n runs have completed and the output has want.
func (p *watchProc) waitRuns(n int, want string) {
	p.t.Helper()
	p.waitFor(want, func(out string) bool {
		return strings.Count(out, "--- Completed in ") >= n && strings.Contains(out, want)
	})
}

func (p *watchProc) runs() int { return strings.Count(p.out.String(), "--- Completed in ") }

// interrupt sends SIGINT and checks the watch ends with exit 130 and no
// Go runtime noise.
func (p *watchProc) interrupt() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		p.t.Fatal(err)
	}
	err := waitTimeout(p.cmd, 10*time.Second)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		p.t.Fatalf("after SIGINT: %v, want exit 130; output:\n%s", err, p.out.String())
	}
	if out := p.out.String(); strings.Contains(out, "goroutine ") || strings.Contains(out, "panic") {
		p.t.Errorf("runtime noise on exit:\n%s", out)
	}
}

func TestWatch(t *testing.T) {
	t.Run("re-runs on changes to the script and its loaded modules", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFile(t, dir, "lib/util.star", "x = 1\n")
		writeFile(t, dir, "s.star", `load("./lib/util.star", "util")`+"\nprint('v1', util.x, var_str('who'))\n")
		p := startWatch(t, dir, "s.star", "--var", "who=me")
		abs, _ := filepath.Abs(filepath.Join(dir, "s.star"))
		p.waitRuns(1, "v1 1 me\n")
		if want := "Watching " + abs + " for changes...\nPress Ctrl+C to stop\n\nv1 1 me\n\n--- Completed in "; !strings.HasPrefix(p.out.String(), want) {
			t.Fatalf("start of output:\n%s\nwant prefix:\n%s", p.out.String(), want)
		}

		writeFile(t, dir, "s.star", `load("./lib/util.star", "util")`+"\nprint('v2', util.x)\n")
		p.waitRuns(2, "\n--- File changed, re-executing ---\nv2 1\n")

		writeFile(t, dir, "lib/util.star", "x = 2\n")
		p.waitRuns(3, "v2 2\n")

		// an editor saving by rename
		tmp := writeFile(t, dir, "lib/.util.star.tmp", "x = 3\n")
		if err := os.Rename(tmp, filepath.Join(dir, "lib/util.star")); err != nil {
			t.Fatal(err)
		}
		p.waitRuns(4, "v2 3\n")

		// a burst of writes is one re-run
		for i := range 5 {
			writeFile(t, dir, "lib/util.star", fmt.Sprintf("x = %d\n", i))
		}
		p.waitRuns(5, "v2 4\n")
		time.Sleep(3 * watchDebounce) // room for a wrong extra run
		if n := p.runs(); n != 5 {
			t.Errorf("burst of 5 writes gave %d runs in all, want 5 (one re-run); output:\n%s", n, p.out.String())
		}

		// an error is reported and watching goes on
		writeFile(t, dir, "s.star", "fail('boom')\n")
		p.waitRuns(6, "Error: script error: boom\n")
		writeFile(t, dir, "s.star", "print('fixed')\n")
		p.waitRuns(7, "fixed\n")
		p.interrupt()
	})

	t.Run("a module with an error stays watched", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFile(t, dir, "m.star", "y = = 1\n")
		writeFile(t, dir, "s.star", `load("./m.star", "m")`+"\nprint('y is', m.y)\n")
		p := startWatch(t, dir, "s.star")
		p.waitRuns(1, "got '=', want primary expression")
		writeFile(t, dir, "m.star", "y = 5\n")
		p.waitRuns(2, "y is 5\n")
		p.interrupt()
	})

	t.Run("a change during a run cancels it and starts over", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFile(t, dir, "s.star", "defer(lambda: print('cleanup'))\nprint('spinning')\nwhile True:\n    pass\n")
		p := startWatch(t, dir, "s.star")
		p.waitFor("first run", func(out string) bool { return strings.Contains(out, "spinning\n") })
		writeFile(t, dir, "s.star", "print('quick')\n")
		p.waitRuns(1, "quick\n")
		out := p.out.String()
		if !strings.Contains(out, "spinning\n\n--- File changed, re-executing ---\ncleanup\nquick\n\n--- Completed in ") {
			t.Errorf("want the cancelled run's defers, then the new run, one completion; got:\n%s", out)
		}
		p.interrupt()
	})

	t.Run("--timeout applies to each run", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFile(t, dir, "s.star", "while True:\n    pass\n")
		p := startWatch(t, dir, "s.star", "--timeout", "1")
		p.waitRuns(1, "Error: script timed out after 1s (raise --timeout)\n")
		writeFile(t, dir, "s.star", "print('ok')\n")
		p.waitRuns(2, "ok\n")
		p.interrupt()
	})

	t.Run("SIGINT during a run runs on_signal and defers", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFile(t, dir, "s.star", "on_signal('SIGINT', lambda s: print('handler', s))\ndefer(lambda: print('deferred'))\nprint('ready')\nwhile True:\n    pass\n")
		p := startWatch(t, dir, "s.star")
		p.waitFor("ready", func(out string) bool { return strings.Contains(out, "ready\n") })
		p.interrupt()
		if out := p.out.String(); !strings.HasSuffix(out, "ready\nhandler interrupt\ndeferred\n") {
			t.Errorf("output:\n%s", out)
		}
	})

	t.Run("SIGTERM between runs exits 143", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFile(t, dir, "s.star", "print('once')\n")
		p := startWatch(t, dir, "s.star")
		p.waitRuns(1, "once\n")
		p.cmd.Process.Signal(syscall.SIGTERM)
		err := waitTimeout(p.cmd, 10*time.Second)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 143 {
			t.Fatalf("after SIGTERM: %v, want exit 143", err)
		}
	})
}

func TestWatchUsage(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"missing script", []string{"watch", "nope.star"}, 2, "Error: script file not found: nope.star\n"},
		{"no argument", []string{"watch"}, 2, "Error: watch: expected exactly 1 argument <script>, got 0\n" + usageHint},
		{"two arguments", []string{"watch", "a.star", "b.star"}, 2, "Error: watch: expected exactly 1 argument <script>, got 2\n" + usageHint},
		{"bad --var", []string{"watch", "s.star", "--var", "novalue"}, 4, "Error: invalid var format: novalue (expected key=value)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "s.star", "print(1)\n")
			res := runBin(t, invocation{args: tt.args, dir: dir})
			if res.code != tt.code || res.stderr != tt.stderr || res.stdout != "" {
				t.Errorf("got %s\nwant exit %d, stderr %q", res, tt.code, tt.stderr)
			}
		})
	}
}
