// Package fs is kite's "fs" module and its Path object (spec: fs.md).
//
// The namespace fs is try-enabled and holds one member, fs.path; all file
// system work goes through Path values. Seven globals give one-call
// shortcuts: path, read_text, read_bytes, write_text, write_bytes, exists
// and glob (no try_ globals).
//
// Every call that touches the disk first asks the permission hook with the
// spec's category and function label and the canonical path as resource,
// then operates on that canonical path, so the file touched is the file
// that was allowed; OS errors name the path as the script wrote it.
package fs

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the fs module: the try-enabled namespace {path} and the
// seven global aliases.
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:            "fs",
		Doc:           "file system paths: path algebra, reading, writing, listing and metadata",
		Try:           true,
		Build:         members,
		GlobalAliases: aliases,
	}
}

func members() starlark.StringDict {
	return starlark.StringDict{"path": starlark.NewBuiltin("fs.path", pathBuiltin)}
}

func aliases(m starlark.StringDict) starlark.StringDict {
	return starlark.StringDict{
		"path":        m["path"],
		"read_text":   starlark.NewBuiltin("read_text", globalReadText),
		"read_bytes":  starlark.NewBuiltin("read_bytes", globalReadBytes),
		"write_text":  starlark.NewBuiltin("write_text", globalWrite),
		"write_bytes": starlark.NewBuiltin("write_bytes", globalWrite),
		"exists":      starlark.NewBuiltin("exists", globalExists),
		"glob":        starlark.NewBuiltin("glob", globalGlob),
	}
}

// pathBuiltin: fs.path(p, /) → Path. Exactly one positional str; keywords
// are ignored.
func pathBuiltin(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("fs.path: takes exactly 1 argument (path string)")
	}
	s, ok := args[0].(starlark.String)
	if !ok {
		return nil, fmt.Errorf("fs.path: argument must be a string, got %s", args[0].Type())
	}
	return NewPath(string(s)), nil
}

// globalReadText: read_text(path) → str. perm fs.read:read_file(path).
func globalReadText(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p pathArg
	if err := libkite.UnpackArgs(b.Name(), args, kwargs, "path", &p); err != nil {
		return nil, err
	}
	data, err := readFile(thread, "read_file", string(p))
	if err != nil {
		return nil, err
	}
	return starlark.String(data), nil
}

// globalReadBytes: read_bytes(path) → bytes. perm fs.read:read_bytes(path).
func globalReadBytes(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p pathArg
	if err := libkite.UnpackArgs(b.Name(), args, kwargs, "path", &p); err != nil {
		return nil, err
	}
	data, err := readFile(thread, "read_bytes", string(p))
	if err != nil {
		return nil, err
	}
	return starlark.Bytes(data), nil
}

// globalWrite: write_text / write_bytes(path, content, /, *, mode=0o644) →
// None. Loose binding: two positionals required, content str or bytes, an
// int mode applies on creation (a non-int mode and any other keyword or
// surplus positional are ignored). perm fs.write:write(path); dry: skipped.
func globalWrite(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("%s: expected at least 2 arguments (path, content)", b.Name())
	}
	var p pathArg
	if err := p.Unpack(args[0]); err != nil {
		return nil, fmt.Errorf("%s: path: %v", b.Name(), err)
	}
	data, err := content(b.Name(), args[1])
	if err != nil {
		return nil, err
	}
	mode := int64(0o644)
	for _, kv := range kwargs {
		if i, ok := kv[1].(starlark.Int); ok && kv[0].(starlark.String) == "mode" {
			if mode, ok = i.Int64(); !ok {
				return nil, fmt.Errorf("%s: invalid mode %s (want 0 to 0o7777)", b.Name(), i)
			}
		}
	}
	perm, err := fileMode(b.Name(), mode)
	if err != nil {
		return nil, err
	}
	if err := writeFile(thread, string(p), data, perm); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// globalExists: exists(path) → bool. perm fs.read:exists(path).
func globalExists(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p pathArg
	if err := libkite.UnpackArgs(b.Name(), args, kwargs, "path", &p); err != nil {
		return nil, err
	}
	return exists(thread, string(p))
}

// globalGlob: glob(pattern) → sorted list[str]. perm fs.read:glob(pattern).
func globalGlob(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern string
	if err := libkite.UnpackArgs(b.Name(), args, kwargs, "pattern", &pattern); err != nil {
		return nil, err
	}
	if err := libkite.Check(thread, "fs", "read", "glob", libkite.CanonicalPath(pattern)); err != nil {
		return nil, err
	}
	matches, err := glob(pattern)
	if err != nil {
		return nil, err
	}
	out := make([]starlark.Value, len(matches))
	for i, m := range matches {
		out[i] = starlark.String(m)
	}
	return starlark.NewList(out), nil
}

// pathArg unpacks a path argument given as a str or a Path.
type pathArg string

func (p *pathArg) Unpack(v starlark.Value) error {
	switch v := v.(type) {
	case starlark.String:
		*p = pathArg(v)
	case *Path:
		*p = pathArg(v.path)
	default:
		return fmt.Errorf("got %s, want string or fs.path", v.Type())
	}
	return nil
}

// content converts a str or bytes argument to the bytes to write.
func content(fnname string, v starlark.Value) ([]byte, error) {
	if s, ok := libkite.StringOrBytes(v); ok {
		return []byte(s), nil
	}
	return nil, fmt.Errorf("%s: content must be bytes or string, got %s", fnname, v.Type())
}
