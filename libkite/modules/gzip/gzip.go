// Package gzip is kite's gzip module (spec/gzip.md): gzip (RFC 1952)
// compression of in-memory data (gzip.source) and file-to-file work
// (gzip.file). Files are streamed; every file written is built in a
// temporary sibling and renamed into place only when complete.
package gzip

import (
	stdgzip "compress/gzip"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/internal/builder"
)

// New returns the gzip module (try-enabled, no aliases).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "gzip",
		Doc: "gzip compression of strings, bytes and files",
		Try: true,
		Build: func() starlark.StringDict {
			return builder.Factories("gzip", sourceType, fileType)
		},
	}
}

// checkLevel validates a compression level (-2 … 9).
func checkLevel(prefix string, level int) error {
	if level < stdgzip.HuffmanOnly || level > stdgzip.BestCompression {
		return fmt.Errorf("%s: invalid compression level %d (must be -2 to 9)", prefix, level)
	}
	return nil
}

// newReader starts reading a gzip stream. Input shorter than a header
// (including none at all) is "unexpected EOF" (spec), not Go's bare EOF.
func newReader(r io.Reader) (*stdgzip.Reader, error) {
	zr, err := stdgzip.NewReader(r)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return zr, err
}

// ---- gzip.source -----------------------------------------------------------

// sourceType is gzip.source: bytes held in memory. Its methods report
// errors as gzip.compress / gzip.decompress (spec), so they are named
// without the type.
var sourceType = builder.SourceType("gzip.source", "gzip", libkite.Methods{
	"compress":   sourceCompress,
	"decompress": sourceDecompress,
})

// Source is a gzip.source.
type Source = builder.DataObject[starlark.Bytes]

// sourceCompress: compress(dest="", *, level=-1) → bytes, or None after
// writing dest (perm fs.write:write(dest); dry: nothing written).
func sourceCompress(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	dest, level := "", stdgzip.DefaultCompression
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "dest?", &dest, "*", nil, "level?", &level); err != nil {
		return nil, err
	}
	if err := checkLevel(fn.Name(), level); err != nil {
		return nil, err
	}
	data := string(fn.Receiver().(*Source).Data())
	if dest == "" {
		var out strings.Builder
		if err := compress(&out, strings.NewReader(data), level); err != nil {
			return nil, fmt.Errorf("%s: %w", fn.Name(), err)
		}
		return starlark.Bytes(out.String()), nil
	}
	err := writeChecked(thread, dest, func(w io.Writer) error {
		return compress(w, strings.NewReader(data), level)
	})
	if err != nil {
		return nil, libkite.WrapError(fn.Name(), err)
	}
	return starlark.None, nil
}

// sourceDecompress: decompress(dest="") → bytes, or None after writing
// dest (perm fs.write:write(dest); dry: nothing written).
func sourceDecompress(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	dest := ""
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "dest?", &dest); err != nil {
		return nil, err
	}
	data := string(fn.Receiver().(*Source).Data())
	ctx := libkite.Context(thread)
	if dest == "" {
		var out strings.Builder
		out.Grow(sizeHint(data))
		if err := decompress(ctx, &out, strings.NewReader(data)); err != nil {
			return nil, fmt.Errorf("%s: %w", fn.Name(), err)
		}
		return starlark.Bytes(out.String()), nil
	}
	err := writeChecked(thread, dest, func(w io.Writer) error {
		return decompress(ctx, w, strings.NewReader(data))
	})
	if err != nil {
		return nil, libkite.WrapError(fn.Name(), err)
	}
	return starlark.None, nil
}

// sizeHint guesses the decompressed size of a gzip stream from its
// trailer (ISIZE of the last member), bounded by deflate's maximum ratio
// so a forged trailer cannot make a tiny input allocate gigabytes.
func sizeHint(data string) int {
	if len(data) < 18 {
		return 0
	}
	isize := int64(binary.LittleEndian.Uint32([]byte(data[len(data)-4:])))
	return int(min(isize, int64(len(data))*1032, 1<<30))
}

// compress writes the gzip stream of r to w: no name, zero mtime.
func compress(w io.Writer, r io.Reader, level int) error {
	zw, err := stdgzip.NewWriterLevel(w, level)
	if err != nil {
		return err
	}
	if _, err := io.Copy(zw, r); err != nil {
		return err
	}
	return zw.Close()
}

