package ai

import (
	"fmt"

	"go.starlark.net/starlark"
)

// Usage is ai.Usage: token counts (§8).
type Usage struct{ input, output int }

var _ starlark.HasAttrs = Usage{}

func (u Usage) String() string {
	return fmt.Sprintf("ai.Usage(input=%d, output=%d)", u.input, u.output)
}
func (Usage) Type() string           { return "ai.Usage" }
func (Usage) Freeze()                {}
func (u Usage) Truth() starlark.Bool { return u.input > 0 || u.output > 0 }
func (Usage) Hash() (uint32, error)  { return 0, fmt.Errorf("unhashable type: ai.Usage") }
func (Usage) AttrNames() []string    { return []string{"input", "output", "total"} }
func (u Usage) Attr(name string) (starlark.Value, error) {
	switch name {
	case "input":
		return starlark.MakeInt(u.input), nil
	case "output":
		return starlark.MakeInt(u.output), nil
	case "total":
		return starlark.MakeInt(u.input + u.output), nil
	}
	return nil, nil
}

// Response is ai.Response (§8): str() is the text, truthy iff text is
// non-empty, unhashable.
type Response struct {
	text  string
	model string // the requested provider/model string
	usage Usage
	data  starlark.Value
}

var _ starlark.HasAttrs = (*Response)(nil)

func (r *Response) String() string       { return r.text }
func (*Response) Type() string           { return "ai.Response" }
func (*Response) Freeze()                {}
func (r *Response) Truth() starlark.Bool { return r.text != "" }
func (*Response) Hash() (uint32, error)  { return 0, fmt.Errorf("unhashable type: ai.Response") }
func (*Response) AttrNames() []string    { return []string{"data", "model", "text", "usage"} }
func (r *Response) Attr(name string) (starlark.Value, error) {
	switch name {
	case "text":
		return starlark.String(r.text), nil
	case "model":
		return starlark.String(r.model), nil
	case "usage":
		return r.usage, nil
	case "data":
		return r.data, nil
	}
	return nil, nil
}
