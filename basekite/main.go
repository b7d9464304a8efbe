// Command kitecmd is the base edition of kite: the shared CLI with the
// base module set.
package main

import (
	"os"

	"github.com/project-starkite/starkite/basekite/cmd"
)

func main() { os.Exit(cmd.Main(os.Args)) }
