// Command kitecmd is the base edition of kite: the shared CLI with the
// base module set.
package main

import (
	"os"

	"github.com/project-starkite/starkite/basekite/cmd"
	"github.com/project-starkite/starkite/basekite/startup"
)

func main() {
	startup.Done() // the GC percent of package initialisation ends here
	os.Exit(cmd.Main(os.Args))
}
