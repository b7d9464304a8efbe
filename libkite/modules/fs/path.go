package fs

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/project-starkite/starkite/libkite"
)

// Path is an fs.path value: an immutable path string with pure path
// algebra (Go path/filepath semantics) and I/O methods.
type Path struct{ path string }

var (
	_ starlark.HasAttrs   = (*Path)(nil)
	_ starlark.HasBinary  = (*Path)(nil)
	_ starlark.Comparable = (*Path)(nil)
)

// NewPath returns a Path for p (kept verbatim, not cleaned).
func NewPath(p string) *Path { return &Path{path: p} }

// Text is the path as written (not cleaned).
func (p *Path) Text() string { return p.path }

func (p *Path) String() string        { return "path(" + strconv.Quote(p.path) + ")" }
func (p *Path) Type() string          { return "fs.path" }
func (p *Path) Freeze()               {}
func (p *Path) Truth() starlark.Bool  { return p.path != "" }
func (p *Path) Hash() (uint32, error) { return starlark.String(p.path).Hash() }

// CompareSameType compares paths by their text (kite: the reference
// compares by identity).
func (p *Path) CompareSameType(op syntax.Token, y starlark.Value, _ int) (bool, error) {
	return threeway(op, strings.Compare(p.path, y.(*Path).path)), nil
}

func threeway(op syntax.Token, cmp int) bool {
	switch op {
	case syntax.EQL:
		return cmp == 0
	case syntax.NEQ:
		return cmp != 0
	case syntax.LT:
		return cmp < 0
	case syntax.LE:
		return cmp <= 0
	case syntax.GT:
		return cmp > 0
	case syntax.GE:
		return cmp >= 0
	}
	return false
}

// Binary implements p / x for x a str or Path: filepath.Join(p, x).
func (p *Path) Binary(op syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	if op != syntax.SLASH || side != starlark.Left {
		return nil, nil
	}
	switch y := y.(type) {
	case starlark.String:
		return NewPath(filepath.Join(p.path, string(y))), nil
	case *Path:
		return NewPath(filepath.Join(p.path, y.path)), nil
	}
	return nil, nil
}

// properties are the attributes without a try_ form.
var properties = []string{"name", "parent", "parts", "stem", "string", "suffix"}

// methods is the whole method table (pure and I/O); every method has a
// try_ twin. ioMethods are those whose try_ twin dir() lists.
var methods = libkite.Methods{
	// pure
	"join":           pathJoin,
	"with_name":      pathWithName,
	"with_suffix":    pathWithSuffix,
	"resolve":        pathResolve,
	"clean":          pathClean,
	"is_absolute":    pathIsAbsolute,
	"is_relative_to": pathIsRelativeTo,
	"relative_to":    pathRelativeTo,
	"match":          pathMatch,
	"expanduser":     pathExpandUser,
	// I/O
	"exists":       pathExists,
	"is_file":      pathIsFile,
	"is_dir":       pathIsDir,
	"is_symlink":   pathIsSymlink,
	"stat":         pathStat,
	"owner":        pathOwner,
	"group":        pathGroup,
	"read_text":    pathReadText,
	"read_bytes":   pathReadBytes,
	"write_text":   pathWriteText,
	"write_bytes":  pathWriteBytes,
	"append_text":  pathAppendText,
	"append_bytes": pathAppendBytes,
	"touch":        pathTouch,
	"mkdir":        pathMkdir,
	"remove":       pathRemove,
	"rename":       pathRename,
	"copy_to":      pathCopyTo,
	"move_to":      pathMoveTo,
	"truncate":     pathTruncate,
	"chmod":        pathChmod,
	"chown":        pathChown,
	"symlink_to":   pathSymlinkTo,
	"readlink":     pathReadlink,
	"hardlink_to":  pathHardlinkTo,
	"listdir":      pathListdir,
	"glob":         pathGlob,
	"walk":         pathWalk,
	"disk_usage":   pathDiskUsage,
}

var pureMethods = map[string]bool{
	"join": true, "with_name": true, "with_suffix": true, "resolve": true, "clean": true,
	"is_absolute": true, "is_relative_to": true, "relative_to": true, "match": true, "expanduser": true,
}

// attrNames is dir(p): properties, every method, try_ twins of the I/O
// methods only, sorted.
var attrNames = func() []string {
	names := append([]string(nil), properties...)
	for name := range methods {
		names = append(names, name)
		if !pureMethods[name] {
			names = append(names, "try_"+name)
		}
	}
	sort.Strings(names)
	return names
}()

func (p *Path) AttrNames() []string { return append([]string(nil), attrNames...) }

