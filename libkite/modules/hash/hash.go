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
	"github.com/project-starkite/starkite/libkite/modules/internal/builder"
)

// New returns the hash module (try-enabled, no aliases).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "hash",
		Doc: "MD5, SHA-1, SHA-256 and SHA-512 hex digests of strings, bytes and files",
		Try: true,
		Build: func() starlark.StringDict {
			return builder.Factories("hash",
				func(data string) starlark.Value { return &Source{data: data} },
				func(path string) starlark.Value { return &File{path: path} })
		},
	}
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
	_, err := io.Copy(h, libkite.ContextReader(ctx, r))
	return err
}
