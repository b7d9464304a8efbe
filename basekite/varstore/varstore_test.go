package varstore

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// write creates dir/name with content and returns its path.
func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// fixture describes one store: every tier's input.
type fixture struct {
	env      []string       // KEY=value environment entries
	home     string         // ~/.starkite/config.yaml content ("" = none)
	local    string         // ./config.yaml content ("" = none)
	varFiles []string       // --var-file contents, in order
	cli      []string       // --var arguments
	set      map[string]any // Set calls (CLI tier)
}

// build loads f in the CLI order env → config defaults → var files → CLI.
func (f fixture) build(t *testing.T) (*Vars, error) {
	t.Helper()
	home, cwd := t.TempDir(), t.TempDir()
	if f.home != "" {
		write(t, home, ".starkite/config.yaml", f.home)
	}
	if f.local != "" {
		write(t, cwd, "config.yaml", f.local)
	}
	var files []string
	for i, c := range f.varFiles {
		files = append(files, write(t, cwd, fmt.Sprintf("vars%d.yaml", i), c))
	}
	v := New()
	v.LoadFromEnviron(f.env)
	if err := v.LoadDefaultsFrom(home, cwd); err != nil {
		return v, err
	}
	if err := v.LoadFromFiles(files); err != nil {
		return v, err
	}
	if err := v.LoadFromCLI(f.cli); err != nil {
		return v, err
	}
	for k, val := range f.set {
		v.Set(k, val)
	}
	return v, nil
}

func TestPrecedence(t *testing.T) {
	all := fixture{
		env:      []string{"STARKITE_VAR_NAME=env", "STARKITE_VAR_ONLY_ENV=e"},
		home:     "config:\n  name: home\n  only_home: h\n",
		local:    "config:\n  name: local\n",
		varFiles: []string{"name: file1\n", "name: file2\n"},
		cli:      []string{"name=cli"},
	}
	tests := []struct {
		name string
		f    fixture
		key  string
		want any
		tier Tier
	}{
		{"cli beats everything", all, "name", "cli", TierCLI},
		{"later var file beats earlier", fixture{varFiles: all.varFiles, local: all.local, env: all.env}, "name", "file2", TierFile},
		{"var file beats config", fixture{varFiles: []string{"name: f\n"}, local: all.local, env: all.env}, "name", "f", TierFile},
		{"local config beats home config", fixture{home: all.home, local: all.local, env: all.env}, "name", "local", TierConfig},
		{"home config beats env", fixture{home: all.home, env: all.env}, "name", "home", TierConfig},
		{"env alone", fixture{env: all.env}, "name", "env", TierEnv},
		{"home-only key survives local file", all, "only_home", "h", TierConfig},
		{"env key lower-cased with dots", all, "only.env", "e", TierEnv},
		{"Set writes the CLI tier", fixture{cli: []string{"name=cli"}, set: map[string]any{"name": 7}}, "name", 7, TierCLI},
		{"missing key", all, "nope", nil, TierNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.f.build(t)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := v.Get(tt.key)
			if ok != (tt.tier != TierNone) || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Get(%q) = %#v, %v; want %#v", tt.key, got, ok, tt.want)
			}
			if s := v.Source(tt.key); s != tt.tier {
				t.Fatalf("Source(%q) = %v, want %v", tt.key, s, tt.tier)
			}
		})
	}
}

func TestLoadOrderDoesNotChangePrecedence(t *testing.T) {
	dir := t.TempDir()
	vf := write(t, dir, "v.yaml", "k: file\n")
	v := New()
	// Reverse of the CLI order: lower tiers loaded last must not win.
	if err := v.LoadFromCLI([]string{"k=cli"}); err != nil {
		t.Fatal(err)
	}
	if err := v.LoadFromFile(vf); err != nil {
		t.Fatal(err)
	}
	v.LoadFromEnviron([]string{"STARKITE_VAR_K=env"})
	if got := v.GetString("k"); got != "cli" {
		t.Fatalf("k = %q, want cli", got)
	}
}

