package ai

import (
	"fmt"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// generate is ai.generate(prompt, **kw) -> ai.Response (§4). Permission
// ("ai", "generate", "generate", <model string>) after validation, before
// any network I/O. Kite extension: timeout= (a Go duration) overrides the
// ai.config timeout for this call.
func (m *module) generate(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	name := fn.Name()
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: expected 1 positional argument (prompt), got %d", name, len(args))
	}
	prompt, ok := args[0].(starlark.String)
	if !ok {
		return nil, fmt.Errorf("%s: prompt must be a str, got %s", name, args[0].Type())
	}
	var (
		model, system, apiKey, baseURL, timeout, onToolError string
		temperature, topP, maxTokens, topK, stop             starlark.Value
		stream                                               bool
		schema, tools, maxIterations                         starlark.Value
	)
	if err := libkite.UnpackArgs(name, nil, kwargs, "*", nil,
		"model?", &model, "system?", &system,
		"temperature??", &temperature, "max_tokens??", &maxTokens, "top_p??", &topP, "top_k??", &topK, "stop??", &stop,
		"api_key?", &apiKey, "base_url?", &baseURL, "timeout?", &timeout,
		"stream?", &stream, "schema??", &schema, "tools??", &tools,
		"max_iterations??", &maxIterations, "on_tool_error?", &onToolError); err != nil {
		return nil, err
	}
	var sampling Sampling
	var err error
	if sampling.Temperature, err = floatArg(name, "temperature", temperature); err != nil {
		return nil, err
	}
	if sampling.TopP, err = floatArg(name, "top_p", topP); err != nil {
		return nil, err
	}
	if sampling.MaxTokens, err = intArg(name, "max_tokens", maxTokens); err != nil {
		return nil, err
	}
	if sampling.TopK, err = intArg(name, "top_k", topK); err != nil {
		return nil, err
	}
	if stop != nil {
		if sampling.Stop, err = stringList(name, "stop", stop); err != nil {
			return nil, err
		}
		sampling.HasStop = true
	}
	var callTimeout *time.Duration
	if timeout != "" {
		d, err := time.ParseDuration(timeout)
		if err != nil || d < 0 {
			return nil, fmt.Errorf("%s: invalid timeout %q: want a non-negative Go duration such as \"30s\"", name, timeout)
		}
		callTimeout = &d
	}
	// §4 validation order.
	if stream && schema != nil {
		return nil, fmt.Errorf("%s: stream=True and schema= are mutually exclusive", name)
	}
	if stream && tools != nil {
		return nil, fmt.Errorf("%s: stream=True with tools= is not supported", name)
	}
	if schema != nil {
		if _, ok := schema.(*starlark.Dict); !ok {
			return nil, fmt.Errorf("%s: schema must be a dict (JSON Schema), got %s", name, schema.Type())
		}
	}
	if tools != nil {
		return nil, fmt.Errorf("%s: tools= is not supported yet", name)
	}
	switch onToolError {
	case "", "feedback", "halt":
	default:
		return nil, fmt.Errorf("%s: on_tool_error must be \"feedback\" or \"halt\", got %q", name, onToolError)
	}
	if mi, err := intArg(name, "max_iterations", maxIterations); err != nil {
		return nil, err
	} else if mi != nil && *mi < 0 {
		return nil, fmt.Errorf("%s: max_iterations must not be negative, got %d", name, *mi)
	}
	if stream {
		return nil, fmt.Errorf("%s: stream=True is not supported yet", name)
	}
	if schema != nil {
		return nil, fmt.Errorf("%s: schema= is not supported yet", name)
	}

	cfg := m.snapshot()
	if model == "" {
		model = cfg.defaultModel
	}
	if model == "" {
		return nil, fmt.Errorf("%s: model is required — pass model=\"provider/name\" or set ai.config(default_model=...)", name)
	}
	info, modelID, err := parseModel(model)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := libkite.Check(thread, "ai", "generate", "generate", model); err != nil {
		return nil, err
	}
	ep := resolve(info, cfg, apiKey, baseURL)
	p, err := m.client(ep, apiKey != "" || baseURL != "")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	d := cfg.timeout
	if callTimeout != nil {
		d = *callTimeout
	}
	ctx, cancel := withTimeout(libkite.Context(thread), d)
	defer cancel()
	reply, err := p.Complete(ctx, &Request{
		Model:    modelID,
		System:   system,
		Messages: []Message{{Role: "user", Content: string(prompt)}},
		Sampling: sampling,
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Response{text: reply.Text, model: model, usage: Usage{input: reply.InputTokens, output: reply.OutputTokens}, data: starlark.None}, nil
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
