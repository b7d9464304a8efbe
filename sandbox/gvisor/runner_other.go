//go:build !linux

// Package gvisor is kite's Linux sandbox; elsewhere it links nothing and
// the sandbox stays unavailable.
package gvisor

// Register does nothing where gVisor cannot run: sandbox requests fail
// with sandbox.PlatformError.
func Register() {}
