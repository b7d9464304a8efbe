package json

import (
	"fmt"

	"os"
	"strconv"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// fileMethods are the methods of json.file, each with a try_ twin.
var fileMethods = libkite.Methods{
	"decode": fileDecode,
}

// File is a json.file: a lazy reader of one JSON file.
type File struct{ path string }

var _ starlark.HasAttrs = (*File)(nil)

// NewFile returns a json.file for path; nothing is read yet.
func NewFile(path string) *File { return &File{path: path} }

// Path is the path given to the factory.
func (f *File) Path() string { return f.path }

func (f *File) String() string        { return "json.file(" + strconv.Quote(f.path) + ")" }
func (f *File) Type() string          { return "json.file" }
func (f *File) Freeze()               {}
func (f *File) Truth() starlark.Bool  { return f.path != "" }
func (f *File) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: json.file") }

func (f *File) Attr(name string) (starlark.Value, error) {
	if name == "path" {
		return starlark.String(f.path), nil
	}
	return fileMethods.Attr(f, "json.file", name), nil
}

func (f *File) AttrNames() []string {
	return fileMethods.Names("path")
}

// fileDecode: json.file.decode() reads and decodes the whole file.
// perm fs.read:read_file(path); dry: None after the check.
func fileDecode(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 0 || len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: takes no arguments", fn.Name())
	}
	f := fn.Receiver().(*File)
	canon, err := libkite.CheckPath(thread, "fs", "read", "read_file", f.path)
	if err != nil {
		return nil, err
	}
	if libkite.DryRun(thread) {
		return starlark.None, nil
	}
	data, err := os.ReadFile(libkite.HostPath(canon, f.path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), libkite.GivenPathError(err, f.path))
	}
	v, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return v, nil
}
