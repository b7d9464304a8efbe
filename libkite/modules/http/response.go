package http

import (
	"net/http"
	"sort"
	"strconv"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/internal/builder"
)

// Response is an http.response: status, headers and the whole body.
type Response struct {
	code    int
	status  string
	body    starlark.Bytes
	headers *starlark.Dict
}

var _ starlark.HasAttrs = (*Response)(nil)

// responseMethods is the http.response method table; each has a try_ twin.
var responseMethods = libkite.Methods{
	"get_text":  responseGetText,
	"get_bytes": responseGetBytes,
}

// newResponse builds a response; headers become a dict of canonical name →
// str, or list of str for a repeated header, in name order.
func newResponse(code int, status string, h http.Header, body []byte) *Response {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	headers := starlark.NewDict(len(names))
	for _, k := range names {
		vs := h[k]
		if len(vs) == 1 {
			_ = headers.SetKey(starlark.String(k), starlark.String(vs[0]))
			continue
		}
		list := make([]starlark.Value, len(vs))
		for i, v := range vs {
			list[i] = starlark.String(v)
		}
		_ = headers.SetKey(starlark.String(k), starlark.NewList(list))
	}
	return &Response{code: code, status: status, body: starlark.Bytes(body), headers: headers}
}

// dryRunResponse is what a verb returns in a dry run.
func dryRunResponse(method, url string) *Response {
	return newResponse(200, "200 OK", nil, []byte("[DRY RUN] Would "+method+" "+url))
}

func (r *Response) String() string        { return "http.response(" + strconv.Itoa(r.code) + ")" }
func (r *Response) Type() string          { return "http.response" }
func (r *Response) Freeze()               { r.headers.Freeze() }
func (r *Response) Truth() starlark.Bool  { return true }
func (r *Response) Hash() (uint32, error) { return 0, unhashable("http.response") }

func (r *Response) AttrNames() []string {
	return responseMethods.Names("body", "headers", "status", "status_code")
}

func (r *Response) Attr(name string) (starlark.Value, error) {
	switch name {
	case "status_code":
		return starlark.MakeInt(r.code), nil
	case "status":
		return starlark.String(r.status), nil
	case "body":
		return r.body, nil
	case "headers":
		return r.headers, nil
	}
	return responseMethods.Attr(r, "http.response", name), nil
}

// get_text() → the body as str (bytes as they are, no decoding).
func responseGetText(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := builder.NoArgs(fn, args, kwargs); err != nil {
		return nil, err
	}
	return starlark.String(fn.Receiver().(*Response).body), nil
}

// get_bytes() → the body as bytes.
func responseGetBytes(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := builder.NoArgs(fn, args, kwargs); err != nil {
		return nil, err
	}
	return fn.Receiver().(*Response).body, nil
}
