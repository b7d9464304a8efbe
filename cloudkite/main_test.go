package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestKitecloudWiring builds kitecloud and checks what its main adds to
// the shared CLI: the "cloud" edition, the k8s module beside the base
// set, the kube commands, and no sandbox runner (only the all-in-one links gVisor).
func TestKitecloudWiring(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "kitecloud")
	c := exec.Command(goTool, "build", "-o", bin, ".")
	c.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(args ...string) (string, string, int) {
		c := exec.Command(bin, args...)
		var stdout, stderr strings.Builder
		c.Stdout, c.Stderr = &stdout, &stderr
		c.Run()
		return stdout.String(), stderr.String(), c.ProcessState.ExitCode()
	}
	if out, _, _ := run("version"); !strings.Contains(out, "(cloud)") {
		t.Errorf("version = %q, want the cloud edition", out)
	}
	out, errOut, code := run("exec", `print(type(k8s), type(json), "config" in dir(k8s))`)
	if code != 0 || out != "module module True\n" {
		t.Errorf("exec: exit %d %q %s", code, out, errOut)
	}
	out, errOut, code = run("kube", "gen-controller-artifacts", "--image", "reg/ctl:1", "--controller", "ops/My_Ctl.star")
	if code != 0 || !strings.Contains(out, "kind: Deployment") || !strings.Contains(out, "serviceAccountName: my-ctl") {
		t.Errorf("kube gen-controller-artifacts: exit %d %q %s", code, out, errOut)
	}
	_, errOut, code = run("exec", "--sandbox", "print(1)")
	if code != 1 || errOut != "Error: sandbox not available on "+runtime.GOOS+", use container isolation\n" {
		t.Errorf("--sandbox in kitecloud: exit %d %q", code, errOut)
	}
}
