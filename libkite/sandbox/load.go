package sandbox

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// builtinFS holds the built-in rungs, one profile body per file, in the
// same schema as a config.yaml profile (spec §2, §4.2).
//
//go:embed profiles/*.yaml
var builtinFS embed.FS

// builtinFile is what error messages name as the file of a built-in.
const builtinFile = "built-in"

var builtinNames = []string{Opaque, NetAccess, Host}

// builtinList is the built-in names as error messages spell them.
var builtinList = strings.Join(builtinNames, ", ")

// BuiltinNames returns the built-in profile names, narrowest rung first.
func BuiltinNames() []string { return slices.Clone(builtinNames) }

// IsBuiltin reports whether name is a built-in profile name.
func IsBuiltin(name string) bool { return slices.Contains(builtinNames, name) }

// Loader resolves profile names (spec §1, §4). Cwd and Home are what
// $CWD and $HOME expand to; an empty value leaves the token literal, so
// it fails the absolute-path check. ConfigFiles are searched in order.
type Loader struct {
	Cwd         string
	Home        string
	ConfigFiles []string
}

// DefaultLoader returns a Loader for the process cwd and the user's home,
// searching <cwd>/config.yaml, then <home>/.starkite/config.yaml.
func DefaultLoader() (*Loader, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	home, err := os.UserHomeDir()
	if err != nil || !filepath.IsAbs(home) {
		home = ""
	}
	l := &Loader{Cwd: cwd, Home: home, ConfigFiles: []string{filepath.Join(cwd, "config.yaml")}}
	if home != "" {
		l.ConfigFiles = append(l.ConfigFiles, filepath.Join(home, ".starkite", "config.yaml"))
	}
	return l, nil
}

// LoadProfile resolves name with DefaultLoader.
func LoadProfile(name string) (Profile, error) {
	l, err := DefaultLoader()
	if err != nil {
		return Profile{}, err
	}
	return l.Load(name)
}

// Load resolves name: "" is the zero Profile (no sandbox); a built-in
// name is always that rung; any other name is the profile of the first
// config file that defines it, and "default" falls back to the opaque
// rung (named "opaque") when no config file defines it.
func (l *Loader) Load(name string) (Profile, error) {
	if name == "" {
		return Profile{}, nil
	}
	if IsBuiltin(name) {
		return l.builtin(name)
	}
	files, err := l.readConfigs()
	if err != nil {
		return Profile{}, err
	}
	for _, f := range files {
		if n, ok := f.profiles[name]; ok {
			return l.resolve(name, f.path, &n, false)
		}
	}
	if name == DefaultProfileName {
		return l.builtin(Opaque)
	}
	return Profile{}, l.notFound(name, files)
}

// builtin parses the embedded rung name.
func (l *Loader) builtin(name string) (Profile, error) {
	var doc yaml.Node
	data, err := builtinFS.ReadFile("profiles/" + name + ".yaml")
	if err == nil {
		err = yaml.Unmarshal(data, &doc)
	}
	if err != nil || len(doc.Content) != 1 {
		return Profile{}, fmt.Errorf("sandbox: built-in profile %q is broken: %v", name, err)
	}
	return l.resolve(name, builtinFile, doc.Content[0], true)
}

// configFile is the sandbox: section of one present config file.
type configFile struct {
	path     string
	profiles map[string]yaml.Node
}

