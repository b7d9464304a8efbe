//go:build !unix

package libkite

import "io/fs"

var umask fs.FileMode = 0o022
