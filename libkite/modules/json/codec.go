package json

import (
	gojson "encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"go.starlark.net/starlark"
)

// Encode renders v as JSON text (json.md encoding rules): object keys
// sorted, Go float formatting, HTML-safe string escaping, bytes as
// base64. indent == "" gives compact output (prefix ignored); otherwise
// the layout of Go's MarshalIndent(prefix, indent), without a trailing
// newline.
func Encode(v starlark.Value, prefix, indent string) (string, error) {
	g, err := ToGo(v, StringKeys())
	if err != nil {
		return "", err
	}
	var b []byte
	if indent == "" {
		b, err = gojson.Marshal(g)
	} else {
		b, err = gojson.MarshalIndent(g, prefix, indent)
	}
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Decode parses exactly one JSON value (surrounding whitespace allowed)
// into Starlark data (json.md decoding rules): objects → dict in document
// order (duplicate keys: last value wins), arrays → list, numbers → float
// (integer literals float64 cannot hold exactly → int, see NumberValue).
// Syntax errors carry Go's decoder message, e.g. `invalid character '2'
// after top-level value`.
func Decode(data []byte) (starlark.Value, error) {
	// Go's scanner validates the whole input first (its messages for
	// syntax errors and trailing data); the parser below then only ever
	// sees well-formed JSON.
	if !gojson.Valid(data) {
		var raw gojson.RawMessage
		err := gojson.Unmarshal(data, &raw)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return nil, err
	}
	p := parser{data: data}
	return p.value()
}

// parser reads one value from input already validated by encoding/json.
type parser struct {
	data []byte
	pos  int
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value() (starlark.Value, error) {
	p.skipSpace()
	switch c := p.data[p.pos]; c {
	case '{':
		p.pos++
		d := starlark.NewDict(0)
		for {
			p.skipSpace()
			if p.data[p.pos] == '}' {
				p.pos++
				return d, nil
			}
			if p.data[p.pos] == ',' {
				p.pos++
				p.skipSpace()
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.skipSpace()
			p.pos++ // ':'
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			if err := d.SetKey(k, v); err != nil {
				return nil, err
			}
		}
	case '[':
		p.pos++
		var elems []starlark.Value
		for {
			p.skipSpace()
			if p.data[p.pos] == ']' {
				p.pos++
				return starlark.NewList(elems), nil
			}
			if p.data[p.pos] == ',' {
				p.pos++
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			elems = append(elems, v)
		}
	case '"':
		return p.str()
	case 't':
		p.pos += len("true")
		return starlark.True, nil
	case 'f':
		p.pos += len("false")
		return starlark.False, nil
	case 'n':
		p.pos += len("null")
		return starlark.None, nil
	}
	start := p.pos
	for p.pos < len(p.data) && strings.IndexByte("+-0123456789.eE", p.data[p.pos]) >= 0 {
		p.pos++
	}
	return NumberValue(string(p.data[start:p.pos]))
}

// str reads a string literal. Literals without escapes and with valid
// UTF-8 are sliced directly; the rest go through encoding/json (escape
// and U+FFFD rules).
func (p *parser) str() (starlark.String, error) {
	start := p.pos
	p.pos++ // opening quote
	escaped, ascii := false, true
	for c := p.data[p.pos]; c != '"'; c = p.data[p.pos] {
		if c == '\\' {
			escaped = true
			p.pos++ // skip the escaped character
		} else if c >= utf8.RuneSelf {
			ascii = false
		}
		p.pos++
	}
	p.pos++ // closing quote
	lit := p.data[start:p.pos]
	inner := lit[1 : len(lit)-1]
	if !escaped && (ascii || utf8.Valid(inner)) {
		return starlark.String(inner), nil
	}
	var s string
	if err := gojson.Unmarshal(lit, &s); err != nil {
		return "", err
	}
	return starlark.String(s), nil
}
