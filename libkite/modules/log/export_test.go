package log

import (
	"io"
	stdtime "time"

	"github.com/project-starkite/starkite/libkite"
)

// NewForTest returns the log module writing stderr records to stderr and
// stamping every record with now().
func NewForTest(stderr io.Writer, now func() stdtime.Time) libkite.Module {
	return newModule(stderr, now)
}

// RuntimeStates is the number of runtimes whose default logger the last
// loaded instance of m holds.
func RuntimeStates(m libkite.Module) int {
	in := m.(*module).loaded.Load()
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.states)
}
