// Command kite is the all-in-one edition: the shared CLI with every
// module set, registered in strict mode, and the gVisor sandbox.
package main

import (
	"os"

	aicmd "github.com/project-starkite/starkite/aikite/cmd"
	"github.com/project-starkite/starkite/basekite/cmd"
	"github.com/project-starkite/starkite/basekite/startup"
	"github.com/project-starkite/starkite/basekite/version"
	cloudcmd "github.com/project-starkite/starkite/cloudkite/cmd"
	kiteloader "github.com/project-starkite/starkite/kite/loader"
	"github.com/project-starkite/starkite/sandbox/gvisor"
)

func main() {
	startup.Done() // the GC percent of package initialisation ends here
	// First: gVisor re-executes this binary for its own helper processes
	// and for the kite inside the sandbox (sandbox.md §6.2).
	gvisor.Dispatch()
	gvisor.Register()
	if version.Edition == "" {
		version.Edition = "all"
	}
	cmd.NewRegistry = kiteloader.NewAllRegistry
	cmd.Plugins = wasmPlugins{}
	cmd.RegisterEditionCommands = append(cmd.RegisterEditionCommands, cloudcmd.Register, aicmd.Register)
	os.Exit(cmd.Main(os.Args))
}
