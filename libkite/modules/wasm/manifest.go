package wasm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ManifestFile is the name of a plugin's manifest inside its directory.
const ManifestFile = "module.yaml"

// Manifest defaults and bounds.
const (
	DefaultMemoryLimitMB = 64
	MaxMemoryLimitMB     = 4096 // wasm32: 65536 pages of 64 KiB
	DefaultTimeout       = 10 * time.Second
)

// Type is the type of a plugin function's argument or result.
type Type string

// The argument and result types. How each crosses the boundary:
//
//	int    i64
//	float  f64
//	bool   i32 (0 or 1)
//	string (ptr i32, len i32) as an argument, ptr<<32|len i64 as a result: UTF-8 text
//	bytes  same as string: raw bytes
//	json   same as string: JSON text of any JSON-able Starlark value
//	none   result only: the export returns nothing
const (
	Int    Type = "int"
	Float  Type = "float"
	Bool   Type = "bool"
	String Type = "string"
	Bytes  Type = "bytes"
	JSON   Type = "json"
	None   Type = "none"
)

// buffered reports whether values of t cross as a buffer in guest memory.
func (t Type) buffered() bool { return t == String || t == Bytes || t == JSON }

// Capability callbacks a plugin may declare (module.yaml capabilities).
const (
	CapEnv         = "env"
	CapReadFile    = "read_file"
	CapWriteFile   = "write_file"
	CapHTTPRequest = "http_request"
)

var capabilities = []string{CapEnv, CapReadFile, CapWriteFile, CapHTTPRequest}

// Manifest is a parsed, validated module.yaml.
type Manifest struct {
	Name          string        // module name scripts use
	Version       string        // free-form
	Description   string        // one line
	Type          string        // always "wasm"
	Wasm          string        // the .wasm file, relative to Dir
	MemoryLimitMB int           // per-instance linear memory cap, MiB
	Timeout       time.Duration // per-call cap
	Capabilities  []string      // host callbacks the plugin may use
	Functions     []Function
	Dir           string // absolute directory the manifest was read from
}

// Function is one exported plugin function.
type Function struct {
	Name    string
	Args    []Arg
	Returns Type // None when the function returns nothing
}

// Arg is one function argument; Name is "" for a positional-only argument.
type Arg struct {
	Name string
	Type Type
}

// WasmPath is the absolute path of the plugin's .wasm file.
func (m *Manifest) WasmPath() string { return filepath.Join(m.Dir, m.Wasm) }

// HasCapability reports whether the manifest declares capability c.
func (m *Manifest) HasCapability(c string) bool {
	for _, have := range m.Capabilities {
		if have == c {
			return true
		}
	}
	return false
}

// Function returns the manifest function called name.
func (m *Manifest) Function(name string) (*Function, bool) {
	for i := range m.Functions {
		if m.Functions[i].Name == name {
			return &m.Functions[i], true
		}
	}
	return nil, false
}

// argName is how errors name argument i: its name, else its 1-based position.
func (f *Function) argName(i int) string {
	if f.Args[i].Name != "" {
		return f.Args[i].Name
	}
	return fmt.Sprint(i + 1)
}

// The raw YAML shapes; unknown keys are errors.
type rawManifest struct {
	Name          string        `yaml:"name"`
	Version       string        `yaml:"version"`
	Description   string        `yaml:"description"`
	Type          string        `yaml:"type"`
	Wasm          string        `yaml:"wasm"`
	MemoryLimitMB *int          `yaml:"memory_limit_mb"`
	Timeout       string        `yaml:"timeout"`
	Capabilities  []string      `yaml:"capabilities"`
	Functions     []rawFunction `yaml:"functions"`
}

type rawFunction struct {
	Name    string   `yaml:"name"`
	Args    []rawArg `yaml:"args"`
	Returns string   `yaml:"returns"`
}

// rawArg is a plain type name ("int") or a mapping {name, type}.
type rawArg struct {
	Name, Type string
	named      bool
}

func (a *rawArg) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		a.Type = n.Value
		return nil
	case yaml.MappingNode:
		a.named = true
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: argument field %s must be a string", v.Line, k.Value)
			}
			switch k.Value {
			case "name":
				a.Name = v.Value
			case "type":
				a.Type = v.Value
			default:
				return fmt.Errorf("line %d: unknown argument field %q (want name, type)", k.Line, k.Value)
			}
		}
		return nil
	}
	return fmt.Errorf("line %d: an argument is a type name or {name, type}", n.Line)
}

var (
	identRe   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	typeNames = "int, float, bool, string, bytes or json"
)

