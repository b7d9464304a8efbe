// Command footprint-default embeds libkite with the base module set: a
// runtime on loader.NewDefaultRegistry(nil) (the 27 base modules) that
// checks its modules, then runs print(1) (libkite/cmd/footprint). It
// exists to be measured: scripts/check-size.sh reports its size, the
// "loader.NewDefaultRegistry(nil)" footprint tier. On success stdout is
// exactly "1" and stderr gives the module count.
package main

import (
	"github.com/project-starkite/starkite/libkite/cmd/footprint"
	"github.com/project-starkite/starkite/libkite/loader"
)

func main() { footprint.Main("footprint-default", loader.NewDefaultRegistry(nil), "json", "os") }
