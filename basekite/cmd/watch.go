package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/urfave/cli/v2"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/sandbox"
)

// watchDebounce is how long a burst of file events must stay quiet before
// the script re-runs: one editor save is often several writes.
const watchDebounce = 200 * time.Millisecond

// watchSignalFallback is how long watch waits, after SIGINT/SIGTERM during
// a run, for the runtime's own signal handling to end the process before
// it cancels the run itself.
const watchSignalFallback = 3 * time.Second

func watchCommand() *cli.Command {
	return &cli.Command{
		Name:      "watch",
		Usage:     "run a script, and again each time it or a file it load()s changes",
		ArgsUsage: "<script>",
		Description: "Runs the script once, then re-runs it whenever the script or any file its last\n" +
			"run load()ed is written, created or renamed over (debounced 200 ms). Each run\n" +
			"gets a fresh runtime; permissions and variables are resolved once at start and\n" +
			"--timeout applies to each run. A change during a run cancels it and starts\n" +
			"over. Errors are reported and watching continues; Ctrl+C stops (exit 130).\n\n" +
			"Example: kite watch deploy.star --allow-fs --var target=dev\n\n" +
			globalFlagsNote,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("watch: expected exactly 1 argument <script>, got %d", c.NArg())
			}
			return watchScript(c, c.Args().First())
		},
	}
}

// watchScript is the watch loop of cli.md §8.5.
func watchScript(c *cli.Context, path string) error {
	if _, err := readScript(path); err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return withExitCode(libkite.ExitFileError, fmt.Errorf("failed to resolve script path %s: %w", path, err))
	}
	// With a sandbox the loop stays on the host and each run gets a fresh
	// sandbox: a change made on the host never reaches an inotify watch
	// inside gVisor.
	profile, err := sandboxRequest(c)
	if err != nil {
		return err
	}
	if !profile.IsZero() {
		if err := checkVisible(profile, abs); err != nil {
			return err
		}
	}
	s, err := newSession(c)
	if err != nil {
		return err
	}
	defer s.close()
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	defer fsw.Close()
	w := &watcher{s: s, bin: c.App.Name, path: path, script: abs, fs: fsw, sandbox: profile}
	if err := fsw.Add(filepath.Dir(abs)); err != nil {
		return fmt.Errorf("watch: cannot watch %s: %w", filepath.Dir(abs), err)
	}
	w.files = map[string]bool{abs: true}
	w.dirs = map[string]bool{filepath.Dir(abs): true}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)

	fmt.Fprintf(s.out, "Watching %s for changes...\nPress Ctrl+C to stop\n\n", abs)
	return w.loop(c.Context, sigs)
}

// watcher re-runs one script. files are the watched files (the script and
// what it load()ed); dirs the directories given to fsnotify — watching
// directories, not files, keeps a file replaced by rename (how many editors
// save) under watch.
type watcher struct {
	s      *session
	bin    string
	path   string // as given: the runtime's ScriptPath, so messages match run
	script string // absolute
	fs     *fsnotify.Watcher
	files  map[string]bool
	dirs   map[string]bool
	// sandbox, unless zero, is the profile every run executes in
	sandbox sandbox.Profile
}

// runResult is the outcome of one run.
type runResult struct {
	err       error
	loaded    []string // files load() read
	elapsed   time.Duration
	cancelled bool // stopped by the watch (a change or a signal), not by itself
}

// loop runs the script now and after every debounced change until a
// signal arrives. A change during a run cancels it; the next run starts
// when it has ended (its defers ran).
func (w *watcher) loop(ctx context.Context, sigs <-chan os.Signal) error {
	var (
		done      = make(chan runResult, 1)
		cancelRun context.CancelFunc // non-nil while a run is in progress
		rerun     bool               // a change arrived during the run
		debounce  = time.NewTimer(time.Hour)
		fire      <-chan time.Time // debounce.C while a change is pending
		stopCode  int              // exit code once a signal arrived
		fallback  <-chan time.Time
	)
	debounce.Stop()
	defer debounce.Stop()
	start := func() {
		runCtx, cancel := context.WithCancel(ctx)
		cancelRun = cancel
		go func() { done <- w.run(runCtx) }()
	}
	start()
	for {
		select {
		case ev, ok := <-w.fs.Events:
			if !ok {
				return nil
			}
			if w.files[filepath.Clean(ev.Name)] && ev.Op.Has(fsnotify.Write|fsnotify.Create|fsnotify.Rename) {
				debounce.Reset(watchDebounce)
				fire = debounce.C
			}
		case <-fire:
			fire = nil
			if rerun {
				continue // already restarting
			}
			fmt.Fprintln(w.s.out, "\n--- File changed, re-executing ---")
			if cancelRun == nil {
				start()
				continue
			}
			rerun = true
			cancelRun()
		case err, ok := <-w.fs.Errors:
			if !ok {
				return nil
			}
			fmt.Fprintf(w.s.errw, "watch: %v\n", err)
		case res := <-done:
			cancelRun()
			cancelRun = nil
			select { // a signal that ended the run: no report
			case sig := <-sigs:
				stopCode = signalCode(sig)
			default:
			}
			if stopCode != 0 {
				return libkite.NewExitError(stopCode)
			}
			if !res.cancelled {
				w.report(res)
			}
			w.watch(res.loaded, res.err == nil && !res.cancelled)
			if rerun {
				rerun = false
				start()
			}
		case sig := <-sigs:
			code := signalCode(sig)
			if cancelRun == nil {
				return libkite.NewExitError(code)
			}
			if stopCode == 0 {
				stopCode = code
				// A runtime holding the signal subscription runs the
				// script's on_signal handler and defers, then ends the
				// process with this code, as `run` does. Cancel the run
				// ourselves only if that does not happen.
				if !w.sandbox.IsZero() || libkite.NumSignalSubscribers() > 0 {
					// a sandboxed run gets the signal forwarded to it
					fallback = time.After(watchSignalFallback)
				} else {
					cancelRun()
				}
			}
		case <-fallback:
			fallback = nil
			cancelRun()
		}
	}
}

