package csv

import (
	"bytes"
	gocsv "encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"unicode/utf8"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// fileMethods are the methods of csv.file, each with a try_ twin.
var fileMethods = libkite.Methods{
	"read": fileRead,
}

// File is a csv.file: a lazy reader of one CSV file.
type File struct{ path string }

var _ starlark.HasAttrs = (*File)(nil)

// NewFile returns a csv.file for path; nothing is read yet.
func NewFile(path string) *File { return &File{path: path} }

// Path is the path given to the factory.
func (f *File) Path() string { return f.path }

func (f *File) String() string        { return "csv.file(" + strconv.Quote(f.path) + ")" }
func (f *File) Type() string          { return "csv.file" }
func (f *File) Freeze()               {}
func (f *File) Truth() starlark.Bool  { return f.path != "" }
func (f *File) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: csv.file") }

func (f *File) Attr(name string) (starlark.Value, error) {
	if name == "path" {
		return starlark.String(f.path), nil
	}
	return fileMethods.Attr(f, "csv.file", name), nil
}

func (f *File) AttrNames() []string { return fileMethods.Names("path") }

// ReadOptions are the keyword arguments of csv.file.read.
type ReadOptions struct {
	Sep     string // delimiter: its first character; "" = ","
	Comment string // comment marker: its first character; "" = none
	Skip    int    // records dropped before the header/data
	Header  bool   // first remaining record names the columns
}

// fileRead: csv.file.read(*, sep=",", comment="", skip=0, header=False).
// perm fs.read:read_file(path); dry: [] after the check.
func fileRead(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	o := ReadOptions{Sep: ","}
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "*", nil,
		"sep?", &o.Sep, "comment?", &o.Comment, "skip?", &o.Skip, "header?", &o.Header); err != nil {
		return nil, err
	}
	f := fn.Receiver().(*File)
	canon, err := libkite.CheckPath(thread, "fs", "read", "read_file", f.path)
	if err != nil {
		return nil, err
	}
	if libkite.DryRun(thread) {
		return starlark.NewList(nil), nil
	}
	data, err := os.ReadFile(libkite.HostPath(canon, f.path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), libkite.GivenPathError(err, f.path))
	}
	rows, err := Read(data, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return rows, nil
}

// firstRune is the first character of s, or def when s is empty.
func firstRune(s string, def rune) rune {
	if s == "" {
		return def
	}
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// Read parses CSV data following csv.md's read rules: RFC-4180 quoting
// (strict), blank lines skipped, ragged rows allowed, skip then header.
// Without Header the result is a list of lists of str; with it, a list of
// dicts keyed by the header (missing fields "", extra fields dropped).
func Read(data []byte, o ReadOptions) (*starlark.List, error) {
	r := gocsv.NewReader(bytes.NewReader(data))
	r.Comma = firstRune(o.Sep, ',')
	r.Comment = firstRune(o.Comment, 0)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	skip := max(o.Skip, 0)
	var header []starlark.Value
	var out []starlark.Value
	for n := 0; ; n++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if n < skip {
			continue
		}
		if o.Header && header == nil {
			header = make([]starlark.Value, len(rec))
			for i, h := range rec {
				header[i] = starlark.String(h)
			}
			continue
		}
		if o.Header {
			d := starlark.NewDict(len(header))
			for i, h := range header {
				v := starlark.String("")
				if i < len(rec) {
					v = starlark.String(rec[i])
				}
				_ = d.SetKey(h, v) // str keys: cannot fail
			}
			out = append(out, d)
			continue
		}
		row := make([]starlark.Value, len(rec))
		for i, field := range rec {
			row[i] = starlark.String(field)
		}
		out = append(out, starlark.NewList(row))
	}
	return starlark.NewList(out), nil
}
