// Package guest is the plugin side of kite's WebAssembly ABI, for Go
// plugins built with GOOS=wasip1 GOARCH=wasm -buildmode=c-shared (the
// helpers exist only under the wasip1 build tag; this file lets host
// tooling see the package).
//
// Importing the package exports the two allocation entry points the host
// needs, kite_alloc and kite_free, backed by a table of pinned buffers, so
// a plugin's main package holds only its own functions:
//
//	package main
//
//	import (
//		"strings"
//
//		"github.com/project-starkite/starkite/libkite/modules/wasm/guest"
//	)
//
//	//go:wasmexport upper
//	func upper(ptr, n uint32) uint64 {
//		return guest.ReturnString(strings.ToUpper(guest.String(ptr, n)))
//	}
//
//	func main() {}
//
// Arguments of type string, bytes and json arrive as (ptr, len uint32) —
// read them with String, Bytes or DecodeJSON, which copy — and results of
// those types leave as one uint64 made by ReturnString, ReturnBytes or
// ReturnJSON. int is int64, float is float64 and bool is bool.
//
// Error fails the current call with a message; Env, ReadFile, WriteFile
// and HTTPRequest are the capability callbacks, usable when module.yaml
// lists them and the script's permissions allow the call. A denied or
// failing callback ends the whole call on the host side: it does not
// return to the plugin.
package guest
