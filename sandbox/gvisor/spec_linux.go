//go:build linux

package gvisor

import (
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gvisor.dev/gvisor/runsc/specutils"

	"github.com/project-starkite/starkite/libkite/sandbox"
)

// kitePath is where the kite binary appears inside the sandbox.
const kitePath = "/.kite"

// specInput is what the OCI spec is built from.
type specInput struct {
	profile    sandbox.Profile
	args       []string // inner argv, kitePath first
	env        []string
	cwd        string
	hostBinary string // the kite executable on the host
	rootfs     string
	uid, gid   uint32
	memory     int64 // memory cgroup limit in bytes, 0 = none
}

// buildSpec returns the OCI spec of sandbox.md §6.4: an empty root with
// only the kite binary, /proc, /dev and the profile's mounts; the host
// user mapped to root of a fresh user namespace; no network namespace
// entry (rootless cannot join one; runsc's network setting decides).
func buildSpec(in specInput) *specs.Spec {
	caps := specutils.AllCapabilities() // virtual: they exist only in the sentry
	s := &specs.Spec{
		Version: "1.0.0",
		Process: &specs.Process{
			Terminal:        false,
			Args:            in.args,
			Env:             in.env,
			Cwd:             in.cwd,
			Capabilities:    caps,
			NoNewPrivileges: true,
		},
		Root: &specs.Root{Path: in.rootfs},
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace},
				{Type: specs.MountNamespace},
				{Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace},
				{Type: specs.UserNamespace},
			},
			UIDMappings: []specs.LinuxIDMapping{{HostID: in.uid, ContainerID: 0, Size: 1}},
			GIDMappings: []specs.LinuxIDMapping{{HostID: in.gid, ContainerID: 0, Size: 1}},
		},
		Mounts: []specs.Mount{
			{Destination: kitePath, Type: "bind", Source: in.hostBinary, Options: []string{"bind", "ro", "nosuid"}},
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs"},
		},
	}
	if in.memory > 0 {
		// runsc puts the sandbox (sentry, gofer and the script) in a host
		// cgroup with this limit, and reports it as the sandbox's MemTotal
		limit := in.memory
		s.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
	}
	for _, m := range byDepth(in.profile.Mounts) {
		switch m.Type {
		case sandbox.MountTmpfs:
			opts := []string{"nosuid", "nodev"}
			if m.Mode == sandbox.ReadOnly { // a custom profile may ask for it
				opts = append(opts, string(sandbox.ReadOnly))
			}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: m.Destination, Type: "tmpfs", Source: "tmpfs", Options: opts})
		default:
			s.Mounts = append(s.Mounts, specs.Mount{Destination: m.Destination, Type: "bind", Source: m.Source,
				Options: []string{"rbind", "nosuid", "nodev", string(m.Mode)}})
		}
	}
	return s
}

// byDepth orders mounts so that a mount comes after every mount of a
// directory above it (stable otherwise): $CWD inside a read-only $HOME
// must be mounted after $HOME, or $HOME would hide it.
func byDepth(mounts []sandbox.Mount) []sandbox.Mount {
	sorted := slices.Clone(mounts)
	slices.SortStableFunc(sorted, func(a, b sandbox.Mount) int {
		return depth(a.Destination) - depth(b.Destination)
	})
	return sorted
}

func depth(p string) int {
	if p == "/" {
		return 0
	}
	return strings.Count(filepath.Clean(p), "/")
}
