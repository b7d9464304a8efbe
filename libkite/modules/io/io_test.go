package io_test

import (
	"context"
	goio "io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kiteio "github.com/project-starkite/starkite/libkite/modules/io"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
)

// run executes src with stdin reading in and returns what the script
// printed, what the module wrote to stdout, and the error message.
func run(t *testing.T, cfg *libkite.Config, in goio.Reader, src string) (printed, written, errMsg string) {
	t.Helper()
	out := &kitetest.SyncBuffer{}
	defer kiteio.SetStdio(in, out)()
	return exec(t, cfg, context.Background(), src, out)
}

func exec(t *testing.T, cfg *libkite.Config, ctx context.Context, src string, out *kitetest.SyncBuffer) (printed, written, errMsg string) {
	t.Helper()
	rt, o := kitetest.New(t, cfg, kiteio.New(), kiteos.New())
	err := rt.Execute(ctx, src)
	return o.String(), out.String(), kitetest.ErrMsg(err)
}

type ioCase struct {
	name, input, src string
	printed, written string // script's print output; the module's stdout
	err              string // exact error message
	errPrefix        string // or: its start
}

func runCases(t *testing.T, cfg *libkite.Config, cases []ioCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			printed, written, msg := run(t, cfg, strings.NewReader(c.input), c.src)
			if c.errPrefix != "" {
				if !strings.HasPrefix(msg, c.errPrefix) {
					t.Fatalf("error = %q, want prefix %q", msg, c.errPrefix)
				}
			} else if msg != c.err {
				t.Fatalf("error = %q, want %q", msg, c.err)
			}
			if printed != c.printed {
				t.Fatalf("printed = %q, want %q", printed, c.printed)
			}
			if written != c.written {
				t.Fatalf("stdout = %q, want %q", written, c.written)
			}
		})
	}
}

func TestConfirm(t *testing.T) {
	const q = "Continue? [y/N]: "
	const qy = "Continue? [Y/n]: "
	runCases(t, nil, []ioCase{
		{name: "y", input: "y\n", src: `print(io.confirm("Continue?"))`, printed: "True", written: q},
		{name: "yes", input: "yes\n", src: `print(io.confirm("Continue?"))`, printed: "True", written: q},
		{name: "trimmed upper", input: "  YES \t\n", src: `print(io.confirm("Continue?"))`, printed: "True", written: q},
		{name: "crlf", input: "Y\r\n", src: `print(io.confirm("Continue?"))`, printed: "True", written: q},
		{name: "n", input: "n\n", src: `print(io.confirm("Continue?", True))`, printed: "False", written: qy},
		{name: "no", input: "No\n", src: `print(io.confirm("Continue?", default=True))`, printed: "False", written: qy},
		{name: "empty default False", input: "\n", src: `print(io.confirm("Continue?"))`, printed: "False", written: q},
		{name: "empty default True", input: "\n", src: `print(io.confirm("Continue?", default=True))`, printed: "True", written: qy},
		{name: "blank default True", input: "   \n", src: `print(io.confirm("Continue?", default=True))`, printed: "True", written: qy},
		{name: "other answer keeps default", input: "maybe\nyep\n", src: `print(io.confirm("Continue?", True), io.confirm("Continue?", False))`,
			printed: "True False", written: qy + q},
		{name: "keyword msg", input: "y\n", src: `print(io.confirm(msg="Go?"))`, printed: "True", written: "Go? [y/N]: "},
		{name: "EOF", input: "", src: `io.confirm("Continue?")`, written: q, err: "EOF"},
		{name: "no trailing newline is EOF", input: "y", src: `io.confirm("Continue?")`, written: q, err: "EOF"},
		{name: "try_confirm EOF", input: "", src: `print(io.try_confirm("Continue?"))`, printed: `Result(ok=False, error="EOF")`, written: q},
		{name: "try_confirm ok", input: "y\n", src: `print(io.try_confirm("Continue?"))`, printed: `Result(ok=True, value=True)`, written: q},
		{name: "default must be bool", input: "y\n", src: `io.confirm("Continue?", "yes")`, err: `io.confirm: for parameter default: got string, want bool`},
		{name: "default None refused", input: "y\n", src: `io.confirm("Continue?", default=None)`, err: `io.confirm: for parameter "default": got NoneType, want bool`},
		{name: "msg required", input: "y\n", src: `io.confirm()`, err: `io.confirm: missing required argument: msg`},
		{name: "msg must be str", input: "y\n", src: `io.confirm(1)`, err: `io.confirm: for parameter msg: got int, want string`},
		{name: "surplus positional", input: "y\n", src: `io.confirm("a", True, 1)`, err: `io.confirm: unexpected positional argument at index 2`},
		{name: "unknown keyword", input: "y\n", src: `io.confirm("a", secret=True)`, err: `io.confirm: unknown keyword argument: secret`},
		{name: "try_confirm binding", input: "y\n", src: `print(io.try_confirm())`, printed: `Result(ok=False, error="io.confirm: missing required argument: msg")`},
	})
}

