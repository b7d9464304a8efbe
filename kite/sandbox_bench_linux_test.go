//go:build linux

package main

import (
	"os"
	"os/exec"
	"testing"
)

// BenchmarkExecNative and BenchmarkExecSandboxed time a whole
// `kite exec 'print(1)'` process without and with --sandbox: the cold
// start a sandboxed script pays (issue target: under 0.25 s).
func BenchmarkExecNative(b *testing.B) { benchExec(b) }

func BenchmarkExecSandboxed(b *testing.B) { benchExec(b, "--sandbox") }

func benchExec(b *testing.B, flags ...string) {
	dir := b.TempDir()
	args := append([]string{"exec"}, append(flags, "print(1)")...)
	for b.Loop() {
		c := exec.Command(kiteBin, args...)
		c.Dir, c.Env = dir, append(os.Environ(), "TMPDIR="+dir)
		if out, err := c.CombinedOutput(); err != nil || string(out) != "1\n" {
			b.Fatalf("kite %v: %v\n%s", args, err, out)
		}
	}
}