func TestEnvNames(t *testing.T) {
	tests := []struct {
		env  string
		key  string
		want any
	}{
		{"STARKITE_VAR_DB_HOST=x", "db.host", "x"},
		{"STARKITE_VAR_Region=Eu", "region", "Eu"},
		{"STARKITE_VAR_PORT=8080", "port", "8080"}, // always a string
		{"STARKITE_VAR_EMPTY=", "empty", ""},
		{"STARKITE_VAR_EQ=a=b", "eq", "a=b"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			v := New()
			v.LoadFromEnviron([]string{tt.env, "OTHER=1", "STARKITE_VAR_=ignored", "STARKITE_VARX=1"})
			got, ok := v.Get(tt.key)
			if !ok || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Get(%q) = %#v, %v; want %#v", tt.key, got, ok, tt.want)
			}
			if n := len(v.Keys()); n != 1 {
				t.Fatalf("keys = %v, want exactly one", v.Keys())
			}
		})
	}
}

func TestLoadFromEnvUsesProcessEnv(t *testing.T) {
	t.Setenv("STARKITE_VAR_FROM_PROCESS", "yes")
	v := New()
	v.LoadFromEnv()
	if got := v.GetString("from.process"); got != "yes" {
		t.Fatalf("from.process = %q", got)
	}
}

func TestCLIValues(t *testing.T) {
	tests := []struct {
		arg  string
		key  string
		want any
	}{
		{"a=1", "a", "1"},
		{"a=  padded  ", "a", "padded"},
		{"a=x=y", "a", "x=y"},
		{"a=", "a", ""},
		{"a.b=dotted", "a.b", "dotted"}, // key stored literally
		{`a=[1, "x", 2.5]`, "a", []any{1, "x", 2.5}},
		{`a= {"k": {"n": 2}} `, "a", map[string]any{"k": map[string]any{"n": 2}}},
		{"a=[not json", "a", "[not json"},
		{"a=[1] trailing", "a", "[1] trailing"},
		{`a="quoted"`, "a", `"quoted"`}, // only [ or { trigger JSON
		{"a=true", "a", "true"},
		{"a=tags=x,y", "a", "tags=x,y"},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			v := New()
			if err := v.LoadFromCLI([]string{tt.arg}); err != nil {
				t.Fatal(err)
			}
			got, ok := v.Get(tt.key)
			if !ok || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Get(%q) = %#v, %v; want %#v", tt.key, got, ok, tt.want)
			}
		})
	}
}

func TestCLIErrors(t *testing.T) {
	for _, arg := range []string{"novalue", "=x", ""} {
		t.Run(arg, func(t *testing.T) {
			v := New()
			err := v.LoadFromCLI([]string{"good=1", arg})
			want := "invalid var format: " + arg + " (expected key=value)"
			if err == nil || err.Error() != want {
				t.Fatalf("err = %v, want %q", err, want)
			}
			if len(v.Keys()) != 0 {
				t.Fatalf("partial load: %v", v.Keys())
			}
		})
	}
}

func TestVarFileTyping(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "v.yaml", `
count: 3
ratio: 2.5
on: true
name: svc
list: [a, 1]
labels:
  app: web
  tier:
    level: 2
config: just-a-variable
permissions: also-a-variable
`)
	v := New()
	if err := v.LoadFromFile(p); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"count":             3,
		"ratio":             2.5,
		"on":                true,
		"name":              "svc",
		"list":              []any{"a", 1},
		"labels.app":        "web",
		"labels.tier":       map[string]any{"level": 2},
		"labels.tier.level": 2,
		"config":            "just-a-variable",
		"permissions":       "also-a-variable",
	}
	for k, w := range want {
		if got, ok := v.Get(k); !ok || !reflect.DeepEqual(got, w) {
			t.Errorf("Get(%q) = %#v, %v; want %#v", k, got, ok, w)
		}
	}
	labels, _ := v.Get("labels")
	if !reflect.DeepEqual(labels, map[string]any{"app": "web", "tier": map[string]any{"level": 2}}) {
		t.Errorf("labels = %#v", labels)
	}
	if _, ok := v.Get("list.0"); ok {
		t.Error("lists must not be flattened")
	}
}

