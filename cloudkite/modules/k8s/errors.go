package k8s

import (
	"errors"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/project-starkite/starkite/libkite"
)

// Error is an operation's failure: `k8s.<op>: <cause>` (spec §1.1). When
// the cause carries an API status its reason is appended in parentheses
// (`k8s.get: configmaps "x" not found (NotFound)`), so scripts can test
// it in a try_ result's error text; Go callers reach the API error with
// errors.As or apierrors.IsNotFound (which unwrap).
type Error struct {
	Op  string // "k8s.get"
	Err error
}

func (e *Error) Error() string {
	msg := e.Op + ": " + e.Err.Error()
	if r := Reason(e.Err); r != "" && !strings.HasSuffix(msg, "("+string(r)+")") {
		msg += " (" + string(r) + ")"
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Reason is the API status reason anywhere in err's chain ("" if none).
func Reason(err error) metav1.StatusReason {
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		return ""
	}
	return st.Status().Reason
}

// defaultClientError is a failure to build the default client; its text
// (`k8s: failed to create default client: …`) is not prefixed again.
type defaultClientError struct{ err error }

func (e *defaultClientError) Error() string {
	return "k8s: failed to create default client: " + e.err.Error()
}
func (e *defaultClientError) Unwrap() error { return e.err }

// plainError is an error shown as it is (argument binding).
type plainError struct{ err error }

func (e *plainError) Error() string { return e.err.Error() }
func (e *plainError) Unwrap() error { return e.err }

// wrapOp prefixes err with op. Permission denials and default-client
// failures and binding errors pass through as they are; nil stays nil.
func wrapOp(op string, err error) error {
	var dce *defaultClientError
	var pe *plainError
	var ke *Error
	switch {
	case err == nil, libkite.IsPermissionError(err), errors.As(err, &dce), errors.As(err, &pe):
		return err
	case errors.As(err, &ke) && ke.Op == op:
		return err
	}
	return &Error{Op: op, Err: err}
}
