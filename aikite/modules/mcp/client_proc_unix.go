//go:build unix

package mcp

import (
	"os/exec"
	"syscall"
)

// clientNewGroup makes a stdio child the leader of a new process group, so
// whatever it starts can be killed with it.
func clientNewGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// clientKillGroup SIGKILLs the process group a started child leads (the
// child itself and its descendants). It works after the leader was
// reaped as long as any member is alive, and the group id cannot be
// reused while one is.
func clientKillGroup(cmd *exec.Cmd) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}
