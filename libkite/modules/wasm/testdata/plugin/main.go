// Command plugin is the test plugin of package wasm: one export per ABI
// type and per failure mode. Build: GOOS=wasip1 GOARCH=wasm go build
// -buildmode=c-shared -o textplug.wasm .
package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/project-starkite/starkite/libkite/modules/wasm/guest"
)

//go:wasmexport add
func add(a, b int64) int64 { return a + b }

//go:wasmexport scale
func scale(x float64) float64 { return x * 2.5 }

//go:wasmexport neg
func neg(b bool) bool { return !b }

//go:wasmexport upper
func upper(ptr, n uint32) uint64 {
	return guest.ReturnString(strings.ToUpper(guest.String(ptr, n)))
}

//go:wasmexport rev
func rev(ptr, n uint32) uint64 {
	b := guest.Bytes(ptr, n)
	slices.Reverse(b)
	return guest.ReturnBytes(b)
}

// sum adds up a list of numbers; any other value comes back under "echo".
//
//go:wasmexport sum
func sum(ptr, n uint32) uint64 {
	var v any
	if err := guest.DecodeJSON(ptr, n, &v); err != nil {
		guest.Error(err.Error())
		return 0
	}
	list, ok := v.([]any)
	if !ok {
		return guest.ReturnJSON(map[string]any{"echo": v})
	}
	total := 0.0
	for _, x := range list {
		f, ok := x.(float64)
		if !ok {
			guest.Errorf("sum: %v is not a number", x)
			return 0
		}
		total += f
	}
	return guest.ReturnJSON(total)
}

//go:wasmexport crash
func crash() { panic("boom") }

var hoard [][]byte

// grow allocates and touches mb MiB, one MiB at a time, and keeps it.
//
//go:wasmexport grow
func grow(mb int64) int64 {
	for range mb {
		b := make([]byte, 1<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		hoard = append(hoard, b)
	}
	n := int64(len(hoard))
	hoard = nil
	return n
}

var spins int64

//go:wasmexport spin
func spin() {
	for {
		spins++
	}
}

// quit says goodbye on stdout and exits the process (proc_exit).
//
//go:wasmexport quit
func quit(code int64) {
	fmt.Println("bye")
	os.Exit(int(code))
}

//go:wasmexport fail
func fail(ptr, n uint32) { guest.Error(guest.String(ptr, n)) }

//go:wasmexport read
func read(ptr, n uint32) uint64 {
	return guest.ReturnBytes(guest.ReadFile(guest.String(ptr, n)))
}

// getenv takes its argument as a Go string: the buffer is valid for the
// call, which is all it needs.
//
//go:wasmexport getenv
func getenv(key string) uint64 { return guest.ReturnString(guest.Env(key)) }

//go:wasmexport fetch
func fetch(ptr, n uint32) uint64 {
	resp := guest.Get(guest.String(ptr, n))
	if resp.Status != 200 {
		guest.Errorf("fetch: status %d", resp.Status)
		return 0
	}
	return guest.ReturnString(resp.Headers["X-Test"] + ":" + string(resp.Body))
}

//go:wasmexport write
func write(pptr, plen, dptr, dlen uint32) {
	guest.WriteFile(guest.String(pptr, plen), guest.Bytes(dptr, dlen))
}

func main() {}
