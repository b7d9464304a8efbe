// Package footprint is the shared body of the footprint programs
// (libkite/cmd/footprint-default, cloudkite/cmd/footprint-cloud,
// aikite/cmd/footprint-ai): each embeds libkite with one registry the way
// an embedder would, so that scripts/check-size.sh can measure what that
// registry costs in binary size. It uses only the standard library, so it
// adds nothing to the measurement but this file.
package footprint

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/project-starkite/starkite/libkite"
)

// Main builds a runtime on reg, checks that the registry holds every
// module in tier and that every registered module is a global of type
// module, then runs print(1). On success stdout is exactly "1" and stderr
// says "<name>: N modules" (check-size reads the count); on failure it
// prints the error and exits 1.
func Main(name string, reg *libkite.Registry, tier ...string) {
	names := reg.Names()
	err := check(names, tier)
	if err == nil {
		var rt *libkite.Runtime
		if rt, err = libkite.New(&libkite.Config{Registry: reg}); err == nil {
			err = rt.Execute(context.Background(), script(names))
			rt.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "%s: %d modules\n", name, len(names))
}

// check reports a tier module missing from names.
func check(names, tier []string) error {
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
