// Package testenv gives integration tests a real kube-apiserver + etcd,
// started by scripts/k8s-testenv.sh (built from the Go module proxy into
// ~/.cache on first use). One cluster serves a whole test binary.
package testenv

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

var (
	once       sync.Once
	kubeconfig string
	upErr      error
)

// Kubeconfig starts the test cluster if it is not running and returns the
// path of a kubeconfig for it (context kite-testenv: admin; context
// kite-nobody: a user with no rights). When the binaries cannot be built
// the test is skipped with the reason; any other failure fails it.
func Kubeconfig(t testing.TB) string {
	t.Helper()
	once.Do(func() { kubeconfig, upErr = up() })
	var be *buildError
	switch {
	case errors.As(upErr, &be):
		t.Skipf("SKIP: kube-apiserver/etcd could not be built here, so the real-cluster tests cannot run: %v", be.err)
	case upErr != nil:
		t.Fatalf("k8s test environment: %v", upErr)
	}
	return kubeconfig
}

// Script is the path of scripts/k8s-testenv.sh.
func Script() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("cannot locate the repository")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "scripts", "k8s-testenv.sh"), nil
}

// buildError is a failure to build the binaries (the one reason to skip).
type buildError struct{ err error }

func (e *buildError) Error() string { return e.err.Error() }

func up() (string, error) {
	script, err := Script()
	if err != nil {
		return "", err
	}
	if out, err := exec.Command("bash", script, "build").CombinedOutput(); err != nil {
		return "", &buildError{fmt.Errorf("%s build: %v\n%s", script, err, out)}
	}
	var stdout, stderr bytes.Buffer
	c := exec.Command("bash", script, "up")
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		return "", fmt.Errorf("%s up: %v\n%s", script, err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	path := lines[len(lines)-1]
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%s up printed %q, not a kubeconfig: %v", script, path, err)
	}
	return path, nil
}
