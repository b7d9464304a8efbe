package retry

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.starlark.net/starlark"
)

// RetryResult is the outcome of retry.do / retry.with_backoff: a Result
// (ok, value, error) plus attempts, elapsed (Go duration text) and the
// message of every failed attempt. Truthy iff OK; unhashable.
type RetryResult struct {
	OK       bool
	Value    starlark.Value // unwrapped success value; nil/None on failure
	Error    string         // "" on success
	Attempts int
	Elapsed  time.Duration
	Errors   []string

	once    sync.Once
	errList *starlark.List // the `errors` attribute, built once
}

var _ starlark.HasAttrs = (*RetryResult)(nil)

// NewRetryResult builds a RetryResult (the embedding API's constructor).
// A failure's value is None whatever value is given.
func NewRetryResult(ok bool, value starlark.Value, errMsg string, attempts int, elapsed time.Duration, errs []string) *RetryResult {
	if !ok {
		value = nil
	}
	return &RetryResult{OK: ok, Value: value, Error: errMsg, Attempts: attempts, Elapsed: elapsed, Errors: errs}
}

func (r *RetryResult) valueOrNone() starlark.Value {
	if r.Value == nil || !r.OK {
		return starlark.None
	}
	return r.Value
}

func (r *RetryResult) String() string {
	s := fmt.Sprintf("RetryResult(ok=%s, attempts=%d, elapsed=%s", starlark.Bool(r.OK), r.Attempts, strconv.Quote(r.Elapsed.String()))
	if !r.OK {
		s += ", error=" + strconv.Quote(r.Error)
	}
	return s + ")"
}

func (r *RetryResult) Type() string         { return "RetryResult" }
func (r *RetryResult) Truth() starlark.Bool { return starlark.Bool(r.OK) }
func (r *RetryResult) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: RetryResult")
}

func (r *RetryResult) Freeze() {
	r.valueOrNone().Freeze()
	r.errorsList().Freeze()
}

func (r *RetryResult) AttrNames() []string {
	return []string{"attempts", "elapsed", "error", "errors", "ok", "value"}
}

func (r *RetryResult) Attr(name string) (starlark.Value, error) {
	switch name {
	case "ok":
		return starlark.Bool(r.OK), nil
	case "value":
		return r.valueOrNone(), nil
	case "error":
		return starlark.String(r.Error), nil
	case "attempts":
		return starlark.MakeInt(r.Attempts), nil
	case "elapsed":
		return starlark.String(r.Elapsed.String()), nil
	case "errors":
		return r.errorsList(), nil
	}
	return nil, nil
}

// errorsList is the `errors` attribute: one list, so repeated reads see
// the same value (as with any attribute holding a list).
func (r *RetryResult) errorsList() *starlark.List {
	r.once.Do(func() {
		elems := make([]starlark.Value, len(r.Errors))
		for i, e := range r.Errors {
			elems[i] = starlark.String(e)
		}
		r.errList = starlark.NewList(elems)
	})
	return r.errList
}
