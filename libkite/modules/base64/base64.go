// Package base64 is kite's base64 module (spec/base64.md): standard and
// URL-safe padded Base64 over in-memory data (base64.source) or a file
// (base64.file). Files are encoded and decoded as streams.
package base64

import (
	stdb64 "encoding/base64"
	"fmt"
	"io"

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
			return builder.Factories("base64", sourceType, fileType)
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

// ---- base64.source ---------------------------------------------------------

// sourceType is base64.source: bytes held in memory.
var sourceType = builder.SourceType("base64.source", "", builder.MethodTable(conversions, sourceConversion))

// Source is a base64.source.
type Source = builder.DataObject[starlark.Bytes]

func sourceConversion(c conversion) libkite.BuiltinFunc {
	return func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := builder.NoArgs(fn, args, kwargs); err != nil {
			return nil, err
		}
		data := string(fn.Receiver().(*Source).Data())
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

// fileType is base64.file: the path of a file converted on demand.
var fileType = &builder.PathType{Name: "base64.file", Methods: builder.MethodTable(conversions, fileConversion)}

// File is a base64.file.
type File = builder.PathObject

// fileConversion: perm fs.read:read_file(path); dry: "" / b"" before the
// permission check (spec). The file is streamed.
func fileConversion(c conversion) libkite.BuiltinFunc {
	return func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := builder.NoArgs(fn, args, kwargs); err != nil {
			return nil, err
		}
		if libkite.DryRun(thread) {
			if c.decode {
				return starlark.Bytes(""), nil
			}
			return starlark.String(""), nil
		}
		path := fn.Receiver().(*File).Path()
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
