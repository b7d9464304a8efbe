package inventory

import (
	gojson "encoding/json"
	"fmt"
	"sort"

	"go.starlark.net/starlark"
	goyaml "gopkg.in/yaml.v3"

	"github.com/project-starkite/starkite/libkite/modules/json"
	"github.com/project-starkite/starkite/libkite/modules/yaml"
)

// Inventory is an ordered list of items, each a string-keyed dict. The
// item dicts are frozen and never handed out: scripts get deep copies, so
// an inventory is immutable and safe to share between threads.
type Inventory struct {
	items []*starlark.Dict
}

var _ starlark.HasAttrs = (*Inventory)(nil)

// NewInventory builds an inventory from items (deep-copied and frozen).
// Every item must be a dict.
func NewInventory(items []starlark.Value) (*Inventory, error) {
	inv := &Inventory{items: make([]*starlark.Dict, 0, len(items))}
	for i, v := range items {
		d, ok := v.(*starlark.Dict)
		if !ok {
			return nil, fmt.Errorf("item %d: got %s, want dict", i, v.Type())
		}
		inv.items = append(inv.items, copyValue(d).(*starlark.Dict))
	}
	return inv.freeze(), nil
}

// Len is the number of items.
func (inv *Inventory) Len() int { return len(inv.items) }

func (inv *Inventory) String() string        { return fmt.Sprintf("<inventory %d items>", len(inv.items)) }
func (inv *Inventory) Type() string          { return "inventory" }
func (inv *Inventory) Freeze()               {} // immutable
func (inv *Inventory) Truth() starlark.Bool  { return len(inv.items) > 0 }
func (inv *Inventory) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: inventory") }
func (inv *Inventory) AttrNames() []string   { return []string{"count", "items"} }

func (inv *Inventory) Attr(name string) (starlark.Value, error) {
	switch name {
	case "count":
		return starlark.MakeInt(len(inv.items)), nil
	case "items":
		return inv.list(), nil
	}
	return nil, nil
}

// list returns fresh, mutable deep copies of the items.
func (inv *Inventory) list() *starlark.List {
	out := make([]starlark.Value, len(inv.items))
	for i, item := range inv.items {
		out[i] = copyValue(item)
	}
	return starlark.NewList(out)
}

// copyValue deep-copies dicts, lists and tuples (new, unfrozen
// containers); other values are immutable and returned as they are.
func copyValue(v starlark.Value) starlark.Value {
	switch v := v.(type) {
	case *starlark.Dict:
		d := starlark.NewDict(v.Len())
		for _, kv := range v.Items() {
			_ = d.SetKey(kv[0], copyValue(kv[1]))
		}
		return d
	case *starlark.List:
		elems := make([]starlark.Value, v.Len())
		for i := range elems {
			elems[i] = copyValue(v.Index(i))
		}
		return starlark.NewList(elems)
	case starlark.Tuple:
		t := make(starlark.Tuple, len(v))
		for i, x := range v {
			t[i] = copyValue(x)
		}
		return t
	}
	return v
}

// Parse reads an inventory document (YAML, or JSON, which is YAML too):
//
//  1. a top-level list of mappings → the items in file order;
//  2. else a mapping of group name → list of mappings → every item gets
//     `_group` = its group name, groups in document order;
//  3. anything else → `failed to parse inventory file: <error of the list
//     reading>`.
//
// The document is decoded once by the yaml module (document order, its
// typing) and its shape checked. Only a document that is not plainly one
// of the two shapes goes the reference's way — yaml.v3 decoding into
// []map[string]any, then map[string][]map[string]any — which gives the
// reference's acceptance and error text. An empty document is an empty
// inventory.
func Parse(data []byte) (*Inventory, error) {
	doc, decErr := yaml.Decode(data)
	if decErr == nil {
		if inv, ok := fromDocument(doc); ok {
			return inv, nil
		}
	}
	var asList []map[string]any
	listErr := goyaml.Unmarshal(data, &asList)
	if listErr == nil {
		return fromGo(asList, nil)
	}
	var asGroups map[string][]map[string]any
	if goyaml.Unmarshal(data, &asGroups) == nil {
		names := make([]string, 0, len(asGroups))
		for name := range asGroups {
			names = append(names, name)
		}
		sort.Strings(names)
		inv := &Inventory{}
		for _, name := range names {
			g, err := fromGo(asGroups[name], starlark.String(name))
			if err != nil {
				return nil, err
			}
			inv.items = append(inv.items, g.items...)
		}
		return inv, nil
	}
	if decErr != nil && gojson.Valid(data) {
		return parseJSON(data, listErr)
	}
	return nil, fmt.Errorf("failed to parse inventory file: %w", listErr)
}

