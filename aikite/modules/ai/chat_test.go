package ai

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/startype"
)

func TestChatValidation(t *testing.T) {
	clearEnv(t)
	s := &scripted{}
	kitetest.RunCases(t, func(tb testing.TB) *libkite.Runtime { return s.rt(tb, nil) }, []kitetest.Case{
		{Expr: `ai.chat("ollama/m")`, Err: `ai.chat: takes only keyword arguments`},
		{Expr: `ai.chat(colour="red")`, Err: `ai.chat: unknown keyword argument: colour`},
		{Expr: `ai.chat(stream=True)`, Err: `ai.chat: unknown keyword argument: stream`},
		{Expr: `ai.chat(on_tool_error="ignore")`, Err: `ai.chat: on_tool_error must be "feedback" or "halt", got "ignore"`},
		{Expr: `ai.chat(max_iterations=-1)`, Err: `ai.chat: max_iterations must not be negative, got -1`},
		{Expr: `ai.chat(tools=[len])`, Err: `ai.chat: tools[0]: len (builtin_function_or_method) cannot be auto-inferred; wrap it with ai.tool(fn, description=, params=)`},
		{Expr: `ai.chat(temperature="hot")`, Err: `ai.chat: temperature must be a number, got string`},
		{Expr: `ai.chat(history="x")`, Err: `ai.chat: history: must be a list of dicts, got string`},
		{Expr: `ai.chat(history=[1])`, Err: `ai.chat: history: entry 0: must be a dict, got int`},
		{Expr: `ai.chat(history=[{"role": "user", "content": "a"}, {"content": "b"}])`, Err: `ai.chat: history: entry 1: role is required`},
		{Expr: `ai.chat(history=[{"role": "system", "content": "b"}])`, Err: `ai.chat: history: entry 0: role must be "user", "assistant" or "tool", got "system"`},
		{Expr: `ai.chat(history=[{"role": 1}])`, Err: `ai.chat: history: entry 0: role must be a str, got int`},
		{Expr: `ai.chat(history=[{"role": "user", "content": 3}])`, Err: `ai.chat: history: entry 0: content must be a str, got int`},
		{Expr: `ai.chat(history=[{"role": "assistant", "tool_name": 3}])`, Err: `ai.chat: history: entry 0: tool_name must be a str, got int`},
		{Expr: `ai.chat(history=[{"role": "tool", "tool_name": "t", "tool_error": []}])`, Err: `ai.chat: history: entry 0: tool_error must be a str, got list`},
		{Expr: `ai.chat(history=[{"role": "tool", "tool_output": 1}])`, Err: `ai.chat: history: entry 0: tool entries require tool_name`},
		{Expr: `ai.chat(history=[{"role": "assistant", "tool_name": "t", "tool_input": {"f": len}}])`, Err: `ai.chat: history: entry 0: tool_input must be plain data: unsupported type: builtin_function_or_method`},
		{Expr: `ai.try_chat(history=[1])`, Want: `Result(ok=False, error="ai.chat: history: entry 0: must be a dict, got int")`},
		{Expr: `ai.chat(history=None).history`, Want: `[]`},
		{Expr: `ai.chat(history=[{"role": "tool", "tool_name": "t", "tool_output": None, "content": None}]).history`, Want: `[{"role": "tool", "tool_name": "t"}]`},
		{Expr: `(type(ai.chat()), str(ai.chat()), bool(ai.chat()), dir(ai.chat()))`, Want: `("ai.Chat", "<ai.Chat>", True, ["history", "reset", "send", "try_send"])`},
		{Expr: `{ai.chat(): 1}`, Err: `unhashable type: ai.Chat`},
		// send validation: raises without touching history or the provider.
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `c.send()`, Err: `ai.chat.send: expected 1 positional argument (message), got 0`},
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `c.send(1)`, Err: `ai.chat.send: message must be a str, got int`},
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `c.send("")`, Err: `ai.chat.send: message must not be empty`},
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `c.send("x", history=[])`, Err: `ai.chat.send: unknown keyword argument: history`},
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `c.send("x", on_tool_error="later")`, Err: `ai.chat.send: on_tool_error must be "feedback" or "halt", got "later"`},
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `c.send("x", max_iterations=-2)`, Err: `ai.chat.send: max_iterations must not be negative, got -2`},
		{Pre: `c = ai.chat()`, Expr: `c.send("x")`, Err: `ai.chat.send: model is required`, ErrContains: true},
		{Pre: `c = ai.chat(model="nope")`, Expr: `c.send("x")`, Err: `ai.chat.send: invalid model "nope"`, ErrContains: true},
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `c.send("x", schema=[])`, Err: `ai.chat.send: schema must be a dict (JSON Schema), got list`},
		{Pre: `c = ai.chat(model="openai/m")`, Expr: `c.send("x")`, Err: `ai.chat.send: openai provider is unavailable`, ErrContains: true},
		{Pre: `c = ai.chat(model="ollama/m")
c.try_send("")`, Expr: `(c.try_send(""), c.history)`, Want: `(Result(ok=False, error="ai.chat.send: message must not be empty"), [])`},
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `c.reset(1)`, Err: `ai.chat.reset: takes no arguments`},
	})
	if len(s.requests()) != 0 {
		t.Fatalf("validation reached the provider %d times", len(s.requests()))
	}
}

