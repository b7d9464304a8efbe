package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/urfave/cli/v2"
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/basekite/version"
	"github.com/project-starkite/starkite/libkite"
)

const (
	replPrompt     = ">>> "
	replContPrompt = "... "
)

func replCommand() *cli.Command {
	return &cli.Command{
		Name:  "repl",
		Usage: "start an interactive Starlark session",
		Description: "Reads Starlark a line or block at a time and runs it; bindings persist between\n" +
			"inputs and a bare expression prints its value. A line ending in ':' opens a\n" +
			"block that runs at the first empty line; a line ending in '\\' continues on the\n" +
			"next. Commands: .help, .vars, .clear, .exit/.quit (also exit(), Ctrl-D).\n" +
			"Errors are printed and the session goes on; exit(n) ends it with code n.\n\n" +
			"On a terminal: line editing, Tab completion of names and module members,\n" +
			"history (Up/Down, kept in ~/.starkite/repl_history), Ctrl-C clears the line\n" +
			"or stops the running input. Without a terminal lines are read plainly and no\n" +
			"prompts are printed. --timeout applies to each input; permissions are as for\n" +
			"run (default deny-all).\n\n" +
			"Example: kite repl --allow-fs --var env=staging\n\n" + globalFlagsNote,
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return usageErrorf("repl: unexpected argument %q", c.Args().First())
			}
			if handled, err := handOffToSandbox(c); handled {
				return err
			}
			return runRepl(c)
		},
	}
}

// repl is one interactive session on one runtime.
type repl struct {
	s        *session
	bin      string
	rt       *libkite.Runtime
	in       lineInput
	exitCode atomic.Int32              // -1, or the code exit() asked for (0 included)
	names    map[string]starlark.Value // predeclared names, for completion
}

func runRepl(c *cli.Context) error {
	s, err := newSession(c)
	if err != nil {
		return err
	}
	defer s.close()
	r := &repl{s: s, bin: c.App.Name}
	r.exitCode.Store(-1)
	rt, closeRT, err := s.newRuntime("<repl>", func(cfg *libkite.Config) {
		cfg.NoSignals = true // SIGINT cancels the running input instead of ending the process
		cfg.EntryPoint = ""
		// exit() must end the session even with code 0, which the runtime
		// maps to success like a script that ran to its end.
		cfg.Globals = map[string]any{"exit": starlark.NewBuiltin("exit", r.exitBuiltin)}
	})
	if err != nil {
		return err
	}
	defer closeRT()
	r.rt = rt
	r.names = r.predeclared()

	// Subscribed before the terminal goes raw, so no signal finds it raw
	// with the default (process-ending) disposition.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	r.in = newLineInput(c.App.Reader, s.out, s.errw, r.complete)
	defer r.in.close()

	fmt.Fprintf(s.out, "starkite %s - Starlark Controller\n", version.Version)
	fmt.Fprintf(s.out, "Type .help for help, .exit to quit\n\n")
	return r.loop(c.Context, sigs)
}

// errLineInterrupted is returned by lineInput.readLine when Ctrl-C
// discarded the line being edited.
var errLineInterrupted = errors.New("interrupted")

