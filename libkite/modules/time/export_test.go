package time

import stdtime "time"

// SetClock replaces the module's clock until the returned restore runs.
func SetClock(f func() stdtime.Time) (restore func()) {
	old := clock
	clock = f
	return func() { clock = old }
}
