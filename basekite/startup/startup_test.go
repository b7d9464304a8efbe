package startup

import (
	"runtime/debug"
	"testing"
	"time"
)

// gcPercent reads the current GC percent (SetGCPercent is the only reader).
func gcPercent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

// TestDoneRestoresGOGC: importing the package raised the GC percent for
// package initialisation; Done brings back the starting one (GOGC) shortly
// after, and only once.
func TestDoneRestoresGOGC(t *testing.T) {
	if started <= 0 || started > initGCPercent {
		t.Skipf("GOGC=%d: the package leaves such settings alone", started)
	}
	if got := gcPercent(); got != initGCPercent {
		t.Fatalf("GC percent during start-up = %d, want %d", got, initGCPercent)
	}
	Done()
	Done()
	deadline := time.Now().Add(10 * time.Second)
	for gcPercent() != started {
		if time.Now().After(deadline) {
			t.Fatalf("GC percent still %d 10 s after Done, want %d", gcPercent(), started)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
