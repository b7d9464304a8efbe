package cmd

import (
	"io/fs"

	"github.com/project-starkite/starkite/libkite"
)

// WriteFileAtomic replaces target with data: readers see the old file or
// the new one, never a partial write. A new file gets mode (less umask);
// an existing one keeps its permission bits.
func WriteFileAtomic(target string, data []byte, mode fs.FileMode) error {
	f, err := libkite.CreateAtomic(target, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return err
	}
	return f.Commit()
}
