package json

import (
	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/internal/builder"
)

// fileType is json.file: a lazy reader of one JSON file. Its decode()
// reads and decodes the whole file; perm fs.read:read_file(path); dry:
// None after the check.
var fileType = &builder.PathType{
	Name:    "json.file",
	Methods: libkite.Methods{"decode": builder.DecodeMethod(Decode, nil)},
}

// File is a json.file; its Path is the path given to the factory.
type File = builder.PathObject

// NewFile returns a json.file for path; nothing is read yet.
func NewFile(path string) *File { return fileType.New(path) }
