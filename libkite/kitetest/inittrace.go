package kitetest

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

// PackageInit is what one package's initialisation cost, as reported by
// the Go runtime's GODEBUG=inittrace=1.
type PackageInit struct {
	Bytes  int64 // heap bytes allocated by the package's initialisers
	Allocs int64 // heap allocations
}

// StartTrace is what the Go runtime reported about one run of a binary
// under GODEBUG=inittrace=1,gctrace=1.
type StartTrace struct {
	// Packages has the record of every package that had initialisation
	// work, keyed by import path; a package missing from it ran no
	// initialiser (or is not linked).
	Packages map[string]PackageInit
	// GCs is the number of garbage collections the run started.
	GCs int
}

// gcLine matches a gctrace line ("gc 1 @0.012s ...").
var gcLine = regexp.MustCompile(`(?m)^gc \d+ @`)

// initLine matches "init <pkg> @<t> ms, <t> ms clock, <n> bytes, <n> allocs".
var initLine = regexp.MustCompile(`(?m)^init (\S+) @\S+ ms, \S+ ms clock, (\d+) bytes, (\d+) allocs$`)

// InitTrace runs bin with args under GODEBUG=inittrace=1,gctrace=1 and
// returns what the runtime reported. The command must succeed. Only sizes
// and counts are returned: timings are for benchmarks, not tests.
func InitTrace(t testing.TB, bin string, args ...string) StartTrace {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1,gctrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %q: %v\n%s", bin, args, err, stderr.String())
	}
	out := map[string]PackageInit{}
	for _, m := range initLine.FindAllStringSubmatch(stderr.String(), -1) {
		b, _ := strconv.ParseInt(m[2], 10, 64)
		a, _ := strconv.ParseInt(m[3], 10, 64)
		out[m[1]] = PackageInit{Bytes: b, Allocs: a}
	}
	if len(out) == 0 {
		t.Fatalf("%s %q: no inittrace lines on stderr:\n%s", bin, args, stderr.String())
	}
	return StartTrace{Packages: out, GCs: len(gcLine.FindAllString(stderr.String(), -1))}
}
