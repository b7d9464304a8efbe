package wasm

import "github.com/tetratelabs/wazero"

// UseInterpreter switches the engine of plugins compiled from now on
// (benchmarks compare the two); the returned func restores the default.
func UseInterpreter() (restore func()) {
	prev := runtimeConfig
	runtimeConfig = wazero.NewRuntimeConfigInterpreter
	return func() { runtimeConfig = prev }
}