func TestChatSendAndHistory(t *testing.T) {
	clearEnv(t)
	s := &scripted{answers: []answer{
		text("first answer", 2, 1),
		toolCalls(3, 1, tc("p1", "add", `{"a": 4, "b": 5}`), tc("p2", "boom", `{"why": "nope"}`), tc("p3", "nope", `{}`)),
		text("second answer", 5, 2),
		text("third", 1, 1),
	}}
	rt := s.rt(t, nil)
	got, msg, _ := kitetest.Eval(rt, loopTools+`
def boom(why):
    fail("broke: " + why)
c = ai.chat(model="ollama/m", system="Terse.", tools=[add, boom], temperature=0.2)
r1 = c.send("one")
h1 = c.history
h1.append("mutated")
r2 = c.send("two", system="Other.", max_tokens=7)
`, `(r1.text, r1.model, r1.usage.total, r2.text, r2.usage.total, len(c.history), c.history == c.history, h1[-1], len(h1))`)
	if msg != "" || got != `("first answer", "ollama/m", 3, "second answer", 11, 10, True, "mutated", 3)` {
		t.Fatalf("got %s (%s)", got, msg)
	}
	hist, _, _ := kitetest.Eval(rt, "", `c.history`)
	wantHist := `[{"role": "user", "content": "one"}, {"role": "assistant", "content": "first answer"}, {"role": "user", "content": "two"}, ` +
		`{"role": "assistant", "tool_name": "add", "tool_input": {"a": 4, "b": 5}}, {"role": "tool", "tool_name": "add", "tool_output": {"sum": 9, "type": "int"}}, ` +
		`{"role": "assistant", "tool_name": "boom", "tool_input": {"why": "nope"}}, {"role": "tool", "tool_name": "boom", "tool_error": "broke: nope"}, ` +
		`{"role": "assistant", "tool_name": "nope", "tool_input": {}}, {"role": "tool", "tool_name": "nope", "tool_error": "unknown tool \"nope\""}, ` +
		`{"role": "assistant", "content": "second answer"}]`
	if hist != wantHist {
		t.Fatalf("history\n%s\nwant\n%s", hist, wantHist)
	}
	reqs := s.requests()
	if reqs[0].System != "Terse." || *reqs[0].Sampling.Temperature != 0.2 || reqs[0].Sampling.MaxTokens != nil || len(reqs[0].Tools) != 2 {
		t.Fatalf("request 0 %+v", reqs[0])
	}
	wantMsgs(t, "send 1", reqs[0].Messages, `user "one"`)
	if reqs[1].System != "Other." || *reqs[1].Sampling.MaxTokens != 7 || *reqs[1].Sampling.Temperature != 0.2 {
		t.Fatalf("request 1 %+v", reqs[1])
	}
	wantMsgs(t, "send 2", reqs[1].Messages, "user \"one\"\nassistant \"first answer\"\nuser \"two\"")

	// The next send replays the stored tool turns with synthetic ids.
	if _, msg, _ := kitetest.Eval(rt, "", `c.send("three")`); msg != "" {
		t.Fatal(msg)
	}
	wantReplay := `user "one"
assistant "first answer"
user "two"
assistant call(call_3 add {"a":4,"b":5})
tool "{\"sum\":9,\"type\":\"int\"}" for=call_3
assistant call(call_5 boom {"why":"nope"})
tool "{\"error\":\"broke: nope\"}" for=call_5 is_error
assistant call(call_7 nope {})
tool "{\"error\":\"unknown tool \\\"nope\\\"\"}" for=call_7 is_error
assistant "second answer"
user "three"`
	wantMsgs(t, "send 3", s.requests()[3].Messages, wantReplay)

	// Save → JSON → reload: a new chat seeded with the decoded history
	// sends the same wire messages.
	v, _ := rt.GetGlobalVal("c")
	hv, _ := v.(*Chat).Attr("history")
	data, err := startype.FromStarlark(hv)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(data)
	var saved any
	if err := json.Unmarshal(raw, &saved); err != nil {
		t.Fatal(err)
	}
	s2 := &scripted{answers: []answer{text("again", 0, 0)}}
	rt2, _ := kitetest.New(t, &libkite.Config{Globals: map[string]any{"saved": saved}}, s2.module())
	got, msg, _ = kitetest.Eval(rt2, `c = ai.chat(model="ollama/m", history=saved)
c.send("four")`, `(len(c.history), c.history[:12] == saved)`)
	if msg != "" || got != "(14, True)" {
		t.Fatalf("reload: %s (%s)", got, msg)
	}
	wantMsgs(t, "reloaded", s2.requests()[0].Messages, wantReplay+"\nassistant \"third\"\nuser \"four\"")
}

