// Command kiteai is the AI edition of kite: the shared CLI with the base
// modules plus ai and mcp, and the `mcp serve` command.
package main

import (
	"os"

	aicmd "github.com/project-starkite/starkite/aikite/cmd"
	"github.com/project-starkite/starkite/aikite/loader"
	"github.com/project-starkite/starkite/basekite/cmd"
	"github.com/project-starkite/starkite/basekite/startup"
	"github.com/project-starkite/starkite/basekite/version"
)

func main() {
	startup.Done() // the GC percent of package initialisation ends here
	if version.Edition == "" {
		version.Edition = "ai"
	}
	cmd.NewRegistry = loader.NewAIRegistry
	cmd.RegisterEditionCommands = append(cmd.RegisterEditionCommands, aicmd.Register)
	os.Exit(cmd.Main(os.Args))
}
