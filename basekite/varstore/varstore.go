// Package varstore is the CLI's tiered variable store: the values scripts
// read with var_str() and friends, and the parsed config.yaml files.
//
// Lookup is per key; the first tier holding the exact key answers
// (cli.md §4.1), highest first:
//
//  1. CLI       --var key=value (and Set)
//  2. files     --var-file f.yaml, later files win
//  3. config    config: section of ~/.starkite/config.yaml, then ./config.yaml
//  4. env       STARKITE_VAR_<NAME>
//
// The CLI loads the tiers in the order env → config defaults → var files →
// CLI, but because every tier has its own map the load order does not
// change precedence. *Vars implements libkite.VarStore and libkite.VarLister
// and is safe for concurrent use.
package varstore

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/project-starkite/starkite/libkite"
)

// EnvPrefix is the prefix of environment variables read by LoadFromEnv.
const EnvPrefix = "STARKITE_VAR_"

// Config file sections (Gen B schema, cli.md §4.3).
const (
	SectionConfig      = "config"
	SectionPermissions = "permissions"
	SectionSandbox     = "sandbox"
)

// Reserved keys of the config: section; they are not variables.
const (
	KeyProject       = "project"
	KeyDefaults      = "defaults"
	KeyProviders     = "providers"
	KeyActiveEdition = "active_edition"
)

// Tier identifies where a variable's value came from.
type Tier int

const (
	TierNone   Tier = iota // not found
	TierCLI                // --var / Set
	TierFile               // --var-file
	TierConfig             // config.yaml config: section
	TierEnv                // STARKITE_VAR_*
)

func (t Tier) String() string {
	switch t {
	case TierCLI:
		return "cli"
	case TierFile:
		return "var-file"
	case TierConfig:
		return "config"
	case TierEnv:
		return "env"
	}
	return "none"
}

// Vars is the tiered variable store plus the non-variable parts of the
// config files.
//
// The exported config fields are written by LoadDefaults/LoadConfigFile;
// read them directly only once loading is finished, or use the Get*
// accessors, which lock and return copies.
type Vars struct {
	mu sync.RWMutex

	cli    map[string]any
	files  map[string]any
	config map[string]any
	env    map[string]any

	// ProjectConfig is config.project (later file replaces it whole).
	ProjectConfig map[string]any
	// RuntimeDefaults is config.defaults (later file replaces it whole).
	RuntimeDefaults map[string]any
	// ProviderDefaults is config.providers, merged per provider name.
	ProviderDefaults map[string]map[string]any
	// ActiveEdition is config.active_edition ("" = base).
	ActiveEdition string
	// Permissions is the raw permissions: section (named profiles). A
	// later file's section replaces an earlier one wholesale.
	Permissions map[string]any
	// PermissionsFile is the config file Permissions came from.
	PermissionsFile string
	// Sandbox is the raw sandbox: section, merged per profile name with
	// the later (local) file winning.
	Sandbox map[string]any
	// ConfigFiles lists the config files read, in load order.
	ConfigFiles []string
}

var (
	_ libkite.VarStore  = (*Vars)(nil)
	_ libkite.VarLister = (*Vars)(nil)
)

// New returns an empty store.
func New() *Vars {
	return &Vars{
		cli:    map[string]any{},
		files:  map[string]any{},
		config: map[string]any{},
		env:    map[string]any{},
	}
}

// ---- loading ---------------------------------------------------------

// LoadFromEnv loads the env tier from STARKITE_VAR_* variables of the
// process environment.
func (v *Vars) LoadFromEnv() { v.LoadFromEnviron(os.Environ()) }

// LoadFromEnviron loads the env tier from a "KEY=value" list (os.Environ
// format). STARKITE_VAR_DB_HOST=x becomes db.host = "x".
func (v *Vars) LoadFromEnviron(environ []string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, kv := range environ {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(k, EnvPrefix) {
			continue
		}
		name := EnvName(strings.TrimPrefix(k, EnvPrefix))
		if name == "" {
			continue
		}
		v.env[name] = val
	}
}

// EnvName maps the part of an environment variable after STARKITE_VAR_ to
// a variable name: lower-cased, every '_' replaced by '.'.
func EnvName(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, "_", "."))
}

// LoadDefaults loads ~/.starkite/config.yaml, then ./config.yaml. Missing
// files are skipped.
func (v *Vars) LoadDefaults() error {
	home, _ := os.UserHomeDir()
	cwd, _ := os.Getwd()
	return v.LoadDefaultsFrom(home, cwd)
}