func TestHistoryWireMapping(t *testing.T) {
	// Interleaved requests of the same name are answered nearest-first;
	// an orphan tool entry keeps its own id; absent input is {}.
	entries := []entry{
		{role: "user", content: "u"},
		{role: "assistant", toolName: "a", toolInput: map[string]any{"x": int64(1)}},
		{role: "assistant", toolName: "a"},
		{role: "tool", toolName: "a", toolOutput: "second"},
		{role: "tool", toolName: "a", toolOutput: []any{int64(1), "x"}},
		{role: "tool", toolName: "b", toolError: "no such"},
		{role: "tool", toolName: "a"},
		{role: "assistant", content: "done"},
	}
	wantMsgs(t, "mapped", wireMessages(entries), `user "u"
assistant call(call_1 a {"x":1})
assistant call(call_2 a {})
tool "second" for=call_2
tool "[1,\"x\"]" for=call_1
tool "{\"error\":\"no such\"}" for=call_5 is_error
tool "null" for=call_6
assistant "done"`)
}

func TestChatFailuresAndReset(t *testing.T) {
	clearEnv(t)
	s := &scripted{answers: []answer{
		failWith("ollama: HTTP 500 Internal Server Error: oops"),
		toolCalls(1, 1, tc("a", "boom", `{"why": "halted"}`)),
		text("not json", 1, 1),
		text("fine", 1, 1),
	}}
	rt := s.rt(t, nil)
	script := `
def boom(why):
    fail("broke: " + why)
c = ai.chat(model="ollama/m", tools=[boom], on_tool_error="halt")
e1 = c.try_send("one").error
e2 = c.try_send("two").error
e3 = c.try_send("three", schema={"type": "object"}).error
`
	got, msg, _ := kitetest.Eval(rt, script, `(e1, e2, e3)`)
	if msg != "" {
		t.Fatal(msg)
	}
	if want := `("ai.chat.send: ollama: HTTP 500 Internal Server Error: oops", "ai.chat.send: tool \"boom\": broke: halted", "ai.chat.send: parsing structured output: invalid character 'o' in literal null (expecting 'u')")`; got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	hist, _, _ := kitetest.Eval(rt, "", `c.history`)
	want := `[{"role": "user", "content": "one"}, {"role": "assistant", "content": "[error: ollama: HTTP 500 Internal Server Error: oops]"}, ` +
		`{"role": "user", "content": "two"}, {"role": "assistant", "content": "[error: tool \"boom\": broke: halted]"}, ` +
		`{"role": "user", "content": "three"}, {"role": "assistant", "content": "[error: parsing structured output: invalid character 'o' in literal null (expecting 'u')]"}]`
	if hist != want {
		t.Fatalf("history\n%s\nwant\n%s", hist, want)
	}
	// reset clears history, keeps defaults (model, tools, halt).
	got, msg, _ = kitetest.Eval(rt, `r = c.reset()`, `(r, c.history, c.send("again").text)`)
	if msg != "" || got != `(None, [], "fine")` {
		t.Fatalf("after reset: %s (%s)", got, msg)
	}
	last := s.requests()[len(s.requests())-1]
	if last.Model != "m" || len(last.Tools) != 1 {
		t.Fatalf("defaults lost after reset: %+v", last)
	}
	wantMsgs(t, "after reset", last.Messages, `user "again"`)
}

