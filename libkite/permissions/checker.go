package permissions

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Default is what a Checker decides when no rule matches.
type Default int

const (
	DefaultDeny  Default = 0 // the zero value: fail closed
	DefaultAllow Default = 1
)

// Config is a policy as written by a host or a config file.
type Config struct {
	Allow   []string
	Deny    []string
	Default Default
}

// Clone returns a deep copy, so tiers can be extended without aliasing.
func (c *Config) Clone() *Config {
	if c == nil {
		return nil
	}
	return &Config{
		Allow:   append([]string(nil), c.Allow...),
		Deny:    append([]string(nil), c.Deny...),
		Default: c.Default,
	}
}

// Checker is a compiled, immutable policy; safe for concurrent use.
// A nil *Checker allows everything (trust mode).
type Checker struct {
	allow, deny []*Rule
	def         Default
	allowRaw    []string
}

// NewChecker compiles cfg, expanding $CWD and $HOME in rule resources.
// A nil cfg yields a nil checker (trust mode).
func NewChecker(cfg *Config) (*Checker, error) {
	if cfg == nil {
		return nil, nil
	}
	c := &Checker{def: cfg.Default}
	var err error
	if c.allow, err = compile("allow", cfg.Allow); err != nil {
		return nil, err
	}
	if c.deny, err = compile("deny", cfg.Deny); err != nil {
		return nil, err
	}
	for _, r := range c.allow {
		c.allowRaw = append(c.allowRaw, r.Raw)
	}
	return c, nil
}

func compile(kind string, texts []string) ([]*Rule, error) {
	rules := make([]*Rule, 0, len(texts))
	for _, t := range texts {
		r, err := ParseRule(t)
		if err != nil {
			return nil, fmt.Errorf("invalid %s rule %q: %v", kind, t, err)
		}
		r.Resource = expandVars(r.Resource)
		rules = append(rules, r)
	}
	return rules, nil
}

// expandVars replaces $CWD and $HOME; an unavailable value leaves the token
// in place so the rule fails closed.
func expandVars(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	if cwd, err := os.Getwd(); err == nil {
		s = strings.ReplaceAll(s, "$CWD", cwd)
	}
	if home, err := os.UserHomeDir(); err == nil {
		s = strings.ReplaceAll(s, "$HOME", home)
	}
	return s
}

// Check decides one call. It returns nil when allowed, else a *Error.
func (c *Checker) Check(module, category, function, resource string) error {
	if c == nil {
		return nil
	}
	for _, r := range c.deny {
		if r.Matches(module, category, function, resource) {
			return &Error{Module: module, Category: category, Function: function,
				Resource: resource, Reason: "blocked by deny rule: " + r.Raw}
		}
	}
	for _, r := range c.allow {
		if r.Matches(module, category, function, resource) {
			return nil
		}
	}
	if c.def == DefaultAllow {
		return nil
	}
	return &Error{Module: module, Category: category, Function: function, Resource: resource,
		Reason: "no matching allow rule", Allowed: c.allowRaw,
		Suggest: Suggest(module, category, function, resource)}
}

// Error is a permission denial. Its message names the call, the reason and,
// for a missing grant, the lowest built-in tier that would allow it.
type Error struct {
	Module, Category, Function, Resource string
	Reason                               string
	Allowed                              []string // allow patterns in force (missing-grant denials only)
	Suggest                              string   // lowest tier that admits the call
	Origin                               string   // load()ed module whose code made the call
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("permission denied")
	if e.Origin != "" {
		fmt.Fprintf(&b, " (module %q)", e.Origin)
	}
	fmt.Fprintf(&b, ": %s.%s %s", e.Module, e.Category, e.Function)
	if e.Resource != "" {
		b.WriteString("(" + strconv.Quote(e.Resource) + ")")
	}
	b.WriteString(" - " + e.Reason)
	if e.Suggest != "" {
		fmt.Fprintf(&b, "\n  grant %q with --permissions=%s (or higher), or an allow rule in ~/.starkite/config.yaml",
			e.Module+"."+e.Category, e.Suggest)
	}
	return b.String()
}
