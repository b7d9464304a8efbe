// Command footprint-ai embeds libkite with the AI module set: a runtime on
// ailoader.NewAIRegistry(nil) (the 27 base modules + ai + mcp) that checks
// its modules, then runs print(1) (libkite/cmd/footprint). It exists to be
// measured: scripts/check-size.sh reports its size, the
// "ailoader.NewAIRegistry(nil)" footprint tier. On success stdout is
// exactly "1" and stderr gives the module count.
package main

import (
	ailoader "github.com/project-starkite/starkite/aikite/loader"
	"github.com/project-starkite/starkite/libkite/cmd/footprint"
)

func main() { footprint.Main("footprint-ai", ailoader.NewAIRegistry(nil), "ai", "json", "mcp") }
