// Package regexp is kite's "regexp" module (spec: regexp.md): RE2
// regular expressions with Go's syntax and semantics (leftmost-first, no
// backreferences or lookaround, linear time in the input), compiled
// Pattern objects and Match results.
//
// Module functions compile through a bounded, process-wide cache keyed by
// (flags, pattern), so a script calling regexp.match in a loop compiles
// each pattern once. regexp.compile returns a Pattern holding its compiled
// program for explicit reuse.
package regexp

import (
	"container/list"
	"fmt"
	stdregexp "regexp"
	"strings"
	"sync"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the regexp module: try-enabled, no global aliases.
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:    "regexp",
		Doc:   "RE2 regular expressions: match, find, find_all, replace, split, compile",
		Try:   true,
		Build: members,
	}
}

func members() starlark.StringDict {
	m := starlark.StringDict{
		"compile": starlark.NewBuiltin("regexp.compile", compileBuiltin),
	}
	for name, o := range ops {
		m[name] = starlark.NewBuiltin("regexp."+name, moduleOp(o))
	}
	return m
}

// ---- compiling -------------------------------------------------------------

// validFlags are the letters accepted in flags=.
const validFlags = "imsU"

// Compile compiles pattern with flags (any of i, m, s, U) as
// "(?flags)pattern", through the module's cache. A bad flag fails with
// `regexp: unknown flag "z" (valid: i, m, s, U)` before compiling; a bad
// pattern with Go's `error parsing regexp: ...` for the pattern as given.
func Compile(pattern, flags string) (*stdregexp.Regexp, error) {
	for _, r := range flags {
		if !strings.ContainsRune(validFlags, r) {
			return nil, fmt.Errorf("regexp: unknown flag %q (valid: i, m, s, U)", string(r))
		}
	}
	key := cacheKey{pattern, flags}
	if re := compiled.get(key); re != nil {
		return re, nil
	}
	re, err := compile(pattern, flags)
	if err != nil {
		return nil, err
	}
	if len(pattern) <= maxCachedPattern {
		compiled.put(key, re)
	}
	return re, nil
}

func compile(pattern, flags string) (*stdregexp.Regexp, error) {
	if flags == "" {
		return stdregexp.Compile(pattern)
	}
	re, err := stdregexp.Compile("(?" + flags + ")" + pattern)
	if err != nil {
		// Flags never make a valid pattern invalid: report the error for
		// the text the script wrote, without the "(?flags)" prefix.
		if _, plainErr := stdregexp.Compile(pattern); plainErr != nil {
			return nil, plainErr
		}
		return nil, err
	}
	return re, nil
}

// cacheSize bounds the compile cache (entries, least recently used out);
// patterns longer than maxCachedPattern bytes are compiled but not kept.
const (
	cacheSize        = 256
	maxCachedPattern = 64 << 10
)

var compiled = newLRU(cacheSize)

// lru is a small mutex-guarded LRU of compiled patterns. Compiled
// *regexp.Regexp values are safe for concurrent use, so threads share it.
type lru struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recent; values are *lruEntry
	index map[cacheKey]*list.Element
}

type cacheKey struct{ pattern, flags string }

type lruEntry struct {
	key cacheKey
	re  *stdregexp.Regexp
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), index: make(map[cacheKey]*list.Element, max)}
}

func (c *lru) get(key cacheKey) *stdregexp.Regexp {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.index[key]; ok {
		c.order.MoveToFront(e)
		return e.Value.(*lruEntry).re
	}
	return nil
}

func (c *lru) put(key cacheKey, re *stdregexp.Regexp) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.index[key]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.index[key] = c.order.PushFront(&lruEntry{key, re})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.index, last.Value.(*lruEntry).key)
	}
}

func (c *lru) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// ---- operations shared by module functions and Pattern methods --------------

// opArgs holds the bound arguments of one operation.
type opArgs struct {
	s, repl string
	n       int
}

// op is one regexp operation: its parameters after the pattern (as
// libkite.UnpackArgs names) and its implementation.
type op struct {
	params []string
	run    func(re *stdregexp.Regexp, a *opArgs) starlark.Value
}

// appendPairs appends the UnpackArgs name/pointer pairs of o's
// parameters to dst.
func (o op) appendPairs(dst []any, a *opArgs) []any {
	for _, p := range o.params {
		switch p {
		case "s":
			dst = append(dst, p, &a.s)
		case "repl":
			dst = append(dst, p, &a.repl)
		case "n?":
			dst = append(dst, p, &a.n)
		}
	}
	return dst
}

var ops = map[string]op{
	"match": {[]string{"s"}, func(re *stdregexp.Regexp, a *opArgs) starlark.Value {
		return starlark.Bool(re.MatchString(a.s))
	}},
	"find": {[]string{"s"}, func(re *stdregexp.Regexp, a *opArgs) starlark.Value {
		idx := re.FindStringSubmatchIndex(a.s)
		if idx == nil {
			return starlark.None
		}
		return &Match{re: re, s: a.s, idx: idx}
	}},
	"find_all": {[]string{"s", "n?"}, func(re *stdregexp.Regexp, a *opArgs) starlark.Value {
		all := re.FindAllStringSubmatchIndex(a.s, a.n)
		out := make([]starlark.Value, len(all))
		for i, idx := range all {
			out[i] = &Match{re: re, s: a.s, idx: idx}
		}
		return starlark.NewList(out)
	}},
	"replace": {[]string{"s", "repl"}, func(re *stdregexp.Regexp, a *opArgs) starlark.Value {
		return starlark.String(re.ReplaceAllString(a.s, a.repl))
	}},
	"split": {[]string{"s", "n?"}, func(re *stdregexp.Regexp, a *opArgs) starlark.Value {
		parts := re.Split(a.s, a.n)
		out := make([]starlark.Value, len(parts))
		for i, p := range parts {
			out[i] = starlark.String(p)
		}
		return starlark.NewList(out)
	}},
}

// moduleCall holds one module-function call's arguments and their
// UnpackArgs pairs: a single allocation per call.
type moduleCall struct {
	pattern, flags string
	a              opArgs
	pairs          [12]any
}

// moduleOp is the module function of o: (pattern, <params>, *, flags="").
func moduleOp(o op) libkite.BuiltinFunc {
	return func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		c := &moduleCall{a: opArgs{n: -1}}
		pairs := append(c.pairs[:0], "pattern", &c.pattern)
		pairs = o.appendPairs(pairs, &c.a)
		pairs = append(pairs, "*", nil, "flags?", &c.flags)
		if err := libkite.UnpackArgsKeywordWins(b.Name(), args, kwargs, pairs...); err != nil {
			return nil, err
		}
		re, err := Compile(c.pattern, c.flags)
		if err != nil {
			return nil, err
		}
		return o.run(re, &c.a), nil
	}
}

// compile(pattern, *, flags="") → Pattern.
func compileBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern, flags string
	if err := libkite.UnpackArgsKeywordWins(b.Name(), args, kwargs, "pattern", &pattern, "*", nil, "flags?", &flags); err != nil {
		return nil, err
	}
	re, err := Compile(pattern, flags)
	if err != nil {
		return nil, err
	}
	return &Pattern{re: re, pattern: pattern}, nil
}
