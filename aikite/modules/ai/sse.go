package ai

import (
	"bufio"
	"io"
	"strings"
)

// sseEvent is one server-sent event: its "event:" name (may be empty) and
// its "data:" lines joined by "\n".
type sseEvent struct {
	name string
	data string
}

// maxSSELine bounds one SSE line (a single event's JSON may be large).
const maxSSELine = 16 << 20

// sseReader reads server-sent events (the text/event-stream framing):
// "field: value" lines, a blank line ending an event, ":" comments.
type sseReader struct {
	sc *bufio.Scanner
}

func newSSEReader(r io.Reader) *sseReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxSSELine)
	return &sseReader{sc: sc}
}

// next returns the next event with data, io.EOF at a clean end of the body
// (an event cut off by it is dropped), or the read error.
func (r *sseReader) next() (sseEvent, error) {
	var (
		ev      sseEvent
		data    []string
		hasData bool
	)
	for r.sc.Scan() {
		line := r.sc.Text()
		if line == "" {
			if hasData {
				ev.data = strings.Join(data, "\n")
				return ev, nil
			}
			ev = sseEvent{}
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			ev.name = value
		case "data":
			data = append(data, value)
			hasData = true
		}
	}
	if err := r.sc.Err(); err != nil {
		return sseEvent{}, err
	}
	return sseEvent{}, io.EOF
}