// parseJSON is the fallback for JSON that yaml.v3 refuses (YAML is not a
// strict superset of JSON); numbers with no fractional part become ints,
// as the YAML reading gives them.
func parseJSON(data []byte, listErr error) (*Inventory, error) {
	doc, err := json.Decode(data)
	if err == nil {
		var g any
		if g, err = json.ToGo(doc); err == nil {
			doc, err = json.FromGo(g, json.IntegralFloatsAsInts())
		}
	}
	if err == nil {
		if inv, ok := fromDocument(doc); ok {
			return inv, nil
		}
	}
	return nil, fmt.Errorf("failed to parse inventory file: %w", listErr)
}

// fromDocument builds the inventory from a decoded document when it has
// one of the two shapes, with scalar keys throughout.
func fromDocument(doc starlark.Value) (*Inventory, bool) {
	inv := &Inventory{}
	switch doc := doc.(type) {
	case starlark.NoneType:
		return inv, true
	case *starlark.List:
		if !inv.appendItems(doc, nil) {
			return nil, false
		}
	case *starlark.Dict:
		for _, kv := range doc.Items() {
			name, ok := keyText(kv[0])
			if !ok {
				return nil, false
			}
			switch list := kv[1].(type) {
			case starlark.NoneType:
			case *starlark.List:
				if !inv.appendItems(list, starlark.String(name)) {
					return nil, false
				}
			default:
				return nil, false
			}
		}
	default:
		return nil, false
	}
	return inv.freeze(), true
}

// appendItems adds every mapping of list (null = an empty item), tagged
// with _group when group is set; false when an element is not a mapping.
func (inv *Inventory) appendItems(list *starlark.List, group starlark.Value) bool {
	for i := range list.Len() {
		item := starlark.NewDict(0)
		switch src := list.Index(i).(type) {
		case starlark.NoneType:
		case *starlark.Dict:
			for _, kv := range src.Items() {
				k, ok := keyText(kv[0])
				if !ok {
					return false
				}
				_ = item.SetKey(starlark.String(k), kv[1])
			}
		default:
			return false
		}
		if group != nil {
			_ = item.SetKey(starlark.String("_group"), group)
		}
		inv.items = append(inv.items, item)
	}
	return true
}

// fromGo builds items from yaml.v3-decoded mappings (keys sorted).
func fromGo(items []map[string]any, group starlark.Value) (*Inventory, error) {
	inv := &Inventory{items: make([]*starlark.Dict, 0, len(items))}
	for _, m := range items {
		v, err := json.FromGo(m)
		if err != nil {
			return nil, fmt.Errorf("failed to parse inventory file: %w", err)
		}
		item := v.(*starlark.Dict)
		if group != nil {
			_ = item.SetKey(starlark.String("_group"), group)
		}
		inv.items = append(inv.items, item)
	}
	return inv.freeze(), nil
}

// freeze deep-freezes every item (they are shared, never handed out).
func (inv *Inventory) freeze() *Inventory {
	for _, item := range inv.items {
		item.Freeze()
	}
	return inv
}

// keyText is the string form of a scalar mapping key, as decoding into
// map[string]any gives it (1 → "1", true → "true"); false for keys that
// are not scalars.
func keyText(k starlark.Value) (string, bool) {
	switch k := k.(type) {
	case starlark.String:
		return string(k), true
	case starlark.Int, starlark.Float, starlark.Bool:
		return goText(k), true
	}
	return "", false
}