func TestVarFilesMergePerKey(t *testing.T) {
	dir := t.TempDir()
	a := write(t, dir, "a.yaml", "db: {host: a, port: 1}\nonly_a: 1\n")
	b := write(t, dir, "b.yaml", "db: {host: b}\n")
	v := New()
	if err := v.LoadFromFiles([]string{a, b}); err != nil {
		t.Fatal(err)
	}
	checks := map[string]any{"db.host": "b", "db.port": 1, "only_a": 1, "db": map[string]any{"host": "b"}}
	for k, w := range checks {
		if got, _ := v.Get(k); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", k, got, w)
		}
	}
}

func TestVarFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := write(t, dir, "bad.yaml", "a: [unclosed\n")
	list := write(t, dir, "list.yaml", "- a\n- b\n")
	empty := write(t, dir, "empty.yaml", "")
	missing := filepath.Join(dir, "missing.yaml")
	tests := []struct {
		path    string
		wantErr string // prefix; "" = no error
	}{
		{missing, "failed to read var file " + missing + ": "},
		{dir, "failed to read var file " + dir + ": "},
		{bad, "failed to parse var file " + bad + ": "},
		{list, "failed to parse var file " + list + ": top level must be a mapping"},
		{empty, ""},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			err := New().LoadFromFile(tt.path)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want prefix %q", err, tt.wantErr)
			}
		})
	}
	// LoadFromFiles stops at the first failure.
	v := New()
	good := write(t, dir, "good.yaml", "g: 1\n")
	after := write(t, dir, "after.yaml", "h: 1\n")
	if err := v.LoadFromFiles([]string{good, missing, after}); err == nil {
		t.Fatal("want error")
	}
	if _, ok := v.Get("g"); !ok {
		t.Error("files before the failure stay loaded")
	}
	if _, ok := v.Get("h"); ok {
		t.Error("files after the failure must not load")
	}
}

func TestConfigSchema(t *testing.T) {
	const full = `
config:
  project: {name: demo, owner: ops}
  defaults: {timeout: 30}
  providers:
    ssh: {user: deploy, port: 22}
  active_edition: cloud
  region: eu
  db:
    host: h
permissions:
  ci: {allow: ["fs.read"]}
sandbox:
  strict: {network: none}
`
	v, err := fixture{local: full}.build(t)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Keys(); !reflect.DeepEqual(got, []string{"db", "db.host", "region"}) {
		t.Fatalf("keys = %v (reserved keys must not be variables)", got)
	}
	for _, reserved := range []string{"project", "defaults", "providers", "active_edition", "project.name", "providers.ssh.user"} {
		if _, ok := v.Get(reserved); ok {
			t.Errorf("reserved key %q visible as a variable", reserved)
		}
	}
	if v.GetProjectConfig()["name"] != "demo" || v.GetRuntimeDefaults()["timeout"] != 30 {
		t.Errorf("project/defaults = %v / %v", v.ProjectConfig, v.RuntimeDefaults)
	}
	if got := v.GetProviderDefaults("ssh"); !reflect.DeepEqual(got, map[string]any{"user": "deploy", "port": 22}) {
		t.Errorf("providers.ssh = %v", got)
	}
	if v.GetProviderDefaults("nope") != nil {
		t.Error("unknown provider must be nil")
	}
	if v.GetActiveEdition() != "cloud" {
		t.Errorf("active edition = %q", v.ActiveEdition)
	}
	perms, file := v.GetPermissions()
	if _, ok := perms["ci"]; !ok || !strings.HasSuffix(file, "config.yaml") {
		t.Errorf("permissions = %v from %q", perms, file)
	}
	if _, ok := v.GetSandbox()["strict"]; !ok {
		t.Errorf("sandbox = %v", v.Sandbox)
	}
	// Accessors return copies.
	v.GetProviderDefaults("ssh")["user"] = "mutated"
	if v.GetProviderDefaults("ssh")["user"] != "deploy" {
		t.Error("GetProviderDefaults must return a copy")
	}
}