// LoadDefaultsFrom is LoadDefaults with explicit directories: it loads
// <home>/.starkite/config.yaml, then <cwd>/config.yaml. An empty
// directory is skipped, as is a missing file.
func (v *Vars) LoadDefaultsFrom(home, cwd string) error {
	for _, p := range DefaultConfigPaths(home, cwd) {
		if err := v.loadConfig(p, false); err != nil {
			return err
		}
	}
	return nil
}

// DefaultConfigPaths returns the config files LoadDefaultsFrom reads, in
// order (home first).
func DefaultConfigPaths(home, cwd string) []string {
	var paths []string
	if home != "" {
		paths = append(paths, filepath.Join(home, ".starkite", "config.yaml"))
	}
	if cwd != "" {
		paths = append(paths, filepath.Join(cwd, "config.yaml"))
	}
	return paths
}

// LoadConfigFile loads one Gen B config.yaml on top of what is loaded
// already; unlike LoadDefaults the file must exist.
func (v *Vars) LoadConfigFile(path string) error { return v.loadConfig(path, true) }

func (v *Vars) loadConfig(path string, mustExist bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		if !mustExist && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("failed to read %s: %w", path, pathless(err))
	}
	cf, err := parseConfig(data)
	if err != nil {
		return fmt.Errorf("failed to parse %s: %w", path, err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.applyConfig(path, cf)
	return nil
}

// configFile is a validated config.yaml.
type configFile struct {
	vars          map[string]any // flattened user variables
	project       map[string]any
	hasProject    bool
	defaults      map[string]any
	hasDefaults   bool
	providers     map[string]map[string]any
	activeEdition *string
	permissions   map[string]any
	hasPerms      bool
	sandbox       map[string]any
}

var sectionNames = []string{SectionConfig, SectionPermissions, SectionSandbox}

func parseConfig(data []byte) (*configFile, error) {
	top, err := decodeMapping(data)
	if err != nil {
		return nil, err
	}
	var unknown []string
	for k := range top {
		if k != SectionConfig && k != SectionPermissions && k != SectionSandbox {
			unknown = append(unknown, fmt.Sprintf("%q", k))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		noun := "key"
		if len(unknown) > 1 {
			noun = "keys"
		}
		return nil, fmt.Errorf("unknown top-level %s %s: config.yaml allows only the sections %s (put variables under %s:)",
			noun, strings.Join(unknown, ", "), strings.Join(sectionNames, ", "), SectionConfig)
	}

	cf := &configFile{vars: map[string]any{}}
	section := func(name string) (map[string]any, bool, error) {
		raw, ok := top[name]
		if !ok {
			return nil, false, nil
		}
		if raw == nil {
			return map[string]any{}, true, nil
		}
		m, isMap := raw.(map[string]any)
		if !isMap {
			return nil, false, fmt.Errorf("section %q must be a mapping, got %s", name, typeName(raw))
		}
		return m, true, nil
	}

	cfg, _, err := section(SectionConfig)
	if err != nil {
		return nil, err
	}
	for k, val := range cfg {
		switch k {
		case KeyProject, KeyDefaults:
			m, ok := val.(map[string]any)
			if !ok && val != nil {
				return nil, fmt.Errorf("config.%s must be a mapping, got %s", k, typeName(val))
			}
			if m == nil {
				m = map[string]any{}
			}
			if k == KeyProject {
				cf.project, cf.hasProject = m, true
			} else {
				cf.defaults, cf.hasDefaults = m, true
			}
		case KeyProviders:
			if val == nil {
				continue
			}
			m, ok := val.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("config.providers must be a mapping, got %s", typeName(val))
			}
			cf.providers = map[string]map[string]any{}
			for name, pv := range m {
				pm, ok := pv.(map[string]any)
				if !ok && pv != nil {
					return nil, fmt.Errorf("config.providers.%s must be a mapping, got %s", name, typeName(pv))
				}
				if pm == nil {
					pm = map[string]any{}
				}
				cf.providers[name] = pm
			}
		case KeyActiveEdition:
			if val == nil {
				continue
			}
			s, ok := val.(string)
			if !ok {
				return nil, fmt.Errorf("config.active_edition must be a string, got %s", typeName(val))
			}
			cf.activeEdition = &s
		default:
			cf.vars[k] = val
			if m, ok := val.(map[string]any); ok {
				flattenInto(cf.vars, k+".", m)
			}
		}
	}

	if cf.permissions, cf.hasPerms, err = section(SectionPermissions); err != nil {
		return nil, err
	}
	if cf.sandbox, _, err = section(SectionSandbox); err != nil {
		return nil, err
	}
	return cf, nil
}

// applyConfig merges a config file over the current state (cli.md §4.3);
// v.mu must be held.
func (v *Vars) applyConfig(path string, cf *configFile) {
	v.ConfigFiles = append(v.ConfigFiles, path)
	for k, val := range cf.vars {
		v.config[k] = val
	}
	if cf.hasProject {
		v.ProjectConfig = cf.project
	}
	if cf.hasDefaults {
		v.RuntimeDefaults = cf.defaults
	}
	if len(cf.providers) > 0 {
		if v.ProviderDefaults == nil {
			v.ProviderDefaults = map[string]map[string]any{}
		}
		for name, m := range cf.providers {
			v.ProviderDefaults[name] = m
		}
	}
	if cf.activeEdition != nil {
		v.ActiveEdition = *cf.activeEdition
	}
	if cf.hasPerms {
		v.Permissions = cf.permissions
		v.PermissionsFile = path
	}
	if len(cf.sandbox) > 0 {
		if v.Sandbox == nil {
			v.Sandbox = map[string]any{}
		}
		for name, p := range cf.sandbox {
			v.Sandbox[name] = p
		}
	}
}

// LoadFromFile loads one --var-file (a plain YAML mapping; no sections)
// into the file tier, overriding keys of earlier files.
func (v *Vars) LoadFromFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("failed to read var file %s: %w", path, pathless(err))
	}
	m, err := decodeMapping(data)
	if err != nil {
		return fmt.Errorf("failed to parse var file %s: %w", path, err)
	}
	flat := map[string]any{}
	flattenInto(flat, "", m)
	v.mu.Lock()
	defer v.mu.Unlock()
	for k, val := range flat {
		v.files[k] = val
	}
	return nil
}

