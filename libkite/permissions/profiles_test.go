package permissions

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseProfilesErrors(t *testing.T) {
	const builtins = "(deny-all, allow-fs, allow-net, allow-local, allow-all)"
	tests := []struct {
		name    string
		section map[string]any
		err     string
	}{
		{"scalar not a built-in", map[string]any{"ci": "strict"},
			`permissions: profile "ci": "strict" must name a built-in profile ` + builtins},
		{"scalar naming a config profile", map[string]any{"a": map[string]any{}, "b": "a"},
			`permissions: profile "b": "a" must name a built-in profile ` + builtins},
		{"base not a built-in", map[string]any{"release": map[string]any{"base": "ci"}},
			`permissions: base "ci" must name a built-in profile ` + builtins},
		{"base not a string", map[string]any{"release": map[string]any{"base": 3}},
			`permissions: profile "release": base must be a string, got a number`},
		{"unknown key", map[string]any{"ci": map[string]any{"allow": []any{}, "alow": []any{"fs.read"}}},
			`permissions: profile "ci": unknown key "alow" (want base, allow or deny)`},
		{"allow not a list", map[string]any{"ci": map[string]any{"allow": "fs.read"}},
			`permissions: profile "ci": allow must be a list of rules, got a string`},
		{"deny not a list", map[string]any{"ci": map[string]any{"deny": map[string]any{}}},
			`permissions: profile "ci": deny must be a list of rules, got a map`},
		{"rule not a string", map[string]any{"ci": map[string]any{"allow": []any{"fs.read", true}}},
			`permissions: profile "ci": allow[1] must be a string, got a boolean`},
		{"bad allow rule", map[string]any{"ci": map[string]any{"allow": []any{"fs.read(/x"}}},
			`permissions: profile "ci": invalid allow rule "fs.read(/x": unclosed parenthesis in pattern (column 8)`},
		{"bad deny rule", map[string]any{"ci": map[string]any{"base": "allow-all", "deny": []any{"fs"}}},
			`permissions: profile "ci": invalid deny rule "fs": pattern must be module.category, got "fs" (column 1)`},
		{"null profile", map[string]any{"ci": nil},
			`permissions: profile "ci" must be a built-in name or a map with base, allow, deny; got null`},
		{"list profile", map[string]any{"ci": []any{"fs.read"}},
			`permissions: profile "ci" must be a built-in name or a map with base, allow, deny; got a list`},
		{"non-string key", map[string]any{"ci": map[any]any{1: "x"}},
			`permissions: profile "ci": key 1 must be a string, got a number`},
		{"empty name", map[string]any{"": "allow-fs"}, `permissions: profile name cannot be empty`},
		{"first bad profile by name", map[string]any{"b": "x", "a": "y"},
			`permissions: profile "a": "y" must name a built-in profile ` + builtins},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseProfiles(tt.section)
			if err == nil || err.Error() != tt.err {
				t.Fatalf("err = %v\nwant  %s", err, tt.err)
			}
			if p != nil {
				t.Error("profiles returned with an error")
			}
		})
	}
}

