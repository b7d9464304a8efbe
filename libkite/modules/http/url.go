package http

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// URL is an http.url value: a URL string (used as given) with one method
// per HTTP verb and the kite builders join and with_query.
type URL struct {
	m   *module
	raw string
}

var _ starlark.HasAttrs = (*URL)(nil)

// urlMethods is the http.url method table; each has a try_ twin.
var urlMethods = libkite.Methods{
	"get":        verb("GET"),
	"post":       verb("POST"),
	"put":        verb("PUT"),
	"patch":      verb("PATCH"),
	"delete":     verb("DELETE"),
	"join":       urlJoin,
	"with_query": urlWithQuery,
}

func (u *URL) String() string        { return "http.url(" + strconv.Quote(u.raw) + ")" }
func (u *URL) Type() string          { return "http.url" }
func (u *URL) Freeze()               {}
func (u *URL) Truth() starlark.Bool  { return u.raw != "" }
func (u *URL) Hash() (uint32, error) { return 0, unhashable("http.url") }
func (u *URL) AttrNames() []string   { return urlMethods.Names() }

func (u *URL) Attr(name string) (starlark.Value, error) {
	return urlMethods.Attr(u, "http.url", name), nil
}

// newURL is http.url(url, query=None): exactly one positional str; other
// keywords are ignored. No validation unless query is given.
func (m *module) newURL(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	v, err := libkite.OnePositional(fn, args, " (url)")
	if err != nil {
		return nil, err
	}
	s, ok := v.(starlark.String)
	if !ok {
		return nil, fmt.Errorf("%s: url must be a string, got %s", fn.Name(), v.Type())
	}
	raw := string(s)
	if q := kwarg(kwargs, "query"); q != nil && q != starlark.None {
		d, ok := q.(*starlark.Dict)
		if !ok {
			return nil, fmt.Errorf("%s: query must be a dict, got %s", fn.Name(), q.Type())
		}
		params, err := queryParams(fn.Name(), "query", d.Items())
		if err != nil {
			return nil, err
		}
		raw = mergeQuery(raw, params)
	}
	return &URL{m: m, raw: raw}, nil
}

// urlJoin is url.join(*segments): each segment (str or int) path-escaped
// and appended after a single slash; empty segments are skipped, "." and
// ".." refused. The query and fragment are kept.
func urlJoin(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	u := fn.Receiver().(*URL)
	if len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: unexpected keyword argument %s", fn.Name(), kwargs[0][0])
	}
	base, rest := splitURL(u.raw)
	var b strings.Builder
	b.WriteString(strings.TrimRight(base, "/"))
	for i, a := range args {
		var seg string
		switch a := a.(type) {
		case starlark.String:
			seg = string(a)
		case starlark.Int:
			seg = a.String()
		default:
			return nil, fmt.Errorf("%s: segment %d must be a string or int, got %s", fn.Name(), i, a.Type())
		}
		switch seg {
		case "":
			continue
		case ".", "..":
			return nil, fmt.Errorf("%s: invalid path segment %q", fn.Name(), seg)
		}
		b.WriteByte('/')
		b.WriteString(url.PathEscape(seg))
	}
	b.WriteString(rest)
	return &URL{m: u.m, raw: b.String()}, nil
}

// urlWithQuery is url.with_query(query=None, **params): a new URL whose
// query has the given keys replaced (keyword params win over query's).
func urlWithQuery(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	u := fn.Receiver().(*URL)
	var items []starlark.Tuple
	if len(args) > 1 {
		return nil, fmt.Errorf("%s: expected at most 1 positional argument (query), got %d", fn.Name(), len(args))
	}
	var q starlark.Value = starlark.None
	if len(args) == 1 {
		q = args[0]
	}
	var params []starlark.Tuple
	for _, kv := range kwargs {
		if string(kv[0].(starlark.String)) == "query" && len(args) == 0 {
			q = kv[1]
			continue
		}
		params = append(params, kv)
	}
	if q != starlark.None {
		d, ok := q.(*starlark.Dict)
		if !ok {
			return nil, fmt.Errorf("%s: query must be a dict, got %s", fn.Name(), q.Type())
		}
		items = append(items, d.Items()...)
	}
	items = append(items, params...)
	merged, err := queryParams(fn.Name(), "query", items)
	if err != nil {
		return nil, err
	}
	return &URL{m: u.m, raw: mergeQuery(u.raw, merged)}, nil
}

// splitURL cuts raw before its query or fragment: "http://h/p?q#f" →
// "http://h/p", "?q#f".
func splitURL(raw string) (base, rest string) {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		return raw[:i], raw[i:]
	}
	return raw, ""
}

// param is one query (or form) key with its values; nil values (None)
// removes the key.
type param struct {
	key    string
	values []string
}

// queryParams converts dict items to params: keys str, values str, int,
// float, bool or None, or a list/tuple of the scalars (repeated keys).
func queryParams(name, what string, items []starlark.Tuple) ([]param, error) {
	out := make([]param, 0, len(items))
	for _, kv := range items {
		k, ok := kv[0].(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: %s keys must be strings, got %s", name, what, kv[0].Type())
		}
		p := param{key: string(k)}
		bad := func(v starlark.Value) error {
			return fmt.Errorf("%s: %s value for %q must be str, int, float, bool or a list of them, got %s",
				name, what, p.key, v.Type())
		}
		switch v := kv[1].(type) {
		case starlark.NoneType:
		case *starlark.List, starlark.Tuple:
			p.values = []string{}
			it := starlark.Iterate(v)
			var x starlark.Value
			for it.Next(&x) {
				s, ok := scalarText(x)
				if !ok {
					it.Done()
					return nil, bad(x)
				}
				p.values = append(p.values, s)
			}
			it.Done()
		default:
			s, ok := scalarText(v)
			if !ok {
				return nil, bad(v)
			}
			p.values = []string{s}
		}
		out = append(out, p)
	}
	return out, nil
}

// scalarText renders a query value: str as is, int and float as str()
// does, bool as true/false.
func scalarText(v starlark.Value) (string, bool) {
	switch v := v.(type) {
	case starlark.String:
		return string(v), true
	case starlark.Int, starlark.Float:
		return v.String(), true
	case starlark.Bool:
		if v {
			return "true", true
		}
		return "false", true
	}
	return "", false
}

// mergeQuery replaces the keys of params in raw's query (a key with no
// values, from None, is removed). With no params raw is returned as is;
// otherwise the query is re-encoded with its keys sorted. The rest of the
// string is kept exactly.
func mergeQuery(raw string, params []param) string {
	if len(params) == 0 {
		return raw
	}
	base, rest := splitURL(raw)
	query, frag := "", ""
	if strings.HasPrefix(rest, "?") {
		query = rest[1:]
	} else {
		frag = rest
	}
	if i := strings.IndexByte(query, '#'); i >= 0 {
		query, frag = query[:i], query[i:]
	}
	values, _ := url.ParseQuery(query) // malformed pairs are dropped, as url.Query does
	for _, p := range params {
		if p.values == nil {
			values.Del(p.key)
		} else {
			values[p.key] = p.values
		}
	}
	if enc := values.Encode(); enc != "" {
		return base + "?" + enc + frag
	}
	return base + frag
}

// formBody encodes a form= dict as application/x-www-form-urlencoded.
func formBody(name string, d *starlark.Dict) (string, error) {
	params, err := queryParams(name, "form", d.Items())
	if err != nil {
		return "", err
	}
	values := url.Values{}
	for _, p := range params {
		if p.values != nil {
			values[p.key] = p.values
		}
	}
	return values.Encode(), nil
}
