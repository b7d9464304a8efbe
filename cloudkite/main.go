// Command kitecloud is the cloud edition of kite: the shared CLI with the
// base modules plus k8s.
package main

import (
	"os"

	"github.com/project-starkite/starkite/basekite/cmd"
	"github.com/project-starkite/starkite/basekite/startup"
	"github.com/project-starkite/starkite/basekite/version"
	cloudcmd "github.com/project-starkite/starkite/cloudkite/cmd"
	"github.com/project-starkite/starkite/cloudkite/loader"
)

func main() {
	startup.Done() // the GC percent of package initialisation ends here
	if version.Edition == "" {
		version.Edition = "cloud"
	}
	cmd.NewRegistry = loader.NewCloudRegistry
	cmd.RegisterEditionCommands = append(cmd.RegisterEditionCommands, cloudcmd.Register)
	os.Exit(cmd.Main(os.Args))
}
