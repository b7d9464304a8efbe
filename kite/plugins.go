package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/wasm"
)

// wasmPlugins is the all-in-one kite's plugin support: WASM modules
// installed in ~/.starkite/modules (docs/wasm-plugins.md). Only this
// edition links wazero (about 3 MB); the others refuse WASM installs.
type wasmPlugins struct{}

func (wasmPlugins) Register(r *libkite.Registry) []error { return wasm.RegisterPlugins(r, "") }

func (wasmPlugins) Validate(ctx context.Context, dir string) error {
	_, err := wasm.Validate(ctx, dir)
	return err
}

// Describe prints the manifest's limits, capabilities and signatures.
func (wasmPlugins) Describe(w io.Writer, dir string) error {
	man, err := wasm.ReadManifest(dir)
	if err != nil {
		return err
	}
	caps := "none"
	if len(man.Capabilities) > 0 {
		caps = strings.Join(man.Capabilities, ", ")
	}
	fmt.Fprintf(w, "Entry point: %s\nMemory:      %d MiB per instance\nTimeout:     %s per call\nCapabilities: %s\nFunctions:\n",
		man.Wasm, man.MemoryLimitMB, man.Timeout, caps)
	for _, f := range man.Functions {
		args := make([]string, len(f.Args))
		for i, a := range f.Args {
			args[i] = string(a.Type)
			if a.Name != "" {
				args[i] = a.Name + " " + args[i]
			}
		}
		fmt.Fprintf(w, "  %s.%s(%s) -> %s\n", man.Name, f.Name, strings.Join(args, ", "), f.Returns)
	}
	return nil
}
