// Command footprint-min is the smallest program embedding libkite: a
// runtime without a registry (no modules) that runs print(1). It exists
// to be measured: scripts/check-size.sh reports its stripped size, the
// "libkite.New(nil)" footprint tier.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/project-starkite/starkite/libkite"
)

func main() {
	rt, err := libkite.New(nil)
	if err == nil {
		err = rt.Execute(context.Background(), "print(1)")
		rt.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "footprint-min:", err)
		os.Exit(1)
	}
}
