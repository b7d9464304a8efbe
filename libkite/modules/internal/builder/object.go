package builder

import (
	"cmp"
	"fmt"
	"os"
	"strconv"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// The codec modules' objects are of two kinds, each described once by a
// type value and made with its New:
//
//   - a path object (PathType: json.file, zip.archive, ...) holds a file
//     path; it is true when the path is non-empty;
//   - a data object (DataType: json.writer, base64.source, ...) wraps a
//     Starlark value, its `data` property.
//
// Both are unhashable (`unhashable type: <type>`) and answer their type's
// methods and each one's try_ twin through libkite.Methods; a method reads
// its object with fn.Receiver().(*PathObject).Path() or
// fn.Receiver().(*DataObject[T]).Data(). Every path type is the one Go
// type PathObject (and every data type over the same T one DataObject[T]):
// tell objects apart by Type(), not by a Go type assertion. Objects are
// made only by New (the zero value has no type).

// PathType is an object type holding a file path.
type PathType struct {
	Name     string          // type(v)
	Display  string          // str(v) is Display("<path>") (Go-quoted); "" = Name
	Prefix   string          // a method's builtin name is Prefix.method; "" = Name
	Methods  libkite.Methods // the methods, each with a try_ twin
	HidePath bool            // no `path` property
}

// New returns an object of type t for path; it does no I/O.
func (t *PathType) New(path string) *PathObject { return &PathObject{t: t, path: path} }

// PathObject is a value of a PathType.
type PathObject struct {
	t    *PathType
	path string
}

var _ starlark.HasAttrs = (*PathObject)(nil)

// Path is the path given to the factory.
func (o *PathObject) Path() string { return o.path }

func (o *PathObject) String() string {
	return cmp.Or(o.t.Display, o.t.Name) + "(" + strconv.Quote(o.path) + ")"
}
func (o *PathObject) Type() string          { return o.t.Name }
func (o *PathObject) Freeze()               {}
func (o *PathObject) Truth() starlark.Bool  { return o.path != "" }
func (o *PathObject) Hash() (uint32, error) { return 0, unhashable(o.t.Name) }

func (o *PathObject) Attr(name string) (starlark.Value, error) {
	if name == "path" && !o.t.HidePath {
		return starlark.String(o.path), nil
	}
	return o.t.Methods.Attr(o, cmp.Or(o.t.Prefix, o.t.Name), name), nil
}

func (o *PathObject) AttrNames() []string {
	if o.t.HidePath {
		return o.t.Methods.Names()
	}
	return o.t.Methods.Names("path")
}

// ReadPath reads the file of the path object that method fn is bound to:
// it checks fs.read:read_file(path) and, unless in a dry run (ok false),
// returns the file's bytes. Errors are prefixed with fn's name, permission
// denials are not.
func ReadPath(thread *starlark.Thread, fn *starlark.Builtin) (data []byte, ok bool, err error) {
	path := fn.Receiver().(*PathObject).path
	canon, err := libkite.CheckPath(thread, "fs", "read", "read_file", path)
	if err != nil || libkite.DryRun(thread) {
		return nil, false, err
	}
	data, err = os.ReadFile(libkite.HostPath(canon, path))
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", fn.Name(), libkite.GivenPathError(err, path))
	}
	return data, true, nil
}

// DecodeMethod returns a path object's no-argument method that reads the
// file (as ReadPath does) and returns decode's result, its errors prefixed
// with the method's name. A dry run returns dry() after the permission
// check (nil dry: None).
func DecodeMethod(decode func(data []byte) (starlark.Value, error), dry func() starlark.Value) libkite.BuiltinFunc {
	return func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := NoArgs(fn, args, kwargs); err != nil {
			return nil, err
		}
		data, ok, err := ReadPath(thread, fn)
		if err != nil {
			return nil, err
		}
		if !ok {
			if dry == nil {
				return starlark.None, nil
			}
			return dry(), nil
		}
		v, err := decode(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn.Name(), err)
		}
		return v, nil
	}
}

// DataType is an object type wrapping a value of Go type T.
type DataType[T starlark.Value] struct {
	Name     string              // type(v)
	Prefix   string              // a method's builtin name is Prefix.method; "" = Name
	Methods  libkite.Methods     // the methods, each with a try_ twin
	Describe func(data T) string // str(v) is Name(Describe(data)); required
	Truth    func(data T) bool   // nil: the truth of data
}

// New returns an object of type t wrapping data (not a copy).
func (t *DataType[T]) New(data T) *DataObject[T] { return &DataObject[T]{t: t, data: data} }

// DataObject is a value of a DataType. Freezing it freezes its data.
type DataObject[T starlark.Value] struct {
	t    *DataType[T]
	data T
}

// Data is the wrapped value.
func (o *DataObject[T]) Data() T { return o.data }

func (o *DataObject[T]) String() string        { return o.t.Name + "(" + o.t.Describe(o.data) + ")" }
func (o *DataObject[T]) Type() string          { return o.t.Name }
func (o *DataObject[T]) Freeze()               { o.data.Freeze() }
func (o *DataObject[T]) Hash() (uint32, error) { return 0, unhashable(o.t.Name) }

func (o *DataObject[T]) Truth() starlark.Bool {
	if o.t.Truth != nil {
		return starlark.Bool(o.t.Truth(o.data))
	}
	return o.data.Truth()
}

func (o *DataObject[T]) Attr(name string) (starlark.Value, error) {
	if name == "data" {
		return o.data, nil
	}
	return o.t.Methods.Attr(o, cmp.Or(o.t.Prefix, o.t.Name), name), nil
}

func (o *DataObject[T]) AttrNames() []string { return o.t.Methods.Names("data") }

// SourceType returns the type of a builder module's in-memory input
// (base64.source, ...): bytes, shown as `<name>(<n> bytes)`, true when
// non-empty. prefix names its methods as for DataType.Prefix.
func SourceType(name, prefix string, methods libkite.Methods) *DataType[starlark.Bytes] {
	return &DataType[starlark.Bytes]{
		Name: name, Prefix: prefix, Methods: methods,
		Describe: func(data starlark.Bytes) string { return strconv.Itoa(len(data)) + " bytes" },
	}
}

// WriterType returns the type of a data-format module's writer
// (json.writer, yaml.writer): any value, shown as `<name>(<its type>)`,
// true unless the value is None.
func WriterType(name string, methods libkite.Methods) *DataType[starlark.Value] {
	return &DataType[starlark.Value]{
		Name: name, Methods: methods,
		Describe: starlark.Value.Type,
		Truth:    func(data starlark.Value) bool { return data != starlark.None },
	}
}

// NewWriter wraps data in a writer of type t (see WriterType); nil
// becomes None.
func NewWriter(t *DataType[starlark.Value], data starlark.Value) *DataObject[starlark.Value] {
	if data == nil {
		data = starlark.None
	}
	return t.New(data)
}

// MethodTable builds a method table from one implementation per variant:
// ms[name] = impl(variants[name]).
func MethodTable[V any](variants map[string]V, impl func(V) libkite.BuiltinFunc) libkite.Methods {
	ms := make(libkite.Methods, len(variants))
	for name, v := range variants {
		ms[name] = impl(v)
	}
	return ms
}

func unhashable(typ string) error { return fmt.Errorf("unhashable type: %s", typ) }
