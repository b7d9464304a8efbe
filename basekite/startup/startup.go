// Package startup keeps the garbage collector out of package
// initialisation for the edition binaries.
//
// The all-in-one binary's dependencies (client-go's scheme, gVisor's
// syscall tables, ...) allocate a few MB in their init functions. With
// the default GOGC that crosses the runtime's first 4 MB heap goal and
// runs a collection during start-up, which costs `kite exec 'print(1)'`
// 2-3 ms of its total (scripts/bench-startup.sh). Importing this package
// raises the GC percent to at least 400 while packages initialise; Done,
// the first call of main, puts back the value the process started with
// (GOGC, or 100) RestoreAfter later. Restoring at once would not help: the
// heap is already past the default 4 MB goal, so the restore itself would
// start the collection. Commands that finish sooner (kite exec
// 'print(1)', kite version) never collect; longer runs get the normal
// pacing from then on, having paid one collection as before.
//
// Import it only from a main package, and call Done first thing in
// main. Go initialises packages in import-path order among those whose
// imports are ready (Go 1.21 and later), so this package, which only needs
// the standard library, runs before the heavy k8s.io, gvisor.dev,
// google.golang.org and sigs.k8s.io initialisers. If Done is never
// called the collector still runs, just less often.
package startup

import (
	"runtime/debug"
	"sync"
	"time"
)

// initGCPercent is the GC percent used while packages initialise.
const initGCPercent = 400

// started is the GC percent the process started with (GOGC); set once.
var started = debug.SetGCPercent(initGCPercent)

func init() {
	// GOGC=off (-1) or a larger GOGC stays as the user asked.
	if started < 0 || started > initGCPercent {
		debug.SetGCPercent(started)
	}
}

// RestoreAfter is how long after Done the starting GC percent returns.
const RestoreAfter = 50 * time.Millisecond

var once sync.Once

// Done schedules the return of the GC percent the process started with,
// RestoreAfter from now. Call it first in main; later calls do nothing.
func Done() {
	once.Do(func() { time.AfterFunc(RestoreAfter, restore) })
}

func restore() { debug.SetGCPercent(started) }