func TestChatMergeRules(t *testing.T) {
	clearEnv(t)
	s := &scripted{answers: []answer{toolCalls(1, 1, tc("a", "add", `{"a": 1}`))}, repeat: true}
	count := func() int { return len(s.requests()) }
	pre := loopTools + `c = ai.chat(model="ollama/m", tools=[add], max_iterations=2, system="S", stop=["A"], top_k=3)`
	// Chat max_iterations applies; a per-call positive value wins; 0 falls back to the chat's.
	for _, c := range []struct {
		expr string
		n    int
	}{
		{`c.send("x")`, 3},
		{`c.send("x", max_iterations=0)`, 3},
		{`c.send("x", max_iterations=1)`, 2},
		{`ai.chat(model="ollama/m", tools=[add]).send("x")`, 11},
	} {
		before := count()
		_, msg := s.eval(t, pre, c.expr)
		wantErr(t, msg, "ai.chat.send: ", "max_iterations")
		if n := count() - before; n != c.n {
			t.Fatalf("%s: %d requests, want %d", c.expr, n, c.n)
		}
	}
	// tools=[] replaces the chat's tools for the turn.
	s2 := &scripted{answers: []answer{text("plain", 0, 0), text("with model", 0, 0)}}
	got := s2.mustEval(t, pre, `(c.send("x", tools=[]).text, c.send("y", model="anthropic/c", api_key="k", system="", stop=[], top_k=None).text)`)
	if got != `("plain", "with model")` {
		t.Fatalf("got %s", got)
	}
	r := s2.requests()
	if len(r[0].Tools) != 0 || r[0].System != "S" || r[0].Sampling.Stop[0] != "A" || *r[0].Sampling.TopK != 3 {
		t.Fatalf("request 0 %+v", r[0])
	}
	if r[1].Model != "c" || len(r[1].Tools) != 1 || r[1].System != "" || !r[1].Sampling.HasStop || len(r[1].Sampling.Stop) != 0 || *r[1].Sampling.TopK != 3 {
		t.Fatalf("request 1 %+v", r[1])
	}
	// on_tool_error: call → chat → feedback.
	s3 := &scripted{answers: []answer{
		toolCalls(1, 1, tc("a", "nope", `{}`)), text("fed back", 0, 0),
		toolCalls(1, 1, tc("a", "nope", `{}`)),
	}}
	got, msg := s3.eval(t, loopTools+`c = ai.chat(model="ollama/m", tools=[add])
t1 = c.send("x").text`, `(t1, c.try_send("y", on_tool_error="halt").error)`)
	if msg != "" || got != `("fed back", "ai.chat.send: unknown tool \"nope\"")` {
		t.Fatalf("got %s (%s)", got, msg)
	}
	// Default model from ai.config when neither chat nor call names one.
	s4 := &scripted{answers: []answer{text("cfg", 0, 0)}}
	if got := s4.mustEval(t, `ai.config(default_model="ollama/from-config")`, `ai.chat().send("x").model`); got != "ollama/from-config" {
		t.Fatalf("model %s", got)
	}
}

