package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/project-starkite/starkite/libkite"
)

// Execution limits of a script run (libkite.Limits). The CLI's defaults
// are generous but finite: a runaway script stops on its own instead of
// running until someone notices. 0 disables a limit, like --timeout.
const (
	flagMaxSteps      = "max-steps"
	flagMaxOutput     = "max-output"
	flagMaxMemory     = "max-memory"
	flagMaxGoroutines = "max-goroutines"

	envMaxSteps      = "STARKITE_MAX_STEPS"
	envMaxOutput     = "STARKITE_MAX_OUTPUT"
	envMaxMemory     = "STARKITE_MAX_MEMORY"
	envMaxGoroutines = "STARKITE_MAX_GOROUTINES"

	// a busy loop runs ~2e8 steps/s here, so the default --timeout
	// normally binds first; the step cap is the deterministic backstop
	defaultMaxSteps      = 100_000_000_000
	defaultMaxOutput     = "1GiB"
	defaultMaxMemory     = "4GiB"
	defaultMaxGoroutines = 10_000
)

func limitFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagMaxSteps, Value: strconv.Itoa(defaultMaxSteps), Usage: "stop the run after `N` Starlark execution steps, summed over all its threads; 0 disables (env " + envMaxSteps + ")"},
		&cli.StringFlag{Name: flagMaxOutput, Value: defaultMaxOutput, Usage: "stop the run once it has printed more than `SIZE` (e.g. 10MB, 1GiB); 0 disables (env " + envMaxOutput + ")"},
		&cli.StringFlag{Name: flagMaxMemory, Value: defaultMaxMemory, Usage: "stop the run when memory exceeds `SIZE`: the sandbox's memory cgroup under --sandbox, else a heap watchdog; 0 disables (env " + envMaxMemory + ")"},
		&cli.StringFlag{Name: flagMaxGoroutines, Value: strconv.Itoa(defaultMaxGoroutines), Usage: "at most `N` script threads (concur workers, server handlers) at once; more wait; 0 disables (env " + envMaxGoroutines + ")"},
	}
}

// resolveLimits reads the limit flags with their env fallbacks (CLI > env >
// default). Unlike STARKITE_TIMEOUT's, a malformed limit variable is an
// error: silently running without the limit someone asked for is worse.
func resolveLimits(c *cli.Context, timeoutSeconds int) (libkite.Limits, error) {
	var lim libkite.Limits
	if timeoutSeconds > 0 {
		lim.Timeout = time.Duration(timeoutSeconds) * time.Second
	}
	var err error
	if lim.MaxSteps, err = limitValue(c, flagMaxSteps, envMaxSteps, strconv.Itoa(defaultMaxSteps), parseCount[uint64]); err != nil {
		return lim, err
	}
	if lim.MaxOutputBytes, err = limitValue(c, flagMaxOutput, envMaxOutput, defaultMaxOutput, parseSize); err != nil {
		return lim, err
	}
	if lim.MaxMemoryBytes, err = limitValue(c, flagMaxMemory, envMaxMemory, defaultMaxMemory, parseSize); err != nil {
		return lim, err
	}
	lim.MaxGoroutines, err = limitValue(c, flagMaxGoroutines, envMaxGoroutines, strconv.Itoa(defaultMaxGoroutines), parseCount[int])
	return lim, err
}

// limitValue parses one limit from its flag, else its env variable, else
// def.
func limitValue[T any](c *cli.Context, flag, env, def string, parse func(string) (T, error)) (T, error) {
	text, from := def, "--"+flag
	if c.IsSet(flag) {
		text = c.String(flag)
	} else if v := strings.TrimSpace(os.Getenv(env)); v != "" {
		text, from = v, env
	}
	v, err := parse(strings.TrimSpace(text))
	if err != nil {
		var zero T
		return zero, usageErrorf("invalid %s %q: %v", from, text, err)
	}
	return v, nil
}

// parseSize reads a byte size: a plain number of bytes or one with a unit
// (kB, MB, GB: powers of 1000; KiB, MiB, GiB: powers of 1024).
func parseSize(s string) (int64, error) {
	n, err := humanize.ParseBytes(s)
	if err != nil {
		return 0, errors.New("want a size such as 512MiB, 2GB or 1048576")
	}
	if n > math.MaxInt64 {
		return 0, errors.New("too large")
	}
	return int64(n), nil
}

