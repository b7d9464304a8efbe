//go:build unix

package cmd

import (
	"os"
	"syscall"
)

// execEdition replaces the process image with bin (same environment); it
// returns only on failure.
func execEdition(bin string, argv []string) error {
	return syscall.Exec(bin, argv, os.Environ())
}
