package ai

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/aikite/internal/tool"
	"github.com/project-starkite/starkite/libkite"
)

// call is one prepared generate or send: the resolved model, the provider
// client, the request template (everything but the messages) and the
// tool-loop settings. It is built by prepare after every check passed.
type call struct {
	model   string // the full provider/model string
	p       Provider
	req     Request // template: Model, System, Tools, ResponseFormat, Sampling
	tools   map[string]*tool.Tool
	maxIter int
	halt    bool
	timeout time.Duration
	schema  bool // structured output requested (§6)
}

// prepare is the request-building path shared by ai.generate and
// chat.send, from model resolution on: model (call → ai.config default) →
// parse → [send only: stream with schema / with tools] → permission
// ("ai", "generate", "generate", model) → schema conversion → provider
// availability. Errors are unprefixed, except that a permission denial is
// returned as it is.
func (m *module) prepare(thread *starlark.Thread, o *opts, sendChecks bool) (*call, error) {
	cfg := m.snapshot()
	model := o.model
	if model == "" {
		model = cfg.defaultModel
	}
	if model == "" {
		return nil, errors.New(`model is required — pass model="provider/name" or set ai.config(default_model=...)`)
	}
	info, modelID, err := parseModel(model)
	if err != nil {
		return nil, err
	}
	if sendChecks {
		if o.stream && o.schema != nil {
			return nil, errors.New("stream=True and schema= are mutually exclusive")
		}
		if o.stream && len(o.tools) > 0 {
			return nil, errors.New("stream=True with tools is not supported — pass tools=[] to stream from a chat that has tools")
		}
	}
	if err := libkite.Check(thread, "ai", "generate", "generate", model); err != nil {
		return nil, err
	}
	c := &call{
		model:   model,
		req:     Request{Model: modelID, Sampling: o.sampling},
		halt:    o.onToolError == "halt",
		maxIter: o.maxIterations,
		timeout: cfg.timeout,
	}
	if o.system != nil {
		c.req.System = *o.system
	}
	if o.timeout != nil {
		c.timeout = *o.timeout
	}
	if c.maxIter <= 0 {
		c.maxIter = defaultMaxIterations
	}
	if o.schema != nil {
		d, ok := o.schema.(*starlark.Dict)
		if !ok {
			return nil, fmt.Errorf("schema must be a dict (JSON Schema), got %s", o.schema.Type())
		}
		schema, err := tool.SchemaFromDict(d)
		if err != nil {
			return nil, fmt.Errorf("schema: %v", err)
		}
		c.schema = true
		c.req.ResponseFormat = &ResponseFormat{Name: "output", Schema: schema}
		c.req.System = withSchemaInstruction(c.req.System, schema)
	}
	if len(o.tools) > 0 {
		c.tools = make(map[string]*tool.Tool, len(o.tools))
		for _, t := range o.tools {
			c.tools[t.Name] = t
			c.req.Tools = append(c.req.Tools, ToolSpec{Name: t.Name, Description: t.Description, Parameters: t.SchemaOrEmpty()})
		}
	}
	ep := resolve(info, cfg, o.apiKey, o.baseURL)
	if c.p, err = m.client(ep, o.apiKey != "" || o.baseURL != ""); err != nil {
		return nil, err
	}
	return c, nil
}

// toolEvent is one tool invocation of a turn (§5.5 "turn trace"): the
// tool's name, its decoded arguments and its output or error. Chat
// history records it (§9.3).
type toolEvent struct {
	name   string
	input  any // plain data; nil when the arguments did not decode
	output any // plain data
	errMsg string
	failed bool
}

// outcome is what a finished tool loop produced.
type outcome struct {
	text  string
	usage Usage
	trace []toolEvent
}