// LoadFromFiles loads var files in order; the first error stops loading.
func (v *Vars) LoadFromFiles(paths []string) error {
	for _, p := range paths {
		if err := v.LoadFromFile(p); err != nil {
			return err
		}
	}
	return nil
}

// LoadFromCLI loads --var key=value arguments into the CLI tier. Each
// argument splits at its first '='; the value is trimmed and, when it
// then starts with '[' or '{' and is valid JSON, stored decoded. Nothing
// is stored when any argument is malformed.
func (v *Vars) LoadFromCLI(kvs []string) error {
	parsed := make([][2]any, 0, len(kvs))
	for _, kv := range kvs {
		k, val, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("invalid var format: %s (expected key=value)", kv)
		}
		parsed = append(parsed, [2]any{k, ParseCLIValue(val)})
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, p := range parsed {
		v.cli[p[0].(string)] = p[1]
	}
	return nil
}

// ParseCLIValue types a --var value: trimmed; JSON-decoded when it starts
// with '[' or '{' and parses (integers become int, other numbers float64);
// otherwise the trimmed string.
func ParseCLIValue(s string) any {
	t := strings.TrimSpace(s)
	if t == "" || (t[0] != '[' && t[0] != '{') {
		return t
	}
	dec := json.NewDecoder(strings.NewReader(t))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return t
	}
	if _, err := dec.Token(); err != io.EOF { // trailing garbage: not JSON
		return t
	}
	return normalizeJSON(out)
}

func normalizeJSON(x any) any {
	switch x := x.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i)
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = normalizeJSON(x[i])
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = normalizeJSON(x[k])
		}
		return x
	}
	return x
}

// Set stores a value at the CLI tier (used by hosts such as code
// generators that pass inputs as variables).
func (v *Vars) Set(key string, value any) {
	v.mu.Lock()
	v.cli[key] = value
	v.mu.Unlock()
}

// ---- lookup ----------------------------------------------------------

func (v *Vars) lookup(key string) (any, Tier) {
	if val, ok := v.cli[key]; ok {
		return val, TierCLI
	}
	if val, ok := v.files[key]; ok {
		return val, TierFile
	}
	if val, ok := v.config[key]; ok {
		return val, TierConfig
	}
	if val, ok := v.env[key]; ok {
		return val, TierEnv
	}
	return nil, TierNone
}

// Get returns the value of key from the highest tier holding it.
func (v *Vars) Get(key string) (any, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	val, t := v.lookup(key)
	return val, t != TierNone
}

// Source reports which tier answers key.
func (v *Vars) Source(key string) Tier {
	v.mu.RLock()
	defer v.mu.RUnlock()
	_, t := v.lookup(key)
	return t
}

// GetWithDefault returns key's value, or def when no tier holds it.
func (v *Vars) GetWithDefault(key string, def any) any {
	if val, ok := v.Get(key); ok {
		return val
	}
	return def
}