// decompress writes the plain bytes of the gzip stream r (members joined).
func decompress(ctx context.Context, w io.Writer, r io.Reader) error {
	zr, err := newReader(r)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, libkite.ContextReader(ctx, zr)); err != nil {
		return err
	}
	return zr.Close()
}

// writeChecked checks fs.write:write(path) and, unless in a dry run,
// writes the file through fill into a temporary sibling renamed over path
// on success only. Errors name path as the script wrote it.
func writeChecked(thread *starlark.Thread, path string, fill func(io.Writer) error) error {
	canon, err := libkite.CheckPath(thread, "fs", "write", "write", path)
	if err != nil || libkite.DryRun(thread) {
		return err
	}
	return writeAtomic(libkite.HostPath(canon, path), path, fill)
}

// writeAtomic fills host (the checked path of given) atomically.
func writeAtomic(host, given string, fill func(io.Writer) error) error {
	af, err := libkite.CreateAtomic(host, 0o644)
	if err != nil {
		return libkite.GivenPathError(err, given)
	}
	if err := fill(af); err != nil {
		af.Abort()
		return libkite.GivenPathError(err, given)
	}
	return libkite.GivenPathError(af.Commit(), given)
}

// ---- gzip.file -------------------------------------------------------------

// fileType is gzip.file: the path of a .gz file (no path property).
var fileType = &builder.PathType{
	Name:     "gzip.file",
	HidePath: true,
	Methods: libkite.Methods{
		"compress":   fileCompress,
		"decompress": fileDecompress,
	},
}

// File is a gzip.file.
type File = builder.PathObject

// fileCompress: compress(source, *, level=-1) streams source into this
// path's gzip. perm fs.read:read_file(source) then fs.write:write(path);
// dry: nothing read or written.
func fileCompress(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	source, level := "", stdgzip.DefaultCompression
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "source", &source, "*", nil, "level?", &level); err != nil {
		return nil, err
	}
	if err := checkLevel(fn.Name(), level); err != nil {
		return nil, err
	}
	path := fn.Receiver().(*File).Path()
	err := transform(thread, source, path, func(w io.Writer, r io.Reader) error {
		return compress(w, r, level)
	})
	if err != nil {
		return nil, libkite.WrapError(fn.Name(), err)
	}
	return starlark.None, nil
}

// fileDecompress: decompress(dest="") streams this path's plain bytes to
// dest (default: the path minus ".gz"). perm fs.read:read_file(path) then
// fs.write:write(dest); dry: nothing read or written.
func fileDecompress(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	dest := ""
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "dest?", &dest); err != nil {
		return nil, err
	}
	path := fn.Receiver().(*File).Path()
	if dest == "" {
		if filepath.Ext(path) != ".gz" {
			return nil, fmt.Errorf("%s: cannot derive output path (no .gz suffix); specify destination explicitly", fn.Name())
		}
		dest = strings.TrimSuffix(path, ".gz")
	}
	ctx := libkite.Context(thread)
	err := transform(thread, path, dest, func(w io.Writer, r io.Reader) error {
		return decompress(ctx, w, r)
	})
	if err != nil {
		return nil, libkite.WrapError(fn.Name(), err)
	}
	return starlark.None, nil
}

// transform checks fs.read:read_file(src) and fs.write:write(dst), then
// (unless in a dry run) streams src through conv into dst, which is
// replaced only once conv succeeded. Errors name the script's paths.
func transform(thread *starlark.Thread, src, dst string, conv func(io.Writer, io.Reader) error) error {
	srcCanon, err := libkite.CheckPath(thread, "fs", "read", "read_file", src)
	if err != nil {
		return err
	}
	dstCanon, err := libkite.CheckPath(thread, "fs", "write", "write", dst)
	if err != nil || libkite.DryRun(thread) {
		return err
	}
	in, err := os.Open(libkite.HostPath(srcCanon, src))
	if err != nil {
		return libkite.GivenPathError(err, src)
	}
	defer in.Close()
	out, err := libkite.CreateAtomic(libkite.HostPath(dstCanon, dst), 0o644)
	if err != nil {
		return libkite.GivenPathError(err, dst)
	}
	r := libkite.NewSourceReader(libkite.Context(thread), in)
	if err := conv(out, r); err != nil {
		out.Abort()
		if r.Failed(err) {
			return libkite.GivenPathError(err, src) // reading the source failed
		}
		return libkite.GivenPathError(err, dst)
	}
	return libkite.GivenPathError(out.Commit(), dst)
}
