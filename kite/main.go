// Command kite is the all-in-one edition: the shared CLI with every
// module set, registered in strict mode.
package main

import (
	"os"

	"github.com/project-starkite/starkite/basekite/cmd"
	"github.com/project-starkite/starkite/basekite/version"
	kiteloader "github.com/project-starkite/starkite/kite/loader"
)

func main() {
	if version.Edition == "" {
		version.Edition = "all"
	}
	cmd.NewRegistry = kiteloader.NewAllRegistry
	os.Exit(cmd.Main(os.Args))
}
