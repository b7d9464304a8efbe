// Command footprint-cloud embeds libkite with the cloud module set: a
// runtime on cloudloader.NewCloudRegistry(nil) (the 27 base modules + k8s)
// that checks every registered module is a global of type module, then
// runs print(1). It exists to be measured: scripts/check-size.sh reports
// its size, the "cloudloader.NewCloudRegistry(nil)" footprint tier. On
// success stdout is exactly "1" and stderr gives the module count.
package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	cloudloader "github.com/project-starkite/starkite/cloudkite/loader"
	"github.com/project-starkite/starkite/libkite"
)

// tier names modules the registry must hold: probes of the tier.
var tier = []string{"json", "k8s"}

func main() {
	reg := cloudloader.NewCloudRegistry(nil)
	names := reg.Names()
	err := check(names)
	if err == nil {
		var rt *libkite.Runtime
		if rt, err = libkite.New(&libkite.Config{Registry: reg}); err == nil {
			err = rt.Execute(context.Background(), script(names))
			rt.Close()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "footprint-cloud:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "footprint-cloud: %d modules\n", len(names))
}

// check reports a tier module missing from names.
func check(names []string) error {
	for _, t := range tier {
		if !slices.Contains(names, t) {
			return fmt.Errorf("registry lacks module %q (has %s)", t, strings.Join(names, " "))
		}
	}
	return nil
}

// script prints 1 only when every name is a global of type module (an
// undefined name already fails to compile).
func script(names []string) string {
	return fmt.Sprintf(`names = %q.split(" ")
mods = [%s]
bad = [names[i] for i, m in enumerate(mods) if type(m) != "module"]
if bad:
    fail("not modules: %%s" %% " ".join(bad))
print(1)
`, strings.Join(names, " "), strings.Join(names, ", "))
}
