package ai

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// runUntil is ai.run_until(chat, initial, stop_when=None, max_steps=10,
// follow_up="continue") -> ai.Response (§10): send initial, then
// follow_up, through the chat's send with no overrides, until stop_when
// returns a truthy value or max_steps sends have run; the last response is
// returned either way. Each send is permission-checked.
func (m *module) runUntil(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	name := fn.Name()
	if len(args) > 2 {
		return nil, fmt.Errorf("%s: expected 2 positional arguments (chat, initial), got %d; pass stop_when=, max_steps= and follow_up= as keywords", name, len(args))
	}
	var (
		chatV, initialV, stopWhen starlark.Value
		maxStepsV                 starlark.Value
		followUp                  = "continue"
	)
	if err := libkite.UnpackArgs(name, args, kwargs, "chat", &chatV, "initial", &initialV, "*", nil,
		"stop_when??", &stopWhen, "max_steps??", &maxStepsV, "follow_up?", &followUp); err != nil {
		return nil, err
	}
	chat, ok := chatV.(*Chat)
	if !ok {
		return nil, fmt.Errorf("%s: chat must be an ai.Chat, got %s", name, chatV.Type())
	}
	initial, ok := initialV.(starlark.String)
	if !ok {
		return nil, fmt.Errorf("%s: initial must be a str, got %s", name, initialV.Type())
	}
	if initial == "" {
		return nil, fmt.Errorf("%s: initial must not be empty", name)
	}
	maxSteps := defaultMaxIterations
	if n, err := intArg(name, "max_steps", maxStepsV); err != nil {
		return nil, err
	} else if n != nil {
		if *n < 0 {
			return nil, fmt.Errorf("%s: max_steps must not be negative, got %d", name, *n)
		}
		if *n > 0 {
			maxSteps = *n
		}
	}
	var pred starlark.Callable
	if stopWhen != nil {
		if pred, ok = stopWhen.(starlark.Callable); !ok {
			return nil, fmt.Errorf("%s: stop_when must be callable or None, got %s", name, stopWhen.Type())
		}
	}
	if followUp == "" {
		return nil, fmt.Errorf("%s: follow_up must not be empty", name)
	}
	var last starlark.Value = starlark.None
	for step := 0; step < maxSteps; step++ {
		msg := followUp
		if step == 0 {
			msg = string(initial)
		}
		resp, err := chat.send(thread, msg, opts{})
		if err != nil {
			if libkite.IsExit(err) {
				return nil, err
			}
			return nil, fmt.Errorf("%s: step %d: %w", name, step, err)
		}
		last = resp
		if pred == nil {
			continue
		}
		stop, err := starlark.Call(thread, pred, starlark.Tuple{resp}, nil)
		if err != nil {
			if libkite.IsExit(err) {
				return nil, err
			}
			return nil, fmt.Errorf("%s: stop_when: %w", name, err)
		}
		if stop.Truth() {
			return resp, nil
		}
	}
	return last, nil
}
