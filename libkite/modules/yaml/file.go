package yaml

import (
	"fmt"
	"os"
	"strconv"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// fileMethods are the methods of yaml.file, each with a try_ twin.
var fileMethods = libkite.Methods{
	"decode":     fileDecode,
	"decode_all": fileDecodeAll,
}

// File is a yaml.file: a lazy reader of one YAML file.
type File struct{ path string }

var _ starlark.HasAttrs = (*File)(nil)

// NewFile returns a yaml.file for path; nothing is read yet.
func NewFile(path string) *File { return &File{path: path} }

// Path is the path given to the factory.
func (f *File) Path() string { return f.path }

func (f *File) String() string        { return "yaml.file(" + strconv.Quote(f.path) + ")" }
func (f *File) Type() string          { return "yaml.file" }
func (f *File) Freeze()               {}
func (f *File) Truth() starlark.Bool  { return f.path != "" }
func (f *File) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: yaml.file") }

func (f *File) Attr(name string) (starlark.Value, error) {
	if name == "path" {
		return starlark.String(f.path), nil
	}
	return fileMethods.Attr(f, "yaml.file", name), nil
}

func (f *File) AttrNames() []string { return fileMethods.Names("path") }

// read checks fs.read:read_file(path) and, unless in dry run (ok false),
// returns the file's bytes. Errors are prefixed with the method's name,
// permission denials are not.
func (f *File) read(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (data []byte, ok bool, err error) {
	if len(args) > 0 || len(kwargs) > 0 {
		return nil, false, fmt.Errorf("%s: takes no arguments", fn.Name())
	}
	canon, err := libkite.CheckPath(thread, "fs", "read", "read_file", f.path)
	if err != nil {
		return nil, false, err
	}
	if libkite.DryRun(thread) {
		return nil, false, nil
	}
	data, err = os.ReadFile(libkite.HostPath(canon, f.path))
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", fn.Name(), libkite.GivenPathError(err, f.path))
	}
	return data, true, nil
}

// fileDecode: yaml.file.decode() → the file's first document.
// perm fs.read:read_file(path); dry: None after the check.
func fileDecode(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	data, ok, err := fn.Receiver().(*File).read(thread, fn, args, kwargs)
	if err != nil {
		return nil, err
	}
	if !ok {
		return starlark.None, nil
	}
	v, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return v, nil
}

// fileDecodeAll: yaml.file.decode_all() → list of the file's documents.
// perm fs.read:read_file(path); dry: [] after the check.
func fileDecodeAll(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	data, ok, err := fn.Receiver().(*File).read(thread, fn, args, kwargs)
	if err != nil {
		return nil, err
	}
	if !ok {
		return starlark.NewList(nil), nil
	}
	docs, err := DecodeAll(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return starlark.NewList(docs), nil
}
