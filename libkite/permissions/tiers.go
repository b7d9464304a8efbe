package permissions

import "sync"

// The built-in tiers, each a superset of the one before (permissions.md §7).
var (
	fsRules    = []string{"fs.read", "fs.write($CWD/**)", "fs.delete($CWD/**)", "os.env", "io.prompt", "sql.open(sqlite:**)"}
	netRules   = []string{"http.client", "ssh.connect", "ssh.transfer", "sql.open(postgres:**)", "sql.open(mysql:**)"}
	localRules = []string{"http.server", "os.exec($CWD/**)", "ai.generate", "k8s.read", "k8s.write", "k8s.config", "mcp.client", "mcp.server"}
)

// BuiltinNames lists the tiers from least to most privileged.
var BuiltinNames = []string{"deny-all", "allow-fs", "allow-net", "allow-local", "allow-all"}

// DenyAll allows compute, print, log and load() only.
func DenyAll() *Config { return &Config{Default: DefaultDeny} }

// AllowFS reads any file, writes and deletes under $CWD, reads env, prompts.
func AllowFS() *Config { return &Config{Allow: join(fsRules)} }

// AllowNet adds the HTTP client and SSH.
func AllowNet() *Config { return &Config{Allow: join(fsRules, netRules)} }

// AllowLocal adds serving, $CWD-scoped exec, AI, k8s (no exec) and MCP.
func AllowLocal() *Config { return &Config{Allow: join(fsRules, netRules, localRules)} }

// AllowAll allows every operation.
func AllowAll() *Config { return &Config{Allow: []string{"*.*"}, Default: DefaultAllow} }

// AllowAllExcept is AllowAll with deny rules layered on top.
func AllowAllExcept(deny ...string) *Config {
	c := AllowAll()
	c.Deny = append(c.Deny, deny...)
	return c
}

// Builtin returns a fresh copy of the named tier.
func Builtin(name string) (*Config, bool) {
	switch name {
	case "deny-all":
		return DenyAll(), true
	case "allow-fs":
		return AllowFS(), true
	case "allow-net":
		return AllowNet(), true
	case "allow-local":
		return AllowLocal(), true
	case "allow-all":
		return AllowAll(), true
	}
	return nil, false
}

func join(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// Suggest names the lowest tier above deny-all whose actual rules admit the
// exact call; allow-all when none of the narrower ones do.
func Suggest(module, category, function, resource string) string {
	tiers := suggestTiers()
	for i, c := range tiers {
		if c.Allows(module, category, function, resource) {
			return BuiltinNames[1+i]
		}
	}
	return "allow-all"
}

// tierCache holds allow-fs, allow-net and allow-local compiled for one
// ($CWD, $HOME), so a denial compiles them only when either changes.
var tierCache struct {
	sync.Mutex
	env   env
	tiers []*Checker
}

func suggestTiers() []*Checker {
	e := currentEnv()
	tierCache.Lock()
	defer tierCache.Unlock()
	if tierCache.tiers == nil || tierCache.env != e {
		tiers := make([]*Checker, 0, 3)
		for _, name := range BuiltinNames[1:4] {
			cfg, _ := Builtin(name)
			c, err := compileConfig(cfg, e)
			if err != nil {
				panic("permissions: built-in tier " + name + ": " + err.Error())
			}
			tiers = append(tiers, c)
		}
		tierCache.env, tierCache.tiers = e, tiers
	}
	return tierCache.tiers
}