// run is the §5.5 loop: send, sum usage, run requested tools sequentially
// on the calling thread, feed their replies back, until the model answers
// without tool calls or max_iterations rounds have run. msgs is the
// conversation so far (history and the new user message).
func (c *call) run(thread *starlark.Thread, msgs []Message) (*outcome, error) {
	out := &outcome{}
	msgs = append([]Message(nil), msgs...)
	for round := 0; ; round++ {
		req := c.req
		req.Messages = msgs
		ctx, cancel := withTimeout(libkite.Context(thread), c.timeout)
		reply, err := c.p.Complete(ctx, &req)
		cancel()
		if err != nil {
			return nil, err
		}
		out.usage.input += reply.InputTokens
		out.usage.output += reply.OutputTokens
		if len(reply.ToolCalls) == 0 {
			out.text = reply.Text
			return out, nil
		}
		if round >= c.maxIter {
			return nil, fmt.Errorf("the model kept requesting tools after max_iterations=%d tool rounds", c.maxIter)
		}
		calls := make([]ToolCall, len(reply.ToolCalls))
		copy(calls, reply.ToolCalls)
		for i := range calls {
			if calls[i].ID == "" { // some servers omit ids; the reply must still name its call
				calls[i].ID = fmt.Sprintf("call_%d_%d", round, i)
			}
		}
		msgs = append(msgs, Message{Role: "assistant", Content: reply.Text, ToolCalls: calls})
		for _, tc := range calls {
			ev, text, isErr, err := c.invoke(thread, tc)
			if err != nil {
				return nil, err
			}
			out.trace = append(out.trace, ev)
			msgs = append(msgs, Message{Role: "tool", ToolCallID: tc.ID, Content: text, IsError: isErr})
		}
	}
}

// invoke runs one requested tool call (§5.5 step 5) and returns its trace
// event and reply text. A failure (unknown tool, undecodable arguments,
// the tool raising or reporting an error) is fed back as {"error": ...}
// unless on_tool_error="halt", where it ends the call; exit() and a
// cancelled run always end it.
func (c *call) invoke(thread *starlark.Thread, tc ToolCall) (ev toolEvent, text string, isErr bool, err error) {
	ev.name = tc.Name
	fail := func(cause error) (toolEvent, string, bool, error) {
		if c.halt {
			if t := c.tools[tc.Name]; t != nil {
				cause = fmt.Errorf("tool %q: %w", tc.Name, cause)
			}
			return ev, "", false, cause
		}
		ev.failed, ev.errMsg = true, cause.Error()
		return ev, tool.ErrorJSON(ev.errMsg), true, nil
	}
	args, derr := tool.DecodeArgs(tc.Arguments)
	if derr == nil {
		ev.input = tool.Normalize(args) // recorded even when the call fails
	}
	t, ok := c.tools[tc.Name]
	if !ok {
		return fail(fmt.Errorf("unknown tool %q", tc.Name))
	}
	if derr != nil {
		return fail(derr)
	}
	result, cerr := t.Call(thread, args)
	if cerr != nil {
		if libkite.IsExit(cerr) || libkite.Context(thread).Err() != nil {
			return ev, "", false, cerr
		}
		return fail(cerr)
	}
	text, isErr = tool.ResultText(result)
	if isErr { // a Texter (mcp.Result) reporting a failed remote call
		if c.halt {
			return ev, "", false, fmt.Errorf("tool %q: %s", tc.Name, text)
		}
		ev.failed, ev.errMsg = true, text
		return ev, text, true, nil
	}
	if _, ok := result.(tool.Texter); ok {
		ev.output = text
	} else {
		ev.output = tool.PlainData(result)
	}
	return ev, text, false, nil
}

// response turns a finished loop into ai.Response, parsing structured
// output when a schema was given (§6).
func (c *call) response(out *outcome) (*Response, error) {
	r := &Response{text: out.text, model: c.model, usage: out.usage, data: starlark.None}
	if c.schema {
		data, err := parseStructured(out.text)
		if err != nil {
			return nil, err
		}
		r.data = data
	}
	return r, nil
}

// stream returns the lazily started stream of this call (§7): messages
// builds the conversation when iteration begins; commit (chat streams)
// records the outcome.
func (c *call) stream(typ string, base context.Context, messages func() []Message, commit func(text, errMsg string)) *Stream {
	return &Stream{
		typ:     typ,
		model:   c.model,
		base:    base,
		timeout: c.timeout,
		commit:  commit,
		start: func(ctx context.Context) (StreamReader, error) {
			req := c.req
			req.Messages = messages()
			req.Stream = true
			return c.p.Stream(ctx, &req)
		},
	}
}
