package libkite

import (
	"errors"
	"fmt"

	"github.com/project-starkite/starkite/libkite/permissions"
)

// Process exit codes used by the CLI and reported through ExitError.
const (
	ExitSuccess     = 0
	ExitScriptError = 1
	ExitFileError   = 2
	ExitSyntaxError = 3
	ExitConfigError = 4
	ExitTimeout     = 5
	ExitUsageError  = 6
	ExitInterrupt   = 130
	ExitTerminate   = 143
)

// ScriptError is a Starlark evaluation failure; Cause keeps the
// *starlark.EvalError (and whatever it wraps) reachable with errors.As.
type ScriptError struct {
	Message  string
	ExitCode int
	Cause    error
}

// NewScriptError builds a ScriptError.
func NewScriptError(msg string, code int, cause error) *ScriptError {
	return &ScriptError{Message: msg, ExitCode: code, Cause: cause}
}

func (e *ScriptError) Error() string {
	if e.Cause == nil {
		return e.Message
	}
	return e.Message + ": " + e.Cause.Error()
}

func (e *ScriptError) Unwrap() error { return e.Cause }

// ExitError reports exit(code) with a non-zero code. Its message is empty:
// the CLI exits with Code and prints nothing.
type ExitError struct{ Code int }

// NewExitError lets Go builtins request a script exit.
func NewExitError(code int) *ExitError { return &ExitError{Code: code} }

func (e *ExitError) Error() string { return "" }

// SkipError marks a skipped test.
type SkipError struct{ Reason string }

func (e *SkipError) Error() string {
	if e.Reason == "" {
		return "test skipped"
	}
	return "test skipped: " + e.Reason
}

// PermissionError is a permission denial (see package permissions).
type PermissionError = permissions.Error

// IsScriptError reports whether err wraps a *ScriptError.
func IsScriptError(err error) bool { var e *ScriptError; return errors.As(err, &e) }

// IsExitError reports whether err wraps an *ExitError.
func IsExitError(err error) bool { var e *ExitError; return errors.As(err, &e) }

// IsSkipError reports whether err wraps a *SkipError.
func IsSkipError(err error) bool { var e *SkipError; return errors.As(err, &e) }

// IsPermissionError reports whether err wraps a *PermissionError.
func IsPermissionError(err error) bool { var e *PermissionError; return errors.As(err, &e) }

// exitRequest is raised by the exit() builtin and unwinds the Starlark
// stack; Execute turns it into nil or *ExitError.
type exitRequest struct{ code int }

func (e *exitRequest) Error() string { return fmt.Sprintf("exit(%d)", e.code) }

func (e *exitRequest) Unwrap() error {
	if e.code == 0 {
		return nil
	}
	return &ExitError{Code: e.code}
}

// exitCode reports the code of an exit() request anywhere in err's chain.
func exitCode(err error) (int, bool) {
	var e *exitRequest
	if errors.As(err, &e) {
		return e.code, true
	}
	var x *ExitError
	if errors.As(err, &x) {
		return x.Code, true
	}
	return 0, false
}

// WrapError prefixes err with its builtin's name (`json.writer.write_file:
// open x: …`). Permission denials pass through unprefixed: their text is
// the same whichever builtin asked. nil stays nil.
func WrapError(prefix string, err error) error {
	if err == nil || IsPermissionError(err) {
		return err
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// IsExit reports whether err carries a script's exit() request — any
// code, 0 included — which must end the script, not be counted as the
// failure of one item (concur, retry, try_ wrappers).
func IsExit(err error) bool {
	_, ok := exitCode(err)
	return ok
}
