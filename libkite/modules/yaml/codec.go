package yaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.starlark.net/starlark"
	goyaml "gopkg.in/yaml.v3"

	"github.com/project-starkite/starkite/libkite/modules/json"
)

// Encode renders v as one YAML document in the layout of yaml.v3's
// Marshal (yaml.md "Output format"): block style, 4-space indentation,
// mapping keys sorted, every document ending in "\n". Values are converted
// per builtins.md §13; a value with no data form fails with
// `unsupported type: <type>`.
func Encode(v starlark.Value) (text string, err error) {
	g, err := json.ToGo(v)
	if err != nil {
		return "", err
	}
	g = quoteBrokenLiterals(g)
	defer func() {
		// yaml.v3 turns its own failures into errors; anything else
		// escaping Marshal must not take the process down.
		if r := recover(); r != nil {
			text, err = "", fmt.Errorf("yaml: %v", r)
		}
	}()
	b, err := goyaml.Marshal(g)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// quotedString is a string yaml.v3 must write double-quoted.
type quotedString string

func (q quotedString) MarshalYAML() (any, error) {
	return &goyaml.Node{Kind: goyaml.ScalarNode, Style: goyaml.DoubleQuotedStyle, Tag: "!!str", Value: string(q)}, nil
}

// brokenLiteral reports whether yaml.v3 would write s as a literal block
// that does not read back as s: a multi-line string starting with a space
// or a line break gets an indentation indicator that loses the leading
// line break (`"\n00"` → `|4-\n    00`) or, inside a sequence, does not
// parse at all (`- |4\n   0`).
func brokenLiteral(s string) bool {
	return s != "" && (s[0] == ' ' || s[0] == '\n') && strings.IndexByte(s, '\n') >= 0 && utf8.ValidString(s)
}

// quoteBrokenLiterals makes every string (keys included) for which
// brokenLiteral holds a quotedString. kite: the one place where the
// output differs from yaml.v3's Marshal, which would corrupt such strings.
// Key order is unchanged (yaml.v3 sorts by the string kind).
func quoteBrokenLiterals(v any) any {
	switch x := v.(type) {
	case string:
		if brokenLiteral(x) {
			return quotedString(x)
		}
	case []any:
		for i, e := range x {
			x[i] = quoteBrokenLiterals(e)
		}
	case map[string]any:
		badKey := false
		for k, e := range x {
			x[k] = quoteBrokenLiterals(e)
			badKey = badKey || brokenLiteral(k)
		}
		if badKey {
			m := make(map[any]any, len(x))
			for k, e := range x {
				m[quoteBrokenLiterals(k)] = e
			}
			return m
		}
	case map[any]any:
		m := make(map[any]any, len(x))
		for k, e := range x {
			m[quoteBrokenLiterals(k)] = quoteBrokenLiterals(e)
		}
		return m
	}
	return v
}

// EncodeAll encodes each document with Encode and joins them with a
// "---\n" line between them (none before the first or after the last);
// no documents give "". An item error reads `[<i>]: <message>` so that the
// caller's name can be put in front of it (`yaml.encode_all[1]: …`).
func EncodeAll(docs []starlark.Value) (string, error) {
	var b strings.Builder
	for i, d := range docs {
		s, err := Encode(d)
		if err != nil {
			return "", &itemError{index: i, err: err}
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// itemError is an EncodeAll failure of document index.
type itemError struct {
	index int
	err   error
}

func (e *itemError) Error() string { return fmt.Sprintf("[%d]: %v", e.index, e.err) }
func (e *itemError) Unwrap() error { return e.err }

// prefixed renders err after name: `name[i]: msg` for an item error of
// EncodeAll, else `name: msg`.
func prefixed(name string, err error) error {
	var ie *itemError
	if errors.As(err, &ie) {
		return fmt.Errorf("%s%w", name, err)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// Decode parses the first YAML document of data into Starlark data
// (yaml.md "Input typing"): mappings → dict in document order, sequences →
// list, scalars typed by yaml.v3's core-schema resolution, timestamps kept
// as their text. Empty input or an empty document gives None. Errors carry
// yaml.v3's message, e.g. `yaml: line 1: did not find expected ',' or ']'`.
func Decode(data []byte) (starlark.Value, error) {
	var n goyaml.Node
	if err := goyaml.Unmarshal(data, &n); err != nil {
		return nil, err
	}
	return convertDocument(&n)
}

// DecodeAll parses every document of data, one value per document (an
// empty document between separators is None; no documents give an empty
// list). The first bad document fails the whole call.
func DecodeAll(data []byte) ([]starlark.Value, error) {
	dec := goyaml.NewDecoder(bytes.NewReader(data))
	var docs []starlark.Value
	for {
		var n goyaml.Node
		err := dec.Decode(&n)
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		v, err := convertDocument(&n)
		if err != nil {
			return nil, err
		}
		docs = append(docs, v)
	}
}

func convertDocument(n *goyaml.Node) (v starlark.Value, err error) {
	c := converter{active: map[*goyaml.Node]bool{}}
	defer func() {
		if r := recover(); r != nil {
			if ye, ok := r.(yamlError); ok {
				v, err = nil, ye.err
			} else {
				v, err = nil, fmt.Errorf("yaml: internal error: %v", r)
			}
		}
	}()
	v = c.node(n)
	if len(c.typeErrors) > 0 {
		return nil, &goyaml.TypeError{Errors: c.typeErrors}
	}
	return v, nil
}

// yamlError carries a fatal conversion error out of the recursion (as
// yaml.v3's own decoder does), so deep documents need no error plumbing.
type yamlError struct{ err error }

func failf(format string, args ...any) {
	panic(yamlError{fmt.Errorf("yaml: "+format, args...)})
}

// converter turns a yaml.v3 node tree into Starlark values, following
// yaml.v3's decoding into interface{} (merge keys, duplicate-key errors,
// alias expansion limits) but keeping mapping keys in document order.
type converter struct {
	active      map[*goyaml.Node]bool // aliases being expanded (cycle check)
	aliasDepth  int
	decodeCount int
	aliasCount  int
	typeErrors  []string // reported together at the end, like yaml.v3
}

// Alias expansion limits of yaml.v3 (decode.go), so that a "billion
// laughs" document fails instead of exhausting memory.
const (
	aliasRatioRangeLow  = 400000
	aliasRatioRangeHigh = 4000000
	aliasRatioRange     = float64(aliasRatioRangeHigh - aliasRatioRangeLow)
)

func allowedAliasRatio(decodeCount int) float64 {
	switch {
	case decodeCount <= aliasRatioRangeLow:
		return 0.99
	case decodeCount >= aliasRatioRangeHigh:
		return 0.10
	default:
		return 0.99 - 0.89*(float64(decodeCount-aliasRatioRangeLow)/aliasRatioRange)
	}
}

func (c *converter) node(n *goyaml.Node) starlark.Value {
	c.decodeCount++
	if c.aliasDepth > 0 {
		c.aliasCount++
	}
	if c.aliasCount > 100 && c.decodeCount > 1000 && float64(c.aliasCount)/float64(c.decodeCount) > allowedAliasRatio(c.decodeCount) {
		failf("document contains excessive aliasing")
	}
	switch n.Kind {
	case goyaml.DocumentNode:
		if len(n.Content) == 1 {
			return c.node(n.Content[0])
		}
		return starlark.None
	case goyaml.AliasNode:
		if c.active[n] {
			failf("anchor '%s' value contains itself", n.Value)
		}
		if n.Alias == nil {
			failf("unknown anchor '%s' referenced", n.Value)
		}
		c.active[n] = true
		c.aliasDepth++
		v := c.node(n.Alias)
		c.aliasDepth--
		delete(c.active, n)
		return v
	case goyaml.ScalarNode:
		return c.scalar(n)
	case goyaml.SequenceNode:
		elems := make([]starlark.Value, len(n.Content))
		for i, e := range n.Content {
			elems[i] = c.node(e)
		}
		return starlark.NewList(elems)
	case goyaml.MappingNode:
		return c.mapping(n)
	case 0:
		return starlark.None // empty input
	}
	failf("cannot decode node with unknown kind %d", n.Kind)
	return nil
}

func isMerge(n *goyaml.Node) bool {
	return n.Kind == goyaml.ScalarNode && n.Value == "<<" && (n.Tag == "" || n.Tag == "!" || n.ShortTag() == "!!merge")
}

// mapping converts a mapping node: explicit keys in document order, then
// the keys of a merge (`<<`) source that are not yet present, earlier
// sources first.
func (c *converter) mapping(n *goyaml.Node) starlark.Value {
	l := len(n.Content)
	dups := false
	for i := 0; i < l; i += 2 {
		ni := n.Content[i]
		for j := i + 2; j < l; j += 2 {
			nj := n.Content[j]
			if ni.Kind == nj.Kind && ni.Value == nj.Value {
				c.typeErrors = append(c.typeErrors, fmt.Sprintf("line %d: mapping key %#v already defined at line %d", nj.Line, nj.Value, ni.Line))
				dups = true
			}
		}
	}
	d := starlark.NewDict(l / 2)
	if dups {
		return d // the whole decode fails with the collected errors
	}
	var merge *goyaml.Node
	for i := 0; i+1 < l; i += 2 {
		if isMerge(n.Content[i]) {
			merge = n.Content[i+1]
			continue
		}
		k := c.node(n.Content[i])
		v := c.node(n.Content[i+1])
		c.setKey(d, k, v)
	}
	if merge != nil {
		c.merge(d, merge)
	}
	return d
}

func (c *converter) merge(d *starlark.Dict, merge *goyaml.Node) {
	wantMap := func(m *goyaml.Node) {
		if m.Kind == goyaml.AliasNode {
			if m.Alias != nil && m.Alias.Kind != goyaml.MappingNode {
				failf("map merge requires map or sequence of maps as the value")
			}
		} else if m.Kind != goyaml.MappingNode {
			failf("map merge requires map or sequence of maps as the value")
		}
	}
	var sources []*goyaml.Node
	switch merge.Kind {
	case goyaml.MappingNode, goyaml.AliasNode:
		wantMap(merge)
		sources = []*goyaml.Node{merge}
	case goyaml.SequenceNode:
		for _, m := range merge.Content {
			wantMap(m)
		}
		sources = merge.Content
	default:
		failf("map merge requires map or sequence of maps as the value")
	}
	for _, m := range sources {
		src, ok := c.node(m).(*starlark.Dict)
		if !ok {
			continue
		}
		for k, v := range src.Entries() {
			if _, found, _ := d.Get(k); !found {
				c.setKey(d, k, v)
			}
		}
	}
}

// setKey stores k: v; a key Starlark cannot hash (a list or dict) fails
// like yaml.v3's `invalid map key`.
func (c *converter) setKey(d *starlark.Dict, k, v starlark.Value) {
	if err := d.SetKey(k, v); err != nil {
		g, gerr := json.ToGo(k)
		if gerr != nil {
			failf("invalid map key: %s", k)
		}
		failf("invalid map key: %#v", g)
	}
}

// scalar types a scalar node the way yaml.v3 decodes it into interface{}.
// Common cases are resolved here; the rest go through yaml.v3 itself.
// kite: timestamps stay the original text (the reference's time value is
// unusable in scripts).
func (c *converter) scalar(n *goyaml.Node) starlark.Value {
	tag := n.ShortTag()
	if tag == "!!str" {
		return starlark.String(n.Value)
	}
	if n.Style&goyaml.TaggedStyle != 0 {
		tag = "" // explicit tags (`!!null x`, `!!timestamp x`) are checked by yaml.v3
	}
	switch tag {
	case "!!null":
		return starlark.None
	case "!!timestamp":
		return starlark.String(n.Value)
	case "!!bool":
		switch n.Value {
		case "true":
			return starlark.True
		case "false":
			return starlark.False
		}
	case "!!int":
		// base 0 as yaml.v3 does (0x1F, 0o17, 017 octal, 1_000)
		if i, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return starlark.MakeInt64(i)
		}
	}
	var g any
	if err := n.Decode(&g); err != nil {
		panic(yamlError{err})
	}
	switch x := g.(type) {
	case nil:
		return starlark.None
	case bool:
		return starlark.Bool(x)
	case int:
		return starlark.MakeInt(x)
	case int64:
		return starlark.MakeInt64(x)
	case uint64:
		return starlark.MakeUint64(x)
	case float64:
		return starlark.Float(x)
	case string:
		return starlark.String(x)
	case *big.Int:
		return starlark.MakeBigInt(x)
	case time.Time:
		return starlark.String(n.Value)
	}
	v, err := json.FromGo(g)
	if err != nil {
		return starlark.String(n.Value)
	}
	return v
}
