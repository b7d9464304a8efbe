//go:build !unix

package fs

import (
	"errors"
	iofs "io/fs"
)

const oNoFollow = 0

func linkCount(iofs.FileInfo) uint64 { return 1 }

func ownerName(iofs.FileInfo) (string, error) { return "", errNoOwner }

func groupName(iofs.FileInfo) (string, error) { return "", errNoOwner }

func diskUsage(path string) (total, free uint64, err error) {
	return 0, 0, &iofs.PathError{Op: "statfs", Path: path, Err: errors.ErrUnsupported}
}