func TestPrompt(t *testing.T) {
	runCases(t, nil, []ioCase{
		{name: "line", input: "alice\n", src: `print(io.prompt("Name: "))`, printed: "alice", written: "Name: "},
		{name: "msg verbatim", input: "x\n", src: `print(io.prompt("Name"))`, printed: "x", written: "Name"},
		{name: "no trimming", input: "  x  \n", src: `print(repr(io.prompt("> ")))`, printed: `"  x  "`, written: "> "},
		{name: "crlf", input: "x\r\n", src: `print(repr(io.prompt("> ")))`, printed: `"x"`, written: "> "},
		{name: "one cr removed", input: "x\r\r\n", src: `print(repr(io.prompt("> ")))`, printed: `"x\r"`, written: "> "},
		{name: "empty uses default", input: "\n", src: `print(io.prompt("> ", "dflt"))`, printed: "dflt", written: "> "},
		{name: "crlf empty uses default", input: "\r\n", src: `print(io.prompt("> ", default="dflt"))`, printed: "dflt", written: "> "},
		{name: "empty without default", input: "\n", src: `print(repr(io.prompt("> ")))`, printed: `""`, written: "> "},
		{name: "blank is not empty", input: " \n", src: `print(repr(io.prompt("> ", "d")))`, printed: `" "`, written: "> "},
		{name: "EOF", input: "", src: `io.prompt("> ")`, written: "> ", err: "EOF"},
		{name: "partial line is EOF", input: "abc", src: `io.prompt("> ")`, written: "> ", err: "EOF"},
		{name: "EOF ignores default", input: "", src: `io.prompt("> ", "d")`, written: "> ", err: "EOF"},
		{name: "try_prompt", input: "v\n", src: `print(io.try_prompt("> "))`, printed: `Result(ok=True, value="v")`, written: "> "},
		{name: "try_prompt EOF", input: "", src: `print(io.try_prompt("> "))`, printed: `Result(ok=False, error="EOF")`, written: "> "},
		{name: "default must be str", input: "\n", src: `io.prompt("> ", 1)`, err: `io.prompt: for parameter default: got int, want string`},
		{name: "secret must be bool", input: "\n", src: `io.prompt("> ", secret=1)`, err: `io.prompt: for parameter "secret": got int, want bool`},
		{name: "msg bytes refused", input: "\n", src: `io.prompt(b"> ")`, err: `io.prompt: for parameter msg: got bytes, want string`},
		{name: "unknown keyword", input: "\n", src: `io.prompt("> ", hidden=True)`, err: `io.prompt: unknown keyword argument: hidden`},
		{name: "surplus positional", input: "\n", src: `io.prompt("> ", "", False, 1)`, err: `io.prompt: unexpected positional argument at index 3`},
	})
}

