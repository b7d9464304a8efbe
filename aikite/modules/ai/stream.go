package ai

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"
)

// Stream is ai.Stream (ai.generate(stream=True)) and ai.ChatStream
// (chat.send(stream=True)), §7. The provider stream starts lazily on the
// first step of the first iteration, so a stream never iterated opens no
// connection (and a chat stream commits nothing). Iteration is single
// pass; a failure never raises during iteration but is reported by
// .error. Ending iteration early (break, an error in the loop body)
// cancels the request and closes the reader.
type Stream struct {
	typ     string // "ai.Stream" or "ai.ChatStream"
	model   string
	base    context.Context // the creating thread's run context
	timeout time.Duration   // per-request deadline (0 = none)
	start   func(ctx context.Context) (StreamReader, error)
	// commit, for chat streams, records the outcome once iteration
	// finished or was abandoned (§9.2).
	commit func(text, errMsg string)

	mu      sync.Mutex
	claimed bool // an iteration took the stream
	errMsg  string
	usage   Usage
}

var (
	_ starlark.Iterable = (*Stream)(nil)
	_ starlark.HasAttrs = (*Stream)(nil)
)

func (s *Stream) String() string        { return "<" + s.typ + ">" }
func (s *Stream) Type() string          { return s.typ }
func (*Stream) Freeze()                 {}
func (*Stream) Truth() starlark.Bool    { return true }
func (s *Stream) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: %s", s.typ) }
func (*Stream) AttrNames() []string     { return []string{"error", "model", "usage"} }

func (s *Stream) Attr(name string) (starlark.Value, error) {
	switch name {
	case "model":
		return starlark.String(s.model), nil
	case "error":
		s.mu.Lock()
		defer s.mu.Unlock()
		return starlark.String(s.errMsg), nil
	case "usage":
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.usage, nil
	}
	return nil, nil
}

// Iterate hands out the one iteration of the stream; later ones (and
// concurrent ones from other threads) yield nothing.
func (s *Stream) Iterate() starlark.Iterator {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claimed {
		return emptyIter{}
	}
	s.claimed = true
	return &streamIter{s: s}
}

type emptyIter struct{}

func (emptyIter) Next(*starlark.Value) bool { return false }
func (emptyIter) Done()                     {}

// streamIter is the single iteration of a Stream; only the iterating
// thread touches it.
type streamIter struct {
	s        *Stream
	started  bool
	finished bool
	r        StreamReader
	cancel   context.CancelFunc
	text     strings.Builder
}

func (it *streamIter) Next(p *starlark.Value) bool {
	if it.finished {
		return false
	}
	if !it.started {
		it.started = true
		ctx, cancel := withTimeout(it.s.base, it.s.timeout)
		it.cancel = cancel
		r, err := it.s.start(ctx)
		if err != nil {
			it.finish(err)
			return false
		}
		it.r = r
	}
	for {
		delta, err := it.r.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			it.finish(err)
			return false
		}
		if delta == "" {
			continue
		}
		it.text.WriteString(delta)
		*p = StreamChunk(delta)
		return true
	}
}

// Done ends the iteration; before the end of the stream it abandons it
// (cancel, close, commit what arrived). An iteration that never took a
// step started nothing and commits nothing.
func (it *streamIter) Done() {
	if it.started && !it.finished {
		it.finish(nil)
	}
	it.finished = true
}

// finish records the outcome (err nil = clean end or abandoned), releases
// the request and commits a chat stream's history entry.
func (it *streamIter) finish(err error) {
	it.finished = true
	var u Usage
	if it.r != nil {
		u.input, u.output = it.r.Usage()
	}
	if it.cancel != nil {
		it.cancel()
	}
	if it.r != nil {
		_ = it.r.Close()
	}
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	it.s.mu.Lock()
	it.s.errMsg, it.s.usage = msg, u
	it.s.mu.Unlock()
	if it.s.commit != nil {
		it.s.commit(it.text.String(), msg)
	}
}

// StreamChunk is ai.StreamChunk: one text delta of a stream. str() is the
// text; truthy iff non-empty.
type StreamChunk string

var _ starlark.HasAttrs = StreamChunk("")

func (c StreamChunk) String() string       { return string(c) }
func (StreamChunk) Type() string           { return "ai.StreamChunk" }
func (StreamChunk) Freeze()                {}
func (c StreamChunk) Truth() starlark.Bool { return c != "" }
func (StreamChunk) Hash() (uint32, error)  { return 0, fmt.Errorf("unhashable type: ai.StreamChunk") }
func (StreamChunk) AttrNames() []string    { return []string{"text"} }
func (c StreamChunk) Attr(name string) (starlark.Value, error) {
	if name == "text" {
		return starlark.String(c), nil
	}
	return nil, nil
}
