//go:build !unix

package mcp

import "os/exec"

// clientNewGroup is a no-op where process groups are not available.
func clientNewGroup(*exec.Cmd) {}

// clientKillGroup kills the child (its descendants are not tracked here).
func clientKillGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
