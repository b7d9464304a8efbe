package kitetest

import (
	"net"
	"testing"
)

// FreePort is a TCP port on 127.0.0.1 that nothing listens on at the time
// of the call: for servers a script starts on a port it must be told.
func FreePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
