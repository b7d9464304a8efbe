// Package io is kite's io module (spec/io.md): interactive terminal input
// through confirm and prompt.
//
// Every call reads from one buffered reader shared by the whole process
// (kite: the reference made a fresh reader per call, so with piped stdin
// a first call could swallow the lines meant for later calls).
package io

import (
	"bufio"
	"context"
	"errors"
	goio "io"
	"os"
	"strings"

	"go.starlark.net/starlark"
	"golang.org/x/term"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the io module (try-enabled, no aliases).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "io",
		Doc: "Interactive terminal input: confirm and prompt",
		Try: true,
		Build: func() starlark.StringDict {
			return starlark.StringDict{
				"confirm": starlark.NewBuiltin("io.confirm", confirm),
				"prompt":  starlark.NewBuiltin("io.prompt", prompt),
			}
		},
	}
}

// The process's terminal, replaceable by tests (export_test.go).
var (
	stdin  goio.Reader = os.Stdin
	stdout goio.Writer = os.Stdout
	// terminal returns stdin's file descriptor and whether it is a
	// terminal (secret input needs one).
	terminal = func() (int, bool) {
		f, ok := stdin.(*os.File)
		if !ok {
			return -1, false
		}
		fd := int(f.Fd())
		return fd, term.IsTerminal(fd)
	}
	// readPassword reads a line from the terminal fd with echo off.
	readPassword = term.ReadPassword
)

// console serialises prompts: one call at a time writes its message and
// reads its answer. Reads happen on a helper goroutine so that a cancelled
// run stops waiting; a line read for a call that gave up is kept for the
// next call rather than lost.
var console = struct {
	turn    chan struct{}   // holds a token while a call is under way
	reader  *bufio.Reader   // shared buffered stdin, created on first use
	pending chan lineResult // read in flight (or finished) not yet consumed
}{turn: make(chan struct{}, 1)}

type lineResult struct {
	line string
	err  error
}

// acquire waits for the console; release gives it back.
func acquire(ctx context.Context) error {
	select {
	case console.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func release() { <-console.turn }

// readLine returns the next line of stdin including its "\n". Input that
// ends without a newline fails with io.EOF (the partial line is dropped).
// Call it holding the console.
func readLine(ctx context.Context) (string, error) {
	if console.pending == nil {
		if console.reader == nil {
			console.reader = bufio.NewReader(stdin)
		}
		r, ch := console.reader, make(chan lineResult, 1)
		console.pending = ch
		go func() {
			line, err := r.ReadString('\n')
			ch <- lineResult{line, err}
		}()
	}
	select {
	case res := <-console.pending:
		console.pending = nil
		if res.err != nil {
			return "", res.err
		}
		return res.line, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// ask writes msg to stdout and reads one line.
func ask(ctx context.Context, msg string) (string, error) {
	if err := acquire(ctx); err != nil {
		return "", err
	}
	defer release()
	if _, err := goio.WriteString(stdout, msg); err != nil {
		return "", err
	}
	return readLine(ctx)
}

// errNoTerminal is raised by prompt(secret=True) when stdin is not a TTY.
var errNoTerminal = errors.New("io.prompt: secret input requires a terminal, but stdin is not a TTY")

// askSecret writes msg, reads a line from the terminal with echo off and
// then writes the newline the user's Enter did not echo.
func askSecret(ctx context.Context, msg string) (string, error) {
	if err := acquire(ctx); err != nil {
		return "", err
	}
	defer release()
	fd, ok := terminal()
	if !ok {
		return "", errNoTerminal
	}
	if _, err := goio.WriteString(stdout, msg); err != nil {
		return "", err
	}
	b, err := readPassword(fd)
	goio.WriteString(stdout, "\n")
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// confirm(msg, default=False) → bool. perm io.prompt:confirm(msg).
func confirm(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var msg string
	def := false
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "msg", &msg, "default?", &def); err != nil {
		return nil, err
	}
	if err := libkite.Check(thread, "io", "prompt", "confirm", msg); err != nil {
		return nil, err
	}
	hint := " [y/N]: "
	if def {
		hint = " [Y/n]: "
	}
	line, err := ask(libkite.Context(thread), msg+hint)
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return starlark.True, nil
	case "n", "no":
		return starlark.False, nil
	}
	return starlark.Bool(def), nil
}

// prompt(msg, default="", secret=False) → str. perm io.prompt:prompt(msg).
func prompt(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var msg, def string
	secret := false
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "msg", &msg, "default?", &def, "secret?", &secret); err != nil {
		return nil, err
	}
	if err := libkite.Check(thread, "io", "prompt", "prompt", msg); err != nil {
		return nil, err
	}
	var line string
	var err error
	if secret {
		line, err = askSecret(libkite.Context(thread), msg)
	} else {
		line, err = ask(libkite.Context(thread), msg)
		line = strings.TrimSuffix(line, "\n")
		line = strings.TrimSuffix(line, "\r")
	}
	if err != nil {
		return nil, err
	}
	if line == "" && def != "" {
		line = def
	}
	return starlark.String(line), nil
}
