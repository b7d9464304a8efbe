package os

import (
	"fmt"
	"strconv"

	"go.starlark.net/starlark"
)

// ExecResult is what try_exec returns: the captured streams and status of
// one command. Immutable; truthy when the command succeeded.
type ExecResult struct {
	Stdout string
	Stderr string
	Code   int    // exit status; -1 when the process did not start, timed out or died by a signal
	OK     bool   // Code == 0 and no start/timeout error
	Error  string // start/timeout message, else trimmed stderr when Code != 0, else ""
}

var _ starlark.HasAttrs = (*ExecResult)(nil)

func (r *ExecResult) String() string {
	if r.OK {
		return fmt.Sprintf("ExecResult(ok=True, code=%d)", r.Code)
	}
	return fmt.Sprintf("ExecResult(ok=False, code=%d, error=%s)", r.Code, strconv.Quote(r.Error))
}

func (r *ExecResult) Type() string          { return "ExecResult" }
func (r *ExecResult) Freeze()               {}
func (r *ExecResult) Truth() starlark.Bool  { return starlark.Bool(r.OK) }
func (r *ExecResult) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: ExecResult") }
func (r *ExecResult) AttrNames() []string {
	return []string{"code", "error", "ok", "stderr", "stdout"}
}

func (r *ExecResult) Attr(name string) (starlark.Value, error) {
	switch name {
	case "stdout":
		return starlark.String(r.Stdout), nil
	case "stderr":
		return starlark.String(r.Stderr), nil
	case "code":
		return starlark.MakeInt(r.Code), nil
	case "ok":
		return starlark.Bool(r.OK), nil
	case "error":
		return starlark.String(r.Error), nil
	}
	return nil, nil // "ExecResult has no .x field or method"
}
