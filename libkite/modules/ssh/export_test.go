package ssh

import "time"

// SetRetryDelayForTest sets the first pause between dial attempts until
// the returned restore is called.
func SetRetryDelayForTest(d time.Duration) (restore func()) {
	prev := retryDelay
	retryDelay = d
	return func() { retryDelay = prev }
}

// Internals exercised directly.
var (
	RemoteCommand = remoteCommand
	HostAddr      = hostAddr
	ShellWords    = shellWords
	ShellQuote    = shellQuote
)
