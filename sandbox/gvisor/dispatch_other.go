//go:build !linux

package gvisor

// Dispatch does nothing where gVisor cannot run.
func Dispatch() {}
