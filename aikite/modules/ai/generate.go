package ai

import (
	"errors"
	"fmt"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/aikite/internal/tool"
	"github.com/project-starkite/starkite/libkite"
)

// opts are the options of one call as bound from keyword arguments:
// ai.generate's, a chat's defaults (§9.1) or a send's overrides (§9.2).
// Zero values, nil pointers and false flags mean "not given".
type opts struct {
	model, apiKey, baseURL string // "" = unset
	system                 *string
	sampling               Sampling
	timeout                *time.Duration
	tools                  []*tool.Tool
	hasTools               bool // tools= was given (even [])
	maxIterations          int  // 0 = unset
	onToolError            string
	stream                 bool
	schema                 starlark.Value // nil = absent
}

// callKind selects which keyword arguments a builtin accepts.
type callKind int

const (
	kindGenerate callKind = iota // ai.generate: + stream, schema, timeout
	kindChat                     // ai.chat: + history, timeout
	kindSend                     // chat.send: + stream, schema, timeout
)

// defaultMaxIterations caps tool rounds when no positive max_iterations
// is given (§4, §9.2).
const defaultMaxIterations = 10

// bindOpts binds the keyword arguments of a generate/chat/send call and
// converts their types. Kite extension: timeout= (a Go duration)
// overrides the ai.config timeout. For kindChat it also returns the raw
// history= value (nil when absent or None). Cross-argument checks (stream
// with schema/tools, tools coercion, on_tool_error, max_iterations) are
// left to the caller, which knows its validation order.
func bindOpts(name string, kwargs []starlark.Tuple, kind callKind) (o opts, tools, maxIterations, history starlark.Value, err error) {
	var (
		model, system, apiKey, baseURL, timeout  string
		temperature, topP, maxTokens, topK, stop starlark.Value
	)
	pairs := []any{"*", nil,
		"model?", &model, "system?", &system,
		"temperature??", &temperature, "max_tokens??", &maxTokens, "top_p??", &topP, "top_k??", &topK, "stop??", &stop,
		"api_key?", &apiKey, "base_url?", &baseURL, "timeout?", &timeout,
		"tools??", &tools, "max_iterations??", &maxIterations, "on_tool_error?", &o.onToolError}
	switch kind {
	case kindChat:
		pairs = append(pairs, "history??", &history)
	default:
		pairs = append(pairs, "stream?", &o.stream, "schema??", &o.schema)
	}
	if err = libkite.UnpackArgs(name, nil, kwargs, pairs...); err != nil {
		return
	}
	o.model, o.apiKey, o.baseURL = model, apiKey, baseURL
	if hasKeyword(kwargs, "system") {
		o.system = &system
	}
	if o.sampling, err = bindSampling(name, temperature, maxTokens, topP, topK, stop); err != nil {
		return
	}
	if timeout != "" {
		d, perr := time.ParseDuration(timeout)
		if perr != nil || d < 0 {
			err = fmt.Errorf("%s: invalid timeout %q: want a non-negative Go duration such as \"30s\"", name, timeout)
			return
		}
		o.timeout = &d
	}
	return
}

// bindSampling converts the §2.3 sampling kwargs (nil = absent).
func bindSampling(name string, temperature, maxTokens, topP, topK, stop starlark.Value) (s Sampling, err error) {
	if s.Temperature, err = floatArg(name, "temperature", temperature); err != nil {
		return
	}
	if s.TopP, err = floatArg(name, "top_p", topP); err != nil {
		return
	}
	if s.MaxTokens, err = intArg(name, "max_tokens", maxTokens); err != nil {
		return
	}
	if s.TopK, err = intArg(name, "top_k", topK); err != nil {
		return
	}
	if stop != nil {
		if s.Stop, err = stringList(name, "stop", stop); err != nil {
			return
		}
		s.HasStop = true
	}
	return
}

// bindLoopOpts coerces tools= and checks on_tool_error and max_iterations
// (in that order, §4), filling o.
func bindLoopOpts(name string, o *opts, tools, maxIterations starlark.Value) error {
	if tools != nil {
		ts, err := coerceTools(tools)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		o.tools, o.hasTools = ts, true
	}
	switch o.onToolError {
	case "", "feedback", "halt":
	default:
		return fmt.Errorf("%s: on_tool_error must be \"feedback\" or \"halt\", got %q", name, o.onToolError)
	}
	mi, err := intArg(name, "max_iterations", maxIterations)
	if err != nil {
		return err
	}
	if mi != nil {
		if *mi < 0 {
			return fmt.Errorf("%s: max_iterations must not be negative, got %d", name, *mi)
		}
		o.maxIterations = *mi
	}
	return nil
}

