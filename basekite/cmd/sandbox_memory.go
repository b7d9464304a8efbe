package cmd

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/project-starkite/starkite/libkite"
)

// --max-memory under --sandbox: the outer kite asks the runner to put the
// whole sandbox in a memory cgroup of that size (sandbox.ExecSpec
// MemoryBytes). Whether the cgroup was really set only shows inside: gVisor
// then reports the limit as the sandbox's MemTotal. The inner kite checks
// that, and either leaves memory to the cgroup or keeps its own heap
// watchdog and says why.

// memTotal is MemTotal of /proc/meminfo in bytes (0 when unreadable).
func memTotal() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb * 1024
		}
	}
	return 0
}

// sandboxMemoryEnforcer says how --max-memory is enforced in a sandboxed
// run: by the sandbox's cgroup (watchdog off), or — with the reason — by
// the heap watchdog. limit is the cap, inside the MemTotal the sandbox
// reports and host the host's.
func sandboxMemoryEnforcer(limit int64, inside, host uint64) (enforcer, note string) {
	switch {
	case limit <= 0:
		return "", ""
	case inside == 0 || host == 0:
		return "", "the sandbox's memory cgroup could not be verified (no /proc/meminfo)"
	case inside < host && inside <= uint64(limit):
		return fmt.Sprintf("gVisor sandbox: a host memory cgroup of %s around the whole sandbox (gVisor's kernel, file proxy and the script); the kernel kills the sandbox above it",
			humanize.IBytes(uint64(limit))), ""
	case uint64(limit) >= host:
		return "", "the limit is not below the host's memory, so the sandbox's cgroup adds nothing"
	default:
		return "", "the sandbox's memory cgroup could not be set (rootless without cgroup delegation?)"
	}
}

// applySandboxMemory sets cfg's memory enforcer inside a sandbox and
// returns the note to add to the report when the watchdog stays.
func applySandboxMemory(cfg *libkite.Config, h *handedSession) string {
	if h == nil || cfg.Limits.MaxMemoryBytes <= 0 {
		return ""
	}
	enforcer, note := sandboxMemoryEnforcer(cfg.Limits.MaxMemoryBytes, memTotal(), h.HostMemTotal)
	cfg.MemoryEnforcer = enforcer
	return note
}