// loop reads units (a line, a continued line or a block) and runs them
// until .exit, exit(), end of input or a terminating signal.
func (r *repl) loop(ctx context.Context, sigs <-chan os.Signal) error {
	var (
		buf   strings.Builder // the unit being collected
		block bool            // inside a ':' block: it ends at an empty line
	)
	reset := func() { buf.Reset(); block = false }
	for {
		prompt := replPrompt
		if buf.Len() > 0 {
			prompt = replContPrompt
		}
		line, err := r.readLine(prompt, sigs)
		switch {
		case errors.Is(err, errLineInterrupted):
			reset()
			continue
		case errors.Is(err, io.EOF):
			if r.in.terminal() {
				fmt.Fprintln(r.s.out)
			}
			if buf.Len() == 0 {
				return nil
			}
			// input ended inside a unit: run what was collected
			return r.runUnit(ctx, buf.String(), sigs)
		case err != nil:
			return err
		}
		trimmed := strings.TrimSpace(line)
		if buf.Len() == 0 {
			if trimmed == "" {
				continue
			}
			if strings.HasPrefix(trimmed, ".") {
				if done := r.command(trimmed); done {
					return nil
				}
				continue
			}
		}
		if strings.HasSuffix(strings.TrimRight(line, " \t"), `\`) {
			// kept: Starlark joins a backslash-newline to the next line
			buf.WriteString(strings.TrimRight(line, " \t") + "\n")
			continue
		}
		if block {
			if trimmed != "" {
				buf.WriteString(line + "\n")
				continue
			}
		} else {
			buf.WriteString(line + "\n")
			if strings.HasSuffix(trimmed, ":") {
				block = true
				continue
			}
		}
		src := buf.String()
		reset()
		if err := r.runUnit(ctx, src, sigs); err != nil {
			return err
		}
	}
}

// readLine reads one line while watching for signals. At a terminal
// prompt Ctrl-C is a key (raw mode), so a SIGINT then is ignored; without
// a terminal it ends the session like SIGTERM and SIGHUP do.
func (r *repl) readLine(prompt string, sigs <-chan os.Signal) (string, error) {
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := r.in.readLine(prompt)
		ch <- result{line, err}
	}()
	for {
		select {
		case res := <-ch:
			return res.line, res.err
		case sig := <-sigs:
			if sig == os.Interrupt && r.in.terminal() {
				continue
			}
			return "", signalExit(sig)
		}
	}
}

// signalExit ends the session on sig, silently, with its exit code.
func signalExit(sig os.Signal) error { return libkite.NewExitError(signalCode(sig)) }

// command runs a dot command; done reports .exit/.quit.
func (r *repl) command(cmd string) (done bool) {
	out := r.s.out
	switch cmd {
	case ".exit", ".quit":
		fmt.Fprintln(out, "Goodbye!")
		return true
	case ".help":
		r.printHelp()
	case ".clear":
		fmt.Fprint(out, "\033[H\033[2J")
	case ".vars":
		fmt.Fprint(out, formatVars(r.s.vars.All()))
	default:
		fmt.Fprintf(out, "Unknown command %s (type .help)\n", cmd)
	}
	return false
}

// formatVars renders the variable store as .vars shows it.
func formatVars(all map[string]any) string {
	if len(all) == 0 {
		return "No variables loaded\n"
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("Variables:\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s = %v\n", k, all[k])
	}
	return b.String()
}

func (r *repl) printHelp() {
	modules := r.rt.Registry().Names()
	sort.Strings(modules)
	fmt.Fprintf(r.s.out, `Commands:
  .help          show this help
  .exit, .quit   leave the REPL (also exit() or Ctrl-D)
  .clear         clear the screen
  .vars          show the variables (--var, --var-file, config.yaml, STARKITE_VAR_*)

Input:
  A line runs when entered; a bare expression prints its value. A line ending
  in ':' opens a block that runs at the first empty line; a line ending in '\'
  continues on the next. Bindings persist between inputs.
  On a terminal: Tab completes names and module members (json.<Tab>), Up/Down
  walk the history, Ctrl-C clears the line or stops the running input.

Builtins: print, fail, exit, defer, on_signal, load, var_str, var_int, var_bool,
  var_list, var_dict, var_names and the Starlark universe (len, range, dir, ...)
Modules (dir(<module>) lists a module's members):
%s`, wrapWords(modules, "  ", 78))
}

// wrapWords joins words with ", " into lines of at most width columns,
// each starting with indent.
func wrapWords(words []string, indent string, width int) string {
	var b strings.Builder
	line := indent
	for i, w := range words {
		if i < len(words)-1 {
			w += ","
		}
		if line != indent && len(line)+1+len(w) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += w
	}
	b.WriteString(line + "\n")
	return b.String()
}

// runUnit runs one unit and reports its outcome. It returns non-nil only
// when the session must end (exit(), a terminating signal).
func (r *repl) runUnit(ctx context.Context, src string, sigs <-chan os.Signal) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	runCtx := ctx // each unit is one libkite run: Limits carry --timeout
	done := make(chan error, 1)
	go func() { done <- r.exec(runCtx, src) }()
	interrupted := false
	for {
		select {
		case err := <-done:
			return r.report(runCtx, err, interrupted)
		case sig := <-sigs:
			if sig == os.Interrupt && !interrupted {
				interrupted = true
				cancel()
				continue
			}
			// SIGTERM, SIGHUP, or a second Ctrl-C for an input that does
			// not stop: end the session (closing the runtime cancels it).
			return signalExit(sig)
		}
	}
}

// exec runs src: a single expression is evaluated and its value printed
// (unless None); anything else runs through ExecuteRepl.
func (r *repl) exec(ctx context.Context, src string) error {
	if _, err := libkite.FileOptions().ParseExpr("<repl>", src, 0); err == nil {
		v, err := r.rt.Eval(ctx, src)
		if err == nil && v != nil && v != starlark.None {
			fmt.Fprintln(r.s.out, v.String())
		}
		if err != nil {
			err = &evalError{err}
		}
		return err
	}
	return r.rt.ExecuteRepl(ctx, src)
}

// evalError marks an error of an expression run through Eval, whose
// positions name the chunk <eval>; the user typed it at <repl>.
type evalError struct{ err error }

func (e *evalError) Error() string { return e.err.Error() }
func (e *evalError) Unwrap() error { return e.err }

// report prints the outcome of a unit: errors go to stdout (cli.md §8.3).
func (r *repl) report(ctx context.Context, err error, interrupted bool) error {
	if code := r.exitCode.Load(); code >= 0 {
		return libkite.NewExitError(int(code)) // exit(n): end the session with n
	}
	var exitErr *libkite.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		return exitErr
	case interrupted:
		if r.in.terminal() {
			fmt.Fprintln(r.s.out) // after the terminal's "^C"
		}
		fmt.Fprintln(r.s.out, "Interrupted")
	default:
		var msg strings.Builder
		describeError(&msg, r.bin, r.s.stopped(ctx, err))
		text := msg.String()
		if errors.As(err, new(*evalError)) {
			text = strings.ReplaceAll(text, "<eval>:", "<repl>:")
		}
		fmt.Fprint(r.s.out, text)
	}
	return nil
}

// exitBuiltin is exit(code=0) for the REPL: it records the code, then
// unwinds like the runtime's exit().
func (r *repl) exitBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var code starlark.Value = starlark.MakeInt(0)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "code?", &code); err != nil {
		return nil, err
	}
	n, ok := code.(starlark.Int)
	if !ok {
		return nil, fmt.Errorf("exit: for parameter code: got %s, want int", code.Type())
	}
	c, ok := n.Int64()
	if !ok || c < 0 || c > 255 {
		return nil, fmt.Errorf("exit: code %s out of range 0-255", n)
	}
	r.exitCode.Store(int32(c))
	return nil, libkite.NewExitError(int(c))
}
