// Command kitecloud is the cloud edition of kite: the shared CLI with the
// base modules plus k8s.
package main

import (
	"os"

	"github.com/project-starkite/starkite/basekite/cmd"
	"github.com/project-starkite/starkite/basekite/version"
	"github.com/project-starkite/starkite/cloudkite/loader"
)

func main() {
	if version.Edition == "" {
		version.Edition = "cloud"
	}
	cmd.NewRegistry = loader.NewCloudRegistry
	os.Exit(cmd.Main(os.Args))
}
