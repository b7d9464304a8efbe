//go:build wasip1

package guest

import (
	"encoding/json"
	"fmt"
	"unsafe"
)

// pinned keeps every buffer the host holds a pointer to reachable (Go's
// collector does not move objects, so the address stays valid) until
// kite_free releases it.
var pinned = map[uint32][]byte{}

// kiteAlloc is kite_alloc(size i32) i32: a zeroed, pinned buffer of size
// bytes the host writes an argument or callback result into.
//
//go:wasmexport kite_alloc
func kiteAlloc(size uint32) uint32 {
	return pin(make([]byte, max(size, 1))[:size])
}

// kiteFree is kite_free(ptr i32): releases a buffer from kite_alloc or a
// Return* result.
//
//go:wasmexport kite_free
func kiteFree(ptr uint32) { delete(pinned, ptr) }

func pin(b []byte) uint32 {
	p := uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b[:cap(b)]))))
	pinned[p] = b
	return p
}

// view is the argument buffer at (ptr, n): a buffer the host got from
// kite_alloc, looked up rather than trusted as a raw address.
func view(ptr, n uint32) []byte {
	if n == 0 {
		return nil
	}
	b, ok := pinned[ptr]
	if !ok || int(n) > len(b) {
		panic(fmt.Sprintf("kite: no argument buffer of %d bytes at %#x", n, ptr))
	}
	return b[:n]
}

// String returns a copy of the string argument at (ptr, n).
func String(ptr, n uint32) string { return string(view(ptr, n)) }

// Bytes returns a copy of the bytes argument at (ptr, n).
func Bytes(ptr, n uint32) []byte {
	if n == 0 {
		return []byte{}
	}
	return append([]byte(nil), view(ptr, n)...)
}

// DecodeJSON unmarshals the json argument at (ptr, n) into v.
func DecodeJSON(ptr, n uint32, v any) error { return json.Unmarshal(view(ptr, n), v) }

// ReturnString hands s to the host as a string/bytes/json result.
func ReturnString(s string) uint64 {
	if s == "" {
		return 0
	}
	b := make([]byte, len(s))
	copy(b, s)
	return pack(pin(b), len(b))
}

// ReturnBytes hands b to the host as a bytes/string/json result. b must
// not be modified afterwards.
func ReturnBytes(b []byte) uint64 {
	if len(b) == 0 {
		return 0
	}
	return pack(pin(b), len(b))
}

// ReturnJSON marshals v and hands it to the host as a json result; when v
// cannot be marshalled it fails the call (Error) and returns 0.
func ReturnJSON(v any) uint64 {
	b, err := json.Marshal(v)
	if err != nil {
		Error("cannot encode result: " + err.Error())
		return 0
	}
	return ReturnBytes(b)
}

func pack(ptr uint32, n int) uint64 { return uint64(ptr)<<32 | uint64(uint32(n)) }

// take claims a buffer the host allocated for a callback's result.
func take(packed uint64) []byte {
	ptr, n := uint32(packed>>32), uint32(packed)
	b, ok := pinned[ptr]
	delete(pinned, ptr)
	if !ok || ptr == 0 {
		return nil
	}
	return b[:n]
}

// Error makes the current call fail with msg once the function returns;
// the script sees "<plugin>.<function>: msg". The last call wins.
func Error(msg string) { hostError(msg) }

// Errorf is Error with fmt formatting.
func Errorf(format string, args ...any) { Error(fmt.Sprintf(format, args...)) }

// Env returns the host environment variable key ("" when unset).
// Capability env; permission <plugin>.wasm env(key).
func Env(key string) string { return string(take(hostEnv(key))) }

// ReadFile returns the content of the host file path. Capability
// read_file; permission <plugin>.wasm read_file(canonical path). A missing
// file ends the call with the host's error.
func ReadFile(path string) []byte { return take(hostReadFile(path)) }

// WriteFile creates or truncates the host file path (mode 0644) and writes
// data. Capability write_file; permission <plugin>.wasm write_file(path).
func WriteFile(path string, data []byte) {
	hostWriteFile(path, unsafe.Pointer(unsafe.SliceData(data)), uint32(len(data)))
}

// Request is an HTTP request made through the host.
type Request struct {
	Method  string            `json:"method,omitempty"` // default GET
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
}

// Response is the host's answer to a Request.
type Response struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"` // multiple values joined by ", "
	Body    []byte            `json:"-"`
}

// HTTPRequest sends req through the host's HTTP client. Capability
// http_request; permission <plugin>.wasm http_request(url). Transport
// errors end the call; any HTTP status is a Response.
func HTTPRequest(req Request) Response {
	in, err := json.Marshal(req)
	if err != nil {
		panic(err) // a map[string]string and strings always marshal
	}
	var out struct {
		Response
		Body       *string `json:"body"`
		BodyBase64 []byte  `json:"body_base64"`
	}
	if err := json.Unmarshal(take(hostHTTPRequest(string(in))), &out); err != nil {
		panic("kite: malformed http_request response: " + err.Error())
	}
	resp := out.Response
	if out.Body != nil {
		resp.Body = []byte(*out.Body)
	} else {
		resp.Body = out.BodyBase64
	}
	return resp
}

// Get is HTTPRequest for a GET of url.
func Get(url string) Response { return HTTPRequest(Request{Method: "GET", URL: url}) }

//go:wasmimport kite error
func hostError(msg string)

//go:wasmimport kite env
func hostEnv(key string) uint64

//go:wasmimport kite read_file
func hostReadFile(path string) uint64

//go:wasmimport kite write_file
func hostWriteFile(path string, data unsafe.Pointer, n uint32)

//go:wasmimport kite http_request
func hostHTTPRequest(req string) uint64
