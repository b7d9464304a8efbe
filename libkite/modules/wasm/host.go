package wasm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/project-starkite/starkite/libkite"
)

// hostModuleName is the import module of kite's host functions.
const hostModuleName = "kite"

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// kiteHostModule defines the "kite" host functions:
//
//	error(ptr, len)                      the call fails with this message
//	env(kptr, klen) i64                  capability env
//	read_file(pptr, plen) i64            capability read_file
//	write_file(pptr, plen, dptr, dlen)   capability write_file
//	http_request(ptr, len) i64           capability http_request
//
// i64 results are packed ptr<<32|len buffers allocated with kite_alloc.
func kiteHostModule(rt wazero.Runtime) wazero.HostModuleBuilder {
	b := rt.NewHostModuleBuilder(hostModuleName)
	def := func(name string, fn api.GoModuleFunc, params, results []api.ValueType) {
		b.NewFunctionBuilder().WithGoModuleFunction(fn, params, results).WithName(name).Export(name)
	}
	def("error", hostError, []api.ValueType{i32, i32}, nil)
	def(CapEnv, hostEnv, []api.ValueType{i32, i32}, []api.ValueType{i64})
	def(CapReadFile, hostReadFile, []api.ValueType{i32, i32}, []api.ValueType{i64})
	def(CapWriteFile, hostWriteFile, []api.ValueType{i32, i32, i32, i32}, nil)
	def(CapHTTPRequest, hostHTTPRequest, []api.ValueType{i32, i32}, []api.ValueType{i64})
	return b
}

// hostCall returns the call a callback runs in; outside one (a guest
// calling back from somewhere unexpected) it aborts the guest.
func hostCall(ctx context.Context) *call {
	c := callOf(ctx)
	if c == nil {
		panic(errors.New("kite host function called outside a plugin call"))
	}
	return c
}

// fail records err as the call's result and unwinds the guest: a
// callback failure cannot be caught or ignored by the plugin.
func (c *call) fail(err error) {
	if c.abort == nil {
		c.abort = err
	}
	panic(err)
}

// str reads a (ptr, len) string argument of callback fn.
func (c *call) str(mod api.Module, fn string, ptr, n uint64) string {
	b, err := readMemory(mod, uint32(ptr), uint32(n))
	if err != nil {
		c.fail(fmt.Errorf("%s: %w", fn, err))
	}
	return string(b)
}

// allow admits capability callback fn on resource: declared in the
// manifest, then allowed by the thread's permissions.
func (c *call) allow(fn, resource string) {
	name := c.p.man.Name
	if !c.p.man.HasCapability(fn) {
		c.fail(&libkite.PermissionError{Module: name, Category: "wasm", Function: fn, Resource: resource,
			Reason: fmt.Sprintf("capability %q is not declared in the plugin's %s", fn, ManifestFile)})
	}
	if err := libkite.Check(c.thread, name, "wasm", fn, resource); err != nil {
		c.fail(err)
	}
}

// give copies data into the guest (kite_alloc) and returns it packed.
func (c *call) give(ctx context.Context, mod api.Module, fn string, data []byte) uint64 {
	if limit := uint64(c.p.pages) * pageSize; uint64(len(data)) >= limit {
		c.fail(fmt.Errorf("%s: %d bytes do not fit in the plugin's memory limit of %s", fn, len(data), pagesText(c.p.pages)))
	}
	alloc := c.inst.allocator(mod)
	ptr, err := allocate(ctx, mod, alloc, data)
	if err != nil {
		if alloc == nil {
			c.fail(fmt.Errorf("%s: %w", fn, err))
		}
		panic(err) // the guest died while allocating: reported like any trap
	}
	return uint64(ptr)<<32 | uint64(len(data))
}

func hostError(ctx context.Context, mod api.Module, stack []uint64) {
	c := hostCall(ctx)
	c.guestErr = c.str(mod, "error", stack[0], stack[1])
	c.hasGuestErr = true
}

func hostEnv(ctx context.Context, mod api.Module, stack []uint64) {
	c := hostCall(ctx)
	key := c.str(mod, CapEnv, stack[0], stack[1])
	c.allow(CapEnv, key)
	stack[0] = c.give(ctx, mod, CapEnv, []byte(os.Getenv(key)))
}

func hostReadFile(ctx context.Context, mod api.Module, stack []uint64) {
	c := hostCall(ctx)
	path := c.str(mod, CapReadFile, stack[0], stack[1])
	canon := libkite.CanonicalPath(path)
	c.allow(CapReadFile, canon)
	if fi, err := os.Stat(canon); err == nil && uint64(fi.Size()) >= uint64(c.p.pages)*pageSize {
		c.fail(fmt.Errorf("%s: %s (%d bytes) does not fit in the plugin's memory limit of %s", CapReadFile, path, fi.Size(), pagesText(c.p.pages)))
	}
	data, err := os.ReadFile(canon)
	if err != nil {
		c.fail(fmt.Errorf("%s: %w", CapReadFile, asGiven(err, path)))
	}
	stack[0] = c.give(ctx, mod, CapReadFile, data)
}

