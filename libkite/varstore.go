package libkite

import (
	"fmt"
	"sort"
)

// VarStore is a source of script variables (var_str and friends).
// Implementations must be safe for concurrent use.
type VarStore interface {
	Get(key string) (any, bool)
	GetWithDefault(key string, def any) any
	GetString(key string) string // %v formatting; "" when absent
	Keys() []string              // sorted, de-duplicated
}

// VarLister is the optional capability of listing every variable.
type VarLister interface {
	All() map[string]any
}

// MapVarStore is a fixed, read-only VarStore over a map; handy for hosts
// that inject variables without the CLI's tiered store.
type MapVarStore map[string]any

func (m MapVarStore) Get(key string) (any, bool) { v, ok := m[key]; return v, ok }

func (m MapVarStore) GetWithDefault(key string, def any) any {
	if v, ok := m[key]; ok {
		return v
	}
	return def
}

func (m MapVarStore) GetString(key string) string {
	if v, ok := m[key]; ok {
		return fmt.Sprintf("%v", v)
	}
	return ""
}

func (m MapVarStore) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (m MapVarStore) All() map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
