// Package permissions is kite's in-process permission engine: the rule
// grammar, the matcher, compiled checkers, the built-in capability tiers,
// config.yaml profiles, and the audit and prompt hooks on decisions.
//
// A rule reads module.category[(functions:resource)]; see ParseRule. A
// Checker evaluates deny rules first, then allow rules, then its Default.
package permissions

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Rule is one parsed permission pattern.
type Rule struct {
	Module    string   // "*" or an exact module name
	Category  string   // "*" or an exact category name
	Functions []string // nil = any function label
	Resource  string   // glob; "" = any resource
	Raw       string   // the text the rule was parsed from
}

// ParseRule parses module.category[(funcs:resource)] as permissions.md §4
// specifies. Errors keep the spec's reason and add the 1-based column
// (in characters) of the offending text, e.g.
// "unclosed parenthesis in pattern (column 8)". Besides the spec's errors,
// a module or category holding whitespace, a parenthesis or a partial
// wildcard ("fs.del*") is rejected: such a name matches no real call, so
// a rule using it is a typo (and a deny rule using it would block nothing).
func ParseRule(text string) (*Rule, error) {
	r := &Rule{Raw: text}
	head := text
	if open := strings.IndexByte(text, '('); open >= 0 {
		if !strings.HasSuffix(text, ")") {
			if cl := strings.LastIndexByte(text, ')'); cl > open {
				return nil, fmt.Errorf("text after closing parenthesis in pattern (column %d)", column(text, cl+1))
			}
			return nil, fmt.Errorf("unclosed parenthesis in pattern (column %d)", column(text, open))
		}
		head = text[:open]
		inner := text[open+1 : len(text)-1]
		if j := strings.IndexByte(inner, ':'); j >= 0 && isIdentList(inner[:j]) {
			r.Functions = strings.Split(inner[:j], ",")
			r.Resource = inner[j+1:]
		} else {
			r.Resource = inner
		}
	}
	dot := strings.IndexByte(head, '.')
	if dot < 0 {
		return nil, fmt.Errorf("pattern must be module.category, got %q (column 1)", head)
	}
	r.Module, r.Category = head[:dot], head[dot+1:]
	if r.Module == "" {
		return nil, fmt.Errorf("module and category cannot be empty (column 1)")
	}
	if r.Category == "" {
		return nil, fmt.Errorf("module and category cannot be empty (column %d)", column(text, dot+1))
	}
	for i, c := range head {
		part := "module"
		if i > dot {
			part = "category"
		}
		switch {
		case unicode.IsSpace(c):
			return nil, fmt.Errorf("whitespace in %s name (column %d)", part, column(text, i))
		case c == '(' || c == ')':
			return nil, fmt.Errorf("unexpected %q in %s name (column %d)", string(c), part, column(text, i))
		case c == '*' && ((part == "module" && r.Module != "*") || (part == "category" && r.Category != "*")):
			// the grammar has "*" or an exact name: "fs.del*" would be a
			// literal category that blocks or grants nothing
			return nil, fmt.Errorf("partial wildcard in %s name (use \"*\" alone or an exact name) (column %d)", part, column(text, i))
		}
	}
	return r, nil
}

// column is the 1-based character column of byte offset i in text.
func column(text string, i int) int {
	return utf8.RuneCountInString(text[:i]) + 1
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

// String formats the rule as rule text. For any rule ParseRule returned,
// ParseRule(r.String()) yields an equal rule (Raw aside). A hand-built rule
// whose Functions is nil and whose Resource starts with "ident[,ident]:"
// cannot be written in the grammar; its text re-parses with a function list.
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

// MatchResource applies the resource glob of permissions.md §5: "*" and
// "**" match any non-empty resource; then filepath.Match; a syntactically
// bad pattern ending in "**" is a prefix test (other bad patterns match
// nothing); and a pattern with exactly one "**" matches any resource that
// starts with the text left of it and ends with the text right of it (the
// two parts may not overlap).
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
	if strings.Count(pattern, "**") == 1 {
		left, right, _ := strings.Cut(pattern, "**")
		return len(resource) >= len(left)+len(right) &&
			strings.HasPrefix(resource, left) && strings.HasSuffix(resource, right)
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