// GetString returns key's value formatted with %v, or "" when absent.
func (v *Vars) GetString(key string) string {
	if val, ok := v.Get(key); ok {
		return fmt.Sprintf("%v", val)
	}
	return ""
}

// MustGet returns key's value or the error "variable not found: <key>".
func (v *Vars) MustGet(key string) (any, error) {
	if val, ok := v.Get(key); ok {
		return val, nil
	}
	return nil, fmt.Errorf("variable not found: %s", key)
}

// Keys returns the sorted union of keys over all tiers.
func (v *Vars) Keys() []string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	seen := map[string]struct{}{}
	for _, tier := range []map[string]any{v.cli, v.files, v.config, v.env} {
		for k := range tier {
			seen[k] = struct{}{}
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// All returns every variable with its effective (highest-tier) value.
func (v *Vars) All() map[string]any {
	v.mu.RLock()
	defer v.mu.RUnlock()
	out := map[string]any{}
	for _, tier := range []map[string]any{v.env, v.config, v.files, v.cli} { // lowest first
		for k, val := range tier {
			out[k] = val
		}
	}
	return out
}

// ---- config accessors (locked copies) --------------------------------

// GetProviderDefaults returns a copy of config.providers.<name>, or nil.
func (v *Vars) GetProviderDefaults(name string) map[string]any {
	v.mu.RLock()
	defer v.mu.RUnlock()
	m, ok := v.ProviderDefaults[name]
	if !ok {
		return nil
	}
	return copyMap(m)
}

// GetAllProviderDefaults returns a copy of every provider's defaults.
func (v *Vars) GetAllProviderDefaults() map[string]map[string]any {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if v.ProviderDefaults == nil {
		return nil
	}
	out := make(map[string]map[string]any, len(v.ProviderDefaults))
	for k, m := range v.ProviderDefaults {
		out[k] = copyMap(m)
	}
	return out
}

// GetProjectConfig returns a copy of config.project, or nil.
func (v *Vars) GetProjectConfig() map[string]any {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return copyMap(v.ProjectConfig)
}

// GetRuntimeDefaults returns a copy of config.defaults, or nil.
func (v *Vars) GetRuntimeDefaults() map[string]any {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return copyMap(v.RuntimeDefaults)
}

// GetActiveEdition returns config.active_edition ("" = base).
func (v *Vars) GetActiveEdition() string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.ActiveEdition
}

// GetPermissions returns a copy of the raw permissions: section and the
// file it came from (nil, "" when no config file had one).
func (v *Vars) GetPermissions() (map[string]any, string) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return copyMap(v.Permissions), v.PermissionsFile
}

// GetSandbox returns a copy of the raw sandbox: section (profiles by name).
func (v *Vars) GetSandbox() map[string]any {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return copyMap(v.Sandbox)
}

// GetConfigFiles returns the config files read, in load order.
func (v *Vars) GetConfigFiles() []string {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return append([]string(nil), v.ConfigFiles...)
}

// ---- helpers ---------------------------------------------------------

// pathless drops the *fs.PathError wrapper (whose text repeats the path
// the caller's message already names), keeping the cause.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// decodeMapping decodes a YAML document whose top level must be a mapping
// (an empty document is an empty mapping). Maps are normalised to
// map[string]any throughout.
func decodeMapping(data []byte) (map[string]any, error) {
	var raw any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return map[string]any{}, nil
	}
	m, ok := normalizeYAML(raw).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("top level must be a mapping of names to values, got %s", typeName(raw))
	}
	return m, nil
}

func normalizeYAML(x any) any {
	switch x := x.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = normalizeYAML(val)
		}
		return x
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[fmt.Sprint(k)] = normalizeYAML(val)
		}
		return out
	case []any:
		for i := range x {
			x[i] = normalizeYAML(x[i])
		}
		return x
	}
	return x
}

// flattenInto stores every entry of m under prefix+key and, for nested
// mappings, also every nested entry under dotted keys. Lists are not
// flattened.
func flattenInto(dst map[string]any, prefix string, m map[string]any) {
	for k, val := range m {
		key := prefix + k
		dst[key] = val
		if sub, ok := val.(map[string]any); ok {
			flattenInto(dst, key+".", sub)
		}
	}
}

func typeName(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case map[string]any, map[any]any:
		return "mapping"
	case []any:
		return "list"
	case string:
		return "string"
	case bool:
		return "bool"
	case int, int64, uint64:
		return "int"
	case float64:
		return "float"
	}
	return fmt.Sprintf("%T", x)
}

func copyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return copyValue(m).(map[string]any)
}

func copyValue(x any) any {
	switch x := x.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			out[k] = copyValue(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			out[i] = copyValue(val)
		}
		return out
	}
	return x
}
