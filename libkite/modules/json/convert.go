package json

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite/startype"
)

// This file holds the shared Starlark ⇄ Go data conversion of
// builtins.md §13, used by the json encoder/decoder and meant for every
// codec module (yaml, template, ...) and for vars. The conversion itself
// is startype's, under startype.Options{Data: true}.

// ToGoOption tunes ToGo.
type ToGoOption func(startype.Options) startype.Options

// StringKeys makes ToGo render every dict as map[string]any, converting
// non-string keys to text the way JSON object keys need: int 1 → "1",
// bool → "true", other keys Go-%v formatted.
func StringKeys() ToGoOption {
	return func(o startype.Options) startype.Options { o.Keys = startype.KeysText; return o }
}

// ToGo converts Starlark data to host data (builtins.md §13):
//
//	None → nil, bool → bool, int → int64 (uint64 when above int64),
//	float → float64, str → string, bytes → []byte, list/tuple/set → []any,
//	dict → map[string]any when every key is a str (or with StringKeys),
//	else map[any]any with converted keys.
//
// Errors: ints beyond uint64 → `unsupported starlark.Int type`; any other
// type → `unsupported type: <type>`; a container that contains itself →
// `unsupported value: cycle via <type>`; nesting beyond 10000 levels →
// `value nested more than 10000 levels deep (cyclic value?)`.
func ToGo(v starlark.Value, opts ...ToGoOption) (any, error) {
	o := startype.Options{Data: true, Keys: startype.KeysAny}
	for _, f := range opts {
		o = f(o)
	}
	return o.FromStarlark(v)
}

// FromGoOption tunes FromGo.
type FromGoOption func(startype.Options) startype.Options

// IntegralFloatsAsInts makes FromGo return int for floats with no
// fractional part (2.0 → 2), the JSON-style typing vars uses.
func IntegralFloatsAsInts() FromGoOption {
	return func(o startype.Options) startype.Options { o.Floats = startype.FloatsIntegral; return o }
}

// FromGo converts decoded host data to Starlark (builtins.md §13):
//
//	nil → None, bool → bool, every Go integer type and *big.Int → int,
//	float32/float64 → float, encoding/json.Number → int for an integer
//	literal (exact at any size) else float, string → str, byte slices
//	and arrays → bytes, other slices and arrays → list, maps → dict with
//	keys sorted (Go maps have no order), pointers → their target,
//	starlark.Value → itself.
//
// Named types are converted by their kind. Anything else (structs,
// channels, functions) fails with `unsupported Go type <T>`.
func FromGo(v any, opts ...FromGoOption) (starlark.Value, error) {
	o := startype.Options{Data: true, Floats: startype.FloatsKeep, Number: NumberValue}
	for _, f := range opts {
		o = f(o)
	}
	return o.ToStarlark(v)
}

// NumberValue converts a JSON number literal following json.md: numbers
// decode to float, except integer literals (no '.', 'e' or 'E') whose
// value float64 cannot hold exactly, which stay exact ints (kite: no
// silent precision loss above 2^53). A literal outside float64 range
// fails like Go's decoder: `json: cannot unmarshal number 1e400 into Go
// value of type float64`.
func NumberValue(lit string) (starlark.Value, error) {
	if !strings.ContainsAny(lit, ".eE") {
		digits := strings.TrimPrefix(lit, "-")
		if len(digits) > 15 { // 10^15 < 2^53: shorter literals are exact floats
			bi, ok := new(big.Int).SetString(lit, 10)
			if !ok {
				return nil, fmt.Errorf("json: invalid number literal %q", lit)
			}
			if f, acc := new(big.Float).SetInt(bi).Float64(); acc != big.Exact || math.IsInf(f, 0) {
				return starlark.MakeBigInt(bi), nil
			}
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return nil, fmt.Errorf("json: cannot unmarshal number %s into Go value of type float64", lit)
	}
	return starlark.Float(f), nil
}
