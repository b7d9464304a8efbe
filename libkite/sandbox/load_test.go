package sandbox

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// env is a test world: a cwd and a home under t.TempDir, and the two
// config files a Loader searches.
type env struct {
	cwd, home      string // $CWD, $HOME
	local, homeCfg string // <cwd>/config.yaml, <home>/.starkite/config.yaml
}

// newEnv creates cwd (with sub/) and home (with x and .cache/) and writes
// each config file whose content is not "".
func newEnv(t *testing.T, local, homeCfg string) env {
	t.Helper()
	dir := t.TempDir()
	e := env{cwd: filepath.Join(dir, "cwd"), home: filepath.Join(dir, "home")}
	e.local = filepath.Join(e.cwd, "config.yaml")
	e.homeCfg = filepath.Join(e.home, ".starkite", "config.yaml")
	for _, d := range []string{filepath.Join(e.cwd, "sub"), filepath.Join(e.home, ".cache"), filepath.Join(e.home, ".starkite")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(e.home, "x"), "x")
	if local != "" {
		writeFile(t, e.local, local)
	}
	if homeCfg != "" {
		writeFile(t, e.homeCfg, homeCfg)
	}
	return e
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (e env) loader() *Loader {
	return &Loader{Cwd: e.cwd, Home: e.home, ConfigFiles: []string{e.local, e.homeCfg}}
}

// expand replaces the placeholders @CWD, @HOME, @LOCAL and @HOMECFG.
func (e env) expand(s string) string {
	return strings.NewReplacer("@CWD", e.cwd, "@HOMECFG", e.homeCfg, "@HOME", e.home, "@LOCAL", e.local).Replace(s)
}

func bind(src string, mode MountMode) Mount {
	return Mount{Source: src, Destination: src, Type: MountBind, Mode: mode}
}

var tmpMount = Mount{Destination: "/tmp", Type: MountTmpfs, Mode: ReadWrite}

// rungMounts is what the built-in rung name should resolve to in e: the
// spec §2 table minus binds whose source does not exist on this host.
func (e env) rungMounts(name string) []Mount {
	ms := []Mount{bind(e.cwd, ReadWrite), tmpMount}
	extra := map[string][]string{
		NetAccess: {"/etc/ssl/certs", "/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf"},
		Host:      {e.home, "/usr", "/bin", "/lib", "/lib64"},
	}
	for _, rung := range builtinNames[1 : slices.Index(builtinNames, name)+1] {
		for _, p := range extra[rung] {
			if _, err := os.Stat(p); err == nil {
				ms = append(ms, bind(p, ReadOnly))
			}
		}
	}
	return ms
}

func (e env) rung(name string) Profile {
	p := Profile{Name: name, Network: NetworkHost, Mounts: e.rungMounts(name)}
	if name == Opaque {
		p.Network = NetworkLoopback
	}
	return p
}

func TestBuiltinNames(t *testing.T) {
	if got, want := BuiltinNames(), []string{"opaque", "net-access", "host"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("BuiltinNames() = %v, want %v", got, want)
	}
	for _, n := range []string{"opaque", "net-access", "host"} {
		if !IsBuiltin(n) {
			t.Errorf("IsBuiltin(%q) = false", n)
		}
	}
	if IsBuiltin("default") || IsBuiltin("") {
		t.Error("IsBuiltin accepts a non-built-in name")
	}
}

func TestBuiltins(t *testing.T) {
	e := newEnv(t, "", "")
	noHome := e
	noHome.home = filepath.Join(t.TempDir(), "no-such-home")
	for _, w := range []env{e, noHome} {
		for _, name := range BuiltinNames() {
			got, err := w.loader().Load(name)
			if err != nil {
				t.Fatalf("Load(%q): %v", name, err)
			}
			if want := w.rung(name); !reflect.DeepEqual(got, want) {
				t.Errorf("Load(%q) with home %s =\n %+v\nwant\n %+v", name, w.home, got, want)
			}
		}
	}
	// The table above is computed; pin the parts that do not depend on the host.
	host, _ := e.loader().Load(Host)
	if !slices.Contains(host.Mounts, bind(e.home, ReadOnly)) {
		t.Errorf("host rung lacks $HOME ro: %+v", host.Mounts)
	}
	host, _ = noHome.loader().Load(Host)
	for _, m := range host.Mounts {
		if m.Source == noHome.home {
			t.Errorf("host rung kept the missing home %s", m.Source)
		}
	}
	opaque, _ := e.loader().Load(Opaque)
	if want := []Mount{bind(e.cwd, ReadWrite), tmpMount}; !reflect.DeepEqual(opaque.Mounts, want) {
		t.Errorf("opaque mounts = %+v, want %+v", opaque.Mounts, want)
	}
}

func TestBuiltinWithoutHome(t *testing.T) {
	e := newEnv(t, "", "")
	l := e.loader()
	l.Home = ""
	_, err := l.Load(Host)
	want := `sandbox: profile "host" (built-in): mount[6]: destination "$HOME" must be an absolute path`
	if err == nil || err.Error() != want {
		t.Fatalf("Load(host) without home: err = %v, want %s", err, want)
	}
	if _, err := l.Load(NetAccess); err != nil {
		t.Fatalf("Load(net-access) without home: %v", err)
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name           string // test name
		profile        string // Load argument
		local, homeCfg string // config file contents; "" = absent
		want           func(e env) Profile
		err            string // exact error, placeholders expanded
	}{
		{name: "empty name is no sandbox", profile: "", local: "sandbox: [", want: func(env) Profile { return Profile{} }},
		{
			name: "default falls back to opaque", profile: "default",
			want: func(e env) Profile { return e.rung(Opaque) },
		},
		{
			name: "default falls back when config does not define it", profile: "default",
			local: "sandbox:\n  build: opaque\n", homeCfg: "sandbox:\n  other: host\n",
			want: func(e env) Profile { return e.rung(Opaque) },
		},
		{
			name: "config default scalar form", profile: "default",
			local: "sandbox:\n  default: net-access\n",
			want: func(e env) Profile {
				p := e.rung(NetAccess)
				p.Name = "default"
				return p
			},
		},
		{
			name: "config default from home file", profile: "default",
			homeCfg: "sandbox:\n  default: host\n",
			want: func(e env) Profile {
				p := e.rung(Host)
				p.Name = "default"
				return p
			},
		},
		{
			name: "composition replaces in place and appends", profile: "build",
			local: `sandbox:
  build:
    base: host
    mounts:
      - {source: $CWD/sub, destination: /data}
      - {source: $HOME, destination: $HOME, mode: rw}
      - {destination: /tmp, type: tmpfs, mode: ro}
      - {destination: /scratch, type: tmpfs}
`,
			want: func(e env) Profile {
				p := e.rung(Host)
				p.Name = "build"
				for i, m := range p.Mounts {
					switch m.Destination {
					case e.home:
						p.Mounts[i].Mode = ReadWrite
					case "/tmp":
						p.Mounts[i].Mode = ReadOnly
					}
				}
				p.Mounts = append(p.Mounts,
					Mount{Source: filepath.Join(e.cwd, "sub"), Destination: "/data", Type: MountBind, Mode: ReadOnly},
					Mount{Destination: "/scratch", Type: MountTmpfs, Mode: ReadWrite})
				return p
			},
		},
		{
			name: "network inherited from base", profile: "build",
			local: "sandbox:\n  build:\n    base: opaque\n    mounts: [{source: $HOME/.cache, destination: $HOME/.cache, mode: rw}]\n",
			want: func(e env) Profile {
				p := e.rung(Opaque)
				p.Name = "build"
				p.Mounts = append(p.Mounts, bind(filepath.Join(e.home, ".cache"), ReadWrite))
				return p
			},
		},
		{
			name: "network overrides base", profile: "build",
			local: "sandbox:\n  build: {base: opaque, network: host}\n",
			want: func(e env) Profile {
				p := e.rung(Opaque)
				p.Name, p.Network = "build", NetworkHost
				return p
			},
		},
		{
			name: "self-contained profile", profile: "kubectl-ro",
			local: `sandbox:
  kubectl-ro:
    network: loopback
    mounts:
      - {source: $CWD, destination: $CWD, mode: rw}
      - {destination: /tmp, type: tmpfs}
      - {source: $HOME/x, destination: /etc/kubeconfig}
`,
			want: func(e env) Profile {
				return Profile{Name: "kubectl-ro", Network: NetworkLoopback, Mounts: []Mount{
					bind(e.cwd, ReadWrite), tmpMount,
					{Source: filepath.Join(e.home, "x"), Destination: "/etc/kubeconfig", Type: MountBind, Mode: ReadOnly},
				}}
			},
		},
		{
			name: "no mounts", profile: "bare", local: "sandbox:\n  bare: {network: host}\n",
			want: func(env) Profile { return Profile{Name: "bare", Network: NetworkHost} },
		},
		{
			name: "local file wins per name", profile: "build",
			local:   "sandbox:\n  build: {network: loopback}\n",
			homeCfg: "sandbox:\n  build: {network: host}\n  other: {network: host}\n",
			want:    func(env) Profile { return Profile{Name: "build", Network: NetworkLoopback} },
		},
		{
			name: "home file provides other names", profile: "other",
			local:   "sandbox:\n  build: {network: loopback}\n",
			homeCfg: "sandbox:\n  build: {network: host}\n  other: {network: host}\n",
			want:    func(env) Profile { return Profile{Name: "other", Network: NetworkHost} },
		},
		{
			name: "built-in name ignores config entry", profile: "opaque",
			local: "sandbox:\n  opaque: {network: host, bogus: 1}\n",
			want:  func(e env) Profile { return e.rung(Opaque) },
		},
		{
			name: "built-in name does not read config", profile: "net-access",
			local: "sandbox: [",
			want:  func(e env) Profile { return e.rung(NetAccess) },
		},
		{
			name: "other top-level sections tolerated", profile: "build",
			local: `permissions:
  default: strict
vars: {region: eu, list: [1, 2]}
sandbox:
  build: {network: host}
other: 3
`,
			want: func(env) Profile { return Profile{Name: "build", Network: NetworkHost} },
		},
		{
			name: "merge keys", profile: "build",
			local: `common: &common
  network: host
sandbox:
  build:
    <<: *common
    base: opaque
`,
			want: func(e env) Profile {
				p := e.rung(Opaque)
				p.Name, p.Network = "build", NetworkHost
				return p
			},
		},

		// Expansion (§4.3).
		{
			name: "expand $CWD, $CWD/sub, $HOME/x, and clean", profile: "p",
			local: `sandbox:
  p:
    network: host
    mounts:
      - {source: $CWD, destination: /work}
      - {source: $CWD/sub/, destination: $CWD/sub/../inner}
      - {source: $HOME/x, destination: $HOME/x}
      - {source: /usr//bin/, destination: /b/./c}
`,
			want: func(e env) Profile {
				return Profile{Name: "p", Network: NetworkHost, Mounts: []Mount{
					{Source: e.cwd, Destination: "/work", Type: MountBind, Mode: ReadOnly},
					{Source: filepath.Join(e.cwd, "sub"), Destination: filepath.Join(e.cwd, "inner"), Type: MountBind, Mode: ReadOnly},
					bind(filepath.Join(e.home, "x"), ReadOnly),
					{Source: "/usr/bin", Destination: "/b/c", Type: MountBind, Mode: ReadOnly},
				}}
			},
		},
		{
			name: "tilde not expanded", profile: "p",
			local: "sandbox:\n  p: {network: host, mounts: [{source: ~/x, destination: /x}]}\n",
			err:   `sandbox: profile "p" (@LOCAL): mount[0]: source "~/x" must be an absolute path`,
		},
		{
			name: "braces not expanded", profile: "p",
			local: "sandbox:\n  p: {network: host, mounts: [{source: '${HOME}/x', destination: /x}]}\n",
			err:   `sandbox: profile "p" (@LOCAL): mount[0]: source "${HOME}/x" must be an absolute path`,
		},
		{
			name: "$HOMEX not expanded", profile: "p",
			local: "sandbox:\n  p: {network: host, mounts: [{destination: $HOMEX, type: tmpfs}]}\n",
			err:   `sandbox: profile "p" (@LOCAL): mount[0]: destination "$HOMEX" must be an absolute path`,
		},
		{
			name: "mid-string token not expanded", profile: "p",
			local: "sandbox:\n  p: {network: host, mounts: [{destination: x/$CWD, type: tmpfs}]}\n",
			err:   `sandbox: profile "p" (@LOCAL): mount[0]: destination "x/$CWD" must be an absolute path`,
		},

		// Errors (§4.5), one row each.
		{
			name: "network missing", profile: "build",
			local: "sandbox:\n  build:\n    mounts: [{destination: /tmp, type: tmpfs}]\n",
			err:   `sandbox: profile "build" (@LOCAL): network mode is required (one of "host", "loopback")`,
		},
		{
			name: "null body", profile: "build", local: "sandbox:\n  build:\n",
			err: `sandbox: profile "build" (@LOCAL): network mode is required (one of "host", "loopback")`,
		},
		{
			name: "bad network", profile: "build", homeCfg: "sandbox:\n  build: {network: none}\n",
			err: `sandbox: profile "build" (@HOMECFG): unknown network mode "none" (want "host" or "loopback")`,
		},
		{
			name: "bad network with base", profile: "build", local: "sandbox:\n  build: {base: opaque, network: bridge}\n",
			err: `sandbox: profile "build" (@LOCAL): unknown network mode "bridge" (want "host" or "loopback")`,
		},
		{
			name: "bad base", profile: "build", local: "sandbox:\n  build: {base: default, network: host}\n",
			err: `sandbox: profile "build" (@LOCAL): base "default" must name a built-in profile (opaque, net-access, host)`,
		},
		{
			name: "bad base scalar", profile: "default", local: "sandbox:\n  default: strict\n",
			err: `sandbox: profile "default" (@LOCAL): base "strict" must name a built-in profile (opaque, net-access, host)`,
		},
		{
			name: "destination required", profile: "build",
			local: "sandbox:\n  build:\n    base: opaque\n    mounts: [{source: /usr}]\n",
			err:   `sandbox: profile "build" (@LOCAL): mount[0]: destination is required`,
		},
		{
			name: "bind requires source", profile: "build",
			local: "sandbox:\n  build:\n    base: opaque\n    mounts: [{destination: /tmp, type: tmpfs}, {destination: /data}]\n",
			err:   `sandbox: profile "build" (@LOCAL): mount[1]: bind mount requires source`,
		},
		{
			name: "tmpfs with source", profile: "build",
			local: "sandbox:\n  build:\n    network: host\n    mounts: [{source: $CWD, destination: /tmp, type: tmpfs}]\n",
			err:   `sandbox: profile "build" (@LOCAL): mount[0]: tmpfs mount must not specify source (got "$CWD")`,
		},
		{
			name: "unknown mount type", profile: "build",
			local: "sandbox:\n  build:\n    network: host\n    mounts: [{source: /usr, destination: /usr, type: overlay}]\n",
			err:   `sandbox: profile "build" (@LOCAL): mount[0]: unknown mount type "overlay" (want "bind" or "tmpfs")`,
		},
		{
			name: "unknown mode", profile: "build",
			local: "sandbox:\n  build:\n    network: host\n    mounts: [{source: /usr, destination: /usr, mode: rx}]\n",
			err:   `sandbox: profile "build" (@LOCAL): mount[0]: unknown mode "rx" (want "ro" or "rw")`,
		},
		{
			name: "relative destination", profile: "build",
			local: "sandbox:\n  build:\n    network: host\n    mounts: [{source: /usr, destination: usr}]\n",
			err:   `sandbox: profile "build" (@LOCAL): mount[0]: destination "usr" must be an absolute path`,
		},
		{
			name: "relative source", profile: "build",
			local: "sandbox:\n  build:\n    network: host\n    mounts: [{source: usr, destination: /usr}]\n",
			err:   `sandbox: profile "build" (@LOCAL): mount[0]: source "usr" must be an absolute path`,
		},
		{
			name: "bind source missing", profile: "build",
			local: "sandbox:\n  build:\n    base: host\n    mounts: [{source: $CWD/missing, destination: /m}]\n",
			err:   `sandbox: profile "build" (@LOCAL): bind source "@CWD/missing" does not exist on the host`,
		},
		{
			name: "not found", profile: "nope",
			local:   "sandbox:\n  build: opaque\n  b: host\n",
			homeCfg: "sandbox:\n  build: host\n  a: opaque\n",
			err:     `sandbox: profile not found: "nope" in @LOCAL, @HOMECFG (defined: [a b build]; built-ins: opaque, net-access, host)`,
		},
		{
			name: "not found without sandbox section", profile: "nope", homeCfg: "vars: {a: 1}\n",
			err: `sandbox: profile not found: "nope" in @LOCAL, @HOMECFG (defined: []; built-ins: opaque, net-access, host)`,
		},
		{
			name: "not found without config", profile: "nope",
			err: `sandbox: profile not found: "nope" in @LOCAL, @HOMECFG (built-ins: opaque, net-access, host; no config.yaml found)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.local, tt.homeCfg)
			got, err := e.loader().Load(tt.profile)
			if tt.err != "" {
				if want := e.expand(tt.err); err == nil || err.Error() != want {
					t.Fatalf("Load(%q) error =\n %v\nwant\n %s", tt.profile, err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load(%q): %v", tt.profile, err)
			}
			if want := tt.want(e); !reflect.DeepEqual(got, want) {
				t.Errorf("Load(%q) =\n %+v\nwant\n %+v", tt.profile, got, want)
			}
		})
	}
}

// TestLoadErrorsContaining covers errors whose text comes partly from the
// YAML decoder: only the parts this package controls are pinned.
func TestLoadErrorsContaining(t *testing.T) {
	tests := []struct {
		name           string
		local, homeCfg string
		want           []string // substrings, placeholders expanded
	}{
		{
			name:  "unknown profile key",
			local: "sandbox:\n  build:\n    base: opaque\n    bse: host\n",
			want:  []string{`sandbox: profile "build" (@LOCAL): `, `line 4`, `"bse"`},
		},
		{
			name:  "unknown mount key",
			local: "sandbox:\n  build:\n    base: opaque\n    mounts:\n      - {destination: /x, type: tmpfs, size: 10m}\n",
			want:  []string{`sandbox: profile "build" (@LOCAL): `, `line 5`, `"size"`},
		},
		{
			name:    "unknown key via merge",
			homeCfg: "x: &x {netwrk: host}\nsandbox:\n  build: {<<: *x, base: opaque}\n",
			want:    []string{`sandbox: profile "build" (@HOMECFG): `, `"netwrk"`},
		},
		{
			name:  "wrong type",
			local: "sandbox:\n  build: {base: opaque, mounts: /usr}\n",
			want:  []string{`sandbox: profile "build" (@LOCAL): `, `line 2`},
		},
		{
			name:    "parse error in present file is fatal",
			local:   "sandbox:\n  build: [\n",
			homeCfg: "sandbox:\n  build: opaque\n",
			want:    []string{`sandbox: @LOCAL: `},
		},
		{
			name:  "parse error in home file is fatal",
			local: "sandbox:\n  build: opaque\n", homeCfg: "\tbad",
			want: []string{`sandbox: @HOMECFG: `},
		},
		{
			name:  "sandbox section not a mapping",
			local: "sandbox: [opaque]\n",
			want:  []string{`sandbox: @LOCAL: `},
		},
		{
			name:  "duplicate profile",
			local: "sandbox:\n  build: opaque\n  build: host\n",
			want:  []string{`sandbox: @LOCAL: `, `"build"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.local, tt.homeCfg)
			_, err := e.loader().Load("build")
			if err == nil {
				t.Fatal("Load(build) succeeded")
			}
			for _, w := range tt.want {
				if w = e.expand(w); !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestEmptyConfigFile(t *testing.T) {
	e := newEnv(t, "", "sandbox:\n  build: {network: host}\n")
	writeFile(t, e.local, "")
	l := e.loader()
	if got, err := l.Load("default"); err != nil || !reflect.DeepEqual(got, e.rung(Opaque)) {
		t.Errorf("Load(default) = %+v, %v; want the opaque rung", got, err)
	}
	if got, err := l.Load("build"); err != nil || got.Network != NetworkHost {
		t.Errorf("Load(build) = %+v, %v; want the home file's profile", got, err)
	}
	writeFile(t, e.homeCfg, "# only a comment\n")
	_, err := l.Load("nope")
	if want := e.expand(`sandbox: profile not found: "nope" in @LOCAL, @HOMECFG (defined: []; built-ins: opaque, net-access, host)`); err == nil || err.Error() != want {
		t.Errorf("Load(nope) error = %v, want %s", err, want)
	}
}

func TestDefaultLoaderAndLoadProfile(t *testing.T) {
	e := newEnv(t, "sandbox:\n  build: {base: opaque, mounts: [{source: $HOME/x, destination: /x}]}\n", "")
	t.Chdir(e.cwd)
	t.Setenv("HOME", e.home)
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	l, err := DefaultLoader()
	if err != nil {
		t.Fatal(err)
	}
	want := &Loader{Cwd: cwd, Home: e.home, ConfigFiles: []string{filepath.Join(cwd, "config.yaml"), e.homeCfg}}
	if !reflect.DeepEqual(l, want) {
		t.Fatalf("DefaultLoader() = %+v, want %+v", l, want)
	}
	if p, err := LoadProfile(""); err != nil || !p.IsZero() {
		t.Errorf("LoadProfile(\"\") = %+v, %v; want zero", p, err)
	}
	p, err := LoadProfile("build")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "build" || len(p.Mounts) != 3 || p.Mounts[0].Source != cwd || p.Mounts[2].Source != filepath.Join(e.home, "x") {
		t.Errorf("LoadProfile(build) = %+v", p)
	}

	t.Setenv("HOME", "")
	if l, err = DefaultLoader(); err != nil {
		t.Fatal(err)
	}
	if l.Home != "" || !reflect.DeepEqual(l.ConfigFiles, []string{filepath.Join(cwd, "config.yaml")}) {
		t.Errorf("DefaultLoader() without home = %+v", l)
	}
}