// readConfigs reads the sandbox: section of each present config file;
// missing files are skipped, anything else that fails is fatal.
func (l *Loader) readConfigs() ([]configFile, error) {
	var files []configFile
	for _, path := range l.ConfigFiles {
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		var doc struct {
			Sandbox map[string]yaml.Node `yaml:"sandbox"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("sandbox: %s: %w", path, err)
		}
		files = append(files, configFile{path, doc.Sandbox})
	}
	return files, nil
}

func (l *Loader) notFound(name string, files []configFile) error {
	where := strings.Join(l.ConfigFiles, ", ")
	if len(files) == 0 {
		return fmt.Errorf("sandbox: profile not found: %q in %s (built-ins: %s; no config.yaml found)", name, where, builtinList)
	}
	var defined []string
	for _, f := range files {
		for n := range f.profiles {
			defined = append(defined, n)
		}
	}
	slices.Sort(defined)
	defined = slices.Compact(defined)
	return fmt.Errorf("sandbox: profile not found: %q in %s (defined: %v; built-ins: %s)", name, where, defined, builtinList)
}

// bodyDoc is a profile body as written (spec §4.2).
type bodyDoc struct {
	Base    string     `yaml:"base"`
	Network string     `yaml:"network"`
	Mounts  []mountDoc `yaml:"mounts"`
}

type mountDoc struct {
	Source      string `yaml:"source"`
	Destination string `yaml:"destination"`
	Type        string `yaml:"type"`
	Mode        string `yaml:"mode"`
}

var (
	bodyKeys  = []string{"base", "network", "mounts"}
	mountKeys = []string{"source", "destination", "type", "mode"}
)

// resolve validates the body n of profile name, defined in file, and
// composes it on its base (spec §4.4). For a built-in, bind mounts whose
// source does not exist are dropped; for a config profile they are an
// error.
func (l *Loader) resolve(name, file string, n *yaml.Node, builtin bool) (Profile, error) {
	fail := func(format string, a ...any) (Profile, error) {
		return Profile{}, fmt.Errorf("sandbox: profile %q (%s): "+format, append([]any{name, file}, a...)...)
	}
	b, err := decodeBody(n)
	if err != nil {
		return fail("%v", err)
	}
	var rung Profile
	if b.Base != "" {
		if !IsBuiltin(b.Base) {
			return fail("base %q must name a built-in profile (%s)", b.Base, builtinList)
		}
		if rung, err = l.builtin(b.Base); err != nil {
			return Profile{}, err
		}
	}
	p := Profile{Name: name, Network: NetworkMode(b.Network)}
	switch {
	case p.Network == "" && b.Base != "":
		p.Network = rung.Network
	case p.Network == "":
		return fail(`network mode is required (one of "host", "loopback")`)
	case p.Network != NetworkHost && p.Network != NetworkLoopback:
		return fail(`unknown network mode %q (want "host" or "loopback")`, b.Network)
	}
	var user []Mount
	for i, md := range b.Mounts {
		m, err := l.mount(md)
		if err != nil {
			return fail("mount[%d]: %v", i, err)
		}
		if m.Type == MountBind {
			if _, err := os.Stat(m.Source); err != nil {
				if builtin {
					continue
				}
				return fail("bind source %q does not exist on the host", m.Source)
			}
		}
		user = append(user, m)
	}
	p.Mounts = compose(rung.Mounts, user)
	return p, nil
}

// decodeBody decodes a profile body strictly: a scalar is {base: <scalar>},
// a mapping may hold only the schema's keys.
func decodeBody(n *yaml.Node) (bodyDoc, error) {
	var b bodyDoc
	if n.Kind == yaml.ScalarNode && n.ShortTag() != "!!null" {
		b.Base = n.Value
		return b, nil
	}
	if err := checkKeys(n, bodyKeys); err != nil {
		return b, err
	}
	return b, n.Decode(&b)
}

// checkKeys rejects a key of mapping n outside known, following aliases
// and merge keys; the items of a "mounts" list are checked against
// mountKeys. Other kinds are left to Decode to report.
func checkKeys(n *yaml.Node, known []string) error {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		var err error
		switch {
		case k.ShortTag() == "!!merge":
			err = checkEach(v, known)
		case !slices.Contains(known, k.Value):
			err = fmt.Errorf("line %d: unknown field %q (want %s)", k.Line, k.Value, strings.Join(known, ", "))
		case k.Value == "mounts":
			err = checkEach(v, mountKeys)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkEach applies checkKeys to n, or to each item when n is a list.
func checkEach(n *yaml.Node, known []string) error {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.SequenceNode {
		return checkKeys(n, known)
	}
	for _, item := range n.Content {
		if err := checkKeys(item, known); err != nil {
			return err
		}
	}
	return nil
}

// mount validates one mount as written, fills in its defaults and expands
// its paths. Errors are the details of spec §4.5.
func (l *Loader) mount(md mountDoc) (Mount, error) {
	m := Mount{Type: MountType(md.Type), Mode: MountMode(md.Mode)}
	if md.Destination == "" {
		return m, errors.New("destination is required")
	}
	if m.Type == "" {
		m.Type = MountBind
	}
	switch m.Type {
	case MountBind:
		if md.Source == "" {
			return m, errors.New("bind mount requires source")
		}
	case MountTmpfs:
		if md.Source != "" {
			return m, fmt.Errorf("tmpfs mount must not specify source (got %q)", md.Source)
		}
	default:
		return m, fmt.Errorf(`unknown mount type %q (want "bind" or "tmpfs")`, md.Type)
	}
	switch m.Mode {
	case "":
		m.Mode = ReadOnly
		if m.Type == MountTmpfs {
			m.Mode = ReadWrite
		}
	case ReadOnly, ReadWrite:
	default:
		return m, fmt.Errorf(`unknown mode %q (want "ro" or "rw")`, md.Mode)
	}
	if m.Destination = l.expand(md.Destination); !filepath.IsAbs(m.Destination) {
		return m, fmt.Errorf("destination %q must be an absolute path", m.Destination)
	}
	m.Destination = filepath.Clean(m.Destination)
	if m.Type == MountBind {
		if m.Source = l.expand(md.Source); !filepath.IsAbs(m.Source) {
			return m, fmt.Errorf("source %q must be an absolute path", m.Source)
		}
		m.Source = filepath.Clean(m.Source)
	}
	return m, nil
}

// expand replaces a leading whole $CWD or $HOME token (spec §4.3); it
// leaves everything else, and a token whose value is empty, as written.
func (l *Loader) expand(p string) string {
	for _, v := range [...]struct{ token, value string }{{"$CWD", l.Cwd}, {"$HOME", l.Home}} {
		if v.value != "" && (p == v.token || strings.HasPrefix(p, v.token+"/")) {
			return filepath.Join(v.value, p[len(v.token):])
		}
	}
	return p
}

// compose lays user mounts over the rung's (spec §4.4): a rung mount with
// the destination of a user mount is replaced in place by it; the other
// user mounts follow in their order.
func compose(rung, user []Mount) []Mount {
	out := slices.Clone(rung)
	used := make([]bool, len(user))
	for i := range out {
		for j, u := range user {
			if !used[j] && u.Destination == out[i].Destination {
				out[i], used[j] = u, true
				break
			}
		}
	}
	for j, u := range user {
		if !used[j] {
			out = append(out, u)
		}
	}
	return out
}
