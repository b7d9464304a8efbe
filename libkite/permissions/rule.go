// Package permissions is kite's in-process permission engine: the rule
// grammar, the matcher, compiled checkers and the built-in capability tiers.
//
// A rule reads module.category[(functions:resource)]; see ParseRule. A
// Checker evaluates deny rules first, then allow rules, then its Default.
package permissions

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// Rule is one parsed permission pattern.
type Rule struct {
	Module    string   // "*" or an exact module name
	Category  string   // "*" or an exact category name
	Functions []string // nil = any function label
	Resource  string   // glob; "" = any resource
	Raw       string   // the text the rule was parsed from
}

// ParseRule parses module.category[(funcs:resource)]. Errors name the
// problem and the column (1-based) where it was found.
func ParseRule(text string) (*Rule, error) {
	r := &Rule{Raw: text}
	head := text
	if i := strings.IndexByte(text, '('); i >= 0 {
		if !strings.HasSuffix(text, ")") {
			return nil, fmt.Errorf("unclosed parenthesis in pattern (column %d)", i+1)
		}
		head = text[:i]
		inner := text[i+1 : len(text)-1]
		if j := strings.IndexByte(inner, ':'); j >= 0 && isIdentList(inner[:j]) {
			r.Functions = strings.Split(inner[:j], ",")
			r.Resource = inner[j+1:]
		} else {
			r.Resource = inner
		}
	}
	dot := strings.IndexByte(head, '.')
	if dot < 0 {
		return nil, fmt.Errorf("pattern must be module.category, got %q (column %d)", head, len(head)+1)
	}
	r.Module, r.Category = head[:dot], head[dot+1:]
	if r.Module == "" || r.Category == "" {
		col := 1
		if r.Module != "" {
			col = dot + 2
		}
		return nil, fmt.Errorf("module and category cannot be empty (column %d)", col)
	}
	return r, nil
}

func isIdentList(s string) bool {
	if s == "" {
		return false
	}
	for _, id := range strings.Split(s, ",") {
		if !isIdent(id) {
			return false
		}
	}
	return true
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		letter := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// String formats the rule back into its textual form.
func (r *Rule) String() string {
	s := r.Module + "." + r.Category
	if r.Functions == nil && r.Resource == "" {
		return s
	}
	inner := r.Resource
	if r.Functions != nil {
		inner = strings.Join(r.Functions, ",") + ":" + inner
	}
	return s + "(" + inner + ")"
}

// Matches reports whether the rule admits the call.
func (r *Rule) Matches(module, category, function, resource string) bool {
	if r.Module != "*" && r.Module != module {
		return false
	}
	if r.Category != "*" && r.Category != category {
		return false
	}
	if r.Functions != nil && !contains(r.Functions, function) {
		return false
	}
	if r.Resource == "" || resource == "" || MatchResource(r.Resource, resource) {
		return true
	}
	return module == "http" && category == "client" && !strings.Contains(r.Resource, "/") &&
		matchURLHost(r.Resource, resource)
}

// matchURLHost is DECISION P2 (permissions.md §5.2): a slash-free rule
// resource such as "api.example.com" or "*.example.com:8443" is also tested
// against the URL's host and host:port (the scheme's default port when the
// URL names none), so host-only rules behave as the seed implies.
func matchURLHost(pattern, rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return false
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "http", "ws":
			port = "80"
		case "https", "wss":
			port = "443"
		}
	}
	if MatchResource(pattern, host) {
		return true
	}
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + host + "]"
	}
	return port != "" && MatchResource(pattern, host+":"+port)
}

// MatchResource applies the resource glob of spec permissions.md §5:
// "*"/"**" match anything, filepath.Match semantics per segment, and a
// single "**" matches any text between its left and right parts.
func MatchResource(pattern, resource string) bool {
	if pattern == "*" || pattern == "**" {
		return resource != ""
	}
	ok, err := filepath.Match(pattern, resource)
	if err != nil {
		if strings.HasSuffix(pattern, "**") {
			return strings.HasPrefix(resource, strings.TrimSuffix(pattern, "**"))
		}
		return false
	}
	if ok {
		return true
	}
	if parts := strings.Split(pattern, "**"); len(parts) == 2 {
		return len(resource) >= len(parts[0])+len(parts[1]) &&
			strings.HasPrefix(resource, parts[0]) && strings.HasSuffix(resource, parts[1])
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