// TestSharedReader: piped input serves successive calls line by line.
func TestSharedReader(t *testing.T) {
	runCases(t, nil, []ioCase{
		{name: "two prompts", input: "first\nsecond\n", src: `print(io.prompt("a: "), io.prompt("b: "))`,
			printed: "first second", written: "a: b: "},
		{name: "confirm then prompt", input: "y\nname\r\n", src: `print(io.confirm("ok?"), io.prompt("name: "))`,
			printed: "True name", written: "ok? [y/N]: name: "},
		{name: "third call hits EOF", input: "1\n2\n", src: `print(io.prompt(""), io.prompt(""), io.try_prompt(""))`,
			printed: `1 2 Result(ok=False, error="EOF")`},
		{name: "EOF is sticky", input: "", src: `print(io.try_prompt("").error, io.try_confirm("").error)`,
			printed: "EOF EOF", written: " [y/N]: "},
	})

	t.Run("across runtimes", func(t *testing.T) {
		out := &kitetest.SyncBuffer{}
		defer kiteio.SetStdio(strings.NewReader("one\ntwo\n"), out)()
		p1, _, e1 := exec(t, nil, context.Background(), `print(io.prompt("> "))`, out)
		p2, _, e2 := exec(t, nil, context.Background(), `print(io.prompt("> "))`, out)
		if p1 != "one" || p2 != "two" || e1 != "" || e2 != "" {
			t.Fatalf("got %q/%q, %q/%q", p1, p2, e1, e2)
		}
	})

	t.Run("concurrent callers each get one line", func(t *testing.T) {
		out := &kitetest.SyncBuffer{}
		defer kiteio.SetStdio(strings.NewReader("a\nb\nc\nd\n"), out)()
		var mu sync.Mutex
		var got []string
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p, _, e := exec(t, nil, context.Background(), `print(io.prompt("? "))`, out)
				if e != "" {
					t.Errorf("error %q", e)
				}
				mu.Lock()
				got = append(got, p)
				mu.Unlock()
			}()
		}
		wg.Wait()
		joined := strings.Join(sorted(got), ",")
		if joined != "a,b,c,d" {
			t.Fatalf("lines = %s", joined)
		}
		if out.String() != "? ? ? ? " {
			t.Fatalf("stdout = %q", out.String())
		}
	})
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestCancellation: a run deadline stops a prompt waiting for input, and
// the line that arrives later is not lost.
func TestCancellation(t *testing.T) {
	pr, pw := goio.Pipe()
	defer pw.Close()
	out := &kitetest.SyncBuffer{}
	defer kiteio.SetStdio(pr, out)()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, msg := exec(t, nil, ctx, `io.prompt("wait: ")`, out)
	if !strings.Contains(msg, "context deadline exceeded") && !strings.Contains(msg, "cancelled") {
		t.Fatalf("error = %q", msg)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	go pw.Write([]byte("late\n"))
	p, _, msg := exec(t, nil, context.Background(), `print(io.prompt("again: "))`, out)
	if msg != "" || p != "late" {
		t.Fatalf("next prompt = %q, %q", p, msg)
	}
	if out.String() != "wait: again: " {
		t.Fatalf("stdout = %q", out.String())
	}
}

func TestSecret(t *testing.T) {
	t.Run("not a terminal", func(t *testing.T) {
		defer kiteio.SetTerminal(func() (int, bool) { return -1, false }, nil)()
		runCases(t, nil, []ioCase{
			{name: "raises", input: "pw\n", src: `io.prompt("Password: ", secret=True)`,
				err: "io.prompt: secret input requires a terminal, but stdin is not a TTY"},
			{name: "try_prompt", input: "pw\n", src: `print(io.try_prompt("Password: ", secret=True).error)`,
				printed: "io.prompt: secret input requires a terminal, but stdin is not a TTY"},
			{name: "stdin left unread", input: "pw\n", src: `io.try_prompt("Password: ", secret=True); print(io.prompt(""))`, printed: "pw"},
		})
	})
	t.Run("default check: a non-file reader is no terminal", func(t *testing.T) {
		// with the package's own terminal check and a non-file reader
		runCases(t, nil, []ioCase{
			{name: "reader is not a tty", input: "pw\n", src: `io.prompt("P: ", secret=True)`,
				err: "io.prompt: secret input requires a terminal, but stdin is not a TTY"},
		})
	})
	t.Run("terminal", func(t *testing.T) {
		var fds []int
		answers := []string{"s3cret", "", "x"}
		read := func(fd int) ([]byte, error) {
			fds = append(fds, fd)
			if len(answers) == 0 {
				return nil, goio.EOF
			}
			a := answers[0]
			answers = answers[1:]
			return []byte(a), nil
		}
		defer kiteio.SetTerminal(func() (int, bool) { return 7, true }, read)()
		runCases(t, nil, []ioCase{
			{name: "reads without echo", src: `print(io.prompt("Password: ", secret=True))`, printed: "s3cret", written: "Password: \n"},
			{name: "default on empty", src: `print(io.prompt("Password: ", "dflt", True))`, printed: "dflt", written: "Password: \n"},
			{name: "try form", src: `print(io.try_prompt("P: ", secret=True))`, printed: `Result(ok=True, value="x")`, written: "P: \n"},
			{name: "read error", src: `io.prompt("P: ", secret=True)`, written: "P: \n", err: "EOF"},
		})
		if len(fds) != 4 || fds[0] != 7 {
			t.Fatalf("fds = %v", fds)
		}
	})
}

func TestPermissions(t *testing.T) {
	deny := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	// denied before anything is written or read
	runCases(t, deny, []ioCase{
		{name: "confirm denied", input: "y\n", src: `io.confirm("Deploy?")`,
			errPrefix: kitetest.Denied("io.prompt", "confirm", "Deploy?")},
		{name: "prompt denied", input: "y\n", src: `io.prompt("Name: ")`, errPrefix: kitetest.Denied("io.prompt", "prompt", "Name: ")},
		{name: "secret prompt denied", input: "y\n", src: `io.prompt("PIN: ", secret=True)`, errPrefix: "permission denied: io.prompt prompt(\"PIN: \")"},
		{name: "try_confirm captures", input: "y\n", src: `r = io.try_confirm("Deploy?"); print(r.ok, r.error.startswith("permission denied: io.prompt confirm"))`, printed: "False True"},
		{name: "try_prompt captures", input: "y\n", src: `r = io.try_prompt("N", secret=True); print(r.ok, r.error.startswith("permission denied: io.prompt prompt"))`, printed: "False True"},
		{name: "binding errors come first", input: "y\n", src: `io.confirm(1)`, err: `io.confirm: for parameter msg: got int, want string`},
	})

	t.Run("denied call reads nothing", func(t *testing.T) {
		out := &kitetest.SyncBuffer{}
		defer kiteio.SetStdio(strings.NewReader("first\n"), out)()
		_, _, msg := exec(t, deny, context.Background(), `io.prompt("x")`, out)
		if !strings.HasPrefix(msg, "permission denied") {
			t.Fatalf("error = %q", msg)
		}
		p, w, msg := exec(t, nil, context.Background(), `print(io.prompt("y: "))`, out)
		if msg != "" || p != "first" || w != "y: " {
			t.Fatalf("allowed call = %q, %q, %q", p, w, msg)
		}
	})

	t.Run("rule on the message", func(t *testing.T) {
		cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"io.prompt(confirm:Deploy*)"}}}
		runCases(t, cfg, []ioCase{
			{name: "allowed", input: "y\n", src: `print(io.confirm("Deploy now?"))`, printed: "True", written: "Deploy now? [y/N]: "},
			{name: "other message", input: "y\n", src: `print(io.try_confirm("Delete?").ok)`, printed: "False"},
		})
	})
}

