// Package sandbox is the dependency-free half of kite's OS-level sandbox
// (spec sandbox.md): the profile model (Profile, Mount, NetworkMode), the
// built-in rungs opaque / net-access / host, custom profiles from
// config.yaml, and the Runner hook a binary fills in when it links a
// sandbox implementation. It never imports gVisor: only the all-in-one
// kite links the runner (module sandbox/gvisor), so embedders of libkite
// and the lean editions stay small.
package sandbox

import (
	"context"
	"fmt"
	"os"
	"runtime"
)

// Environment variables of the sandbox hand-off.
const (
	// InsideEnvVar is "1" in the process that runs inside a sandbox; it
	// stops that process from sandboxing itself again.
	InsideEnvVar = "STARKITE_INSIDE_SANDBOX"
	// EngagementEnvVar names the profile to use when no --sandbox flag is
	// given (the shebang path); empty or unset means no sandbox.
	EngagementEnvVar = "STARKITE_SECURITY_SANDBOX"
)

// Profile names with a fixed meaning.
const (
	DefaultProfileName = "default"    // what bare --sandbox selects
	Opaque             = "opaque"     // loopback only; cwd rw, private /tmp
	NetAccess          = "net-access" // + host network, TLS roots, resolver files
	Host               = "host"       // + $HOME and system binaries, read-only
)

// NetworkMode is how a sandboxed process reaches the network.
type NetworkMode string

const (
	// NetworkHost shares the host's network namespace.
	NetworkHost NetworkMode = "host"
	// NetworkLoopback gives an isolated stack with only a loopback
	// interface: nothing leaves the sandbox.
	NetworkLoopback NetworkMode = "loopback"
)

// MountType is the kind of a mount.
type MountType string

const (
	MountBind  MountType = "bind"  // a host path exposed inside
	MountTmpfs MountType = "tmpfs" // a private in-memory filesystem
)

// MountMode is whether a mount is writable.
type MountMode string

const (
	ReadOnly  MountMode = "ro"
	ReadWrite MountMode = "rw"
)

// Mount is one filesystem the sandboxed process sees. Source is the host
// path (empty for tmpfs); Destination is the path inside.
type Mount struct {
	Source      string
	Destination string
	Type        MountType
	Mode        MountMode
}

// Profile is a resolved sandbox profile: paths are absolute and expanded,
// types and modes are filled in. The zero Profile means "no sandbox".
type Profile struct {
	Name    string
	Network NetworkMode
	Mounts  []Mount
}

// IsZero reports whether p selects no sandbox.
func (p Profile) IsZero() bool { return p.Name == "" }

// ExecSpec describes one sandboxed run. Runners take argv, environment
// and working directory from the live process; the fields are there for
// runners that cannot.
type ExecSpec struct {
	ScriptPath string
	Args       []string
	Env        []string
	Cwd        string
	Profile    Profile
	// ExtraFiles are open host files the inner process receives as file
	// descriptors 3, 4, ... (like os/exec's Cmd.ExtraFiles).
	ExtraFiles []*os.File
	// Debug asks the runner to let its own diagnostics through.
	Debug bool
	// MemoryBytes caps the memory of the whole sandbox (0 = no cap);
	// the gVisor runner sets it as the container's memory cgroup limit.
	MemoryBytes int64
}

// Runner runs the current invocation again inside a sandbox. When Run
// returns, the script has already run inside; the caller must not run it
// again. A non-zero exit of the inner process is an *ExitError.
type Runner interface {
	Run(ctx context.Context, spec ExecSpec) error
}

// Backend is the sandbox implementation of this binary; nil means none is
// linked. Only a binary's own init sets it (the all-in-one kite on Linux).
var Backend Runner

// Available reports whether this binary can sandbox scripts.
func Available() bool { return Backend != nil }

// PlatformError is the error for a sandbox request this binary cannot
// serve (non-Linux, or an edition without a runner).
func PlatformError() error {
	return fmt.Errorf("sandbox not available on %s, use container isolation", runtime.GOOS)
}

// ExitError is the non-zero exit status of the sandboxed process. The
// inner process has already reported its own error; callers exit with
// Code and print nothing more.
type ExitError struct{ Code int }

func (e *ExitError) Error() string {
	return fmt.Sprintf("sandboxed process exited with status %d", e.Code)
}
