package template

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	gotemplate "text/template"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/json"
)

// name is the engine-side name of every template: it appears in errors
// (`template: tmpl:1: …`).
const name = "tmpl"

// missing-key modes, index into Template.modes.
const (
	modeDefault = iota
	modeZero
	modeError
	numModes
)

var modeOptions = [numModes]string{"missingkey=default", "missingkey=zero", "missingkey=error"}

// templateMethods are the methods of a template, each with a try_ twin.
var templateMethods = libkite.Methods{
	"render": templateRender,
}

// Template is a parsed, immutable template; safe to render concurrently.
type Template struct {
	source string

	mu    sync.Mutex
	modes [numModes]*gotemplate.Template // [modeDefault] set by Parse, others cloned on demand
}

var _ starlark.HasAttrs = (*Template)(nil)

// Parse parses src with the given delimiters ("" keeps the default
// `{{`/`}}`). Errors are the engine's messages, e.g.
// `template: tmpl:1: missing value for if`.
func Parse(src, left, right string) (*Template, error) {
	if left == "" || right == "" {
		left, right = "", ""
	}
	t, err := gotemplate.New(name).Delims(left, right).Parse(src)
	if err != nil {
		return nil, err
	}
	tt := &Template{source: src}
	tt.modes[modeDefault] = t
	return tt, nil
}

// Source is the template text as given.
func (t *Template) Source() string { return t.source }

func (t *Template) String() string {
	preview := t.source
	if len(preview) > 40 {
		preview = preview[:40] + "..."
	}
	return "template(" + strconv.Quote(preview) + ")"
}
func (t *Template) Type() string          { return "template" }
func (t *Template) Freeze()               {}
func (t *Template) Truth() starlark.Bool  { return t.source != "" }
func (t *Template) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: template") }

func (t *Template) Attr(name string) (starlark.Value, error) {
	if name == "source" {
		return starlark.String(t.source), nil
	}
	return templateMethods.Attr(t, "template", name), nil
}

func (t *Template) AttrNames() []string { return templateMethods.Names("source") }

// engine returns the parsed template for a missing-key mode.
func (t *Template) engine(mode int) (*gotemplate.Template, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.modes[mode] == nil {
		c, err := t.modes[modeDefault].Clone()
		if err != nil {
			return nil, err
		}
		t.modes[mode] = c.Option(modeOptions[mode])
	}
	return t.modes[mode], nil
}

// Render executes the template on data converted per builtins.md §13
// (dict → map, list/tuple → slice, None → nil, …). missingKey is
// "default", "zero", "error" or "" (= default). Errors are the engine's
// (or the conversion's) messages, unprefixed.
//
// Rendering stops with ctx's error once ctx is done (checked on each
// write), so a run deadline interrupts a runaway template.
func (t *Template) Render(ctx context.Context, data starlark.Value, missingKey string) (out string, err error) {
	mode := modeDefault
	switch missingKey {
	case "", "default":
	case "zero":
		mode = modeZero
	case "error":
		mode = modeError
	default:
		return "", fmt.Errorf(`missing_key must be "error", "zero", or "default", got %q`, missingKey)
	}
	g, err := json.ToGo(data)
	if err != nil {
		return "", err
	}
	eng, err := t.engine(mode)
	if err != nil {
		return "", err
	}
	defer func() {
		// text/template recovers its own failures; this only guards the
		// host against an engine bug.
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("template: %v", r)
		}
	}()
	w := &ctxWriter{ctx: ctx}
	if err := eng.Execute(w, g); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return "", cerr
		}
		return "", err
	}
	return w.b.String(), nil
}

// ctxWriter collects output until its context is done.
type ctxWriter struct {
	ctx context.Context
	b   strings.Builder
}

func (w *ctxWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.b.Write(p)
}

// templateRender: template.render(data, /, *, missing_key="") → str.
// Other keywords and a non-str missing_key are ignored.
func templateRender(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("%s: takes exactly 1 argument (data)", fn.Name())
	}
	missingKey := ""
	for _, kv := range kwargs {
		if s, ok := kv[1].(starlark.String); ok && string(kv[0].(starlark.String)) == "missing_key" {
			missingKey = string(s)
		}
	}
	out, err := fn.Receiver().(*Template).Render(libkite.Context(thread), args[0], missingKey)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return starlark.String(out), nil
}
