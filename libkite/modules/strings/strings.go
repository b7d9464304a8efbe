// Package strings is kite's "strings" module (spec: strings.md): the few
// string helpers Starlark's built-in str methods lack — code-point
// padding, cut, case-folded equality, character-set membership and
// Go-syntax quoting.
//
// Like the reference, the module has no try_ forms (dir(strings) lists the
// eight functions only). Every function binds strictly.
package strings

import (
	"fmt"
	"strconv"
	stdstrings "strings"
	"unicode/utf8"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the strings module: pure functions, no try_ forms, no
// global aliases.
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:    "strings",
		Doc:   "string helpers: padding, cut, case-insensitive equality, quoting",
		Build: members,
	}
}

func members() starlark.StringDict {
	fns := map[string]libkite.BuiltinFunc{
		"ljust":   pad(PadLeft),
		"rjust":   pad(PadRight),
		"center":  pad(PadCenter),
		"cut":     cut,
		"equal":   equal,
		"has_any": hasAny,
		"quote":   quote,
		"unquote": unquote,
	}
	m := make(starlark.StringDict, len(fns))
	for name, fn := range fns {
		m[name] = starlark.NewBuiltin("strings."+name, fn)
	}
	return m
}

// maxResult bounds the size of a padded string, as Starlark bounds
// str * int: a huge width or fill must fail, not exhaust memory.
const maxResult = 1 << 30

// PadMode selects where Pad puts the fill.
type PadMode int

const (
	PadLeft   PadMode = iota // ljust: s then fill
	PadRight                 // rjust: fill then s
	PadCenter                // center: fill both sides, the extra one right
)

// Pad returns s padded to width code points as ljust/rjust/center do
// (strings.md "Padding rules"): the fill string is repeated once per
// missing code point, never truncated, so a multi-character fill
// overshoots; an empty fill or n >= width leaves s unchanged. It fails
// only when the result would exceed 1 GiB.
func Pad(s string, width int, fill string, mode PadMode) (string, error) {
	n := utf8.RuneCountInString(s)
	if n >= width || fill == "" {
		return s, nil
	}
	pad := width - n
	if pad > (maxResult-len(s))/len(fill) {
		return "", fmt.Errorf("excessive padding (%d * %d bytes)", pad, len(fill))
	}
	left, right := 0, 0
	switch mode {
	case PadLeft:
		right = pad
	case PadRight:
		left = pad
	default:
		left = pad / 2
		right = pad - left
	}
	var b stdstrings.Builder
	b.Grow(len(s) + pad*len(fill))
	for range left {
		b.WriteString(fill)
	}
	b.WriteString(s)
	for range right {
		b.WriteString(fill)
	}
	return b.String(), nil
}

// pad builds ljust/rjust/center: (s, width, fillchar=" ") → str.
func pad(mode PadMode) libkite.BuiltinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var s string
		var width int
		fill := " "
		if err := libkite.UnpackArgsKeywordWins(b.Name(), args, kwargs, "s", &s, "width", &width, "fillchar?", &fill); err != nil {
			return nil, err
		}
		out, err := Pad(s, width, fill, mode)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		return starlark.String(out), nil
	}
}

// cut(s, sep) → (before, after, found), split at the first sep.
func cut(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s, sep string
	if err := libkite.UnpackArgsKeywordWins(b.Name(), args, kwargs, "s", &s, "sep", &sep); err != nil {
		return nil, err
	}
	before, after, found := stdstrings.Cut(s, sep)
	return starlark.Tuple{starlark.String(before), starlark.String(after), starlark.Bool(found)}, nil
}

// equal(s, t) → bool: Unicode simple case folding (Go EqualFold).
func equal(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s, t string
	if err := libkite.UnpackArgsKeywordWins(b.Name(), args, kwargs, "s", &s, "t", &t); err != nil {
		return nil, err
	}
	return starlark.Bool(stdstrings.EqualFold(s, t)), nil
}

// has_any(s, chars) → bool: any code point of chars occurs in s.
func hasAny(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s, chars string
	if err := libkite.UnpackArgsKeywordWins(b.Name(), args, kwargs, "s", &s, "chars", &chars); err != nil {
		return nil, err
	}
	return starlark.Bool(stdstrings.ContainsAny(s, chars)), nil
}

// quote(s) → Go double-quoted literal (printable non-ASCII kept).
func quote(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := libkite.UnpackArgsKeywordWins(b.Name(), args, kwargs, "s", &s); err != nil {
		return nil, err
	}
	return starlark.String(strconv.Quote(s)), nil
}

// unquote(s) → str: a "…", `…` or one-character '…' Go literal; anything
// else fails with exactly `invalid syntax` (the reference's text).
func unquote(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := libkite.UnpackArgsKeywordWins(b.Name(), args, kwargs, "s", &s); err != nil {
		return nil, err
	}
	out, err := strconv.Unquote(s)
	if err != nil {
		return nil, err // strconv.ErrSyntax: "invalid syntax"
	}
	return starlark.String(out), nil
}
