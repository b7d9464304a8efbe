package http

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	kitejson "github.com/project-starkite/starkite/libkite/modules/json"
)

// verb returns the URL method sending an HTTP request with method:
//
//	get/delete(*, headers=None, timeout=None, body=None, ...)
//	post/put/patch(body=None, *, headers=None, timeout=None, ...)
//
// Binding is loose (unknown keywords ignored, a non-dict headers ignored);
// the kite keywords are query, json, form, follow_redirects,
// max_redirects, max_body_bytes, insecure, ca_cert, client_cert and
// client_key. Permission http.client:<METHOD>(<url>) on the calling
// thread, and again for every redirect hop.
func verb(method string) libkite.BuiltinFunc {
	bodyPositional := method != "GET" && method != "DELETE"
	return func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		u := fn.Receiver().(*URL)
		name := fn.Name()
		if len(args) > 1 || (len(args) == 1 && !bodyPositional) {
			return nil, fmt.Errorf("%s: unexpected positional arguments", name)
		}
		req, err := bindRequest(name, method, u.raw, args, kwargs)
		if err != nil {
			return nil, err
		}
		if err := libkite.Check(thread, "http", "client", method, libkite.CanonicalURL(req.url)); err != nil {
			return nil, err
		}
		return u.m.send(thread, name, req)
	}
}

// checkScheme refuses anything but http and https up front (file://,
// ftp://, …), with a message that says what is wanted.
func checkScheme(scheme string) error {
	switch strings.ToLower(scheme) {
	case "http", "https":
		return nil
	}
	return fmt.Errorf("unsupported URL scheme %q (want http or https)", scheme)
}

// request is a bound verb call, ready to send.
type request struct {
	method      string
	url         string
	body        *string // nil: no body
	contentType string  // forced Content-Type ("" = none)
	headers     [][2]string
	options     optionSet
}

// bindRequest reads a verb's arguments: the body (positional, body=, json=
// or form=, at most one of them), headers, query (merged into the URL) and
// the client options.
func bindRequest(name, method, raw string, args starlark.Tuple, kwargs []starlark.Tuple) (*request, error) {
	req := &request{method: method, url: raw}
	var body starlark.Value
	if len(args) == 1 {
		body = args[0]
	}
	if v := kwarg(kwargs, "body"); v != nil {
		body = v
	}
	sources := 0
	if body != nil && body != starlark.None {
		sources++
		switch b := body.(type) {
		case starlark.String:
			s := string(b)
			req.body = &s
		case starlark.Bytes:
			s := string(b)
			req.body = &s
		case *starlark.Dict:
			s, err := kitejson.Encode(b, "", "")
			if err != nil {
				return nil, fmt.Errorf("%s: cannot encode body as JSON: %v", name, err)
			}
			req.body, req.contentType = &s, "application/json"
		default:
			s := b.String()
			req.body = &s
		}
	}
	if v := kwarg(kwargs, "json"); v != nil && v != starlark.None {
		sources++
		s, err := kitejson.Encode(v, "", "")
		if err != nil {
			return nil, fmt.Errorf("%s: cannot encode json: %v", name, err)
		}
		req.body, req.contentType = &s, "application/json"
	}
	if v := kwarg(kwargs, "form"); v != nil && v != starlark.None {
		sources++
		d, ok := v.(*starlark.Dict)
		if !ok {
			return nil, fmt.Errorf("%s: form must be a dict, got %s", name, v.Type())
		}
		s, err := formBody(name, d)
		if err != nil {
			return nil, err
		}
		req.body, req.contentType = &s, "application/x-www-form-urlencoded"
	}
	if sources > 1 {
		return nil, fmt.Errorf("%s: only one of body, json and form may be given", name)
	}
	if d, ok := kwarg(kwargs, "headers").(*starlark.Dict); ok {
		req.headers = stringPairs(d)
	}
	if v := kwarg(kwargs, "query"); v != nil && v != starlark.None {
		d, ok := v.(*starlark.Dict)
		if !ok {
			return nil, fmt.Errorf("%s: query must be a dict, got %s", name, v.Type())
		}
		params, err := queryParams(name, "query", d.Items())
		if err != nil {
			return nil, err
		}
		req.url = mergeQuery(req.url, params)
	}
	var err error
	req.options, err = bindOptions(name, "5s", kwargs, false)
	return req, err
}

// send performs req (already permission-checked) and reads the whole
// response. In a dry run nothing is sent.
func (m *module) send(thread *starlark.Thread, name string, req *request) (starlark.Value, error) {
	cs := m.client(thread)
	opts, headers := cs.snapshot()
	dry := libkite.DryRun(thread)
	if err := req.options.apply(thread, name, &opts, dry); err != nil {
		return nil, err
	}
	if dry {
		return dryRunResponse(req.method, req.url), nil
	}
	transport, err := cs.transport(transportKey{tls: opts.tls, maxHeader: opts.maxHeader})
	if err != nil {
		return nil, fmt.Errorf("%s: TLS setup: %v", name, err)
	}
	var body io.Reader
	if req.body != nil {
		body = strings.NewReader(*req.body)
	}
	hreq, err := http.NewRequestWithContext(libkite.Context(thread), req.method, req.url, body)
	if err != nil {
		return nil, err // parse "::bad": missing protocol scheme
	}
	if err := checkScheme(hreq.URL.Scheme); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	hreq.Header = headers
	for _, h := range req.headers {
		hreq.Header.Set(h[0], h[1])
	}
	if req.contentType != "" {
		hreq.Header.Set("Content-Type", req.contentType)
	}
	if host := hreq.Header.Get("Host"); host != "" {
		hreq.Host = host
		hreq.Header.Del("Host")
	}
	client := &http.Client{
		Transport: transport,
		Timeout:   opts.timeout,
		CheckRedirect: func(next *http.Request, via []*http.Request) error {
			if !opts.followRedirects {
				return http.ErrUseLastResponse
			}
			if len(via) > opts.maxRedirects {
				return fmt.Errorf("stopped after %d redirects", opts.maxRedirects)
			}
			if err := checkScheme(next.URL.Scheme); err != nil {
				return err
			}
			return libkite.Check(thread, "http", "client", next.Method, libkite.CanonicalURL(next.URL.String()))
		},
	}
	resp, err := client.Do(hreq)
	if err != nil {
		var pe *libkite.PermissionError
		if errors.As(err, &pe) {
			return nil, pe // a denied redirect hop: the denial itself
		}
		return nil, err // Get "http://…": dial tcp …: connection refused
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, opts.maxBody+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > opts.maxBody {
		return nil, fmt.Errorf("%s: response body exceeds max_body_bytes (%d)", name, opts.maxBody)
	}
	return newResponse(resp.StatusCode, resp.Status, resp.Header, data), nil
}
