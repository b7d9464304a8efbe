package libkite

import (
	"fmt"
	"strconv"

	"go.starlark.net/starlark"
)

// Result is the value of every try_ call: ok/value/error, truthy when ok.
type Result struct {
	ok    bool
	value starlark.Value
	err   string
}

var (
	_ starlark.HasAttrs = (*Result)(nil)
)

// ResultOK wraps a successful value (nil becomes None).
func ResultOK(v starlark.Value) *Result {
	if v == nil {
		v = starlark.None
	}
	return &Result{ok: true, value: v}
}

// ResultErr wraps a failure message.
func ResultErr(msg string) *Result { return &Result{value: starlark.None, err: msg} }

// OK reports success.
func (r *Result) OK() bool { return r.ok }

// Value is the success value (None on failure).
func (r *Result) Value() starlark.Value { return r.value }

// ErrorString is the failure message ("" on success).
func (r *Result) ErrorString() string { return r.err }

func (r *Result) String() string {
	if r.ok {
		return "Result(ok=True, value=" + r.value.String() + ")"
	}
	return "Result(ok=False, error=" + strconv.Quote(r.err) + ")"
}
func (r *Result) Type() string          { return "Result" }
func (r *Result) Freeze()               { r.value.Freeze() }
func (r *Result) Truth() starlark.Bool  { return starlark.Bool(r.ok) }
func (r *Result) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: Result") }
func (r *Result) AttrNames() []string   { return []string{"error", "ok", "value"} }

func (r *Result) Attr(name string) (starlark.Value, error) {
	switch name {
	case "ok":
		return starlark.Bool(r.ok), nil
	case "value":
		return r.value, nil
	case "error":
		return starlark.String(r.err), nil
	}
	return nil, nil
}

// resultBuiltin is the script-level constructor Result(ok, value=None, error="").
func resultBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ok starlark.Value
	var value starlark.Value = starlark.None
	var msg string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "ok", &ok, "value?", &value, "error?", &msg); err != nil {
		return nil, err
	}
	okb, isBool := ok.(starlark.Bool)
	if !isBool {
		return nil, fmt.Errorf(`Result: for parameter "ok": got %s, want bool`, ok.Type())
	}
	if okb {
		return ResultOK(value), nil
	}
	return ResultErr(msg), nil
}

// TryWrap returns a builtin named name that calls fn and never raises:
// success → Result(ok=True, value=...), any error → Result(ok=False, error=...).
func TryWrap(name string, fn *starlark.Builtin) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		v, err := fn.CallInternal(thread, args, kwargs)
		if err != nil {
			if isUnrecoverable(thread, err) {
				return nil, err
			}
			return ResultErr(err.Error()), nil
		}
		return ResultOK(v), nil
	})
}

// isUnrecoverable reports errors a try_ must not swallow: exit() requests
// and cancellation of the thread's context.
func isUnrecoverable(thread *starlark.Thread, err error) bool {
	if _, ok := exitCode(err); ok {
		return true
	}
	if st := stateOf(thread); st != nil && st.ctx != nil && st.ctx.Err() != nil {
		return true
	}
	return false
}
