//go:build linux

package gvisor

import (
	"reflect"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/project-starkite/starkite/libkite/sandbox"
)

// plumbingMounts are the mounts every spec starts with (sandbox.md §6.4).
func plumbingMounts(hostBinary string) []specs.Mount {
	return []specs.Mount{
		{Destination: "/.kite", Type: "bind", Source: hostBinary, Options: []string{"bind", "ro", "nosuid"}},
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs"},
	}
}

// TestBuildSpec covers the OCI spec of sandbox.md §6.4.
func TestBuildSpec(t *testing.T) {
	const (
		cwd    = "/w/proj"
		exe    = "/usr/local/bin/kite"
		rootfs = "/tmp/starkite-sandbox-kite-x/rootfs"
	)
	tests := []struct {
		name       string
		profile    sandbox.Profile
		wantMounts []specs.Mount // after the plumbing
	}{
		{
			name: "opaque-like",
			profile: sandbox.Profile{Name: "opaque", Network: sandbox.NetworkLoopback, Mounts: []sandbox.Mount{
				{Source: cwd, Destination: cwd, Type: sandbox.MountBind, Mode: sandbox.ReadWrite},
				{Destination: "/tmp", Type: sandbox.MountTmpfs, Mode: sandbox.ReadWrite},
			}},
			wantMounts: []specs.Mount{ // shallower first: /tmp (depth 1) before /w/proj (depth 2)
				{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev"}},
				{Destination: cwd, Type: "bind", Source: cwd, Options: []string{"rbind", "nosuid", "nodev", "rw"}},
			},
		},
		{
			name: "read-only binds, profile order kept at equal depth",
			profile: sandbox.Profile{Name: "net-access", Network: sandbox.NetworkHost, Mounts: []sandbox.Mount{
				{Source: "/etc/resolv.conf", Destination: "/etc/resolv.conf", Type: sandbox.MountBind, Mode: sandbox.ReadOnly},
				{Source: cwd, Destination: cwd, Type: sandbox.MountBind, Mode: sandbox.ReadWrite},
				{Source: "/srv/data", Destination: "/srv/data", Type: sandbox.MountBind, Mode: sandbox.ReadOnly},
				{Source: "/etc/hosts", Destination: "/etc/hosts", Type: sandbox.MountBind, Mode: sandbox.ReadOnly},
			}},
			wantMounts: []specs.Mount{
				{Destination: "/etc/resolv.conf", Type: "bind", Source: "/etc/resolv.conf", Options: []string{"rbind", "nosuid", "nodev", "ro"}},
				{Destination: cwd, Type: "bind", Source: cwd, Options: []string{"rbind", "nosuid", "nodev", "rw"}},
				{Destination: "/srv/data", Type: "bind", Source: "/srv/data", Options: []string{"rbind", "nosuid", "nodev", "ro"}},
				{Destination: "/etc/hosts", Type: "bind", Source: "/etc/hosts", Options: []string{"rbind", "nosuid", "nodev", "ro"}},
			},
		},
		{
			// the host rung lists $CWD before $HOME; a cwd inside $HOME
			// must be mounted after it or the read-only $HOME hides it
			name: "nested: rw cwd inside ro home",
			profile: sandbox.Profile{Name: "host", Network: sandbox.NetworkHost, Mounts: []sandbox.Mount{
				{Source: "/home/u/src/proj", Destination: "/home/u/src/proj", Type: sandbox.MountBind, Mode: sandbox.ReadWrite},
				{Destination: "/tmp", Type: sandbox.MountTmpfs, Mode: sandbox.ReadWrite},
				{Source: "/home/u", Destination: "/home/u", Type: sandbox.MountBind, Mode: sandbox.ReadOnly},
				{Source: "/usr", Destination: "/usr", Type: sandbox.MountBind, Mode: sandbox.ReadOnly},
			}},
			wantMounts: []specs.Mount{
				{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev"}},
				{Destination: "/usr", Type: "bind", Source: "/usr", Options: []string{"rbind", "nosuid", "nodev", "ro"}},
				{Destination: "/home/u", Type: "bind", Source: "/home/u", Options: []string{"rbind", "nosuid", "nodev", "ro"}},
				{Destination: "/home/u/src/proj", Type: "bind", Source: "/home/u/src/proj", Options: []string{"rbind", "nosuid", "nodev", "rw"}},
			},
		},
		{
			name: "bind source differs from destination",
			profile: sandbox.Profile{Name: "custom", Network: sandbox.NetworkLoopback, Mounts: []sandbox.Mount{
				{Source: "/srv/data", Destination: "/data", Type: sandbox.MountBind, Mode: sandbox.ReadOnly},
			}},
			wantMounts: []specs.Mount{
				{Destination: "/data", Type: "bind", Source: "/srv/data", Options: []string{"rbind", "nosuid", "nodev", "ro"}},
			},
		},
		{
			name: "read-only tmpfs",
			profile: sandbox.Profile{Name: "custom", Network: sandbox.NetworkLoopback, Mounts: []sandbox.Mount{
				{Destination: "/scratch", Type: sandbox.MountTmpfs, Mode: sandbox.ReadOnly},
			}},
			wantMounts: []specs.Mount{
				{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "ro"}},
			},
		},
		{
			name:    "no profile mounts",
			profile: sandbox.Profile{Name: "empty", Network: sandbox.NetworkLoopback},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"/.kite", "__runtime__", "run", "s.star"}
			env := []string{"PATH=/bin", "STARKITE_INSIDE_SANDBOX=1"}
			orig := slices.Clone(tc.profile.Mounts)
			s := buildSpec(specInput{
				profile: tc.profile, args: args, env: env, cwd: cwd,
				hostBinary: exe, rootfs: rootfs, uid: 1000, gid: 1001,
			})
			if s.Version != "1.0.0" {
				t.Errorf("Version = %q, want 1.0.0", s.Version)
			}
			p := s.Process
			if p == nil {
				t.Fatal("no Process")
			}
			if p.Terminal {
				t.Error("Process.Terminal = true")
			}
			if !p.NoNewPrivileges {
				t.Error("Process.NoNewPrivileges = false")
			}
			if !reflect.DeepEqual(p.Args, args) || !reflect.DeepEqual(p.Env, env) || p.Cwd != cwd {
				t.Errorf("Process args/env/cwd = %q %q %q, want %q %q %q", p.Args, p.Env, p.Cwd, args, env, cwd)
			}
			if c := p.Capabilities; c == nil || len(c.Bounding) == 0 || len(c.Effective) == 0 || len(c.Permitted) == 0 {
				t.Errorf("Process.Capabilities = %+v, want gVisor's full set", c)
			}
			if s.Root == nil || s.Root.Path != rootfs {
				t.Errorf("Root = %+v, want path %s", s.Root, rootfs)
			}
			if s.Linux == nil {
				t.Fatal("no Linux section")
			}
			var ns []specs.LinuxNamespaceType
			for _, n := range s.Linux.Namespaces {
				ns = append(ns, n.Type)
				if n.Path != "" {
					t.Errorf("namespace %s joins %s; want a fresh one", n.Type, n.Path)
				}
			}
			wantNS := []specs.LinuxNamespaceType{specs.PIDNamespace, specs.MountNamespace, specs.IPCNamespace, specs.UTSNamespace, specs.UserNamespace}
			if !reflect.DeepEqual(ns, wantNS) {
				t.Errorf("namespaces = %v, want %v (no network namespace)", ns, wantNS)
			}
			if want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}; !reflect.DeepEqual(s.Linux.UIDMappings, want) {
				t.Errorf("UIDMappings = %+v, want %+v", s.Linux.UIDMappings, want)
			}
			if want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1001, Size: 1}}; !reflect.DeepEqual(s.Linux.GIDMappings, want) {
				t.Errorf("GIDMappings = %+v, want %+v", s.Linux.GIDMappings, want)
			}
			want := append(plumbingMounts(exe), tc.wantMounts...)
			if !reflect.DeepEqual(tc.profile.Mounts, orig) {
				t.Errorf("buildSpec modified the profile's mounts: %+v", tc.profile.Mounts)
			}
			if !reflect.DeepEqual(s.Mounts, want) {
				t.Errorf("mounts:\n got %+v\nwant %+v", s.Mounts, want)
			}
		})
	}
}