// coerceTools is tool.Coerce (§5.3) plus a check that names are unique:
// providers reject two functions of the same name.
func coerceTools(v starlark.Value) ([]*tool.Tool, error) {
	ts, err := tool.Coerce(v)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(ts))
	for i, t := range ts {
		if seen[t.Name] {
			return nil, fmt.Errorf("tools[%d]: duplicate tool name %q", i, t.Name)
		}
		seen[t.Name] = true
	}
	if ts == nil {
		ts = []*tool.Tool{}
	}
	return ts, nil
}

// generate is ai.generate(prompt, **kw) -> ai.Response | ai.Stream (§4).
// Validation happens in the §4 order; the permission check
// ("ai", "generate", "generate", <model string>) comes before any I/O.
func (m *module) generate(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	name := fn.Name()
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: expected 1 positional argument (prompt), got %d", name, len(args))
	}
	prompt, ok := args[0].(starlark.String)
	if !ok {
		return nil, fmt.Errorf("%s: prompt must be a str, got %s", name, args[0].Type())
	}
	o, tools, maxIterations, _, err := bindOpts(name, kwargs, kindGenerate)
	if err != nil {
		return nil, err
	}
	if o.stream && o.schema != nil {
		return nil, fmt.Errorf("%s: stream=True and schema= are mutually exclusive", name)
	}
	if o.stream && tools != nil {
		return nil, fmt.Errorf("%s: stream=True with tools= is not supported", name)
	}
	if o.schema != nil {
		if _, ok := o.schema.(*starlark.Dict); !ok {
			return nil, fmt.Errorf("%s: schema must be a dict (JSON Schema), got %s", name, o.schema.Type())
		}
	}
	if err := bindLoopOpts(name, &o, tools, maxIterations); err != nil {
		return nil, err
	}
	c, err := m.prepare(thread, &o, false)
	if err != nil {
		return nil, wrapErr(name, err)
	}
	user := []Message{{Role: "user", Content: string(prompt)}}
	if o.stream {
		return c.stream("ai.Stream", libkite.Context(thread), func() []Message { return user }, nil), nil
	}
	out, err := c.run(thread, user)
	if err != nil {
		return nil, wrapErr(name, err)
	}
	r, err := c.response(out)
	if err != nil {
		return nil, wrapErr(name, err)
	}
	return r, nil
}

// wrapErr prefixes err with the builtin's name. A permission denial and an
// exit() request pass through as they are (their text is the same
// whichever builtin asked; exit must unwind the script).
func wrapErr(name string, err error) error {
	if err == nil || libkite.IsExit(err) {
		return err
	}
	var pe *libkite.PermissionError
	if errors.As(err, &pe) && err == error(pe) {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}

// hasKeyword reports whether kwargs names name.
func hasKeyword(kwargs []starlark.Tuple, name string) bool {
	for _, kv := range kwargs {
		if string(kv[0].(starlark.String)) == name {
			return true
		}
	}
	return false
}

// floatArg converts an optional number kwarg (int or float); nil = absent.
func floatArg(fnname, what string, v starlark.Value) (*float64, error) {
	if v == nil {
		return nil, nil
	}
	f, ok := starlark.AsFloat(v)
	if !ok {
		return nil, fmt.Errorf("%s: %s must be a number, got %s", fnname, what, v.Type())
	}
	return &f, nil
}

// intArg converts an optional int kwarg; nil = absent.
func intArg(fnname, what string, v starlark.Value) (*int, error) {
	if v == nil {
		return nil, nil
	}
	i, ok := v.(starlark.Int)
	if !ok {
		return nil, fmt.Errorf("%s: %s must be an int, got %s", fnname, what, v.Type())
	}
	n, ok := i.Int64()
	if !ok || n != int64(int(n)) {
		return nil, fmt.Errorf("%s: %s out of range", fnname, what)
	}
	r := int(n)
	return &r, nil
}

// stringList converts a list/tuple of str.
func stringList(fnname, what string, v starlark.Value) ([]string, error) {
	it, ok := v.(starlark.Indexable)
	if _, isStr := v.(starlark.String); !ok || isStr {
		return nil, fmt.Errorf("%s: %s must be a list of str, got %s", fnname, what, v.Type())
	}
	out := make([]string, 0, it.Len())
	for i := 0; i < it.Len(); i++ {
		s, ok := it.Index(i).(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: %s[%d] must be a str, got %s", fnname, what, i, it.Index(i).Type())
		}
		out = append(out, string(s))
	}
	return out, nil
}
