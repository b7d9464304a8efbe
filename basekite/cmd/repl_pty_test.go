//go:build unix

package cmd

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"
)

// ptyRepl is `kitecmd repl` on a pseudo-terminal.
type ptyRepl struct {
	t        *testing.T
	cmd      *exec.Cmd
	ptm, tty *os.File    // the tty stays open here to inspect its modes
	cooked   *term.State // the tty's modes before the REPL started

	mu   sync.Mutex
	out  strings.Builder
	seen int // expect consumed the output up to here
}

func startPtyRepl(t *testing.T, home string) *ptyRepl {
	t.Helper()
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skipf("cannot open a pseudo-terminal: %v", err)
	}
	if err := pty.Setsize(ptm, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	cooked, err := term.GetState(int(tty.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command(kitecmdPath(), "repl")
	c.Dir = home
	c.Env = append(cleanEnv(), "HOME="+home, "TERM=xterm")
	c.Stdin, c.Stdout, c.Stderr = tty, tty, tty
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	p := &ptyRepl{t: t, cmd: c, ptm: ptm, tty: tty, cooked: cooked}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := ptm.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		if c.ProcessState == nil {
			c.Process.Kill()
			c.Wait()
		}
		ptm.Close()
		tty.Close()
	})
	return p
}

// expect waits for s in the output not yet consumed, and consumes it.
func (p *ptyRepl) expect(s string) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		out := p.out.String()
		i := strings.Index(out[p.seen:], s)
		if i >= 0 {
			p.seen += i + len(s)
		}
		p.mu.Unlock()
		if i >= 0 {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for %q; unread output: %q", s, out[p.seen:])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *ptyRepl) send(s string) {
	p.t.Helper()
	if _, err := p.ptm.Write([]byte(s)); err != nil {
		p.t.Fatal(err)
	}
}

func (p *ptyRepl) wait(code int) {
	p.t.Helper()
	err := waitTimeout(p.cmd, 10*time.Second)
	var ee *exec.ExitError
	got := 0
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		p.t.Fatalf("wait: %v", err)
	}
	if got != code {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.t.Fatalf("exit code %d, want %d; output:\n%q", got, code, p.out.String())
	}
}

// checkRestored checks the tty is back in the modes it had at start.
func (p *ptyRepl) checkRestored(when string) {
	p.t.Helper()
	st, err := term.GetState(int(p.tty.Fd()))
	if err != nil || !reflect.DeepEqual(st, p.cooked) {
		p.t.Errorf("terminal modes not restored %s (%v)", when, err)
	}
}

// TestReplTerminal drives the REPL on a pseudo-terminal: line editing,
// Tab completion, Ctrl-C at the prompt and during execution, history
// across sessions and the terminal restored on every way out.
func TestReplTerminal(t *testing.T) {
	home := t.TempDir()

	p := startPtyRepl(t, home)
	p.expect("Starlark Controller")
	p.expect(">>> ")
	p.send("x = 6 * 7\r")
	p.expect(">>> ")
	p.send("print(x)\r")
	p.expect("\n42\r\n")
	p.expect(">>> ")

	// line editing: Left, then insert
	p.send("print(x + 1)\x1b[D0\r")
	p.expect("\n52\r\n")
	p.expect(">>> ")

	// Tab completes a module member; the line then runs as completed
	p.send("print(json.enc\t")
	p.expect("json.encode")
	p.send(`({"a": 1}))` + "\r")
	p.expect("\n{\"a\":1}\r\n")
	p.expect(">>> ")

	// Ctrl-C at the prompt drops the line, inside a block too
	p.send("this is not run\x03")
	p.expect("^C")
	p.expect(">>> ")
	p.send("if True:\r")
	p.expect("... ")
	p.send("    print('in block')\x03")
	p.expect(">>> ")
	p.send("print('after ctrl-c')\r")
	p.expect("\nafter ctrl-c\r\n")
	p.expect(">>> ")

	// Ctrl-C stops a running input and returns to the prompt
	p.send("def spin():\r    print('spinning')\r    while True:\r        pass\r\r")
	p.expect(">>> ")
	p.send("spin()\r")
	p.expect("\nspinning\r\n")
	p.send("\x03")
	p.expect("Interrupted\r\n")
	p.expect(">>> ")
	p.send("print('still here', x)\r")
	p.expect("\nstill here 42\r\n")
	p.expect(">>> ")

	p.send(".exit\r")
	p.expect("Goodbye!")
	p.wait(0)
	p.checkRestored("after .exit")

	// the history file: private, holds the entered lines
	hist := filepath.Join(home, ".starkite", "repl_history")
	if fi, err := os.Stat(hist); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("history file: %v, %v", fi, err)
	}
	if fi, err := os.Stat(filepath.Dir(hist)); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("history dir: %v, %v", fi, err)
	}
	b, _ := os.ReadFile(hist)
	if h := string(b); !strings.Contains(h, "x = 6 * 7\n") || strings.Contains(h, "this is not run") || !strings.HasSuffix(h, "print('still here', x)\n.exit\n") {
		t.Errorf("history file:\n%s", h)
	}

	// a new session recalls the history: three Ups pass x = 5 and .exit
	p = startPtyRepl(t, home)
	p.expect(">>> ")
	p.send("x = 5\r")
	p.expect(">>> ")
	p.send("\x1b[A\x1b[A\x1b[A\r")
	p.expect("\nstill here 5\r\n")
	p.expect(">>> ")
	// Ctrl-D on an empty line ends the session
	p.send("\x04")
	p.wait(0)

	// SIGTERM at the (raw) prompt: exit 143, terminal restored
	p = startPtyRepl(t, home)
	p.expect(">>> ")
	p.send("pri")
	p.expect("pri")
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.wait(143)
	p.checkRestored("after SIGTERM")
}
