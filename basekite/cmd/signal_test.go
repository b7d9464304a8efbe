//go:build unix

package cmd

import (
	"bufio"
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalsEndToEnd sends real signals to a running kitecmd: the
// script's on_signal handler runs first, then its defers (LIFO), then the
// process exits 130 (SIGINT) or 143 (SIGTERM); SIGHUP does not exit.
func TestSignalsEndToEnd(t *testing.T) {
	script := `
on_signal("SIGINT", lambda s: print("handler " + s))
on_signal("SIGTERM", lambda s: print("handler " + s))
on_signal("SIGHUP", lambda s: print("handler " + s))
defer(lambda: print("defer 1"))
defer(lambda: print("defer 2"))
print("ready")
while True:
    pass
`
	tests := []struct {
		sig  syscall.Signal
		code int
		want string
	}{
		{syscall.SIGINT, 130, "ready\nhandler interrupt\ndefer 2\ndefer 1\n"},
		{syscall.SIGTERM, 143, "ready\nhandler terminated\ndefer 2\ndefer 1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "loop.star", script)
			c := exec.Command(kitecmdPath(), "run", "loop.star", "--timeout", "60")
			c.Dir = dir
			c.Env = append(cleanEnv(), "HOME="+dir)
			stdout, err := c.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			r := bufio.NewReader(stdout)
			if line, err := r.ReadString('\n'); err != nil || line != "ready\n" {
				c.Process.Kill()
				t.Fatalf("first line %q, %v", line, err)
			}
			if err := c.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			rest := readAll(r)
			err = waitTimeout(c, 10*time.Second)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != tt.code {
				t.Fatalf("exit: %v, want code %d", err, tt.code)
			}
			if got := "ready\n" + rest; got != tt.want {
				t.Errorf("stdout %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("SIGHUP keeps running", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "loop.star", script)
		c := exec.Command(kitecmdPath(), "run", "loop.star", "--timeout", "60")
		c.Dir = dir
		c.Env = append(cleanEnv(), "HOME="+dir)
		stdout, _ := c.StdoutPipe()
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		defer c.Process.Kill()
		r := bufio.NewReader(stdout)
		r.ReadString('\n')
		c.Process.Signal(syscall.SIGHUP)
		line, _ := r.ReadString('\n')
		if line != "handler hangup\n" {
			t.Fatalf("after SIGHUP got %q", line)
		}
		c.Process.Signal(syscall.SIGINT)
		err := waitTimeout(c, 10*time.Second)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Fatalf("still running after SIGHUP must exit 130 on SIGINT: %v", err)
		}
	})
}

func readAll(r *bufio.Reader) string {
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		b.WriteString(line)
		if err != nil {
			return b.String()
		}
	}
}

func waitTimeout(c *exec.Cmd, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		c.Process.Kill()
		return errors.New("timed out waiting for exit")
	}
}
