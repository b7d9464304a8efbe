package csv

import (
	"bytes"
	gocsv "encoding/csv"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/internal/builder"
)

// writerType is csv.writer (from csv.source(rows)): true when it has rows.
var writerType = &builder.DataType[*starlark.List]{
	Name:     "csv.writer",
	Methods:  libkite.Methods{"write_file": writerWriteFile},
	Describe: func(rows *starlark.List) string { return fmt.Sprintf("%d rows", rows.Len()) },
}

// Writer is a csv.writer; its Data is the wrapped list.
type Writer = builder.DataObject[*starlark.List]

// NewWriter wraps rows (the same list object, not a copy).
func NewWriter(rows *starlark.List) *Writer { return writerType.New(rows) }

// writerWriteFile: csv.writer.write_file(path, *, sep=",", headers=None).
// The whole text is built before the file is touched.
// perm fs.write:write(path); dry: nothing written.
func writerWriteFile(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	sep := ","
	var headers starlark.Value = starlark.None
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "path", &path, "*", nil, "sep?", &sep, "headers?", &headers); err != nil {
		return nil, err
	}
	var hdr []starlark.Value
	if l, ok := headers.(*starlark.List); ok { // a non-list is ignored (csv.md)
		hdr = listElems(l)
	}
	text, err := Write(listElems(fn.Receiver().(*Writer).Data()), sep, hdr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	if err := libkite.WriteFile(thread, path, text, 0o644); err != nil {
		return nil, libkite.WrapError(fn.Name(), err)
	}
	return starlark.None, nil
}

// Write renders rows as CSV following csv.md's write_file rules. If the
// first row is a dict every row must be one (dict mode): a header row of
// headers (when non-empty) or of the first dict's keys, then each dict's
// values in that column order ("" when absent). Otherwise every row must
// be a list, written as is (headers ignored). Cells are str as is, other
// values by str(). Quoting is encoding/csv's; records end with "\n".
func Write(rows []starlark.Value, sep string, headers []starlark.Value) ([]byte, error) {
	var buf bytes.Buffer
	w := gocsv.NewWriter(&buf)
	w.Comma = firstRune(sep, ',')
	if len(rows) > 0 {
		if _, dictMode := rows[0].(*starlark.Dict); dictMode {
			cols := headers
			if len(cols) == 0 {
				cols = rows[0].(*starlark.Dict).Keys()
			}
			rec := make([]string, len(cols))
			for i, c := range cols {
				rec[i] = cellText(c)
			}
			if err := w.Write(rec); err != nil {
				return nil, err
			}
			for _, row := range rows {
				d, ok := row.(*starlark.Dict)
				if !ok {
					return nil, fmt.Errorf("expected dict, got %s", row.Type())
				}
				for i, c := range cols {
					v, found, err := d.Get(c)
					if err != nil || !found { // an unhashable header matches no key
						rec[i] = ""
						continue
					}
					rec[i] = cellText(v)
				}
				if err := w.Write(rec); err != nil {
					return nil, err
				}
			}
		} else {
			var rec []string
			for _, row := range rows {
				l, ok := row.(*starlark.List)
				if !ok {
					return nil, fmt.Errorf("expected list of lists, got %s", row.Type())
				}
				rec = rec[:0]
				for i := 0; i < l.Len(); i++ {
					rec = append(rec, cellText(l.Index(i)))
				}
				if err := w.Write(rec); err != nil {
					return nil, err
				}
			}
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// cellText is str(v): a str as is, bytes decoded as UTF-8 (each invalid
// byte → U+FFFD), anything else its String form.
func cellText(v starlark.Value) string {
	switch x := v.(type) {
	case starlark.String:
		return string(x)
	case starlark.Bytes:
		s := string(x)
		if utf8.ValidString(s) {
			return s
		}
		var b strings.Builder
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRuneInString(s[i:])
			b.WriteRune(r) // RuneError for an invalid byte
			i += size
		}
		return b.String()
	}
	return v.String()
}

func listElems(l *starlark.List) []starlark.Value {
	elems := make([]starlark.Value, l.Len())
	for i := range elems {
		elems[i] = l.Index(i)
	}
	return elems
}
