// Package wasm runs kite extension modules compiled to WebAssembly, on
// wazero. A plugin is a directory holding module.yaml and a .wasm file;
// each manifest function becomes a builtin of a try-enabled module named
// after the plugin (docs/wasm-plugins.md is the author's guide).
//
//	name: textplug              # [A-Za-z_][A-Za-z0-9_]*
//	type: wasm                  # required
//	wasm: textplug.wasm         # default <name>.wasm
//	memory_limit_mb: 64         # 1..4096, default 64
//	timeout: 10s                # per call, default 10s
//	capabilities: [read_file]   # env, read_file, write_file, http_request
//	functions:
//	  - name: add
//	    args: [int, int]                  # positional-only, or
//	  - name: upper
//	    args: [{name: s, type: string}]   # also by keyword
//	    returns: string                   # default none
//
// # API
//
// ReadManifest parses and checks a manifest; Open makes a Plugin (a
// libkite.Module) from a directory without compiling it; Validate is the
// install-time check of code against manifest; IsPlugin, Discover and
// RegisterPlugins find plugins under a root (default ~/.starkite/modules)
// and register them, never replacing a module already registered.
//
// # ABI
//
// Types map to wasm values: int i64, float f64, bool i32 (0/1); string,
// bytes and json (JSON text) are (ptr i32, len i32) parameters and a
// packed i64 ptr<<32|len result; none is no result. Buffers live in guest
// memory: the host calls the guest's kite_alloc(size i32) i32 for each
// argument buffer, calls the function, copies the result out, then
// passes every argument buffer and the result to kite_free(ptr i32) when
// the guest exports it. The guest may import from module "kite":
//
//	error(ptr, len)                      fail the call with this message
//	env(kptr, klen) i64                  capability env
//	read_file(pptr, plen) i64            capability read_file
//	write_file(pptr, plen, dptr, dlen)   capability write_file
//	http_request(ptr, len) i64           capability http_request
//
// Data-returning callbacks allocate their result with kite_alloc and
// return it packed; the guest owns it. http_request takes JSON
// {method, url, headers, body} and answers {status, headers, body} (or
// body_base64 for a body that is not UTF-8). wasi_snapshot_preview1 is
// provided with no preopened directories, environment or arguments;
// clocks are real and sleeps end with the call.
//
// # Security
//
// A call of function f is checked as libkite.Check(thread, <plugin>,
// "wasm", f, ""); a callback as (<plugin>, "wasm", <callback>, resource)
// with the env key, the canonical path or the canonical URL as resource,
// after checking the manifest declares it. A denied, undeclared or
// failing callback unwinds the guest and the call returns that error
// (a *libkite.PermissionError for denials). Each instance's memory is
// capped (memory_limit_mb, WithMemoryLimit) and each call bounded by the
// run's context and the plugin's timeout.
//
// # Runtime
//
// Opening parses the manifest and stats the wasm file; the code is
// compiled on the first call (the error, if any, is kept), through a
// compilation cache in os.UserCacheDir()/kite/wasm. Instances are pooled;
// one that trapped, exited, timed out or had a callback fail is closed,
// so the next call starts fresh. A Go wasip1 reactor runs _initialize when
// instantiated. Failures read "<plugin>.<fn>: wasm trap: …" or "exited
// with code N", "memory limit of N MiB exceeded (…)" when the guest ran
// out of memory, or "plugin call timed out after D", followed by the
// captured guest stdout and stderr (the first KiB and the last 4 KiB).
//
// The engine is wazero's compiler where it exists (amd64, arm64), else
// its interpreter. wazero links both engines whatever is chosen, so the
// choice does not change binary size (the package adds about 2.9 MB to
// a stripped kite binary, 2.5 MB of it wazero). Measured on the test
// plugin (3.4 MB Go wasip1 module; 2-core amd64): first call 0.93 s
// compiling, 47 ms from the disk cache (interpreter: 110 ms either way);
// a warm call of add 1.3 µs (1.6 µs), of upper 13 µs (73 µs), of a
// json sum 41 µs (313 µs); a fresh instance (Go runtime start) 7 ms.
//
// Package guest holds the Go guest side: the kite_alloc/kite_free
// exports and the callback wrappers.
package wasm