func TestChatPermissions(t *testing.T) {
	clearEnv(t)
	s := &scripted{answers: []answer{text("ok", 0, 0)}}
	cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"ai.generate(ollama/*)"}}}
	denial := kitetest.Denied("ai.generate", "generate", "openai/gpt-4o-mini")
	got, msg, err := kitetest.Eval(s.rt(t, cfg), `c = ai.chat(model="openai/gpt-4o-mini", history=[{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}])
r = c.try_send("x")`, `(r.ok, r.error.startswith("permission denied: ai.generate generate("), len(c.history))`)
	if msg != "" || got != `(False, True, 2)` {
		t.Fatalf("got %s (%s %v)", got, msg, err)
	}
	_, msg, err = kitetest.Eval(s.rt(t, cfg), `c = ai.chat(model="openai/gpt-4o-mini")`, `c.send("x")`)
	if !libkite.IsPermissionError(err) || !strings.HasPrefix(msg, denial) {
		t.Fatalf("error %q", msg)
	}
	_, msg, _ = kitetest.Eval(s.rt(t, cfg), `c = ai.chat(model="openai/gpt-4o-mini")`, `ai.run_until(c, "go")`)
	if !strings.HasPrefix(msg, "ai.run_until: step 0: "+denial) {
		t.Fatalf("run_until error %q", msg)
	}
	// Chat creation, history and reset are unchecked even under deny-all.
	if got, msg, _ := kitetest.Eval(s.rt(t, &libkite.Config{Permissions: libkite.DenyAllPermissions()}), `c = ai.chat(model="openai/x")
c.reset()`, `c.history`); got != "[]" {
		t.Fatalf("deny-all chat: %s (%s)", got, msg)
	}
	if len(s.requests()) != 0 || len(s.builds) != 0 {
		t.Fatalf("denied sends reached the provider")
	}
	// A permitted model goes through.
	if got, msg, _ := kitetest.Eval(s.rt(t, cfg), `c = ai.chat(model="ollama/m")`, `c.send("x").text`); got != "ok" {
		t.Fatalf("allowed send: %s (%s)", got, msg)
	}
}

func TestChatConcurrentUse(t *testing.T) {
	clearEnv(t)
	s := &scripted{answers: []answer{text("pong", 1, 1)}, repeat: true}
	rt := s.rt(t, nil)
	if err := rt.Execute(context.Background(), loopTools+`c = ai.chat(model="ollama/m", tools=[add], history=[
    {"role": "user", "content": "u"},
    {"role": "assistant", "tool_name": "add", "tool_input": {"a": 1, "nested": {"x": [1, 2.5]}}},
    {"role": "tool", "tool_name": "add", "tool_output": {"sum": 2}},
    {"role": "assistant", "content": "a"}])`); err != nil {
		t.Fatal(err)
	}
	cv, _ := rt.GetGlobalVal("c")
	chat := cv.(*Chat)
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			thread := rt.NewThread(fmt.Sprintf("t%d", i))
			send, _ := chat.Attr("send")
			v, err := starlark.Call(thread, send, starlark.Tuple{starlark.String(fmt.Sprint(i))}, nil)
			if err != nil || v.(*Response).text != "pong" {
				t.Errorf("send %d: %v %v", i, v, err)
			}
			if _, err := chat.Attr("history"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	hv, _ := chat.Attr("history")
	if l := hv.(*starlark.List).Len(); l != 4+2*n {
		t.Fatalf("history has %d entries, want %d", l, 4+2*n)
	}
}

func TestRunUntil(t *testing.T) {
	clearEnv(t)
	// stop_when ends the loop at the third send.
	s := &scripted{answers: []answer{text("working", 10, 1), text("still", 10, 1), text("FINISHED", 10, 1), text("unreached", 0, 0)}}
	got := s.mustEval(t, `c = ai.chat(model="ollama/m")
seen = []
def done(r):
    seen.append(r.text)
    return "FINISHED" in r.text
r = ai.run_until(c, "fix it", stop_when=done, follow_up="go on")`, `(r.text, seen, len(c.history))`)
	if got != `("FINISHED", ["working", "still", "FINISHED"], 6)` {
		t.Fatalf("got %s", got)
	}
	reqs := s.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests", len(reqs))
	}
	wantMsgs(t, "step 2", reqs[2].Messages, `user "fix it"
assistant "working"
user "go on"
assistant "still"
user "go on"`)
	// Without stop_when: exactly max_steps sends, the last response returned.
	for _, c := range []struct {
		kw    string
		steps int
	}{{"", 10}, {", max_steps=0", 10}, {", max_steps=3", 3}, {", max_steps=1", 1}} {
		s := &scripted{answers: []answer{text("again", 1, 1)}, repeat: true}
		got := s.mustEval(t, `c = ai.chat(model="ollama/m")
r = ai.run_until(c, "start"`+c.kw+`)`, `(r.text, len(c.history))`)
		if got != fmt.Sprintf(`("again", %d)`, 2*c.steps) || len(s.requests()) != c.steps {
			t.Fatalf("%s: %s, %d requests", c.kw, got, len(s.requests()))
		}
		if c.steps > 1 && s.requests()[1].Messages[2].Content != "continue" {
			t.Fatalf("default follow_up: %q", s.requests()[1].Messages[2].Content)
		}
	}
	// Sends use the chat's defaults (tools run inside each send).
	s = &scripted{answers: []answer{toolCalls(1, 1, tc("a", "add", `{"a": 1}`)), text("done", 1, 1)}}
	got = s.mustEval(t, loopTools+`c = ai.chat(model="ollama/m", tools=[add])
r = ai.run_until(c, "start", stop_when=lambda r: True)`, `(r.text, r.usage.total, len(c.history))`)
	if got != `("done", 4, 4)` {
		t.Fatalf("got %s", got)
	}
}

