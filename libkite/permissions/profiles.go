package permissions

import (
	"fmt"
	"sort"
	"strings"
)

// Profiles are the named permission profiles of a config.yaml `permissions:` section.
type Profiles struct {
	byName map[string]profile
	names  []string // sorted
}

// profile is one validated entry: a scalar is a profile with only a base.
type profile struct {
	base        string // built-in name; "" = allow-list only
	allow, deny []string
}

// builtinList is the built-in names as error messages spell them.
var builtinList = strings.Join(BuiltinNames, ", ")

// ParseProfiles validates a decoded `permissions:` section (permissions.md
// §6.3) as yaml.v3 decodes it into map[string]any. A value is a string (the
// name of a built-in profile) or a map with the optional keys base (a
// built-in name), allow and deny (lists of rule strings; null = empty).
// Any other key or type is an error naming the profile and the key, and
// every rule is parsed here, so a bad rule fails with its profile's name.
// A nil or empty section yields an empty, usable *Profiles.
func ParseProfiles(section map[string]any) (*Profiles, error) {
	p := &Profiles{byName: make(map[string]profile, len(section))}
	for name := range section {
		p.names = append(p.names, name)
	}
	sort.Strings(p.names)
	for _, name := range p.names {
		if name == "" {
			return nil, fmt.Errorf("permissions: profile name cannot be empty")
		}
		pr, err := parseProfile(name, section[name])
		if err != nil {
			return nil, err
		}
		p.byName[name] = pr
	}
	return p, nil
}

func parseProfile(name string, v any) (profile, error) {
	var pr profile
	switch v := v.(type) {
	case string:
		if _, ok := Builtin(v); !ok {
			return pr, fmt.Errorf("permissions: profile %q: %q must name a built-in profile (%s)", name, v, builtinList)
		}
		pr.base = v
		return pr, nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			var err error
			switch k {
			case "base":
				b, ok := v[k].(string)
				if !ok {
					return pr, fmt.Errorf("permissions: profile %q: base must be a string, got %s", name, typeName(v[k]))
				}
				if _, ok := Builtin(b); !ok {
					return pr, fmt.Errorf("permissions: base %q must name a built-in profile (%s)", b, builtinList)
				}
				pr.base = b
			case "allow":
				pr.allow, err = ruleList(name, k, v[k])
			case "deny":
				pr.deny, err = ruleList(name, k, v[k])
			default:
				err = fmt.Errorf("permissions: profile %q: unknown key %q (want base, allow or deny)", name, k)
			}
			if err != nil {
				return pr, err
			}
		}
		return pr, nil
	case map[any]any: // yaml.v3 decodes a map with a non-string key this way
		m := make(map[string]any, len(v))
		for k, x := range v {
			s, ok := k.(string)
			if !ok {
				return pr, fmt.Errorf("permissions: profile %q: key %v must be a string, got %s", name, k, typeName(k))
			}
			m[s] = x
		}
		return parseProfile(name, m)
	}
	return pr, fmt.Errorf("permissions: profile %q must be a built-in name or a map with base, allow, deny; got %s", name, typeName(v))
}

// ruleList validates the allow or deny list of a profile.
func ruleList(name, key string, v any) ([]string, error) {
	var items []any
	switch v := v.(type) {
	case nil:
		return nil, nil
	case []any:
		items = v
	case []string:
		for _, s := range v {
			items = append(items, s)
		}
	default:
		return nil, fmt.Errorf("permissions: profile %q: %s must be a list of rules, got %s", name, key, typeName(v))
	}
	rules := make([]string, 0, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok {
			return nil, fmt.Errorf("permissions: profile %q: %s[%d] must be a string, got %s", name, key, i, typeName(it))
		}
		if _, err := ParseRule(s); err != nil {
			return nil, fmt.Errorf("permissions: profile %q: invalid %s rule %q: %v", name, key, s, err)
		}
		rules = append(rules, s)
	}
	return rules, nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64, uint64, float64:
		return "a number"
	case []any, []string:
		return "a list"
	case map[string]any, map[any]any:
		return "a map"
	}
	return fmt.Sprintf("%T", v)
}

// Names returns the config-defined profile names, sorted. Nil-safe.
func (p *Profiles) Names() []string {
	if p == nil || len(p.names) == 0 {
		return nil
	}
	return append([]string(nil), p.names...)
}

// Resolve selects a profile as permissions.md §6.2 specifies: "" → the
// config profile "default" if defined, else deny-all; a built-in name →
// that built-in (a config entry of the same name is shadowed); a config
// name → that profile composed as §6.3 (scalar = exactly the built-in; map
// without base = its allow and deny lists, Default deny; map with base =
// the built-in's Allow and Deny extended by the map's, its Default kept).
// Each call returns a fresh *Config. A nil receiver (no config file) knows
// the built-ins only.
func (p *Profiles) Resolve(name string) (*Config, error) {
	if cfg, ok := Builtin(name); ok {
		return cfg, nil
	}
	var pr profile
	var ok bool
	if p != nil {
		pr, ok = p.byName[nameOrDefault(name)]
	}
	switch {
	case ok:
		return pr.config(), nil
	case name == "":
		return DenyAll(), nil
	}
	return nil, fmt.Errorf("permissions: unknown profile %q (built-ins: %s; config-defined: %v)", name, builtinList, p.Names())
}

func nameOrDefault(name string) string {
	if name == "" {
		return "default"
	}
	return name
}

func (pr profile) config() *Config {
	cfg := &Config{Default: DefaultDeny}
	if pr.base != "" {
		cfg, _ = Builtin(pr.base) // validated by ParseProfiles; fresh copy
	}
	cfg.Allow = append(cfg.Allow, pr.allow...)
	cfg.Deny = append(cfg.Deny, pr.deny...)
	return cfg
}
