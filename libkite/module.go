package libkite

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"go.starlark.net/starlark"
)

// ModuleName is a registry key and the name a module is bound to in scripts.
type ModuleName string

// ModuleConfig is what a registry hands to every Module.Load.
type ModuleConfig struct {
	DryRun   bool
	Debug    bool
	TestMode bool
	VarStore VarStore
}

// Module is one capability a registry can provide to scripts.
//
// Load returns the module's exports. If the returned dict has a key equal
// to Name(), it is used as is; otherwise its members are wrapped into one
// try-enabled module value bound to Name() (so a custom module may simply
// return its functions). Aliases are extra top-level names, read after Load.
type Module interface {
	Name() ModuleName
	Description() string
	Aliases() starlark.StringDict
	FactoryMethod() string
	Load(*ModuleConfig) (starlark.StringDict, error)
}

// ModuleValue is a Starlark module namespace: type "module", attribute
// access to its members and, when try-enabled, a try_X twin for every
// builtin member X.
type ModuleValue struct {
	name    string
	members starlark.StringDict
	try     bool
}

var _ starlark.HasAttrs = (*ModuleValue)(nil)

// NewTryModule builds a try-enabled module value.
func NewTryModule(name string, members starlark.StringDict) *ModuleValue {
	return &ModuleValue{name: name, members: members, try: true}
}

// NewModule builds a plain module value (no try_ attributes).
func NewModule(name string, members starlark.StringDict) *ModuleValue {
	return &ModuleValue{name: name, members: members}
}

// Name is the module's name.
func (m *ModuleValue) Name() string { return m.name }

// Members returns the module's own members (not the try_ twins).
func (m *ModuleValue) Members() starlark.StringDict { return m.members }

func (m *ModuleValue) String() string        { return fmt.Sprintf("<module %q>", m.name) }
func (m *ModuleValue) Type() string          { return "module" }
func (m *ModuleValue) Freeze()               { m.members.Freeze() }
func (m *ModuleValue) Truth() starlark.Bool  { return true }
func (m *ModuleValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: module") }

func (m *ModuleValue) Attr(name string) (starlark.Value, error) {
	if v, ok := m.members[name]; ok {
		return v, nil
	}
	if m.try && strings.HasPrefix(name, "try_") {
		if b, ok := m.members[name[4:]].(*starlark.Builtin); ok {
			return TryWrap(m.name+"."+name, b), nil
		}
	}
	return nil, nil // starlark reports "module has no .x field or method"
}

func (m *ModuleValue) AttrNames() []string {
	names := make([]string, 0, 2*len(m.members))
	for k, v := range m.members {
		names = append(names, k)
		if _, ok := v.(*starlark.Builtin); ok && m.try && m.members["try_"+k] == nil {
			names = append(names, "try_"+k)
		}
	}
	sort.Strings(names)
	return names
}

// BuiltinFunc is the signature of a Starlark builtin implementation.
type BuiltinFunc = func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)

// Methods is the method table of an object type; a method reads its object
// with fn.Receiver(). Objects answer Attr and AttrNames through the table
// to get bound methods and their try_ twins from one place.
type Methods map[string]BuiltinFunc

// Attr returns method name (or its try_ twin) bound to recv, or nil when
// the table has no such method. typeName prefixes the builtin's name.
func (ms Methods) Attr(recv starlark.Value, typeName, name string) starlark.Value {
	if fn, ok := ms[name]; ok {
		return starlark.NewBuiltin(typeName+"."+name, fn).BindReceiver(recv)
	}
	if strings.HasPrefix(name, "try_") {
		if fn, ok := ms[name[4:]]; ok {
			inner := starlark.NewBuiltin(typeName+"."+name[4:], fn).BindReceiver(recv)
			return TryWrap(typeName+"."+name, inner)
		}
	}
	return nil
}

// Names lists every method and its try_ twin plus the object's
// properties (which have no try_ form), sorted: an object's AttrNames.
func (ms Methods) Names(properties ...string) []string {
	names := make([]string, 0, 2*len(ms)+len(properties))
	names = append(names, properties...)
	for k := range ms {
		names = append(names, k, "try_"+k)
	}
	sort.Strings(names)
	return names
}

// StaticModule implements Module for a module with no per-registry state:
// its member table is built once, on first use, and the namespace value
// (try-enabled when Try is set) is bound to ID. A module package's New
// returns one, so the package holds only its API table and builtins.
type StaticModule struct {
	ID      ModuleName
	Doc     string
	Factory string // FactoryMethod, informational
	Try     bool   // answer try_X for every builtin member
	// Build returns the module's members (its whole API).
	Build func() starlark.StringDict
	// GlobalAliases, if set, derives the top-level aliases from the members.
	GlobalAliases func(members starlark.StringDict) starlark.StringDict

	once    sync.Once
	value   *ModuleValue
	aliases starlark.StringDict
}

func (m *StaticModule) build() {
	m.once.Do(func() {
		members := m.Build()
		if m.Try {
			m.value = NewTryModule(string(m.ID), members)
		} else {
			m.value = NewModule(string(m.ID), members)
		}
		if m.GlobalAliases != nil {
			m.aliases = m.GlobalAliases(members)
		}
	})
}

func (m *StaticModule) Name() ModuleName      { return m.ID }
func (m *StaticModule) Description() string   { return m.Doc }
func (m *StaticModule) FactoryMethod() string { return m.Factory }

func (m *StaticModule) Aliases() starlark.StringDict {
	m.build()
	return m.aliases
}

func (m *StaticModule) Load(*ModuleConfig) (starlark.StringDict, error) {
	m.build()
	return starlark.StringDict{string(m.ID): m.value}, nil
}

// AliasAllMembers is a GlobalAliases that exports every member as a global.
func AliasAllMembers(members starlark.StringDict) starlark.StringDict { return copyDict(members) }