func TestProfilesResolve(t *testing.T) {
	section := map[string]any{
		"default": "allow-fs",
		"ci":      map[string]any{"allow": []any{"fs.read($CWD/**)", "os.exec($CWD/bin/**)"}},
		"release": map[string]any{"base": "allow-net", "allow": []any{"k8s.read"}, "deny": []any{"fs.delete"}},
		"locked":  map[string]any{"base": "allow-all", "deny": []string{"os.exec", "k8s.exec"}},
		"empty":   map[string]any{},
		"nulls":   map[string]any{"allow": nil, "deny": nil},
		"yamlany": map[any]any{"base": "deny-all", "allow": []any{"os.env(HOME)"}},
		"allow-fs": map[string]any{ // shadowed by the built-in
			"allow": []any{"*.*"}, "base": "allow-all",
		},
	}
	p, err := ParseProfiles(section)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"allow-fs", "ci", "default", "empty", "locked", "nulls", "release", "yamlany"}; !reflect.DeepEqual(p.Names(), want) {
		t.Errorf("Names = %v", p.Names())
	}
	builtin := func(name string) *Config { c, _ := Builtin(name); return c }
	withRules := func(c *Config, allow, deny []string) *Config {
		c.Allow = append(c.Allow, allow...)
		c.Deny = append(c.Deny, deny...)
		return c
	}
	tests := []struct {
		name string
		p    *Profiles
		want *Config
		err  string
	}{
		{"", p, AllowFS(), ""},
		{"default", p, AllowFS(), ""},
		{"ci", p, &Config{Allow: []string{"fs.read($CWD/**)", "os.exec($CWD/bin/**)"}, Default: DefaultDeny}, ""},
		{"release", p, withRules(AllowNet(), []string{"k8s.read"}, []string{"fs.delete"}), ""},
		{"locked", p, withRules(AllowAll(), nil, []string{"os.exec", "k8s.exec"}), ""},
		{"empty", p, &Config{}, ""},
		{"nulls", p, &Config{}, ""},
		{"yamlany", p, &Config{Allow: []string{"os.env(HOME)"}}, ""},
		{"allow-fs", p, AllowFS(), ""},
		{"deny-all", p, DenyAll(), ""},
		{"allow-all", p, builtin("allow-all"), ""},
		{"nope", p, nil, `permissions: unknown profile "nope" (built-ins: deny-all, allow-fs, allow-net, allow-local, allow-all; config-defined: [allow-fs ci default empty locked nulls release yamlany])`},
		{"Default", p, nil, `permissions: unknown profile "Default" (built-ins: deny-all, allow-fs, allow-net, allow-local, allow-all; config-defined: [allow-fs ci default empty locked nulls release yamlany])`},
		// No config file, or one without a permissions: section.
		{"", nil, DenyAll(), ""},
		{"allow-local", nil, AllowLocal(), ""},
		{"default", nil, nil, `permissions: unknown profile "default" (built-ins: deny-all, allow-fs, allow-net, allow-local, allow-all; config-defined: [])`},
		{"ci", &Profiles{}, nil, `permissions: unknown profile "ci" (built-ins: deny-all, allow-fs, allow-net, allow-local, allow-all; config-defined: [])`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.Resolve(tt.name)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || got != nil {
					t.Fatalf("Resolve = %+v, %v\nwant error %s", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Resolve = %+v\nwant      %+v", got, tt.want)
			}
			if _, err := NewChecker(got); err != nil {
				t.Errorf("resolved profile does not compile: %v", err)
			}
		})
	}
	if (*Profiles)(nil).Names() != nil {
		t.Error("nil Names")
	}
	empty, err := ParseProfiles(nil)
	if err != nil || empty.Names() != nil {
		t.Errorf("ParseProfiles(nil) = %v, %v", empty, err)
	}
}

func TestProfilesFreshAndComposed(t *testing.T) {
	p, err := ParseProfiles(map[string]any{
		"release": map[string]any{"base": "allow-net", "allow": []any{"k8s.read"}, "deny": []any{"fs.delete"}},
		"open":    map[string]any{"base": "allow-all", "deny": []any{"fs.delete($CWD/keep/**)"}},
		"hole":    map[string]any{"base": "allow-fs", "allow": []any{"fs.delete"}},
		"denied":  map[string]any{"base": "allow-fs", "deny": []any{"fs.read(/etc/**)"}, "allow": []any{"fs.read(/etc/hosts)"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := p.Resolve("release")
	a.Allow[0], a.Deny[0] = "x.y", "x.y"
	a.Allow = append(a.Allow, "z.z")
	if b, _ := p.Resolve("release"); b.Allow[0] == "x.y" || b.Deny[0] == "x.y" || b.Allow[len(b.Allow)-1] != "k8s.read" {
		t.Errorf("Resolve results alias: %+v", b)
	}
	if fs, _ := p.Resolve("allow-fs"); len(fs.Deny) != 0 {
		t.Error("resolving a built-in returned a changed copy")
	}

	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	check := func(profile, mod, cat, res string, want bool) {
		t.Helper()
		cfg, err := p.Resolve(profile)
		if err != nil {
			t.Fatal(err)
		}
		if got := mustChecker(t, cfg).Check(mod, cat, "f", res) == nil; got != want {
			t.Errorf("%s: %s.%s(%s) allowed = %v, want %v", profile, mod, cat, res, got, want)
		}
	}
	check("release", "k8s", "read", "", true)    // map's allow added
	check("release", "http", "client", "", true) // base kept
	check("release", "fs", "delete", "", false)  // map's deny
	check("release", "os", "process", "", false) // base Default (deny) kept
	check("open", "os", "process", "/", true)    // allow-all Default kept
	check("open", "fs", "delete", "/x", true)    // deny carves a hole only where it matches
	check("open", "fs", "delete", filepath.Join(cwd, "keep", "a"), false)
	check("hole", "fs", "delete", "/etc/x", true) // allow extends the base
	check("denied", "fs", "read", "/etc/hosts", false)
	check("denied", "fs", "read", "/srv/x", true)
}