func TestDryRunHasNoEffect(t *testing.T) {
	runCases(t, &libkite.Config{DryRun: true}, []ioCase{
		{name: "confirm", input: "y\n", src: `print(io.confirm("ok?"))`, printed: "True", written: "ok? [y/N]: "},
		{name: "prompt", input: "v\n", src: `print(io.prompt("> "))`, printed: "v", written: "> "},
	})
}

func TestNamespace(t *testing.T) {
	runCases(t, nil, []ioCase{
		{name: "types", src: `print(type(io.confirm), type(io.prompt), type(io.try_confirm), type(io))`,
			printed: "builtin_function_or_method builtin_function_or_method builtin_function_or_method module"},
		{name: "dir", src: `print(dir(io))`, printed: `["confirm", "prompt", "try_confirm", "try_prompt"]`},
		{name: "no aliases", src: `print(confirm)`, err: "<script>:1:7: undefined: confirm"},
	})
	m := kiteio.New()
	if m.Name() != "io" || m.FactoryMethod() != "" || len(m.Aliases()) != 0 || m.Description() == "" {
		t.Fatal("module metadata")
	}
}

func TestConformance(t *testing.T) {
	defer kiteio.SetStdio(strings.NewReader(""), goio.Discard)()
	path := filepath.Join("..", "..", "..", "tests", "io_test.star")
	rt, _ := kitetest.New(t, &libkite.Config{ScriptPath: path}, kiteio.New(), kiteos.New())
	kitetest.RunConformance(t, rt, path, 3)
}
