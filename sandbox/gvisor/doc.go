// Package gvisor is kite's OS-level sandbox runner (spec sandbox.md §6):
// on Linux it re-runs the current kite invocation inside gVisor, linked
// into the binary as a Go library, rootless, in an empty root holding only
// the profile's mounts; elsewhere Register does nothing and a sandbox
// request fails with sandbox.PlatformError.
//
// Only the all-in-one kite imports this package, as the first statement
// of main (Dispatch) and to install the runner (Register); the lean
// editions and libkite embedders never link gVisor. Binaries that do must
// be built with CGO_ENABLED=0.
//
// The gvisor.dev/gvisor pin (see go.mod) is a pseudo-version of gVisor's
// Go-compatible "go" branch: its master branch builds only with Bazel.
// Upgrade with `go get gvisor.dev/gvisor@go` and `go mod tidy -e` on Linux
// (the dependencies are Linux-only), then run make test: the sandbox tests
// in kite/ run real gVisor.
package gvisor
