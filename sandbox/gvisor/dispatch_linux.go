//go:build linux

package gvisor

import (
	"os"
	"path/filepath"
	"strings"

	"gvisor.dev/gvisor/runsc/cli"
	"gvisor.dev/gvisor/runsc/cmd"
	"gvisor.dev/gvisor/runsc/cmd/sentry/sentrycmd"
	"gvisor.dev/gvisor/runsc/cmd/util"

	"github.com/project-starkite/starkite/libkite/sandbox"
)

// runtimeMarker is argv[1] of the kite process that runs inside the
// sandbox (sandbox.md §6.2).
const runtimeMarker = "__runtime__"

// Dispatch routes the process roles gVisor re-executes the binary for. It
// must be the first statement of main, before the CLI parses argv (which
// would reject "boot").
//
//   - argv[1] == "__runtime__": this is the kite inside the sandbox; the
//     marker is removed, STARKITE_INSIDE_SANDBOX=1 is set and Dispatch
//     returns so the normal CLI runs.
//   - a gVisor helper (argv[0] named runsc-*, or the first non-flag word is
//     boot, gofer or umount): gVisor's CLI runs with only those three
//     internal commands and exits the process; Dispatch does not return.
//   - otherwise Dispatch returns and the normal CLI runs.
func Dispatch() {
	switch classify(os.Args) {
	case roleInner:
		os.Args = append(os.Args[:1:1], os.Args[2:]...)
		os.Setenv(sandbox.InsideEnvVar, "1")
	case roleGvisor:
		cli.Run(nil, map[util.SubCommand]string{
			new(sentrycmd.Boot):   "internal use only",
			new(cmd.Gofer):        "internal use only",
			new(sentrycmd.Umount): "internal use only",
		}, nil)
		os.Exit(0) // cli.Run exits; never reached
	}
}

type role int

const (
	roleCLI    role = iota // the normal kite command line
	roleInner              // kite inside the sandbox
	roleGvisor             // one of gVisor's own helper processes
)

// classify decides the role of a process from its argv. Gating on argv[0]
// alone is not enough: gVisor's namespace re-exec runs /proc/self/exe
// without the runsc- name.
func classify(args []string) role {
	if len(args) == 0 {
		return roleCLI
	}
	if len(args) > 1 && args[1] == runtimeMarker {
		return roleInner
	}
	if strings.HasPrefix(filepath.Base(args[0]), "runsc-") {
		return roleGvisor
	}
	for _, a := range args[1:] {
		if strings.HasPrefix(a, "-") {
			continue
		}
		switch a {
		case "boot", "gofer", "umount":
			return roleGvisor
		}
		return roleCLI
	}
	return roleCLI
}
