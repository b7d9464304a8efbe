package cmd

import (
	"strings"
	"testing"
)

func TestSandboxMemoryEnforcer(t *testing.T) {
	const mib = 1 << 20
	host := uint64(24 << 30)
	for _, tc := range []struct {
		name         string
		limit        int64
		inside       uint64
		wantEnforcer string
		wantNote     string
	}{
		{"no limit", 0, host, "", ""},
		{"cgroup set", 512 * mib, 512 * mib, "a host memory cgroup of 512 MiB", ""},
		{"cgroup not set", 512 * mib, host, "", "could not be set"},
		{"limit above the host", 64 << 30, host, "", "not below the host's memory"},
		{"no meminfo", 512 * mib, 0, "", "could not be verified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enforcer, note := sandboxMemoryEnforcer(tc.limit, tc.inside, host)
			if tc.wantEnforcer == "" && enforcer != "" || !strings.Contains(enforcer, tc.wantEnforcer) {
				t.Errorf("enforcer = %q, want %q", enforcer, tc.wantEnforcer)
			}
			if tc.wantNote == "" && note != "" || !strings.Contains(note, tc.wantNote) {
				t.Errorf("note = %q, want %q", note, tc.wantNote)
			}
		})
	}
	if memTotal() == 0 {
		t.Error("memTotal() = 0 on Linux")
	}
}
