package startype

import "go.starlark.net/starlark"

// Options selects the conversion policy. The zero value gives the dynamic
// rules of the package documentation (embedding.md §9), which the
// package-level functions use.
type Options struct {
	// Floats selects how Go floats become Starlark values.
	Floats FloatMode

	// Keys selects how a Dict with a non-string key becomes Go data.
	Keys KeyMode

	// Data applies the data-codec rules of builtins.md §13 (json, yaml,
	// vars) in place of the bridge rules:
	//
	// Starlark → Go: an Int beyond int64 becomes uint64, beyond uint64
	// fails with `unsupported starlark.Int type`; a value with no data
	// form fails with `unsupported type: <type>`, a key that cannot be a
	// Go map key with `unsupported type: <type> (as dict key)`; a list or
	// dict that contains itself fails with
	// `unsupported value: cycle via <type>`.
	//
	// Go → Starlark: *big.Int becomes Int; byte arrays become Bytes;
	// non-string map keys are ordered by Starlark value (numbers
	// numerically, mixed types by type name) rather than by fmt.Sprint;
	// unsupported types fail with `unsupported Go type <T>`.
	//
	// Errors carry no location prefix (`index 2: `, `key "a": `).
	Data bool

	// Number, if set, converts encoding/json.Number values from their
	// literal; a Float result then follows Floats. If nil they are
	// strings.
	Number func(lit string) (starlark.Value, error)
}

// Data is implemented by Starlark values that stand for plain data
// without being a dict or list (e.g. k8s object builders, AttrDicts):
// Starlark → Go conversion, under every option, takes their ToData
// result, which must be plain Go data (maps, slices, strings, numbers,
// bools, nil).
type Data interface {
	starlark.Value
	ToData() (any, error)
}

// FloatMode selects how Go floats become Starlark values.
type FloatMode uint8

const (
	// FloatsInt64: a float64 that is integral, finite and within int64
	// range becomes Int (3.0 → 3); float32 and other floats stay Float.
	FloatsInt64 FloatMode = iota
	// FloatsKeep: every float stays Float.
	FloatsKeep
	// FloatsIntegral: every integral, finite float (float32 too) becomes
	// Int, of any size.
	FloatsIntegral
)

// KeyMode selects how a Dict with a non-string key becomes Go data.
type KeyMode uint8

const (
	// KeysString: a non-string key is an error
	// "dict key must be string, got <type>".
	KeysString KeyMode = iota
	// KeysAny: such a Dict becomes map[any]any with converted keys.
	KeysAny
	// KeysText: every Dict becomes map[string]any; a non-string key is
	// converted, then rendered with fmt.Sprint (1 → "1", True → "true").
	KeysText
)

// ToStarlark converts v to a Starlark value under o.
func (o Options) ToStarlark(v any) (starlark.Value, error) {
	return o.fromGo(v, 0)
}

// FromStarlark converts v to Go data under o. A nil v is None.
func (o Options) FromStarlark(v starlark.Value) (any, error) {
	c := &toGo{Options: o}
	return c.value(v, 0)
}