func TestConfigMerge(t *testing.T) {
	home := `
config:
  project: {name: home, extra: x}
  defaults: {a: 1, b: 2}
  providers:
    ssh: {user: h, port: 22}
    http: {timeout: 5}
  active_edition: ai
  shared: home
  obj: {a: 1, b: 2}
permissions:
  home_only: {}
sandbox:
  s1: home
  s2: home
`
	local := `
config:
  project: {name: local}
  defaults: {a: 9}
  providers:
    ssh: {user: l}
  shared: local
  obj: {a: 10}
sandbox:
  s2: local
`
	v, err := fixture{home: home, local: local}.build(t)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"project replaced whole", v.ProjectConfig, map[string]any{"name": "local"}},
		{"defaults replaced whole", v.RuntimeDefaults, map[string]any{"a": 9}},
		{"providers merge per name (ssh replaced)", v.GetProviderDefaults("ssh"), map[string]any{"user": "l"}},
		{"providers merge per name (http kept)", v.GetProviderDefaults("http"), map[string]any{"timeout": 5}},
		{"active edition from home kept", v.ActiveEdition, "ai"},
		{"user var local wins", v.GetString("shared"), "local"},
		{"flattened key local wins", v.GetWithDefault("obj.a", nil), 10},
		{"flattened key from home kept", v.GetWithDefault("obj.b", nil), 2},
		{"sandbox local first", v.Sandbox["s2"], "local"},
		{"sandbox falls back to home", v.Sandbox["s1"], "home"},
		{"permissions kept when local has none", v.Permissions, map[string]any{"home_only": map[string]any{}}},
		{"config files in load order", len(v.GetConfigFiles()), 2},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.what, c.got, c.want)
		}
	}

	// A permissions: section in the local file replaces the home one wholesale.
	v, err = fixture{home: home, local: "permissions:\n  local_only: {}\n"}.build(t)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.Permissions["home_only"]; ok || v.Permissions["local_only"] == nil {
		t.Errorf("permissions = %v, want local section only", v.Permissions)
	}
	if !strings.HasPrefix(v.PermissionsFile, os.TempDir()) || strings.Contains(v.PermissionsFile, ".starkite") {
		t.Errorf("permissions file = %q, want the local config.yaml", v.PermissionsFile)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string // substrings of the error
	}{
		{"unknown top-level key", "config: {}\nregion: eu\n", []string{"failed to parse ", `config.yaml: unknown top-level key "region"`, "config, permissions, sandbox"}},
		{"several unknown keys", "b: 1\na: 2\n", []string{`unknown top-level keys "a", "b"`}},
		{"Gen A reserved key at top level", "project: {name: x}\n", []string{`unknown top-level key "project"`}},
		{"invalid yaml", "config: [\n", []string{"failed to parse "}},
		{"not a mapping", "- a\n", []string{"top level must be a mapping"}},
		{"config section not a map", "config: [a]\n", []string{`section "config" must be a mapping, got list`}},
		{"permissions not a map", "permissions: nope\n", []string{`section "permissions" must be a mapping, got string`}},
		{"sandbox not a map", "sandbox: 3\n", []string{`section "sandbox" must be a mapping, got int`}},
		{"project not a map", "config: {project: x}\n", []string{"config.project must be a mapping"}},
		{"defaults not a map", "config: {defaults: [1]}\n", []string{"config.defaults must be a mapping"}},
		{"providers not a map", "config: {providers: x}\n", []string{"config.providers must be a mapping"}},
		{"provider not a map", "config: {providers: {ssh: x}}\n", []string{"config.providers.ssh must be a mapping"}},
		{"active_edition not a string", "config: {active_edition: [x]}\n", []string{"config.active_edition must be a string"}},
	}
	for _, tt := range tests {
		for _, where := range []string{"home", "local"} {
			t.Run(tt.name+"/"+where, func(t *testing.T) {
				f := fixture{local: tt.content}
				if where == "home" {
					f = fixture{home: tt.content}
				}
				v, err := f.build(t)
				if err == nil {
					t.Fatal("want error")
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("err = %q, want it to contain %q", err, w)
					}
				}
				if len(v.Keys()) != 0 || len(v.ConfigFiles) != 0 {
					t.Errorf("failed file must not be applied: %v %v", v.Keys(), v.ConfigFiles)
				}
			})
		}
	}
}

