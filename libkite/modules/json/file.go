package json

import (
	"errors"
	"fmt"
	"io/fs"
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
	data, err := os.ReadFile(openPath(canon, f.path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), asGiven(err, f.path))
	}
	v, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return v, nil
}

// openPath is the path to open: the canonical path that was checked, so
// the file touched is the file allowed ("" stays "" so it fails as Go
// reports a missing file rather than reading the working directory).
func openPath(canon, given string) string {
	if given == "" {
		return ""
	}
	return canon
}

// asGiven reports an OS error against the path the script gave, not the
// canonical one opened (`open data.json: no such file or directory`).
func asGiven(err error, path string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: path, Err: pe.Err}
	}
	return err
}
