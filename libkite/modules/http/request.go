package http

import (
	"net/http"
	"sort"
	"strings"

	"go.starlark.net/starlark"
)

// Request is the http.request a handler and its middleware receive. Its
// attributes are read-only; the params, query and headers dicts are fresh
// per request and may be changed (locally) by the script.
type Request struct {
	method, path, url, body, remoteAddr, host string
	params, query, headers                    *starlark.Dict
}

var _ starlark.HasAttrs = (*Request)(nil)

var requestAttrs = []string{"body", "headers", "host", "method", "params", "path", "query", "remote_addr", "url"}

// newRequest converts an incoming request; names are the route's wildcard
// names (a wildcard that matched "" is left out of params).
func newRequest(hr *http.Request, body []byte, names []string) *Request {
	scheme := "http"
	if hr.TLS != nil {
		scheme = "https"
	}
	params := starlark.NewDict(len(names))
	for _, n := range names {
		if v := hr.PathValue(n); v != "" {
			_ = params.SetKey(starlark.String(n), starlark.String(v))
		}
	}
	q := hr.URL.Query()
	query := starlark.NewDict(len(q))
	for _, k := range sortedKeys(q) {
		vs := q[k]
		if len(vs) == 1 {
			_ = query.SetKey(starlark.String(k), starlark.String(vs[0]))
			continue
		}
		list := make([]starlark.Value, len(vs))
		for i, v := range vs {
			list[i] = starlark.String(v)
		}
		_ = query.SetKey(starlark.String(k), starlark.NewList(list))
	}
	headers := starlark.NewDict(len(hr.Header))
	for _, k := range sortedKeys(hr.Header) {
		_ = headers.SetKey(starlark.String(k), starlark.String(strings.Join(hr.Header[k], ", ")))
	}
	return &Request{
		method:     hr.Method,
		path:       hr.URL.Path,
		url:        scheme + "://" + hr.Host + hr.RequestURI,
		body:       string(body),
		remoteAddr: hr.RemoteAddr,
		host:       hr.Host,
		params:     params,
		query:      query,
		headers:    headers,
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (r *Request) String() string        { return "http.request(" + r.method + " " + r.path + ")" }
func (r *Request) Type() string          { return "http.request" }
func (r *Request) Truth() starlark.Bool  { return true }
func (r *Request) Hash() (uint32, error) { return 0, unhashable("http.request") }
func (r *Request) AttrNames() []string   { return append([]string(nil), requestAttrs...) }

func (r *Request) Freeze() {
	r.params.Freeze()
	r.query.Freeze()
	r.headers.Freeze()
}

func (r *Request) Attr(name string) (starlark.Value, error) {
	switch name {
	case "method":
		return starlark.String(r.method), nil
	case "path":
		return starlark.String(r.path), nil
	case "url":
		return starlark.String(r.url), nil
	case "body":
		return starlark.String(r.body), nil
	case "remote_addr":
		return starlark.String(r.remoteAddr), nil
	case "host":
		return starlark.String(r.host), nil
	case "params":
		return r.params, nil
	case "query":
		return r.query, nil
	case "headers":
		return r.headers, nil
	}
	return nil, nil
}
