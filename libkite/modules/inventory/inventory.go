// Package inventory is kite's inventory module (spec/inventory.md): load
// host/resource lists from YAML or JSON files and slice them — filter by
// predicate or key=value, group by a key, merge, list addresses.
//
// inventory.file is gated as an fs.read (read_file) of its path, closing
// the reference's gap; every other function is compute-only.
package inventory

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the inventory module (plain: no try_ twins, no aliases).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "inventory",
		Doc: "Load, filter and group host/resource inventories (YAML or JSON)",
		Build: func() starlark.StringDict {
			return starlark.StringDict{
				"file":      starlark.NewBuiltin("inventory.file", fileBuiltin),
				"list":      starlark.NewBuiltin("inventory.list", listBuiltin),
				"filter":    starlark.NewBuiltin("inventory.filter", filterBuiltin),
				"group_by":  starlark.NewBuiltin("inventory.group_by", groupByBuiltin),
				"merge":     starlark.NewBuiltin("inventory.merge", mergeBuiltin),
				"addresses": starlark.NewBuiltin("inventory.addresses", addressesBuiltin),
			}
		},
	}
}

// fileBuiltin: inventory.file(path) → inventory. Reads path (fs.read
// read_file check first) and parses it (see Parse).
func fileBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "path", &path); err != nil {
		return nil, err
	}
	data, err := libkite.ReadFile(thread, path)
	if err != nil {
		return nil, err
	}
	return Parse(data)
}

// listBuiltin: inventory.list(inventory) → list of dict (fresh copies).
func listBuiltin(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var inv *Inventory
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "inventory", &inv); err != nil {
		return nil, err
	}
	return inv.list(), nil
}

// filterBuiltin: inventory.filter(inv, [predicate], **match) → inventory.
//
// With a positional predicate, items for which predicate(item) is truthy
// are kept and keywords are ignored. Otherwise every keyword is a key that
// must be present with a value equal (Starlark ==) to the one given. A
// callable func= keyword (the docs' spelling) is taken as the predicate.
func filterBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("filter requires at least an inventory argument")
	}
	inv, ok := args[0].(*Inventory)
	if !ok {
		return nil, fmt.Errorf("first argument must be an inventory")
	}
	if len(args) > 2 {
		return nil, fmt.Errorf("%s: unexpected positional argument at index 2", fn.Name())
	}
	var pred starlark.Callable
	if len(args) == 2 {
		if pred, ok = args[1].(starlark.Callable); !ok {
			return nil, fmt.Errorf("second argument must be a callable")
		}
	} else {
		for i, kv := range kwargs {
			if kv[0].(starlark.String) == "func" {
				if c, ok := kv[1].(starlark.Callable); ok {
					pred = c
					kwargs = append(kwargs[:i:i], kwargs[i+1:]...)
				}
				break
			}
		}
	}
	var kept []*starlark.Dict
	for _, item := range inv.items {
		var keep bool
		var err error
		if pred != nil {
			keep, err = callPredicate(thread, pred, item)
		} else {
			keep, err = matches(item, kwargs)
		}
		if err != nil {
			return nil, err
		}
		if keep {
			kept = append(kept, item)
		}
	}
	return &Inventory{items: kept}, nil
}

func callPredicate(thread *starlark.Thread, pred starlark.Callable, item *starlark.Dict) (bool, error) {
	v, err := starlark.Call(thread, pred, starlark.Tuple{copyValue(item)}, nil)
	if err != nil {
		return false, err
	}
	return bool(v.Truth()), nil
}

// matches reports whether item has every key of match with an equal value.
func matches(item *starlark.Dict, match []starlark.Tuple) (bool, error) {
	for _, kv := range match {
		v, found, err := item.Get(kv[0])
		if err != nil || !found {
			return false, err
		}
		if eq, err := starlark.Equal(v, kv[1]); err != nil || !eq {
			return false, err
		}
	}
	return true, nil
}

// groupByBuiltin: inventory.group_by(inventory, key) → dict of group text
// → inventory, groups in order of first appearance. The group text is the
// item's value rendered as Go's %v renders it (8 → "8", True → "true");
// items without the key form group "".
func groupByBuiltin(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var inv *Inventory
	var key string
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "inventory", &inv, "key", &key); err != nil {
		return nil, err
	}
	var order []string
	groups := map[string]*Inventory{}
	for _, item := range inv.items {
		name := ""
		if v, found, _ := item.Get(starlark.String(key)); found {
			name = goText(v)
		}
		g, ok := groups[name]
		if !ok {
			g = &Inventory{}
			groups[name] = g
			order = append(order, name)
		}
		g.items = append(g.items, item)
	}
	out := starlark.NewDict(len(order))
	for _, name := range order {
		_ = out.SetKey(starlark.String(name), groups[name])
	}
	return out, nil
}

// mergeBuiltin: inventory.merge(*inventories) → inventory with every item,
// in argument order (no de-duplication).
func mergeBuiltin(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: unknown keyword argument: %s", fn.Name(), string(kwargs[0][0].(starlark.String)))
	}
	var items []*starlark.Dict
	for _, a := range args {
		inv, ok := a.(*Inventory)
		if !ok {
			return nil, fmt.Errorf("all arguments must be inventories")
		}
		items = append(items, inv.items...)
	}
	return &Inventory{items: items}, nil
}

// addressesBuiltin: inventory.addresses(inventory, key="address") → the
// key's value of every item that has it (values keep their type).
func addressesBuiltin(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var inv *Inventory
	key := "address"
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "inventory", &inv, "key?", &key); err != nil {
		return nil, err
	}
	var out []starlark.Value
	for _, item := range inv.items {
		if v, found, _ := item.Get(starlark.String(key)); found {
			out = append(out, copyValue(v))
		}
	}
	return starlark.NewList(out), nil
}

// goText renders v as Go's %v renders the decoded value.
func goText(v starlark.Value) string {
	if s, ok := v.(starlark.String); ok {
		return string(s)
	}
	vals, err := libkite.GoFormatArgs(starlark.Tuple{v})
	if err != nil {
		return v.String() // a self-containing value: its own rendering
	}
	return fmt.Sprint(vals...)
}
