package libkite

// Test hooks for the external test package.

func FormatVariablesForTest(rt *Runtime) string { return rt.formatVariables() }

// SetOSExitForTest replaces the process exit used after SIGINT/SIGTERM.
func SetOSExitForTest(fn func(int)) (restore func()) {
	old := osExit
	osExit = fn
	return func() { osExit = old }
}

// SignalSubscribedForTest reports whether the OS signal subscription is held.
func SignalSubscribedForTest() bool {
	signalHub.mu.Lock()
	defer signalHub.mu.Unlock()
	return signalHub.ch != nil
}
