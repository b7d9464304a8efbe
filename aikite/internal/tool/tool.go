// Package tool is what the ai and mcp modules share about tools: a tool
// is a named callable with a description and a JSON Schema for its
// argument object. ai.tool builds one explicitly, a def-function becomes
// one by inference (ai spec §5.2), an mcp.Tool from a connected client
// supplies its own (ai spec §5.3 Kite extension). The ai tool loop and
// mcp.serve both invoke tools through Call with decoded JSON arguments and
// turn results into text with ResultText.
package tool

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite/startype"
)

// Tool is one tool: its advertised metadata and the callable behind it.
type Tool struct {
	Name        string
	Description string
	// Schema is the JSON Schema of the argument object; nil means
	// {"type": "object"} (no declared parameters).
	Schema map[string]any
	// Fn is called with the decoded arguments as keyword arguments.
	Fn starlark.Callable
}

// Source is implemented by Starlark values other than ai.Tool and
// def-functions that may appear in a tools= list (mcp.Tool).
type Source interface {
	starlark.Value
	KiteTool() *Tool
}

// Texter is implemented by tool results that carry their own reply text
// (mcp.Result): ResultText uses it instead of JSON-encoding the value.
type Texter interface {
	ToolText() (text string, isError bool)
}

// SchemaOrEmpty is the tool's schema, {"type": "object"} when unset.
func (t *Tool) SchemaOrEmpty() map[string]any {
	if t.Schema == nil {
		return map[string]any{"type": "object"}
	}
	return t.Schema
}

// Call invokes the tool on thread with args as keyword arguments (sorted
// by name so calls are deterministic).
func (t *Tool) Call(thread *starlark.Thread, args map[string]any) (starlark.Value, error) {
	kwargs, err := Kwargs(args)
	if err != nil {
		return nil, err
	}
	return starlark.Call(thread, t.Fn, nil, kwargs)
}

// Kwargs converts decoded JSON arguments to Starlark keyword arguments.
func Kwargs(args map[string]any) ([]starlark.Tuple, error) {
	if len(args) == 0 {
		return nil, nil
	}
	return startype.Kwargs(Normalize(args).(map[string]any))
}

// DecodeArgs decodes a JSON arguments text into an object. Empty text (or
// only whitespace) is an empty object; anything but an object is an
// error. Numbers keep their literal so integral ones become Starlark ints.
func DecodeArgs(text string) (map[string]any, error) {
	if strings.TrimSpace(text) == "" {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid tool arguments: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("invalid tool arguments: trailing data after the JSON object")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("invalid tool arguments: expected a JSON object, got %s", jsonKind(v))
	}
	return obj, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// Normalize turns decoded JSON data (json.Number leaves allowed, as
// DecodeArgs returns them) into plain data: integral numbers in range
// become int64 (the Kite rule "integral numbers → int"), other numbers
// float64. It modifies maps and slices in place and returns the result.
func Normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	case map[string]any:
		for k, e := range x {
			x[k] = Normalize(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = Normalize(e)
		}
		return x
	}
	return v
}

// ToStarlark converts decoded JSON data (json.Number leaves allowed) to a
// Starlark value: object→dict, array→list, integral numbers → int.
func ToStarlark(v any) (starlark.Value, error) {
	return startype.ToStarlark(Normalize(v))
}

// PlainData converts a Starlark value to plain Go data for JSON; a value
// that has no data form becomes its str().
func PlainData(v starlark.Value) any {
	d, err := (startype.Options{Data: true}).FromStarlark(v)
	if err != nil {
		if s, ok := v.(starlark.String); ok {
			return string(s)
		}
		return v.String()
	}
	return d
}

// ResultText is a tool result as reply text: a string verbatim, a Texter's
// own text, anything else the JSON encoding of its plain data. isError is
// set only by a Texter reporting a failed remote call.
func ResultText(v starlark.Value) (text string, isError bool) {
	switch x := v.(type) {
	case starlark.String:
		return string(x), false
	case Texter:
		return x.ToolText()
	}
	return JSON(PlainData(v)), false
}

// JSON encodes plain data compactly, keys sorted, without HTML escaping.
func JSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// ErrorJSON is the feedback text for a failed tool call: {"error": msg}.
func ErrorJSON(msg string) string { return JSON(map[string]any{"error": msg}) }
