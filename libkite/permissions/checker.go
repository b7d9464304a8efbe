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
	hooks       *hookState // nil: no audit, no prompt (the fast path)
}

// NewChecker compiles cfg, expanding $CWD and $HOME in rule resources.
// A nil cfg yields a nil checker (trust mode).
func NewChecker(cfg *Config) (*Checker, error) {
	if cfg == nil {
		return nil, nil
	}
	return compileConfig(cfg, currentEnv())
}

func compileConfig(cfg *Config, e env) (*Checker, error) {
	c := &Checker{def: cfg.Default}
	var err error
	if c.allow, err = compile("allow", cfg.Allow, e); err != nil {
		return nil, err
	}
	if c.deny, err = compile("deny", cfg.Deny, e); err != nil {
		return nil, err
	}
	for _, r := range c.allow {
		c.allowRaw = append(c.allowRaw, r.Raw)
	}
	return c, nil
}

func compile(kind string, texts []string, e env) ([]*Rule, error) {
	rules := make([]*Rule, 0, len(texts))
	for _, t := range texts {
		r, err := ParseRule(t)
		if err != nil {
			return nil, fmt.Errorf("invalid %s rule %q: %v", kind, t, err)
		}
		r.Resource = e.expand(r.Resource)
		rules = append(rules, r)
	}
	return rules, nil
}

// env holds the values of $CWD and $HOME; "" means unavailable.
type env struct{ cwd, home string }

func currentEnv() env {
	var e env
	if cwd, err := os.Getwd(); err == nil {
		e.cwd = cwd
	}
	if home, err := os.UserHomeDir(); err == nil {
		e.home = home
	}
	return e
}

// expand replaces $CWD and $HOME; an unavailable value leaves the token in
// place so the rule fails closed.
func (e env) expand(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	if e.cwd != "" {
		s = strings.ReplaceAll(s, "$CWD", e.cwd)
	}
	if e.home != "" {
		s = strings.ReplaceAll(s, "$HOME", e.home)
	}
	return s
}

// outcome is which step of the evaluation (permissions.md §3) decided.
type outcome uint8

const (
	byDenyRule outcome = iota
	byAllowRule
	byDefaultAllow
	byDefaultDeny
)

func (o outcome) allowed() bool { return o == byAllowRule || o == byDefaultAllow }

// eval runs permissions.md §3 and returns the deciding step and rule.
func (c *Checker) eval(module, category, function, resource string) (outcome, *Rule) {
	for _, r := range c.deny {
		if r.Matches(module, category, function, resource) {
			return byDenyRule, r
		}
	}
	for _, r := range c.allow {
		if r.Matches(module, category, function, resource) {
			return byAllowRule, r
		}
	}
	if c.def == DefaultAllow {
		return byDefaultAllow, nil
	}
	return byDefaultDeny, nil
}

// Check decides one call. It returns nil when allowed, else a *Error.
// With hooks (WithHooks) it is Decide without the Decision; without hooks
// it neither reads the clock nor allocates unless it denies.
func (c *Checker) Check(module, category, function, resource string) error {
	if c == nil {
		return nil
	}
	if c.hooks != nil {
		_, err := c.Decide(module, category, function, resource)
		return err
	}
	o, r := c.eval(module, category, function, resource)
	if o.allowed() {
		return nil
	}
	return c.denial(o, r, module, category, function, resource)
}

// Allows reports whether the policy admits the call. It ignores hooks:
// no prompt, no audit, no remembered prompt answers. A nil checker allows.
func (c *Checker) Allows(module, category, function, resource string) bool {
	if c == nil {
		return true
	}
	o, _ := c.eval(module, category, function, resource)
	return o.allowed()
}

// denial builds the error for a denying outcome.
func (c *Checker) denial(o outcome, r *Rule, module, category, function, resource string) error {
	if o == byDenyRule {
		return &Error{Module: module, Category: category, Function: function,
			Resource: resource, Reason: "blocked by deny rule: " + r.Raw}
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
		higher := " (or higher)"
		if e.Suggest == "allow-all" { // nothing is higher
			higher = ""
		}
		fmt.Fprintf(&b, "\n  grant %q with --permissions=%s%s, or an allow rule in ~/.starkite/config.yaml",
			e.Module+"."+e.Category, e.Suggest, higher)
	}
	return b.String()
}
