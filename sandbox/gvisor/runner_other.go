//go:build !linux

package gvisor

// Register does nothing where gVisor cannot run: sandbox requests fail
// with sandbox.PlatformError.
func Register() {}
