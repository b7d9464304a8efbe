package k8s

import (
	"fmt"
	"sort"
	"sync"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// AttrDict is the object controllers and webhooks hand to handlers (spec
// §13.1): a view of JSON-like data (an API object) with attribute access.
// A missing key reads as None; nested maps are AttrDicts over the same
// data and lock, so writes through them reach the root object; lists are
// fresh lists whose map items are AttrDicts.
//
// It is a Manifester and a startype.Data, so it is accepted wherever a
// dict manifest is (apply, patch, status, owner=, k8s.yaml).
type AttrDict struct {
	mu *sync.Mutex // shared by every view of one root object
	m  map[string]any
}

const attrDictType = "AttrDict"

// NewAttrDict returns an AttrDict over obj (which it takes ownership of).
func NewAttrDict(obj map[string]any) *AttrDict {
	if obj == nil {
		obj = map[string]any{}
	}
	return &AttrDict{mu: &sync.Mutex{}, m: obj}
}

var (
	_ starlark.HasAttrs        = (*AttrDict)(nil)
	_ starlark.HasSetField     = (*AttrDict)(nil)
	_ starlark.HasSetKey       = (*AttrDict)(nil)
	_ starlark.IterableMapping = (*AttrDict)(nil)
	_ starlark.Sequence        = (*AttrDict)(nil)
	_ Manifester               = (*AttrDict)(nil)
)

func (d *AttrDict) String() string {
	obj, _ := d.ToData()
	v, err := toStarlark(obj)
	if err != nil {
		return "AttrDict(?)"
	}
	return "AttrDict(" + v.String() + ")"
}
func (d *AttrDict) Type() string { return attrDictType }
func (d *AttrDict) Freeze()      {}
func (d *AttrDict) Truth() starlark.Bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.m) > 0
}
func (d *AttrDict) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: %s", attrDictType)
}

// wrap turns a datum of d's object into a Starlark value: maps become
// AttrDicts sharing the lock, lists new lists of wrapped items. Called
// with d.mu held.
func (d *AttrDict) wrap(v any) (starlark.Value, error) {
	switch x := v.(type) {
	case map[string]any:
		return &AttrDict{mu: d.mu, m: x}, nil
	case []any:
		elems := make([]starlark.Value, len(x))
		for i, e := range x {
			w, err := d.wrap(e)
			if err != nil {
				return nil, err
			}
			elems[i] = w
		}
		return starlark.NewList(elems), nil
	}
	return toStarlark(v)
}

// lookup returns the value under key and whether it exists.
func (d *AttrDict) lookup(key string) (starlark.Value, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.m[key]
	if !ok {
		return nil, false, nil
	}
	w, err := d.wrap(v)
	return w, true, err
}

// attrDictMethods apply only when the data has no key of that name.
var attrDictMethods = libkite.Methods{
	"get": func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var key string
		var dflt starlark.Value = starlark.None
		if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 1, &key, &dflt); err != nil {
			return nil, err
		}
		v, ok, err := fn.Receiver().(*AttrDict).lookup(key)
		if err != nil || !ok {
			return dflt, err
		}
		return v, nil
	},
	"keys": func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		d := fn.Receiver().(*AttrDict)
		keys := d.keys()
		elems := make([]starlark.Value, len(keys))
		for i, k := range keys {
			elems[i] = starlark.String(k)
		}
		return starlark.NewList(elems), nil
	},
	"items": func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackPositionalArgs(fn.Name(), args, kwargs, 0); err != nil {
			return nil, err
		}
		d := fn.Receiver().(*AttrDict)
		var elems []starlark.Value
		for _, k := range d.keys() {
			v, ok, err := d.lookup(k)
			if err != nil {
				return nil, err
			}
			if ok {
				elems = append(elems, starlark.Tuple{starlark.String(k), v})
			}
		}
		return starlark.NewList(elems), nil
	},
}

// Attr is d.key: the value, a helper method when the data has no such
// key, else None.
func (d *AttrDict) Attr(name string) (starlark.Value, error) {
	v, ok, err := d.lookup(name)
	if err != nil || ok {
		return v, err
	}
	if _, isMethod := attrDictMethods[name]; isMethod {
		return attrDictMethods.Attr(d, attrDictType, name), nil
	}
	return starlark.None, nil
}

// AttrNames are the keys, sorted.
func (d *AttrDict) AttrNames() []string { return d.keys() }

func (d *AttrDict) keys() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	keys := make([]string, 0, len(d.m))
	for k := range d.m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Get is d["key"]; a missing key is not found (a KeyError in scripts).
func (d *AttrDict) Get(k starlark.Value) (starlark.Value, bool, error) {
	key, ok := k.(starlark.String)
	if !ok {
		return nil, false, nil
	}
	return d.lookup(string(key))
}

// SetKey is d["key"] = v: v is stored as plain data.
func (d *AttrDict) SetKey(k, v starlark.Value) error {
	key, ok := k.(starlark.String)
	if !ok {
		return fmt.Errorf("%s keys must be strings, got %s", attrDictType, k.Type())
	}
	return d.SetField(string(key), v)
}

// SetField is d.key = v.
func (d *AttrDict) SetField(name string, v starlark.Value) error {
	data, err := toJSONData(v)
	if err != nil {
		return fmt.Errorf("%s[%q]: %v", attrDictType, name, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.m[name] = data
	return nil
}

// Items, Iterate and Len make `for k in d`, len(d) and dict(d) work.
func (d *AttrDict) Items() []starlark.Tuple {
	var out []starlark.Tuple
	for _, k := range d.keys() {
		if v, ok, err := d.lookup(k); err == nil && ok {
			out = append(out, starlark.Tuple{starlark.String(k), v})
		}
	}
	return out
}

func (d *AttrDict) Iterate() starlark.Iterator {
	keys := d.keys()
	elems := make([]starlark.Value, len(keys))
	for i, k := range keys {
		elems[i] = starlark.String(k)
	}
	return starlark.NewList(elems).Iterate()
}

func (d *AttrDict) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.m)
}

// ToData returns a deep copy of the data.
func (d *AttrDict) ToData() (any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return deepCopyJSON(d.m), nil
}

// K8sObject returns a deep copy of the object.
func (d *AttrDict) K8sObject() (map[string]any, error) {
	v, err := d.ToData()
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

// deepCopyJSON copies JSON-like data.
func deepCopyJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopyJSON(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopyJSON(e)
		}
		return out
	}
	return v
}
