//go:build linux

package gvisor

import (
	"fmt"
	"testing"
)

func roleName(r role) string {
	switch r {
	case roleCLI:
		return "roleCLI"
	case roleInner:
		return "roleInner"
	case roleGvisor:
		return "roleGvisor"
	}
	return fmt.Sprintf("role(%d)", int(r))
}

// TestClassify covers the dispatcher table of sandbox.md §6.2.
func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want role
	}{
		{"inner kite", []string{"/x/kite", "__runtime__", "run", "s.star"}, roleInner},
		{"inner kite, nothing after the marker", []string{"/x/kite", "__runtime__"}, roleInner},
		{"marker not argv[1]", []string{"/x/kite", "run", "__runtime__"}, roleCLI},
		{"runsc-sandbox argv[0]", []string{"runsc-sandbox", "--root=/x", "boot", "--bundle=/b"}, roleGvisor},
		{"runsc-gofer argv[0], path", []string{"/some/dir/runsc-gofer", "--root=/x"}, roleGvisor},
		{"namespace re-exec boot", []string{"/proc/self/exe", "--root=/x", "boot", "--bundle=/b"}, roleGvisor},
		{"namespace re-exec gofer", []string{"/proc/self/exe", "--root=/x", "gofer"}, roleGvisor},
		{"umount", []string{"/x/kite", "umount"}, roleGvisor},
		{"boot after flags", []string{"/x/kite", "--a", "-b=1", "boot"}, roleGvisor},
		{"run first, boot later", []string{"/x/kite", "run", "boot"}, roleCLI},
		{"script named gofer after run", []string{"/x/kite", "exec", "gofer"}, roleCLI},
		{"exec after a flag", []string{"/x/kite", "--debug", "exec", "print(1)"}, roleCLI},
		{"implicit run", []string{"/x/kite", "s.star"}, roleCLI},
		{"only flags", []string{"/x/kite", "--version"}, roleCLI},
		{"argv[0] only", []string{"/x/kite"}, roleCLI},
		{"runsc- not a prefix of the base name", []string{"/runsc-dir/kite", "run", "s.star"}, roleCLI},
		{"empty", []string{}, roleCLI},
		{"nil", nil, roleCLI},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.args); got != tc.want {
				t.Errorf("classify(%q) = %s, want %s", tc.args, roleName(got), roleName(tc.want))
			}
		})
	}
}
