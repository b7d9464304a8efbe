//go:build unix

package os_test

import (
	"errors"
	stdos "os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
)

// kit builds the runtimes of these tests: os loaded.
var kit = kitetest.Modules{kiteos.New}

// run executes src on a fresh runtime and returns its printed output.
func run(t *testing.T, cfg *libkite.Config, src string) (string, error) {
	t.Helper()
	return kit.Run(t, cfg, src)
}

// scriptCase is one row of a table test: src prints, want is the whole
// printed output; when wantErr is set the script must fail with an error
// containing it.
type scriptCase struct {
	name    string
	src     string
	want    string
	wantErr string
}

func runCases(t *testing.T, cfg *libkite.Config, cases []scriptCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := run(t, cfg, tc.src)
			checkOutcome(t, tc, got, err)
		})
	}
}

func checkOutcome(t *testing.T, tc scriptCase, got string, err error) {
	t.Helper()
	kitetest.CheckOutput(t, got, err, tc.want, tc.wantErr)
}

// lit quotes s as a Starlark string literal.
var lit = kitetest.Lit

// writeExecutable creates an executable shell script dir/name printing out.
func writeExecutable(t *testing.T, dir, name, out string) string {
	t.Helper()
	p := filepath.Join(kitetest.MkdirAll(t, dir), name)
	if err := stdos.WriteFile(p, []byte("#!/bin/sh\necho "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// readPids waits until file holds n newline-terminated pids and returns them.
func readPids(t *testing.T, file string, n int) []int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := stdos.ReadFile(file)
		fields := strings.Fields(string(data))
		if len(fields) >= n && strings.HasSuffix(string(data), "\n") {
			pids := make([]int, 0, n)
			for _, f := range fields[:n] {
				p, err := strconv.Atoi(f)
				if err != nil {
					t.Fatalf("pid file %s: %v", file, err)
				}
				pids = append(pids, p)
			}
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid file %s: want %d pids, have %q", file, n, data)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	if data, err := stdos.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); err == nil {
		// state is the field after the parenthesised command name
		s := string(data)
		if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
			return s[i+2] != 'Z' && s[i+2] != 'X'
		}
	} else if errors.Is(err, stdos.ErrNotExist) {
		return false
	}
	return syscall.Kill(pid, 0) == nil
}

// assertGone fails unless every pid dies within a few seconds; survivors
// are killed so a failing test leaves no orphans.
func assertGone(t *testing.T, pids ...int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, p := range pids {
		for alive(p) {
			if time.Now().After(deadline) {
				_ = syscall.Kill(p, syscall.SIGKILL)
				t.Errorf("process %d still alive (orphaned)", p)
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
