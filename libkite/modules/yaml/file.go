package yaml

import (
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/internal/builder"
)

// fileType is yaml.file: a lazy reader of one YAML file. Each method
// reads the whole file; perm fs.read:read_file(path).
var fileType = &builder.PathType{
	Name: "yaml.file",
	Methods: libkite.Methods{
		// decode() → the file's first document; dry: None after the check
		"decode": builder.DecodeMethod(Decode, nil),
		// decode_all() → list of the file's documents; dry: [] after the check
		"decode_all": builder.DecodeMethod(decodeAllList, func() starlark.Value { return starlark.NewList(nil) }),
	},
}

// File is a yaml.file; its Path is the path given to the factory.
type File = builder.PathObject

// NewFile returns a yaml.file for path; nothing is read yet.
func NewFile(path string) *File { return fileType.New(path) }

// decodeAllList is DecodeAll with the documents in a list.
func decodeAllList(data []byte) (starlark.Value, error) {
	docs, err := DecodeAll(data)
	if err != nil {
		return nil, err
	}
	return starlark.NewList(docs), nil
}
