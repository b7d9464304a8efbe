// Package hash is kite's hash module (spec/hash.md): lower-case hex MD5,
// SHA-1, SHA-256 and SHA-512 digests of in-memory data (hash.source) or
// of a file (hash.file), which is streamed through the hash.
package hash

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	stdhash "hash"
	"io"
	"os"
	"strconv"
	"strings"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the hash module (try-enabled, no aliases).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "hash",
		Doc: "MD5, SHA-1, SHA-256 and SHA-512 hex digests of strings, bytes and files",
		Try: true,
		Build: func() starlark.StringDict {
			return starlark.StringDict{
				"text":  starlark.NewBuiltin("hash.text", text),
				"bytes": starlark.NewBuiltin("hash.bytes", bytesFactory),
				"file":  starlark.NewBuiltin("hash.file", file),
			}
		},
	}
}

// text(s) → hash.source holding the UTF-8 bytes of s (a str).
func text(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var s string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "s", &s); err != nil {
		return nil, err
	}
	return &Source{data: s}, nil
}

// bytes(data) → hash.source; data is bytes or str.
func bytesFactory(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "data", &v); err != nil {
		return nil, err
	}
	switch d := v.(type) {
	case starlark.Bytes:
		return &Source{data: string(d)}, nil
	case starlark.String:
		return &Source{data: string(d)}, nil
	}
	return nil, fmt.Errorf("%s: argument must be bytes or string, got %s", fn.Name(), v.Type())
}

// file(path) → hash.file; no I/O until a method runs.
func file(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "path", &path); err != nil {
		return nil, err
	}
	return &File{path: path}, nil
}

// algorithms maps each digest method to its hash constructor.
var algorithms = map[string]func() stdhash.Hash{
	"md5":    md5.New,
	"sha1":   sha1.New,
	"sha256": sha256.New,
	"sha512": sha512.New,
}

func methods(impl func(newHash func() stdhash.Hash) libkite.BuiltinFunc) libkite.Methods {
	ms := make(libkite.Methods, len(algorithms))
	for name, h := range algorithms {
		ms[name] = impl(h)
	}
	return ms
}

func noArgs(fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) error {
	if len(args) > 0 || len(kwargs) > 0 {
		return fmt.Errorf("%s: takes no arguments", fn.Name())
	}
	return nil
}

// ---- hash.source -----------------------------------------------------------

var sourceMethods = methods(sourceDigest)

// Source is a hash.source: bytes held in memory.
type Source struct{ data string }

var _ starlark.HasAttrs = (*Source)(nil)

func (s *Source) String() string        { return "hash.source(" + strconv.Itoa(len(s.data)) + " bytes)" }
func (s *Source) Type() string          { return "hash.source" }
func (s *Source) Freeze()               {}
func (s *Source) Truth() starlark.Bool  { return s.data != "" }
func (s *Source) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: hash.source") }

func (s *Source) Attr(name string) (starlark.Value, error) {
	if name == "data" {
		return starlark.Bytes(s.data), nil
	}
	return sourceMethods.Attr(s, "hash.source", name), nil
}

func (s *Source) AttrNames() []string { return sourceMethods.Names("data") }

func sourceDigest(newHash func() stdhash.Hash) libkite.BuiltinFunc {
	return func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(fn, args, kwargs); err != nil {
			return nil, err
		}
		h := newHash()
		io.WriteString(h, fn.Receiver().(*Source).data)
		return starlark.String(hex.EncodeToString(h.Sum(nil))), nil
	}
}

// ---- hash.file -------------------------------------------------------------

var fileMethods = methods(fileDigest)

// File is a hash.file: the path of a file digested on demand.
type File struct{ path string }

var _ starlark.HasAttrs = (*File)(nil)

func (f *File) String() string        { return "hash.file(" + strconv.Quote(f.path) + ")" }
func (f *File) Type() string          { return "hash.file" }
func (f *File) Freeze()               {}
func (f *File) Truth() starlark.Bool  { return f.path != "" }
func (f *File) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: hash.file") }

func (f *File) Attr(name string) (starlark.Value, error) {
	if name == "path" {
		return starlark.String(f.path), nil
	}
	return fileMethods.Attr(f, "hash.file", name), nil
}

func (f *File) AttrNames() []string { return fileMethods.Names("path") }

// fileDigest: perm fs.read:read_file(path); dry: after the check, a
// string of "0" as long as the digest. The file is streamed.
func fileDigest(newHash func() stdhash.Hash) libkite.BuiltinFunc {
	return func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(fn, args, kwargs); err != nil {
			return nil, err
		}
		path := fn.Receiver().(*File).path
		canon, err := libkite.CheckPath(thread, "fs", "read", "read_file", path)
		if err != nil {
			return nil, err
		}
		h := newHash()
		if libkite.DryRun(thread) {
			return starlark.String(strings.Repeat("0", 2*h.Size())), nil
		}
		f, err := os.Open(libkite.HostPath(canon, path))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn.Name(), libkite.GivenPathError(err, path))
		}
		defer f.Close()
		if err := stream(libkite.Context(thread), h, f); err != nil {
			return nil, fmt.Errorf("%s: %w", fn.Name(), libkite.GivenPathError(err, path))
		}
		return starlark.String(hex.EncodeToString(h.Sum(nil))), nil
	}
}

// stream feeds everything r yields into h, stopping when ctx is done.
func stream(ctx context.Context, h stdhash.Hash, r io.Reader) error {
	_, err := io.Copy(h, ctxReader{ctx, r})
	return err
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
