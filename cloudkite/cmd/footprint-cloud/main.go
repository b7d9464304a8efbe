// Command footprint-cloud embeds libkite with the cloud module set: a
// runtime on cloudloader.NewCloudRegistry(nil) (the 27 base modules + k8s)
// that checks every registered module is a global of type module, then
// runs print(1). It exists to be measured: scripts/check-size.sh reports
// its size, the "cloudloader.NewCloudRegistry(nil)" footprint tier. On
// success stdout is exactly "1" and stderr gives the module count.
package main

import (
	cloudloader "github.com/project-starkite/starkite/cloudkite/loader"
	"github.com/project-starkite/starkite/libkite/cmd/footprint"
)

func main() { footprint.Main("footprint-cloud", cloudloader.NewCloudRegistry(nil), "json", "k8s") }