func TestRunUntilErrors(t *testing.T) {
	clearEnv(t)
	s := &scripted{answers: []answer{text("one", 0, 0), failWith("ollama: HTTP 500 Internal Server Error: down")}}
	rt := s.rt(t, nil)
	got, msg, _ := kitetest.Eval(rt, `c = ai.chat(model="ollama/m")
e = ai.try_run_until(c, "start").error`, `(e, c.history[-1])`)
	if msg != "" || got != `("ai.run_until: step 1: ollama: HTTP 500 Internal Server Error: down", {"role": "assistant", "content": "[error: ollama: HTTP 500 Internal Server Error: down]"})` {
		t.Fatalf("got %s (%s)", got, msg)
	}
	s = &scripted{answers: []answer{text("one", 0, 0)}, repeat: true}
	kitetest.RunCases(t, func(tb testing.TB) *libkite.Runtime { return s.rt(tb, nil) }, []kitetest.Case{
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `ai.run_until(c, "x", stop_when=lambda r: 1 // 0)`, Err: `ai.run_until: stop_when: floored division by zero`},
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `ai.run_until(c, "x", None)`, Err: `ai.run_until: expected 2 positional arguments (chat, initial), got 3; pass stop_when=, max_steps= and follow_up= as keywords`},
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `ai.run_until(c)`, Err: `ai.run_until: missing required argument: initial`},
		{Expr: `ai.run_until("c", "x")`, Err: `ai.run_until: chat must be an ai.Chat, got string`},
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `ai.run_until(c, 1)`, Err: `ai.run_until: initial must be a str, got int`},
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `ai.run_until(c, "")`, Err: `ai.run_until: initial must not be empty`},
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `ai.run_until(c, "x", max_steps=-1)`, Err: `ai.run_until: max_steps must not be negative, got -1`},
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `ai.run_until(c, "x", max_steps="3")`, Err: `ai.run_until: max_steps must be an int, got string`},
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `ai.run_until(c, "x", stop_when=True)`, Err: `ai.run_until: stop_when must be callable or None, got bool`},
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `ai.run_until(c, "x", follow_up="")`, Err: `ai.run_until: follow_up must not be empty`},
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `ai.run_until(c, "x", until=3)`, Err: `ai.run_until: unknown keyword argument: until`},
		{Pre: `c = ai.chat()`, Expr: `ai.run_until(c, "x")`, Err: `ai.run_until: step 0: model is required`, ErrContains: true},
		{Pre: `c = ai.chat(model="ollama/m")`, Expr: `ai.run_until(c, "x", max_steps=2, stop_when=None).text`, Want: `one`},
	})
}