// ReadManifest reads and validates dir/module.yaml. Errors name the file
// and the offending field.
func ReadManifest(dir string) (*Manifest, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(abs, ManifestFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := parseManifest(data, abs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// parseManifest decodes and validates manifest text for directory dir.
func parseManifest(data []byte, dir string) (*Manifest, error) {
	var raw rawManifest
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty manifest")
		}
		return nil, yamlError(err)
	}
	m := &Manifest{
		Name: raw.Name, Version: raw.Version, Description: raw.Description,
		Type: raw.Type, Wasm: raw.Wasm, Capabilities: raw.Capabilities, Dir: dir,
		MemoryLimitMB: DefaultMemoryLimitMB, Timeout: DefaultTimeout,
	}
	switch {
	case raw.Name == "":
		return nil, errors.New("name: required")
	case !identRe.MatchString(raw.Name):
		return nil, fmt.Errorf("name: %q is not an identifier ([A-Za-z_][A-Za-z0-9_]*)", raw.Name)
	case raw.Type == "":
		return nil, errors.New(`type: required (type: wasm)`)
	case raw.Type != "wasm":
		return nil, fmt.Errorf(`type: %q is not a WebAssembly plugin (want "wasm")`, raw.Type)
	}
	if m.Wasm == "" {
		m.Wasm = m.Name + ".wasm"
	} else if !filepath.IsLocal(m.Wasm) {
		return nil, fmt.Errorf("wasm: %q must be a path inside the plugin directory", m.Wasm)
	}
	if raw.MemoryLimitMB != nil {
		if mb := *raw.MemoryLimitMB; mb < 1 || mb > MaxMemoryLimitMB {
			return nil, fmt.Errorf("memory_limit_mb: %d out of range (1 to %d)", mb, MaxMemoryLimitMB)
		}
		m.MemoryLimitMB = *raw.MemoryLimitMB
	}
	if raw.Timeout != "" {
		d, err := time.ParseDuration(raw.Timeout)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("timeout: %q is not a positive Go duration (e.g. 10s, 500ms)", raw.Timeout)
		}
		m.Timeout = d
	}
	seenCap := map[string]bool{}
	for i, c := range raw.Capabilities {
		if !isCapability(c) {
			return nil, fmt.Errorf("capabilities[%d]: unknown capability %q (want %s)", i, c, strings.Join(capabilities, ", "))
		}
		if seenCap[c] {
			return nil, fmt.Errorf("capabilities[%d]: %q listed twice", i, c)
		}
		seenCap[c] = true
	}
	if len(raw.Functions) == 0 {
		return nil, errors.New("functions: at least one function is required")
	}
	seenFn := map[string]bool{}
	for i, rf := range raw.Functions {
		if err := checkFunctionName(rf.Name); err != nil {
			return nil, fmt.Errorf("functions[%d]: %w", i, err)
		}
		f, err := parseFunction(rf)
		if err != nil {
			return nil, fmt.Errorf("functions[%d] (%s): %w", i, rf.Name, err)
		}
		if seenFn[f.Name] {
			return nil, fmt.Errorf("functions[%d]: duplicate function %q", i, f.Name)
		}
		seenFn[f.Name] = true
		m.Functions = append(m.Functions, f)
	}
	return m, nil
}

func checkFunctionName(name string) error {
	switch {
	case name == "":
		return errors.New("name: required")
	case !identRe.MatchString(name):
		return fmt.Errorf("name: %q is not an identifier", name)
	case strings.HasPrefix(name, "try_"):
		return fmt.Errorf("name: %q: the try_ prefix is reserved for the try_ twins", name)
	case isCapability(name) || name == "error":
		return fmt.Errorf("name: %q is reserved (a host callback's permission label)", name)
	}
	return nil
}

func parseFunction(rf rawFunction) (Function, error) {
	f := Function{Name: rf.Name, Returns: None}
	seen := map[string]bool{}
	for j, ra := range rf.Args {
		t := Type(ra.Type)
		if !isArgType(t) {
			return f, fmt.Errorf("args[%d]: unknown type %q (want %s)", j, ra.Type, typeNames)
		}
		if ra.named {
			switch {
			case ra.Name == "":
				return f, fmt.Errorf("args[%d]: name: required in the {name, type} form", j)
			case !identRe.MatchString(ra.Name):
				return f, fmt.Errorf("args[%d]: name: %q is not an identifier", j, ra.Name)
			case seen[ra.Name]:
				return f, fmt.Errorf("args[%d]: duplicate argument name %q", j, ra.Name)
			}
			seen[ra.Name] = true
		}
		f.Args = append(f.Args, Arg{Name: ra.Name, Type: t})
	}
	if rf.Returns != "" {
		t := Type(rf.Returns)
		if t != None && !isArgType(t) {
			return f, fmt.Errorf("returns: unknown type %q (want %s or none)", rf.Returns, typeNames)
		}
		f.Returns = t
	}
	return f, nil
}

func isArgType(t Type) bool {
	switch t {
	case Int, Float, Bool, String, Bytes, JSON:
		return true
	}
	return false
}

func isCapability(c string) bool {
	for _, k := range capabilities {
		if k == c {
			return true
		}
	}
	return false
}

var notFoundRe = regexp.MustCompile(`field (\S+) not found in type \S+`)

// yamlError rewords yaml.v3's strict-mode messages ("field x not found in
// type wasm.rawManifest" → `unknown field "x"`).
func yamlError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	msgs := make([]string, len(te.Errors))
	for i, e := range te.Errors {
		msgs[i] = notFoundRe.ReplaceAllString(e, `unknown field "$1"`)
	}
	return errors.New(strings.Join(msgs, "; "))
}

// IsPlugin reports whether dir holds a module.yaml whose type is wasm.
func IsPlugin(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return false
	}
	var head struct {
		Type string `yaml:"type"`
	}
	return yaml.Unmarshal(data, &head) == nil && head.Type == "wasm"
}
