// Package uuid is kite's uuid module (spec/uuid.md): random RFC 4122
// version-4 identifiers from crypto/rand.
package uuid

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the uuid module: one function, no try_ forms (as in the
// reference; only its arguments can fail).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "uuid",
		Doc: "Random (version 4) UUID generation",
		Build: func() starlark.StringDict {
			return starlark.StringDict{"v4": starlark.NewBuiltin("uuid.v4", v4)}
		},
	}
}

// v4() → str: a fresh random UUID, lower-case 8-4-4-4-12 hex.
func v4(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	s, err := V4()
	if err != nil {
		return nil, err
	}
	return starlark.String(s), nil
}

// V4 returns a random version-4 UUID in canonical lower-case text form.
func V4() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", fmt.Errorf("uuid.v4: %w", err)
	}
	return Format(u), nil
}

// Format sets the version (4) and variant (RFC 4122, 10xx) bits of u and
// returns its 36-character text form.
func Format(u [16]byte) string {
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}