func (p *Path) Attr(name string) (starlark.Value, error) {
	switch name {
	case "name":
		return starlark.String(filepath.Base(p.path)), nil
	case "parent":
		return NewPath(filepath.Dir(p.path)), nil
	case "stem":
		return starlark.String(stem(p.path)), nil
	case "suffix":
		return starlark.String(filepath.Ext(p.path)), nil
	case "string":
		return starlark.String(p.path), nil
	case "parts":
		return parts(p.path), nil
	}
	return methods.Attr(p, "fs.path", name), nil
}

// stem is the base name without its extension; a dotfile (".hidden") or a
// name without extension is its own stem.
func stem(p string) string {
	base := filepath.Base(p)
	ext := filepath.Ext(base)
	if ext == "" || ext == base {
		return base
	}
	return base[:len(base)-len(ext)]
}

// parts splits the cleaned path; an absolute path starts with "/".
func parts(p string) *starlark.List {
	if p == "" {
		return starlark.NewList(nil)
	}
	clean := filepath.Clean(p)
	var elems []starlark.Value
	if filepath.IsAbs(clean) {
		elems = append(elems, starlark.String(string(filepath.Separator)))
		clean = strings.TrimLeft(clean, string(filepath.Separator))
	}
	if clean != "" && clean != "." {
		for _, s := range strings.Split(clean, string(filepath.Separator)) {
			elems = append(elems, starlark.String(s))
		}
	}
	return starlark.NewList(elems)
}

func recv(fn *starlark.Builtin) *Path { return fn.Receiver().(*Path) }

// ---- pure methods ---------------------------------------------------------

// join(*parts) → Path: filepath.Join(p, *parts); positional str only.
func pathJoin(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: unknown keyword argument: %s", fn.Name(), string(kwargs[0][0].(starlark.String)))
	}
	elems := make([]string, 0, len(args)+1)
	elems = append(elems, recv(fn).path)
	for _, a := range args {
		s, ok := a.(starlark.String)
		if !ok {
			return nil, fmt.Errorf("%s: expected string arguments, got %s", fn.Name(), a.Type())
		}
		elems = append(elems, string(s))
	}
	return NewPath(filepath.Join(elems...)), nil
}

// with_name(name) → Path: Join(Dir(p), name).
func pathWithName(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "name", &name); err != nil {
		return nil, err
	}
	return NewPath(filepath.Join(filepath.Dir(recv(fn).path), name)), nil
}

// with_suffix(suffix) → Path: the last element's extension replaced.
func pathWithSuffix(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var suffix string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "suffix", &suffix); err != nil {
		return nil, err
	}
	p := recv(fn).path
	base := filepath.Base(p)
	base = base[:len(base)-len(filepath.Ext(base))] + suffix
	return NewPath(filepath.Join(filepath.Dir(p), base)), nil
}

// resolve() → Path: absolute and cleaned, no symlink resolution.
func pathResolve(_ *starlark.Thread, fn *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	abs, err := filepath.Abs(recv(fn).path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return NewPath(abs), nil
}

// clean() → Path: lexical clean.
func pathClean(_ *starlark.Thread, fn *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	return NewPath(filepath.Clean(recv(fn).path)), nil
}

// is_absolute() → bool.
func pathIsAbsolute(_ *starlark.Thread, fn *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	return starlark.Bool(filepath.IsAbs(recv(fn).path)), nil
}

// escapes reports whether a filepath.Rel result leaves its base.
func escapes(rel string) bool {
	return rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// is_relative_to(other) → bool.
func pathIsRelativeTo(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var other pathArg
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "other", &other); err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(string(other), recv(fn).path)
	return starlark.Bool(err == nil && !escapes(rel)), nil
}

// relative_to(other) → Path: Rel(other, p), refusing results leaving other.
func pathRelativeTo(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var other pathArg
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "other", &other); err != nil {
		return nil, err
	}
	p := recv(fn).path
	rel, err := filepath.Rel(string(other), p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	if escapes(rel) {
		return nil, fmt.Errorf("%s: %q is not relative to %q", fn.Name(), p, string(other))
	}
	return NewPath(rel), nil
}

// match(pattern) → bool: glob match against the final element.
func pathMatch(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "pattern", &pattern); err != nil {
		return nil, err
	}
	ok, err := filepath.Match(pattern, filepath.Base(recv(fn).path))
	if err != nil {
		return nil, err // "syntax error in pattern"
	}
	return starlark.Bool(ok), nil
}

// expanduser() → Path: "~", "~/rest", "~user[/rest]" expanded.
func pathExpandUser(_ *starlark.Thread, fn *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	self := recv(fn)
	p := self.path
	if !strings.HasPrefix(p, "~") {
		return self, nil
	}
	name, rest, _ := strings.Cut(p[1:], "/")
	var home string
	if name == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn.Name(), err)
		}
		home = h
	} else {
		u, err := user.Lookup(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn.Name(), err)
		}
		home = u.HomeDir
	}
	if rest == "" {
		return NewPath(home), nil
	}
	return NewPath(filepath.Join(home, rest)), nil
}
