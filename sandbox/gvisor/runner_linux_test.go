//go:build linux

package gvisor

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/runsc/config"

	"github.com/project-starkite/starkite/libkite/sandbox"
)

// TestRunscConfig covers sandbox.md §6.3 step 7 and §6.5.
func TestRunscConfig(t *testing.T) {
	tests := []struct {
		network sandbox.NetworkMode
		want    config.NetworkType
	}{
		{sandbox.NetworkLoopback, config.NetworkNone},
		{sandbox.NetworkHost, config.NetworkHost},
		{"", config.NetworkNone}, // anything but host stays isolated
	}
	for _, tc := range tests {
		t.Run(string(tc.network), func(t *testing.T) {
			state := t.TempDir()
			conf, err := runscConfig(sandbox.Profile{Name: "p", Network: tc.network}, state)
			if err != nil {
				t.Fatal(err)
			}
			if !conf.Rootless {
				t.Error("Rootless = false")
			}
			if conf.RootDir != state {
				t.Errorf("RootDir = %q, want %q", conf.RootDir, state)
			}
			if conf.Network != tc.want {
				t.Errorf("Network = %v, want %v", conf.Network, tc.want)
			}
			if got := conf.Overlay2.String(); got != "none" {
				t.Errorf("Overlay2 = %q, want none", got)
			}
			if o := conf.GetOverlay2(); o.Enabled() {
				t.Errorf("effective overlay %v is enabled", o)
			}
		})
	}
	// The defaults kite overrides really differ, so the checks above mean
	// something.
	def, err := runscConfig(sandbox.Profile{}, "")
	if err != nil {
		t.Fatal(err)
	}
	fresh := *def
	if err := fresh.Overlay2.Set("root:memory"); err != nil || fresh.Overlay2.String() == "none" {
		t.Fatalf("Overlay2 cannot tell overlays apart: %v %q", err, fresh.Overlay2.String())
	}
}

// TestWaitError covers sandbox.md §6.3 step 9.
func TestWaitError(t *testing.T) {
	exited := func(n int) unix.WaitStatus { return unix.WaitStatus(n << 8) }
	signalled := func(s syscall.Signal) unix.WaitStatus { return unix.WaitStatus(s) }
	tests := []struct {
		name string
		ws   unix.WaitStatus
		code int    // > 0: *sandbox.ExitError with this code
		msg  string // else: substring of the error ("" = nil)
	}{
		{name: "exit 0", ws: exited(0)},
		{name: "exit 3", ws: exited(3), code: 3},
		{name: "exit 1", ws: exited(1), code: 1},
		{name: "exit 255", ws: exited(255), code: 255},
		{name: "SIGKILL", ws: signalled(syscall.SIGKILL), msg: "sandbox process killed by signal killed"},
		{name: "SIGTERM", ws: signalled(syscall.SIGTERM), msg: "sandbox process killed by signal terminated"},
		{name: "stopped", ws: unix.WaitStatus(int(syscall.SIGSTOP)<<8 | 0x7f), msg: "sandbox process exited with unexpected status"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := waitError(tc.ws)
			var exit *sandbox.ExitError
			switch {
			case tc.code > 0:
				if !errors.As(err, &exit) || exit.Code != tc.code {
					t.Errorf("waitError = %#v, want *sandbox.ExitError{Code: %d}", err, tc.code)
				}
			case tc.msg == "":
				if err != nil {
					t.Errorf("waitError = %v, want nil", err)
				}
			default:
				if err == nil || !strings.Contains(err.Error(), tc.msg) {
					t.Errorf("waitError = %v, want it to contain %q", err, tc.msg)
				}
				if errors.As(err, &exit) {
					t.Errorf("waitError = %#v is an exit status", err)
				}
			}
		})
	}
}

// TestInsideEnv checks the recursion guard is set exactly once.
func TestInsideEnv(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want []string
	}{
		{"replaces 0", []string{"A=1", "STARKITE_INSIDE_SANDBOX=0", "B=2"}, []string{"A=1", "B=2", "STARKITE_INSIDE_SANDBOX=1"}},
		{"removes duplicates", []string{"STARKITE_INSIDE_SANDBOX=", "A=1", "STARKITE_INSIDE_SANDBOX=1"}, []string{"A=1", "STARKITE_INSIDE_SANDBOX=1"}},
		{"adds", []string{"PATH=/bin", "STARKITE_INSIDE_SANDBOXX=0"}, []string{"PATH=/bin", "STARKITE_INSIDE_SANDBOXX=0", "STARKITE_INSIDE_SANDBOX=1"}},
		{"empty", nil, []string{"STARKITE_INSIDE_SANDBOX=1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			orig := append([]string(nil), tc.env...)
			if got := insideEnv(tc.env); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("insideEnv(%q) = %q, want %q", tc.env, got, tc.want)
			}
			if !reflect.DeepEqual(tc.env, orig) {
				t.Errorf("insideEnv modified its input: %q", tc.env)
			}
		})
	}
}

func getfl(t *testing.T, f *os.File) int {
	t.Helper()
	fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fl
}

// TestAppendIfRegular checks regular-file output is switched to append
// mode and anything else is left alone.
func TestAppendIfRegular(t *testing.T) {
	f, err := os.OpenFile(filepath.Join(t.TempDir(), "out"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if getfl(t, f)&unix.O_APPEND != 0 {
		t.Fatal("file already in append mode")
	}
	appendIfRegular(f)
	if fl := getfl(t, f); fl&unix.O_APPEND == 0 || fl&unix.O_ACCMODE != unix.O_WRONLY {
		t.Errorf("after appendIfRegular: flags %#o, want O_WRONLY|O_APPEND", fl)
	}
	// Writes now land at the end even after a seek.
	if _, err := f.WriteString("one\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("two\n"); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(f.Name()); string(data) != "one\ntwo\n" {
		t.Errorf("file holds %q, want appended writes", data)
	}

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	before := getfl(t, w)
	appendIfRegular(w)
	if after := getfl(t, w); after != before {
		t.Errorf("pipe flags changed: %#o -> %#o", before, after)
	}

	closed, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	appendIfRegular(closed) // a closed file is ignored, not a panic
}

func TestStaticBuild(t *testing.T) {
	if err := staticBuild(map[string]string{"CGO_ENABLED": "0"}); err != nil {
		t.Errorf("static build refused: %v", err)
	}
	if err := staticBuild(map[string]string{}); err != nil {
		t.Errorf("unknown build settings refused: %v", err)
	}
	err := staticBuild(map[string]string{"CGO_ENABLED": "1"})
	if err == nil || !strings.Contains(err.Error(), "rebuild it with CGO_ENABLED=0") {
		t.Errorf("cgo build: %v", err)
	}
}