func TestConfigEdgeCases(t *testing.T) {
	for _, content := range []string{"", "config:\n", "config: {}\npermissions:\nsandbox:\n", "# only a comment\n"} {
		if _, err := (fixture{local: content}).build(t); err != nil {
			t.Errorf("%q: %v", content, err)
		}
	}
	// Missing files are fine for LoadDefaults but not for LoadConfigFile.
	v := New()
	if err := v.LoadDefaultsFrom(t.TempDir(), t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if err := v.LoadDefaultsFrom("", ""); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "config.yaml")
	if err := v.LoadConfigFile(missing); err == nil || !strings.HasPrefix(err.Error(), "failed to read "+missing) {
		t.Fatalf("err = %v", err)
	}
	// An unreadable config.yaml (a directory) is an error, not skipped.
	cwd := t.TempDir()
	if err := os.Mkdir(filepath.Join(cwd, "config.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := New().LoadDefaultsFrom("", cwd); err == nil || !strings.Contains(err.Error(), "failed to read") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadDefaultsUsesHomeAndCwd(t *testing.T) {
	home, cwd := t.TempDir(), t.TempDir()
	write(t, home, ".starkite/config.yaml", "config: {a: home, b: home}\n")
	write(t, cwd, "config.yaml", "config: {b: local}\n")
	t.Setenv("HOME", home)
	t.Chdir(cwd)
	v := New()
	if err := v.LoadDefaults(); err != nil {
		t.Fatal(err)
	}
	if v.GetString("a") != "home" || v.GetString("b") != "local" {
		t.Fatalf("a=%q b=%q", v.GetString("a"), v.GetString("b"))
	}
}

func TestAccessors(t *testing.T) {
	v, err := fixture{
		env:      []string{"STARKITE_VAR_Z=env"},
		varFiles: []string{"m: {k: v}\nn: 2\n"},
		cli:      []string{"a=1", "n=cli"},
	}.build(t)
	if err != nil {
		t.Fatal(err)
	}
	if got := v.Keys(); !reflect.DeepEqual(got, []string{"a", "m", "m.k", "n", "z"}) {
		t.Errorf("Keys = %v", got)
	}
	wantAll := map[string]any{"a": "1", "m": map[string]any{"k": "v"}, "m.k": "v", "n": "cli", "z": "env"}
	if got := v.All(); !reflect.DeepEqual(got, wantAll) {
		t.Errorf("All = %#v", got)
	}
	if got := v.GetString("m"); got != "map[k:v]" {
		t.Errorf("GetString(m) = %q", got)
	}
	if v.GetString("missing") != "" {
		t.Error("GetString of a missing key must be empty")
	}
	if v.GetWithDefault("missing", 42) != 42 || v.GetWithDefault("n", 42) != "cli" {
		t.Error("GetWithDefault")
	}
	if _, err := v.MustGet("missing"); err == nil || err.Error() != "variable not found: missing" {
		t.Errorf("MustGet err = %v", err)
	}
	if got, err := v.MustGet("a"); err != nil || got != "1" {
		t.Errorf("MustGet(a) = %v, %v", got, err)
	}
	if New().Keys() == nil || len(New().All()) != 0 {
		t.Error("empty store")
	}
}

func TestConcurrentUse(t *testing.T) {
	v := New()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(2)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				v.Set(fmt.Sprintf("k%d", i), j)
				_ = v.LoadFromCLI([]string{fmt.Sprintf("c%d=%d", i, j)})
				v.LoadFromEnviron([]string{fmt.Sprintf("STARKITE_VAR_E%d=%d", i, j)})
			}
		}(i)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				_ = v.Keys()
				_ = v.All()
				_, _ = v.Get("k0")
				_ = v.GetString("c1")
				_ = v.GetProviderDefaults("ssh")
			}
		}()
	}
	wg.Wait()
	if len(v.Keys()) != 24 {
		t.Fatalf("keys = %v", v.Keys())
	}
}
