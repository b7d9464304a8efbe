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
			return builder.Factories("hash", sourceType, fileType)
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

// ---- hash.source -----------------------------------------------------------

// sourceType is hash.source: bytes held in memory.
var sourceType = builder.SourceType("hash.source", "", builder.MethodTable(algorithms, sourceDigest))

// Source is a hash.source.
type Source = builder.DataObject[starlark.Bytes]

func sourceDigest(newHash func() stdhash.Hash) libkite.BuiltinFunc {
	return func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := builder.NoArgs(fn, args, kwargs); err != nil {
			return nil, err
		}
		h := newHash()
		io.WriteString(h, string(fn.Receiver().(*Source).Data()))
		return starlark.String(hex.EncodeToString(h.Sum(nil))), nil
	}
}

// ---- hash.file -------------------------------------------------------------

// fileType is hash.file: the path of a file digested on demand.
var fileType = &builder.PathType{Name: "hash.file", Methods: builder.MethodTable(algorithms, fileDigest)}

// File is a hash.file.
type File = builder.PathObject

// fileDigest: perm fs.read:read_file(path); dry: after the check, a
// string of "0" as long as the digest. The file is streamed.
func fileDigest(newHash func() stdhash.Hash) libkite.BuiltinFunc {
	return func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := builder.NoArgs(fn, args, kwargs); err != nil {
			return nil, err
		}
		path := fn.Receiver().(*File).Path()
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