// parseCount reads a non-negative whole number ("1_000_000" allowed).
func parseCount[T int | uint64](s string) (T, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil && strings.Contains(s, "_") {
		n, err = strconv.ParseUint(s, 0, 64)
	}
	if err != nil || uint64(T(n)) != n || T(n) < 0 {
		return 0, errors.New("want a whole number, 0 or more")
	}
	return T(n), nil
}

// limitHints tell the user which flag raises the limit that stopped a run
// (max_goroutines never stops one: threads wait for a slot).
var limitHints = map[libkite.Limit]string{
	libkite.LimitSteps:  flagMaxSteps,
	libkite.LimitOutput: flagMaxOutput,
	libkite.LimitMemory: flagMaxMemory,
}

// limitStopped is a run a limit other than the timeout stopped: the
// script error plus the flag that raises the limit.
type limitStopped struct {
	err  *libkite.ScriptError
	flag string
}

func (e *limitStopped) Error() string { return fmt.Sprintf("%s (raise --%s)", e.err.Error(), e.flag) }
func (e *limitStopped) Unwrap() error { return e.err }

// writeLimitsReport prints the run's LimitsEnforced report to w: one JSON
// or YAML document under --output json|yaml, "[DEBUG]" lines under
// --debug, nothing otherwise. It goes to stderr so the script's own
// stdout stays clean for pipes.
func writeLimitsReport(w io.Writer, o *options, rep libkite.LimitsEnforced) {
	switch {
	case o.Output == "json":
		b, _ := json.Marshal(map[string]any{"limits_enforced": rep})
		fmt.Fprintf(w, "%s\n", b)
	case o.Output == "yaml":
		var doc any // JSON is YAML: the keys stay the JSON ones
		b, _ := json.Marshal(map[string]any{"limits_enforced": rep})
		_ = yaml.Unmarshal(b, &doc)
		b, _ = yaml.Marshal(doc)
		fmt.Fprintf(w, "%s", b)
	case o.Debug:
		fmt.Fprint(w, formatLimitsReport(rep))
	}
}

// writeLimitsReport prints the report of rt's last run (writeLimitsReport),
// with the session's note on memory enforcement.
func (s *session) writeLimitsReport(rt *libkite.Runtime) {
	rep := rt.LimitsEnforced()
	if how, ok := rep.Enforced[libkite.LimitMemory]; ok && s.memNote != "" {
		rep.Enforced[libkite.LimitMemory] = how + "; not the sandbox: " + s.memNote
	}
	writeLimitsReport(s.errw, s.opts, rep)
}

// formatLimitsReport renders rep as "[DEBUG] limits:" lines.
func formatLimitsReport(rep libkite.LimitsEnforced) string {
	var b strings.Builder
	values := map[libkite.Limit]string{
		libkite.LimitSteps:      strconv.FormatUint(rep.Limits.MaxSteps, 10) + " steps",
		libkite.LimitTimeout:    rep.Limits.Timeout.String(),
		libkite.LimitOutput:     humanize.IBytes(uint64(rep.Limits.MaxOutputBytes)),
		libkite.LimitMemory:     humanize.IBytes(uint64(rep.Limits.MaxMemoryBytes)),
		libkite.LimitGoroutines: strconv.Itoa(rep.Limits.MaxGoroutines) + " threads",
	}
	names := make([]string, 0, len(rep.Enforced)+len(rep.NotEnforced))
	for l := range rep.Enforced {
		names = append(names, string(l))
	}
	for l := range rep.NotEnforced {
		names = append(names, string(l))
	}
	sort.Strings(names)
	if len(names) == 0 {
		b.WriteString("[DEBUG] limits: none\n")
	}
	for _, n := range names {
		l := libkite.Limit(n)
		if how, ok := rep.Enforced[l]; ok {
			fmt.Fprintf(&b, "[DEBUG] limits: %s = %s, enforced by %s\n", l, values[l], how)
		} else {
			fmt.Fprintf(&b, "[DEBUG] limits: %s = %s, NOT enforced: %s\n", l, values[l], rep.NotEnforced[l])
		}
	}
	fmt.Fprintf(&b, "[DEBUG] limits: used %d steps, %d bytes of output, peak heap %s, peak %d threads\n",
		rep.Steps, rep.OutputBytes, humanize.IBytes(rep.PeakHeap), rep.PeakThreads)
	if rep.StoppedBy != "" {
		fmt.Fprintf(&b, "[DEBUG] limits: the run was stopped by %s\n", rep.StoppedBy)
	}
	return b.String()
}
