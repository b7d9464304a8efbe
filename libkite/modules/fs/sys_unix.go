//go:build unix

package fs

import (
	iofs "io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// oNoFollow makes an open fail on a symlink in the final element: after
// canonicalisation only a dangling link can be there, and following it
// would create a file the permission check never saw.
const oNoFollow = syscall.O_NOFOLLOW

func sysStat(fi iofs.FileInfo) *syscall.Stat_t {
	st, _ := fi.Sys().(*syscall.Stat_t)
	return st
}

// linkCount is the number of hard links to fi (1 when unknown).
func linkCount(fi iofs.FileInfo) uint64 {
	if st := sysStat(fi); st != nil {
		return uint64(st.Nlink)
	}
	return 1
}

// ownerName is the user name owning fi, or its numeric id as text.
func ownerName(fi iofs.FileInfo) (string, error) {
	st := sysStat(fi)
	if st == nil {
		return "", errNoOwner
	}
	id := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username, nil
	}
	return id, nil
}

// groupName is the group name of fi, or its numeric id as text.
func groupName(fi iofs.FileInfo) (string, error) {
	st := sysStat(fi)
	if st == nil {
		return "", errNoOwner
	}
	id := strconv.FormatUint(uint64(st.Gid), 10)
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name, nil
	}
	return id, nil
}

// diskUsage is the size and free space (all free blocks) in bytes of the
// file system holding path.
func diskUsage(path string) (total, free uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, 0, &os.PathError{Op: "statfs", Path: path, Err: err}
	}
	bsize := uint64(st.Bsize)
	return uint64(st.Blocks) * bsize, uint64(st.Bfree) * bsize, nil
}
