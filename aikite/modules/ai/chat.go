package ai

import (
	"fmt"
	"sync"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// Chat is ai.Chat (§9): per-chat defaults fixed at creation and a history
// guarded by mu. The lock is held only to read or append history, never
// across a provider request or a tool call, so threads may share a chat
// and tools may read its history.
type Chat struct {
	m   *module
	def opts // defaults; stream and schema are never set

	mu      sync.Mutex
	history []entry
}

var _ starlark.HasAttrs = (*Chat)(nil)

func (*Chat) String() string        { return "<ai.Chat>" }
func (*Chat) Type() string          { return "ai.Chat" }
func (*Chat) Freeze()               {}
func (*Chat) Truth() starlark.Bool  { return true }
func (*Chat) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: ai.Chat") }
func (*Chat) AttrNames() []string   { return []string{"history", "reset", "send", "try_send"} }

func (c *Chat) Attr(name string) (starlark.Value, error) {
	switch name {
	case "send":
		return starlark.NewBuiltin("ai.chat.send", c.sendBuiltin), nil
	case "try_send":
		return libkite.TryWrap("ai.chat.try_send", starlark.NewBuiltin("ai.chat.send", c.sendBuiltin)), nil
	case "reset":
		return starlark.NewBuiltin("ai.chat.reset", c.reset), nil
	case "history":
		c.mu.Lock()
		entries := append([]entry(nil), c.history...)
		c.mu.Unlock()
		return historyList(entries)
	}
	return nil, nil
}

// chat is ai.chat(**kw) -> ai.Chat (§9.1): keyword-only; the kwargs are
// the chat's defaults, validated now; no model is needed yet. Unchecked.
func (m *module) chat(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	name := fn.Name()
	if len(args) > 0 {
		return nil, fmt.Errorf("%s: takes only keyword arguments", name)
	}
	o, tools, maxIterations, history, err := bindOpts(name, kwargs, kindChat)
	if err != nil {
		return nil, err
	}
	if err := bindLoopOpts(name, &o, tools, maxIterations); err != nil {
		return nil, err
	}
	entries, err := parseHistory(history)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	return &Chat{m: m, def: o, history: entries}, nil
}

// reset is chat.reset(): clears history, keeps the defaults (§9.4).
func (c *Chat) reset(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 0 || len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: takes no arguments", fn.Name())
	}
	c.mu.Lock()
	c.history = nil
	c.mu.Unlock()
	return starlark.None, nil
}

// sendBuiltin is chat.send(message, **overrides) -> ai.Response |
// ai.ChatStream (§9.2).
func (c *Chat) sendBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	name := fn.Name()
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: expected 1 positional argument (message), got %d", name, len(args))
	}
	msg, ok := args[0].(starlark.String)
	if !ok {
		return nil, fmt.Errorf("%s: message must be a str, got %s", name, args[0].Type())
	}
	if msg == "" {
		return nil, fmt.Errorf("%s: message must not be empty", name)
	}
	over, tools, maxIterations, _, err := bindOpts(name, kwargs, kindSend)
	if err != nil {
		return nil, err
	}
	if err := bindLoopOpts(name, &over, tools, maxIterations); err != nil {
		return nil, err
	}
	v, err := c.send(thread, string(msg), over)
	return v, wrapErr(name, err)
}

// merge applies the §9.2 merge rules: a given per-call value wins over the
// chat default; tools= (even []) replaces the chat's tools;
// max_iterations is the first positive of (call, chat); on_tool_error is
// call → chat → feedback.
func (c *Chat) merge(over opts) opts {
	o, d := over, c.def
	if o.model == "" {
		o.model = d.model
	}
	if o.apiKey == "" {
		o.apiKey = d.apiKey
	}
	if o.baseURL == "" {
		o.baseURL = d.baseURL
	}
	if o.system == nil {
		o.system = d.system
	}
	if o.timeout == nil {
		o.timeout = d.timeout
	}
	s, ds := &o.sampling, d.sampling
	if s.Temperature == nil {
		s.Temperature = ds.Temperature
	}
	if s.TopP == nil {
		s.TopP = ds.TopP
	}
	if s.MaxTokens == nil {
		s.MaxTokens = ds.MaxTokens
	}
	if s.TopK == nil {
		s.TopK = ds.TopK
	}
	if !s.HasStop {
		s.Stop, s.HasStop = ds.Stop, ds.HasStop
	}
	if !o.hasTools {
		o.tools, o.hasTools = d.tools, d.hasTools
	}
	if o.maxIterations <= 0 {
		o.maxIterations = d.maxIterations
	}
	if o.onToolError == "" {
		o.onToolError = d.onToolError
	}
	return o
}

// send runs one turn with per-call overrides (none for ai.run_until).
// Errors are unprefixed. Validation and permission errors leave history
// alone; once the user message is appended, a failure appends an
// "[error: ...]" assistant entry.
func (c *Chat) send(thread *starlark.Thread, message string, over opts) (starlark.Value, error) {
	o := c.merge(over)
	k, err := c.m.prepare(thread, &o, true)
	if err != nil {
		return nil, err
	}
	user := entry{role: "user", content: message}
	if o.stream {
		// The user message joins history when iteration starts; a stream
		// never iterated leaves history as it was.
		messages := func() []Message {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.history = append(c.history, user)
			return wireMessages(c.history)
		}
		commit := func(text, errMsg string) {
			content := text
			switch {
			case errMsg != "" && text == "":
				content = "[error: " + errMsg + "]"
			case errMsg != "":
				content = text + " [error: " + errMsg + "]"
			}
			c.append(entry{role: "assistant", content: content})
		}
		return k.stream("ai.ChatStream", libkite.Context(thread), messages, commit), nil
	}
	c.mu.Lock()
	c.history = append(c.history, user)
	msgs := wireMessages(c.history)
	c.mu.Unlock()

	out, err := k.run(thread, msgs)
	var r *Response
	if err == nil {
		r, err = k.response(out)
	}
	if err != nil {
		if !libkite.IsExit(err) {
			c.append(entry{role: "assistant", content: "[error: " + err.Error() + "]"})
		}
		return nil, err
	}
	c.append(append(traceEntries(out.trace), entry{role: "assistant", content: out.text})...)
	return r, nil
}

// append adds entries to history under the lock.
func (c *Chat) append(entries ...entry) {
	c.mu.Lock()
	c.history = append(c.history, entries...)
	c.mu.Unlock()
}
