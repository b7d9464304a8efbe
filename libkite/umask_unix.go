//go:build unix

package libkite

import (
	"io/fs"
	"syscall"
)

// umask is the process umask, read once: files created through a temporary
// sibling get the permissions a direct create would have given them.
var umask = func() fs.FileMode {
	old := syscall.Umask(0)
	syscall.Umask(old)
	return fs.FileMode(old)
}()
