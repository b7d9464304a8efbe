package regexp

import (
	"fmt"
	stdregexp "regexp"
	"strconv"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// ---- regexp.pattern ----------------------------------------------------------

// Pattern is a regexp.pattern: a compiled expression (flags applied) and
// the pattern text as given. Immutable.
type Pattern struct {
	re      *stdregexp.Regexp
	pattern string
}

var _ starlark.HasAttrs = (*Pattern)(nil)

// patternMethods are the Pattern methods: each module operation without
// the pattern and flags parameters. Every one has a try_ twin.
var patternMethods = func() libkite.Methods {
	ms := make(libkite.Methods, len(ops))
	for name, o := range ops {
		ms[name] = func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			a := opArgs{n: -1}
			var buf [6]any
			if err := libkite.UnpackArgsKeywordWins(b.Name(), args, kwargs, o.appendPairs(buf[:0], &a)...); err != nil {
				return nil, err
			}
			return o.run(b.Receiver().(*Pattern).re, &a), nil
		}
	}
	return ms
}()

// Regexp returns the compiled expression.
func (p *Pattern) Regexp() *stdregexp.Regexp { return p.re }

func (p *Pattern) String() string        { return "regexp.pattern(" + strconv.Quote(p.pattern) + ")" }
func (p *Pattern) Type() string          { return "regexp.pattern" }
func (p *Pattern) Freeze()               {}
func (p *Pattern) Truth() starlark.Bool  { return true }
func (p *Pattern) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: regexp.pattern") }

func (p *Pattern) Attr(name string) (starlark.Value, error) {
	switch name {
	case "pattern":
		return starlark.String(p.pattern), nil
	case "group_count":
		return starlark.MakeInt(p.re.NumSubexp()), nil
	case "group_names":
		var names []starlark.Value
		for _, n := range p.re.SubexpNames() {
			if n != "" {
				names = append(names, starlark.String(n))
			}
		}
		return starlark.NewList(names), nil
	}
	return patternMethods.Attr(p, "regexp.pattern", name), nil
}

func (p *Pattern) AttrNames() []string {
	return patternMethods.Names("group_count", "group_names", "pattern")
}

// ---- regexp.match ------------------------------------------------------------

// Match is a regexp.match: one match of re in s, as the submatch byte
// offsets Go returns (pairs, -1 for a group that did not participate).
type Match struct {
	re  *stdregexp.Regexp
	s   string
	idx []int
}

var _ starlark.HasAttrs = (*Match)(nil)

// Text is the matched text.
func (m *Match) Text() string { return m.s[m.idx[0]:m.idx[1]] }

// group returns group i's value: its text, or None if it did not
// participate. i must be in [0, NumSubexp].
func (m *Match) group(i int) starlark.Value {
	lo, hi := m.idx[2*i], m.idx[2*i+1]
	if lo < 0 {
		return starlark.None
	}
	return starlark.String(m.s[lo:hi])
}

// String is the matched text, unquoted (for str, repr and print alike).
func (m *Match) String() string        { return m.Text() }
func (m *Match) Type() string          { return "regexp.match" }
func (m *Match) Freeze()               {}
func (m *Match) Truth() starlark.Bool  { return true }
func (m *Match) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: regexp.match") }

func (m *Match) Attr(name string) (starlark.Value, error) {
	switch name {
	case "text":
		return starlark.String(m.Text()), nil
	case "start":
		return starlark.MakeInt(m.idx[0]), nil
	case "end":
		return starlark.MakeInt(m.idx[1]), nil
	case "groups":
		groups := make(starlark.Tuple, len(m.idx)/2)
		for i := range groups {
			groups[i] = m.group(i)
		}
		return groups, nil
	case "group":
		return starlark.NewBuiltin("regexp.match.group", matchGroup).BindReceiver(m), nil
	}
	return nil, nil // Match methods have no try_ forms
}

func (m *Match) AttrNames() []string { return []string{"end", "group", "groups", "start", "text"} }

// group(n=0, *, name="") → str or None.
func matchGroup(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	m := b.Receiver().(*Match)
	var n int
	var name string
	if err := libkite.UnpackArgsKeywordWins(b.Name(), args, kwargs, "n?", &n, "*", nil, "name?", &name); err != nil {
		return nil, err
	}
	if name != "" {
		if n != 0 {
			return nil, fmt.Errorf("%s: cannot specify both n and name", b.Name())
		}
		n = m.re.SubexpIndex(name)
		if n < 0 {
			return nil, fmt.Errorf("%s: no group named %q", b.Name(), name)
		}
	}
	if count := len(m.idx) / 2; n < 0 || n >= count {
		return nil, fmt.Errorf("%s: index %d out of range [0, %d)", b.Name(), n, count)
	}
	return m.group(n), nil
}