// signalCode is the exit code for ending on sig (cli.md §5): 130 for
// SIGINT, 143 for SIGTERM, 129 for SIGHUP.
func signalCode(sig os.Signal) int {
	switch sig {
	case syscall.SIGTERM:
		return libkite.ExitTerminate
	case syscall.SIGHUP:
		return 128 + int(syscall.SIGHUP)
	}
	return libkite.ExitInterrupt
}

// run executes the script once in a fresh runtime under --timeout.
func (w *watcher) run(ctx context.Context) runResult {
	start := time.Now()
	res := func(err error, loaded []string) runResult {
		return runResult{err: err, loaded: loaded, elapsed: time.Since(start), cancelled: ctx.Err() != nil}
	}
	src, err := readScript(w.path)
	if err != nil {
		return res(err, nil)
	}
	if !w.sandbox.IsZero() {
		return res(w.s.runInSandbox(ctx, w.sandbox, w.runArgs(), w.script), nil)
	}
	rt, closeRT, err := w.s.newRuntime(w.path, nil)
	if err != nil {
		return res(err, nil)
	}
	defer closeRT()
	err = rt.Execute(ctx, src)
	w.s.writeLimitsReport(rt)
	err = w.s.stopped(ctx, err)
	return res(err, rt.LoadedFiles())
}

// runArgs is the argv of one sandboxed run: `run` with the options the
// inner kite applies itself (variables and permissions are handed in).
func (w *watcher) runArgs() []string {
	o := w.s.opts
	args := []string{"run", fmt.Sprintf("--%s=%d", flagTimeout, o.Timeout), "--" + flagOutput + "=" + o.Output}
	if o.Debug {
		args = append(args, "--"+flagDebug)
	}
	if o.DryRun {
		args = append(args, "--"+flagDryRun)
	}
	if o.AuditLog != "" {
		args = append(args, "--"+flagAuditLog+"="+o.AuditLog)
	}
	return append(args, "--", w.path)
}

// report prints a run's error, as `run` would, and the completion line.
func (w *watcher) report(res runResult) {
	var exitErr *libkite.ExitError
	switch {
	case res.err == nil:
	case errors.As(res.err, &exitErr):
		fmt.Fprintf(w.s.errw, "Error: script exited with code %d\n", exitErr.Code)
	default:
		describeError(w.s.errw, w.bin, res.err)
	}
	fmt.Fprintf(w.s.out, "\n--- Completed in %s ---\n", roundDuration(res.elapsed))
}

// watch sets the watched files to the script plus loaded. Unless replace
// (a run that failed or was cancelled may not have reached all its
// load()s), the files watched so far stay watched.
func (w *watcher) watch(loaded []string, replace bool) {
	files := map[string]bool{w.script: true}
	if !replace {
		for f := range w.files {
			files[f] = true
		}
	}
	for _, f := range loaded {
		files[filepath.Clean(f)] = true
	}
	dirs := map[string]bool{}
	for f := range files {
		dirs[filepath.Dir(f)] = true
	}
	var added []string
	for d := range dirs {
		if !w.dirs[d] {
			added = append(added, d)
		}
	}
	sort.Strings(added)
	for _, d := range added {
		if err := w.fs.Add(d); err != nil {
			fmt.Fprintf(w.s.errw, "watch: cannot watch %s: %v\n", d, err)
			delete(dirs, d)
		}
	}
	for d := range w.dirs {
		if !dirs[d] {
			_ = w.fs.Remove(d)
		}
	}
	w.files, w.dirs = files, dirs
}
