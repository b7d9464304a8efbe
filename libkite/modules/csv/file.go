package csv

import (
	"bytes"
	gocsv "encoding/csv"
	"fmt"
	"io"
	"unicode/utf8"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/internal/builder"
)

// fileType is csv.file: a lazy reader of one CSV file.
var fileType = &builder.PathType{
	Name:    "csv.file",
	Methods: libkite.Methods{"read": fileRead},
}

// File is a csv.file; its Path is the path given to the factory.
type File = builder.PathObject

// NewFile returns a csv.file for path; nothing is read yet.
func NewFile(path string) *File { return fileType.New(path) }

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
	data, ok, err := builder.ReadPath(thread, fn)
	if err != nil {
		return nil, err
	}
	if !ok {
		return starlark.NewList(nil), nil
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
