package io

import (
	goio "io"
	"sync"
)

var stdioMu sync.Mutex

// SetStdio makes the module read in and write out (a fresh shared reader)
// until restore is called. Tests using it must not run in parallel.
func SetStdio(in goio.Reader, out goio.Writer) (restore func()) {
	stdioMu.Lock()
	prevIn, prevOut := stdin, stdout
	stdin, stdout = in, out
	console.reader, console.pending = nil, nil
	return func() {
		stdin, stdout = prevIn, prevOut
		console.reader, console.pending = nil, nil
		stdioMu.Unlock()
	}
}

// SetTerminal replaces the terminal check and the no-echo line reader.
func SetTerminal(isTerminal func() (int, bool), read func(fd int) ([]byte, error)) (restore func()) {
	prevTerm, prevRead := terminal, readPassword
	terminal, readPassword = isTerminal, read
	return func() { terminal, readPassword = prevTerm, prevRead }
}
