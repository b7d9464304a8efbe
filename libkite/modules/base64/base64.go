// Package base64 is kite's base64 module (spec/base64.md): standard and
// URL-safe padded Base64 over in-memory data (base64.source) or a file
// (base64.file). Files are encoded and decoded as streams.
package base64

import (
	stdb64 "encoding/base64"
	"fmt"
	"io"
	"strconv"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/internal/builder"
)

// New returns the base64 module (try-enabled, no aliases).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "base64",
		Doc: "Base64 encoding and decoding of strings, bytes and files",
		Try: true,
		Build: func() starlark.StringDict {
			return builder.Factories("base64",
				func(data string) starlark.Value { return &Source{data: data} },
				func(path string) starlark.Value { return &File{path: path} })
		},
	}
}

// conversion is one of the four methods both objects share.
type conversion struct {
	enc    *stdb64.Encoding
	decode bool
}

var conversions = map[string]conversion{
	"encode":     {stdb64.StdEncoding, false},
	"encode_url": {stdb64.URLEncoding, false},
	"decode":     {stdb64.StdEncoding, true},
	"decode_url": {stdb64.URLEncoding, true},
}

// methods builds a method table from one implementation per conversion.
func methods(impl func(conversion) libkite.BuiltinFunc) libkite.Methods {
	ms := make(libkite.Methods, len(conversions))
	for name, c := range conversions {
		ms[name] = impl(c)
	}
	return ms
}

func noArgs(fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) error {
	if len(args) > 0 || len(kwargs) > 0 {
		return fmt.Errorf("%s: takes no arguments", fn.Name())
	}
	return nil
}

// ---- base64.source ---------------------------------------------------------

var sourceMethods = methods(sourceConversion)

// Source is a base64.source: bytes held in memory.
type Source struct{ data string }

var _ starlark.HasAttrs = (*Source)(nil)

func (s *Source) String() string        { return "base64.source(" + strconv.Itoa(len(s.data)) + " bytes)" }
func (s *Source) Type() string          { return "base64.source" }
func (s *Source) Freeze()               {}
func (s *Source) Truth() starlark.Bool  { return s.data != "" }
func (s *Source) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: base64.source") }

func (s *Source) Attr(name string) (starlark.Value, error) {
	if name == "data" {
		return starlark.Bytes(s.data), nil
	}
	return sourceMethods.Attr(s, "base64.source", name), nil
}

func (s *Source) AttrNames() []string { return sourceMethods.Names("data") }

func sourceConversion(c conversion) libkite.BuiltinFunc {
	return func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(fn, args, kwargs); err != nil {
			return nil, err
		}
		data := fn.Receiver().(*Source).data
		if !c.decode {
			return starlark.String(c.enc.EncodeToString([]byte(data))), nil
		}
		out, err := c.enc.DecodeString(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn.Name(), err)
		}
		return starlark.Bytes(out), nil
	}
}

// ---- base64.file -----------------------------------------------------------

var fileMethods = methods(fileConversion)

// File is a base64.file: the path of a file converted on demand.
type File struct{ path string }

var _ starlark.HasAttrs = (*File)(nil)

func (f *File) String() string        { return "base64.file(" + strconv.Quote(f.path) + ")" }
func (f *File) Type() string          { return "base64.file" }
func (f *File) Freeze()               {}
func (f *File) Truth() starlark.Bool  { return f.path != "" }
func (f *File) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: base64.file") }

func (f *File) Attr(name string) (starlark.Value, error) {
	if name == "path" {
		return starlark.String(f.path), nil
	}
	return fileMethods.Attr(f, "base64.file", name), nil
}

func (f *File) AttrNames() []string { return fileMethods.Names("path") }

// fileConversion: perm fs.read:read_file(path); dry: "" / b"" before the
// permission check (spec). The file is streamed.
func fileConversion(c conversion) libkite.BuiltinFunc {
	return func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := noArgs(fn, args, kwargs); err != nil {
			return nil, err
		}
		if libkite.DryRun(thread) {
			if c.decode {
				return starlark.Bytes(""), nil
			}
			return starlark.String(""), nil
		}
		path := fn.Receiver().(*File).path
		f, err := libkite.OpenFile(thread, path)
		if err != nil {
			return nil, libkite.WrapError(fn.Name(), err)
		}
		defer f.Close()
		var hint int64
		if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
			hint = min(info.Size(), maxHint)
		}
		ctx := libkite.Context(thread)
		if !c.decode {
			s, err := encodeStream(ctx, c.enc, f, hint)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", fn.Name(), libkite.GivenPathError(err, path))
			}
			return starlark.String(s), nil
		}
		out, err := decodeStream(ctx, c.enc, f, hint)
		if err == errCorrupt {
			// the stream decoder only knows the input is bad: decode the
			// whole text once more for the exact position Go reports
			out, err = decodeWhole(c.enc, f)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn.Name(), libkite.GivenPathError(err, path))
		}
		return starlark.Bytes(out), nil
	}
}

// maxHint bounds buffer pre-allocation from a file's size.
const maxHint = 1 << 30

func decodeWhole(enc *stdb64.Encoding, f io.ReadSeeker) ([]byte, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	return enc.DecodeString(string(data))
}
