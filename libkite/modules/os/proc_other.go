//go:build !unix

package os

import (
	"io/fs"
	stdos "os"
	"os/exec"
)

// Without process groups only the direct child can be killed; commands it
// started in the background may outlive a timeout or kite itself.
func newProcessGroup(*exec.Cmd) {}

func killGroup(_ int, p *stdos.Process) {
	if p != nil {
		_ = p.Kill()
	}
}

func isExecutable(fi fs.FileInfo) bool { return fi.Mode().IsRegular() }

func startLifeline(int) (release func()) { return func() {} }