func hostWriteFile(ctx context.Context, mod api.Module, stack []uint64) {
	c := hostCall(ctx)
	path := c.str(mod, CapWriteFile, stack[0], stack[1])
	data, err := readMemory(mod, uint32(stack[2]), uint32(stack[3]))
	if err != nil {
		c.fail(fmt.Errorf("%s: %w", CapWriteFile, err))
	}
	canon := libkite.CanonicalPath(path)
	c.allow(CapWriteFile, canon)
	if libkite.DryRun(c.thread) {
		return
	}
	if err := os.WriteFile(canon, data, 0o644); err != nil {
		c.fail(fmt.Errorf("%s: %w", CapWriteFile, asGiven(err, path)))
	}
}

// asGiven names the path as the plugin wrote it in an OS error.
func asGiven(err error, path string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: path, Err: pe.Err}
	}
	return err
}

// httpRequest and httpResponse are the JSON documents of http_request.
type httpRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    string            `json:"body"`
}

type httpResponse struct {
	Status     int               `json:"status"`
	Headers    map[string]string `json:"headers"`
	Body       *string           `json:"body,omitempty"`        // UTF-8 bodies
	BodyBase64 []byte            `json:"body_base64,omitempty"` // any other body
	DryRun     bool              `json:"dry_run,omitempty"`
}

// maxHTTPBody caps a response body (and the guest's memory caps it too).
const maxHTTPBody = 64 << 20

func hostHTTPRequest(ctx context.Context, mod api.Module, stack []uint64) {
	c := hostCall(ctx)
	raw := c.str(mod, CapHTTPRequest, stack[0], stack[1])
	var req httpRequest
	if err := json.Unmarshal([]byte(raw), &req); err != nil {
		c.fail(fmt.Errorf("%s: malformed request JSON: %w", CapHTTPRequest, err))
	}
	if req.Method == "" {
		req.Method = http.MethodGet
	}
	hreq, err := http.NewRequestWithContext(ctx, req.Method, req.URL, strings.NewReader(req.Body))
	if err != nil {
		c.fail(fmt.Errorf("%s: %w", CapHTTPRequest, err))
	}
	if s := hreq.URL.Scheme; s != "http" && s != "https" {
		c.fail(fmt.Errorf("%s: unsupported URL scheme %q (want http or https)", CapHTTPRequest, s))
	}
	c.allow(CapHTTPRequest, libkite.CanonicalURL(req.URL))
	var resp httpResponse
	if libkite.DryRun(c.thread) {
		resp = httpResponse{Headers: map[string]string{}, DryRun: true}
	} else {
		resp = c.send(hreq, req.Headers)
	}
	out, err := json.Marshal(resp)
	if err != nil {
		c.fail(fmt.Errorf("%s: %w", CapHTTPRequest, err))
	}
	stack[0] = c.give(ctx, mod, CapHTTPRequest, out)
}

// send performs hreq with the call's context; every redirect hop is
// checked against the plugin's http_request permission too.
func (c *call) send(hreq *http.Request, headers map[string]string) httpResponse {
	for k, v := range headers {
		hreq.Header.Set(k, v)
	}
	if host := hreq.Header.Get("Host"); host != "" {
		hreq.Host = host
		hreq.Header.Del("Host")
	}
	client := &http.Client{CheckRedirect: func(next *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return libkite.Check(c.thread, c.p.man.Name, "wasm", CapHTTPRequest, libkite.CanonicalURL(next.URL.String()))
	}}
	r, err := client.Do(hreq)
	if err != nil {
		var pe *libkite.PermissionError
		if errors.As(err, &pe) {
			c.fail(pe)
		}
		c.fail(fmt.Errorf("%s: %w", CapHTTPRequest, err))
	}
	defer r.Body.Close()
	limit := min(maxHTTPBody, int64(c.p.pages)*pageSize)
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		c.fail(fmt.Errorf("%s: reading the response: %w", CapHTTPRequest, err))
	}
	if int64(len(body)) > limit {
		c.fail(fmt.Errorf("%s: response body larger than %d bytes", CapHTTPRequest, limit))
	}
	resp := httpResponse{Status: r.StatusCode, Headers: make(map[string]string, len(r.Header))}
	for k, vs := range r.Header {
		resp.Headers[k] = strings.Join(vs, ", ")
	}
	if utf8.Valid(body) {
		s := string(body)
		resp.Body = &s
	} else {
		resp.BodyBase64 = body
	}
	return resp
}
