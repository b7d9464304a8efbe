package cmd

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/project-starkite/starkite/libkite"
)

// Exit code for command-line usage errors (unknown flag or command, wrong
// number of arguments, bad flag value). kite uses 2, like most Unix tools;
// the reference uses 1 (cli.md §5).
const exitUsage = 2

// errHandled ends a run successfully after a command already produced
// its output (e.g. --version).
var errHandled = errors.New("handled")

// usageError is a bad invocation: reported with a pointer to --help.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// UsageErrorf is a bad invocation of an edition command: reported like the
// shared commands' (exit 2, a pointer to --help).
func UsageErrorf(format string, args ...any) error { return usageErrorf(format, args...) }

// exitCodeError is a failure with a specific exit code, reported as
// "Error: <err>".
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string { return e.err.Error() }
func (e *exitCodeError) Unwrap() error { return e.err }

func withExitCode(code int, err error) error { return &exitCodeError{code: code, err: err} }

// timeoutError is a script stopped by its --timeout deadline.
type timeoutError struct {
	seconds int
	err     error
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("script timed out after %ds (raise --timeout)", e.seconds)
}
func (e *timeoutError) Unwrap() error { return e.err }

// reportError prints err to w (once, "Error: " prefix) and returns the
// process exit code (cli.md §5):
//
//	nil, --version, help         0
//	exit(n) in the script        n, nothing printed
//	script runtime error, fail() 1, "Error: script error: <msg>" + backtrace
//	syntax / resolve error       1, "Error: <file>:<line>:<col>: <msg>" per error
//	usage error                  2, "Error: <msg>" + "Run '<bin> --help' for usage."
//	script file missing/unreadable 2
//	bad --var/--var-file/config  4
//	--timeout deadline           5, "Error: script timed out after <N>s (raise --timeout)"
//	anything else                1, "Error: <msg>"
//
// With debug the Go error chain follows on stderr.
func reportError(w io.Writer, bin string, err error, debug bool) int {
	if err == nil || errors.Is(err, errHandled) {
		return libkite.ExitSuccess
	}
	code := describeError(w, bin, err)
	if debug && code != libkite.ExitSuccess {
		printErrorChain(w, err)
	}
	return code
}

func describeError(w io.Writer, bin string, err error) int {
	var (
		exitErr  *libkite.ExitError
		usage    *usageError
		timeout  *timeoutError
		limit    *limitStopped
		coded    *exitCodeError
		synErr   syntax.Error
		synPtr   *syntax.Error
		resErrs  resolve.ErrorList
		scErr    *libkite.ScriptError
		cliCoder cli.ExitCoder
	)
	switch {
	case errors.As(err, &exitErr):
		return exitErr.Code // the script chose its exit status; print nothing
	case errors.As(err, &usage):
		fmt.Fprintf(w, "Error: %s\nRun '%s --help' for usage.\n", usage.msg, bin)
		return exitUsage
	case errors.As(err, &timeout):
		fmt.Fprintf(w, "Error: %s\n", timeout.Error())
		return libkite.ExitTimeout
	case errors.As(err, &limit):
		fmt.Fprintf(w, "Error: %s\n", limit.Error())
		if limit.err.ExitCode != 0 {
			return limit.err.ExitCode
		}
		return libkite.ExitScriptError
	case errors.As(err, &coded):
		fmt.Fprintf(w, "Error: %s\n", coded.err)
		return coded.code
	case errors.As(err, &resErrs):
		for _, e := range resErrs {
			fmt.Fprintf(w, "Error: %s\n", e.Error())
		}
		return libkite.ExitScriptError
	case errors.As(err, &synErr):
		fmt.Fprintf(w, "Error: %s\n", synErr.Error())
		return libkite.ExitScriptError
	case errors.As(err, &synPtr):
		fmt.Fprintf(w, "Error: %s\n", synPtr.Error())
		return libkite.ExitScriptError
	case errors.As(err, &scErr):
		fmt.Fprintf(w, "Error: %s\n", scErr.Error())
		printBacktrace(w, err)
		if scErr.ExitCode != 0 {
			return scErr.ExitCode
		}
		return libkite.ExitScriptError
	case errors.As(err, &cliCoder) && strings.HasPrefix(err.Error(), "No help topic"):
		fmt.Fprintf(w, "Error: %s\nRun '%s --help' for usage.\n", err.Error(), bin)
		return exitUsage
	case errors.As(err, &cliCoder) && cliCoder.ExitCode() != 0:
		if msg := err.Error(); msg != "" {
			fmt.Fprintf(w, "Error: %s\n", msg)
		}
		return cliCoder.ExitCode()
	}
	fmt.Fprintf(w, "Error: %s\n", err.Error())
	return libkite.ExitScriptError
}

// printBacktrace prints the Starlark call stack of err, outermost call
// first, one "  <file>:<line>:<col>: in <func>" line per frame. A final
// builtin frame (the failing builtin itself) is omitted: its name is
// already part of the message and it has no source position.
func printBacktrace(w io.Writer, err error) {
	var evalErr *starlark.EvalError
	if !errors.As(err, &evalErr) {
		return
	}
	stack := evalErr.CallStack
	if n := len(stack); n > 0 && stack[n-1].Pos.Filename() == "<builtin>" {
		stack = stack[:n-1]
	}
	for _, fr := range stack {
		fmt.Fprintf(w, "  %s: in %s\n", fr.Pos, fr.Name)
	}
}

// printErrorChain prints every error in err's chain with its Go type.
func printErrorChain(w io.Writer, err error) {
	fmt.Fprintln(w, "[DEBUG] error chain:")
	var walk func(e error, depth int)
	walk = func(e error, depth int) {
		if e == nil || depth > 32 {
			return
		}
		fmt.Fprintf(w, "[DEBUG] %s%T: %q\n", strings.Repeat("  ", depth+1), e, e.Error())
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, inner := range u.Unwrap() {
				walk(inner, depth+1)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap(), depth+1)
		}
	}
	walk(err, 0)
}

// rewriteFlagError turns Go flag-package wording ("-name") into the
// spelling users type ("--name").
func rewriteFlagError(msg string) string {
	for _, p := range []struct{ from, to string }{
		{"flag provided but not defined: ", "unknown flag: "},
		{"flag needs an argument: ", "flag needs an argument: "},
	} {
		if rest, ok := strings.CutPrefix(msg, p.from); ok {
			return p.to + dashed(rest)
		}
	}
	// invalid value "x" for flag -timeout: parse error
	if i := strings.Index(msg, " for flag -"); i >= 0 {
		rest := msg[i+len(" for flag "):]
		name, tail, _ := strings.Cut(rest, ":")
		return msg[:i] + " for flag " + dashed(name) + ":" + tail
	}
	return msg
}

// dashed renders a Go flag name ("-timeout", "-o") as --timeout / -o.
func dashed(s string) string {
	name := strings.TrimLeft(s, "-")
	if len(name) > 1 {
		return "--" + name
	}
	return "-" + name
}
