package retry

import (
	"context"
	"time"
)

// RecordWaits replaces the sleep between attempts by a recorder (no
// waiting) and returns the recorded durations and a restore function.
func RecordWaits() (waits *[]time.Duration, restore func()) {
	saved := sleep
	var got []time.Duration
	sleep = func(ctx context.Context, d time.Duration) error {
		got = append(got, d)
		return ctx.Err()
	}
	return &got, func() { sleep = saved }
}

var Jitter = jitter
var NextDelay = nextDelay
