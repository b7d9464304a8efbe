//go:build unix

package libkite

import (
	"io/fs"
	"os"
	"syscall"
)

// umask is the process umask, read once: files created through a temporary
// sibling get the permissions a direct create would have given them.
var umask = func() fs.FileMode {
	old := syscall.Umask(0)
	syscall.Umask(old)
	return fs.FileMode(old)
}()

// oNoFollow makes an in-place create fail on a dangling symlink instead of
// creating the file it points to (a path no check saw).
const oNoFollow = syscall.O_NOFOLLOW

// hardLinked reports whether an existing file has other names: replacing
// it by rename would detach them, so it is rewritten in place.
func hardLinked(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && st.Nlink > 1
}

// keepOwner gives the replacement file the owner and group of the file it
// replaces (matters when root rewrites another user's file).
func keepOwner(tmp *os.File, info fs.FileInfo) error {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok || (int(st.Uid) == os.Geteuid() && int(st.Gid) == os.Getegid()) {
		return nil
	}
	return tmp.Chown(int(st.Uid), int(st.Gid))
}
