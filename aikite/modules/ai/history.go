package ai

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/aikite/internal/tool"
	"github.com/project-starkite/starkite/libkite/startype"
)

// entry is one chat history entry (§9.3). Empty strings and nil data are
// absent fields.
type entry struct {
	role       string // "user", "assistant", "tool"
	content    string
	toolName   string
	toolInput  any // plain data
	toolOutput any // plain data
	toolError  string
}

// toDict is the entry as chat.history shows it, absent fields omitted.
func (e entry) toDict() (*starlark.Dict, error) {
	d := starlark.NewDict(4)
	set := func(k string, v starlark.Value) { _ = d.SetKey(starlark.String(k), v) }
	set("role", starlark.String(e.role))
	if e.content != "" {
		set("content", starlark.String(e.content))
	}
	if e.toolName != "" {
		set("tool_name", starlark.String(e.toolName))
	}
	for _, f := range []struct {
		key string
		v   any
	}{{"tool_input", e.toolInput}, {"tool_output", e.toolOutput}} {
		if f.v == nil {
			continue
		}
		// Stored data is already plain (no json.Number): convert without
		// tool.ToStarlark, which normalises maps in place and so would
		// write to entries other threads may be reading.
		v, err := startype.ToStarlark(f.v)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", f.key, err)
		}
		set(f.key, v)
	}
	if e.toolError != "" {
		set("tool_error", starlark.String(e.toolError))
	}
	return d, nil
}

// historyList renders entries as a new Starlark list of dicts.
func historyList(entries []entry) (*starlark.List, error) {
	out := make([]starlark.Value, 0, len(entries))
	for i, e := range entries {
		d, err := e.toDict()
		if err != nil {
			return nil, fmt.Errorf("history entry %d: %v", i, err)
		}
		out = append(out, d)
	}
	return starlark.NewList(out), nil
}

// parseHistory validates and converts ai.chat(history=...) (§9.3). None
// (or absent) is no history. Errors read "history: entry <i>: <reason>".
func parseHistory(v starlark.Value) ([]entry, error) {
	if v == nil || v == starlark.None {
		return nil, nil
	}
	it, ok := v.(starlark.Iterable)
	if !ok {
		return nil, fmt.Errorf("history: must be a list of dicts, got %s", v.Type())
	}
	if _, isStr := v.(starlark.String); isStr {
		return nil, fmt.Errorf("history: must be a list of dicts, got %s", v.Type())
	}
	iter := it.Iterate()
	defer iter.Done()
	var out []entry
	var x starlark.Value
	for i := 0; iter.Next(&x); i++ {
		e, err := parseEntry(x)
		if err != nil {
			return nil, fmt.Errorf("history: entry %d: %v", i, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func parseEntry(x starlark.Value) (entry, error) {
	var e entry
	d, ok := x.(*starlark.Dict)
	if !ok {
		return e, fmt.Errorf("must be a dict, got %s", x.Type())
	}
	get := func(k string) starlark.Value {
		v, found, _ := d.Get(starlark.String(k))
		if !found || v == starlark.None {
			return nil
		}
		return v
	}
	str := func(k string) (string, error) {
		v := get(k)
		if v == nil {
			return "", nil
		}
		s, ok := v.(starlark.String)
		if !ok {
			return "", fmt.Errorf("%s must be a str, got %s", k, v.Type())
		}
		return string(s), nil
	}
	role := get("role")
	if role == nil {
		return e, fmt.Errorf("role is required")
	}
	r, ok := role.(starlark.String)
	if !ok {
		return e, fmt.Errorf("role must be a str, got %s", role.Type())
	}
	switch e.role = string(r); e.role {
	case "user", "assistant", "tool":
	default:
		return e, fmt.Errorf(`role must be "user", "assistant" or "tool", got %q`, e.role)
	}
	var err error
	if e.content, err = str("content"); err != nil {
		return e, err
	}
	if e.toolName, err = str("tool_name"); err != nil {
		return e, err
	}
	if e.toolError, err = str("tool_error"); err != nil {
		return e, err
	}
	if e.role == "tool" && e.toolName == "" {
		return e, fmt.Errorf("tool entries require tool_name")
	}
	if e.toolInput, err = plainField(get("tool_input"), "tool_input"); err != nil {
		return e, err
	}
	if e.toolOutput, err = plainField(get("tool_output"), "tool_output"); err != nil {
		return e, err
	}
	return e, nil
}

// plainField converts a tool_input/tool_output value to plain data.
func plainField(v starlark.Value, key string) (any, error) {
	if v == nil {
		return nil, nil
	}
	d, err := (startype.Options{Data: true}).FromStarlark(v)
	if err != nil {
		return nil, fmt.Errorf("%s must be plain data: %v", key, err)
	}
	return d, nil
}

// traceEntries are the history entries of a turn's tool invocations: an
// assistant tool-request entry then the tool entry, for each (§9.2).
func traceEntries(trace []toolEvent) []entry {
	out := make([]entry, 0, 2*len(trace))
	for _, ev := range trace {
		out = append(out, entry{role: "assistant", toolName: ev.name, toolInput: ev.input})
		t := entry{role: "tool", toolName: ev.name}
		if ev.failed {
			t.toolError = ev.errMsg
			if t.toolError == "" {
				t.toolError = "error"
			}
		} else {
			t.toolOutput = ev.output
		}
		out = append(out, t)
	}
	return out
}

// wireMessages maps history to provider messages (§9.3): an assistant
// tool-request entry becomes an assistant turn with one tool call whose
// id is synthesised from the entry's index (call_<i>); a tool entry
// answers the nearest preceding unanswered request of the same tool name.
func wireMessages(entries []entry) []Message {
	type pending struct {
		name, id string
		done     bool
	}
	var reqs []*pending
	out := make([]Message, 0, len(entries))
	for i, e := range entries {
		switch {
		case e.role == "assistant" && e.toolName != "":
			id := fmt.Sprintf("call_%d", i)
			reqs = append(reqs, &pending{name: e.toolName, id: id})
			args := "{}"
			if e.toolInput != nil {
				args = tool.JSON(e.toolInput)
			}
			out = append(out, Message{Role: "assistant", Content: e.content, ToolCalls: []ToolCall{{ID: id, Name: e.toolName, Arguments: args}}})
		case e.role == "tool":
			id := fmt.Sprintf("call_%d", i) // no request to answer: an orphan keeps its own id
			for j := len(reqs) - 1; j >= 0; j-- {
				if r := reqs[j]; !r.done && r.name == e.toolName {
					r.done, id = true, r.id
					break
				}
			}
			m := Message{Role: "tool", ToolCallID: id}
			if e.toolError != "" {
				m.Content, m.IsError = tool.ErrorJSON(e.toolError), true
			} else if s, ok := e.toolOutput.(string); ok {
				m.Content = s
			} else {
				m.Content = tool.JSON(e.toolOutput)
			}
			out = append(out, m)
		default:
			out = append(out, Message{Role: e.role, Content: e.content})
		}
	}
	return out
}
