//go:build !unix

package libkite

import (
	"io/fs"
	"os"
)

var umask fs.FileMode = 0o022

const oNoFollow = 0

func hardLinked(fs.FileInfo) bool           { return false }
func keepOwner(*os.File, fs.FileInfo) error { return nil }
