package ai

import (
	"errors"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

func TestStreamChunks(t *testing.T) {
	clearEnv(t)
	s := &scripted{streams: []streamScript{{chunks: []string{"Hel", "", "lo", " you"}, in: 3, out: 2}}}
	got := s.mustEval(t, `
st = ai.generate("hi", model="ollama/m", system="S", temperature=0.5, stream=True)
before = (st.usage.total, st.error)
parts = []
kinds = []
for c in st:
    parts.append(c.text)
    kinds.append((type(c), str(c), bool(c)))
again = [c for c in st]
`, `(before, parts, kinds[0], again, st.error, st.usage.input, st.usage.output, st.model, type(st), str(st), bool(st))`)
	want := `((0, ""), ["Hel", "lo", " you"], ("ai.StreamChunk", "Hel", True), [], "", 3, 2, "ollama/m", "ai.Stream", "<ai.Stream>", True)`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	sreqs := s.streamRequests()
	if len(sreqs) != 1 || len(s.requests()) != 0 {
		t.Fatalf("%d stream requests, %d complete requests", len(sreqs), len(s.requests()))
	}
	r := sreqs[0]
	if !r.Stream || r.Model != "m" || r.System != "S" || *r.Sampling.Temperature != 0.5 || len(r.Tools) != 0 || r.ResponseFormat != nil {
		t.Fatalf("request %+v", r)
	}
	wantMsgs(t, "stream", r.Messages, `user "hi"`)
	if c := s.readers[0].closeCount(); c != 1 {
		t.Fatalf("reader closed %d times, want 1", c)
	}
	_, msg := s.eval(t, `st = ai.generate("hi", model="ollama/m", stream=True)`, `{st: 1}`)
	wantErr(t, msg, "unhashable type: ai.Stream")
}

func TestStreamEarlyBreakCloses(t *testing.T) {
	clearEnv(t)
	s := &scripted{streams: []streamScript{{chunks: []string{"a", "b", "c"}, in: 1, out: 1}}}
	got := s.mustEval(t, `
st = ai.generate("hi", model="ollama/m", stream=True)
seen = []
for c in st:
    seen.append(str(c))
    break
`, `(seen, st.error, [c for c in st])`)
	if got != `(["a"], "", [])` {
		t.Fatalf("got %s", got)
	}
	r := s.readers[0]
	if r.closeCount() != 1 || r.ctx.Err() == nil {
		t.Fatalf("abandoned stream: closed %d, ctx err %v", r.closeCount(), r.ctx.Err())
	}
	// An error in the loop body abandons the stream too.
	s = &scripted{streams: []streamScript{{chunks: []string{"a", "b"}}}}
	_, msg := s.eval(t, `
st = ai.generate("hi", model="ollama/m", stream=True)
for c in st:
    fail("body broke")
`, `1`)
	wantErr(t, msg, "body broke")
	if s.readers[0].closeCount() != 1 {
		t.Fatalf("reader not closed after an error in the loop body")
	}
}

func TestStreamFailures(t *testing.T) {
	clearEnv(t)
	// Mid-stream failure: chunks so far, then .error.
	s := &scripted{streams: []streamScript{{chunks: []string{"par", "tial"}, endErr: errors.New("ollama: stream: connection reset"), in: 4}}}
	got := s.mustEval(t, `
st = ai.generate("hi", model="ollama/m", stream=True)
out = "".join([c.text for c in st])
`, `(out, st.error)`)
	if got != `("partial", "ollama: stream: connection reset")` {
		t.Fatalf("got %s", got)
	}
	if s.readers[0].closeCount() != 1 {
		t.Fatal("reader not closed")
	}
	// A start failure is reported by .error, never raised.
	s = &scripted{streams: []streamScript{{startErr: errors.New("ollama: HTTP 503 Service Unavailable: loading model")}}}
	got = s.mustEval(t, `
st = ai.generate("hi", model="ollama/m", stream=True)
n = len([c for c in st])
`, `(n, st.error, st.usage.total)`)
	if got != `(0, "ollama: HTTP 503 Service Unavailable: loading model", 0)` {
		t.Fatalf("got %s", got)
	}
}

func TestStreamNeverIterated(t *testing.T) {
	clearEnv(t)
	s := &scripted{streams: []streamScript{{chunks: []string{"x"}}}}
	got := s.mustEval(t, `st = ai.generate("hi", model="ollama/m", stream=True)`, `(st.model, st.error, str(st.usage))`)
	if got != `("ollama/m", "", "ai.Usage(input=0, output=0)")` {
		t.Fatalf("got %s", got)
	}
	if n := len(s.streamRequests()); n != 0 {
		t.Fatalf("a never-iterated stream called Stream %d times", n)
	}
}

func TestStreamValidation(t *testing.T) {
	clearEnv(t)
	s := &scripted{}
	kitetest.RunCases(t, func(tb testing.TB) *libkite.Runtime { return s.rt(tb, nil) }, []kitetest.Case{
		{Expr: `ai.generate("x", model="ollama/m", stream=True, schema={})`, Err: `ai.generate: stream=True and schema= are mutually exclusive`},
		{Expr: `ai.generate("x", model="ollama/m", stream=True, tools=[])`, Err: `ai.generate: stream=True with tools= is not supported`},
		{Expr: `ai.generate("x", model="ollama/m", stream=1)`, Err: `ai.generate: for parameter "stream": got int, want bool`},
		{Expr: `ai.chat(model="ollama/m", tools=[lambda: 1]).send("x", stream=True)`, Err: `ai.chat.send: stream=True with tools is not supported — pass tools=[] to stream from a chat that has tools`},
		{Expr: `ai.chat(model="ollama/m").send("x", stream=True, schema={})`, Err: `ai.chat.send: stream=True and schema= are mutually exclusive`},
		{Expr: `ai.chat().send("x", stream=True, schema={})`, Err: `ai.chat.send: model is required`, ErrContains: true},
		{Expr: `type(ai.chat(model="ollama/m", tools=[lambda: 1]).send("x", stream=True, tools=[]))`, Want: `ai.ChatStream`},
		{Expr: `str(ai.chat(model="ollama/m").send("x", stream=True))`, Want: `<ai.ChatStream>`},
	})
	if len(s.streamRequests()) != 0 {
		t.Fatal("validation cases streamed")
	}
}

func TestChatStreamCommits(t *testing.T) {
	clearEnv(t)
	cases := []struct {
		name   string
		script streamScript
		loop   string
		want   string // the committed assistant entry's content ("-" = no entry, "" = content omitted)
	}{
		{"clean", streamScript{chunks: []string{"Hi", " there"}}, "for x in st: pass", "Hi there"},
		{"mid-stream error", streamScript{chunks: []string{"Hi"}, endErr: errors.New("connection reset")}, "for x in st: pass", "Hi [error: connection reset]"},
		{"start failure", streamScript{startErr: errors.New("HTTP 500")}, "for x in st: pass", "[error: HTTP 500]"},
		{"error before text", streamScript{endErr: errors.New("bad frame")}, "for x in st: pass", "[error: bad frame]"},
		{"abandoned", streamScript{chunks: []string{"Hi", " there", "!"}}, "for x in st:\n    break", "Hi"},
		{"empty reply", streamScript{}, "for x in st: pass", ""},
		{"never iterated", streamScript{chunks: []string{"x"}}, "pass", "-"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &scripted{streams: []streamScript{c.script}}
			got := s.mustEval(t, `
c = ai.chat(model="ollama/m", system="S", history=[{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "yes"}])
st = c.send("now", stream=True)
`+c.loop+`
h = c.history
`, `h`)
			base := `[{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "yes"}`
			want := base + `]`
			switch c.want {
			case "-":
			case "":
				want = base + `, {"role": "user", "content": "now"}, {"role": "assistant"}]`
			default:
				want = base + `, {"role": "user", "content": "now"}, {"role": "assistant", "content": ` + kitetest.Lit(c.want) + `}]`
			}
			if got != want {
				t.Fatalf("history\n%s\nwant\n%s", got, want)
			}
			if c.want == "-" {
				if len(s.streamRequests()) != 0 {
					t.Fatal("never-iterated chat stream called Stream")
				}
				return
			}
			r := s.streamRequests()[0]
			if r.System != "S" || !r.Stream {
				t.Fatalf("request %+v", r)
			}
			wantMsgs(t, "chat stream", r.Messages, "user \"earlier\"\nassistant \"yes\"\nuser \"now\"")
			if len(s.readers) > 0 && s.readers[0].closeCount() != 1 {
				t.Fatal("reader not closed")
			}
		})
	}
}
