//go:build unix

package os

import (
	"io/fs"
	stdos "os"
	"os/exec"
	"syscall"
)

// newProcessGroup makes the child the leader of a new process group, so
// the whole tree it starts can be killed at once.
func newProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// killGroup SIGKILLs every process in the group led by pid. It works after
// the leader was reaped as long as any member is alive.
func killGroup(pid int, _ *stdos.Process) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}

func isExecutable(fi fs.FileInfo) bool {
	return fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// lifeline is a watchdog process inside a command's process group. The
// group is outside the terminal's foreground group, so Ctrl-C no longer
// reaches it, and kite may exit without running Go code (on SIGINT or
// SIGTERM, os.exit, a crash or SIGKILL). The watchdog blocks reading a
// pipe only kite holds; when kite dies the pipe reaches EOF and the
// watchdog kills the whole group, itself included. release tells it to
// leave quietly instead.
const lifelineScript = "read x || kill -9 0"

// startLifeline attaches a watchdog to the group pgid. It is best effort:
// when it cannot start (e.g. the group is already gone) release is a no-op.
func startLifeline(pgid int) (release func()) {
	r, w, err := stdos.Pipe()
	if err != nil {
		return func() {}
	}
	cmd := exec.Command("/bin/sh", "-c", lifelineScript)
	cmd.Stdin = r // stdout/stderr: /dev/null, so it never holds the capture pipes
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: pgid}
	err = cmd.Start()
	r.Close()
	if err != nil {
		w.Close()
		return func() {}
	}
	return func() {
		_, _ = w.Write([]byte("\n")) // EPIPE if the group was killed: fine
		w.Close()
		_ = cmd.Wait()
	}
}
