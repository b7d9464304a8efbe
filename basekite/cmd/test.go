package cmd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

const (
	flagVerbose  = "verbose"
	flagParallel = "parallel"
	flagRun      = "run"
)

// errTestsFailed ends a test run with exit code 1 after the summary.
var errTestsFailed = errors.New("tests failed")

func testCommand() *cli.Command {
	return &cli.Command{
		Name:      "test",
		Usage:     "run the test_* functions of Starlark test files",
		ArgsUsage: "<file.star|dir>...",
		Description: "Each file runs in a fresh runtime: its top level, then every test_* function\n" +
			"in name order, with setup()/teardown() around each. A directory is searched\n" +
			"recursively for *_test.star files. Exit code 1 when any test fails.\n\n" +
			"Example: kite test --permissions=allow-all -v tests/\n\n" + globalFlagsNote,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: flagVerbose, Aliases: []string{"v"}, Usage: "print each file and test"},
			&cli.IntFlag{Name: flagParallel, Aliases: []string{"p"}, Value: 1, Usage: "number of test `files` run concurrently"},
			&cli.StringFlag{Name: flagRun, Usage: "only run test_* functions whose name contains `substr`"},
		},
		Action: testAction,
	}
}

// fileReport is the outcome of one test file.
type fileReport struct {
	path    string
	results []libkite.TestResult
	output  bytes.Buffer // what the file printed, and verbose lines
}

func testAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageErrorf("test: expected at least 1 argument <file.star|dir>")
	}
	files, err := findTestFiles(c.Args().Slice())
	if err != nil {
		return err
	}
	out := c.App.Writer
	if len(files) == 0 {
		fmt.Fprintln(out, "No test files found")
		return nil
	}
	s, err := newSession(c)
	if err != nil {
		return err
	}
	verbose, filter := c.Bool(flagVerbose), c.String(flagRun)
	fmt.Fprintf(out, "Found %d test file(s)\n", len(files))
	if filter != "" {
		fmt.Fprintf(out, "Filter: %s\n", filter)
	}

	start := time.Now()
	reports := make([]*fileReport, len(files))
	workers := max(1, min(c.Int(flagParallel), len(files)))
	if workers == 1 {
		// sequential: stream each file's output as it happens
		for i, f := range files {
			reports[i] = s.runTestFile(c, f, filter, verbose, out)
		}
	} else {
		var wg sync.WaitGroup
		next := make(chan int)
		for range workers {
			wg.Go(func() {
				for i := range next {
					r := s.runTestFile(c, files[i], filter, verbose, nil)
					reports[i] = r
				}
			})
		}
		for i := range files {
			next <- i
		}
		close(next)
		wg.Wait()
		for _, r := range reports {
			out.Write(r.output.Bytes())
		}
	}
	if printSummary(out, reports, time.Since(start)) {
		return errTestsFailed
	}
	return nil
}

// runTestFile runs one file in its own runtime. Output goes to w, or is
// buffered in the report when w is nil (parallel runs print in order).
func (s *session) runTestFile(c *cli.Context, path, filter string, verbose bool, w io.Writer) *fileReport {
	r := &fileReport{path: path}
	if w == nil {
		w = &r.output
	}
	if verbose {
		fmt.Fprintf(w, "Running %s\n", path)
	}
	fail := func(err error) *fileReport {
		r.results = append(r.results, libkite.TestResult{Name: path, Error: err})
		if verbose {
			fmt.Fprintf(w, "  ✗ %s: %s\n", path, oneLine(err))
		}
		return r
	}
	src, err := readScript(path)
	if err != nil {
		return fail(err)
	}
	var printMu sync.Mutex
	rt, closeRT, err := s.newRuntime(path, func(cfg *libkite.Config) {
		cfg.TestMode = true
		cfg.EntryPoint = ""
		cfg.Print = func(_ *starlark.Thread, msg string) {
			printMu.Lock()
			fmt.Fprintln(w, msg)
			printMu.Unlock()
		}
	})
	if err != nil {
		return fail(err)
	}
	defer closeRT()
	ctx, cancel := s.deadline(c.Context)
	defer cancel()
	tc := libkite.TestConfig{Filter: filter, Verbose: verbose}
	if verbose {
		tc.Report = func(res libkite.TestResult) {
			printMu.Lock()
			printTestLine(w, res)
			printMu.Unlock()
		}
	}
	results, err := rt.ExecuteTestsWithConfig(ctx, src, tc)
	r.results = results
	if err != nil {
		return fail(s.timedOut(ctx, err))
	}
	return r
}

func printTestLine(w io.Writer, res libkite.TestResult) {
	var skip *libkite.SkipError
	switch {
	case res.Skipped && errors.As(res.Error, &skip):
		fmt.Fprintf(w, "  - %s [SKIPPED] (%s)\n", res.Name, skip.Reason)
	case res.Passed:
		fmt.Fprintf(w, "  ✓ %s (%s)\n", res.Name, roundDuration(res.Duration))
	default:
		fmt.Fprintf(w, "  ✗ %s: %s\n", res.Name, oneLine(res.Error))
	}
}

// printSummary prints the totals and the failed tests; it reports whether
// any test failed.
func printSummary(w io.Writer, reports []*fileReport, elapsed time.Duration) bool {
	var passed, failed, skipped int
	type failure struct {
		name, file string
		err        error
	}
	var failures []failure
	for _, r := range reports {
		for _, res := range r.results {
			switch {
			case res.Skipped:
				skipped++
			case res.Passed:
				passed++
			default:
				failed++
				failures = append(failures, failure{res.Name, r.path, res.Error})
			}
		}
	}
	rule := strings.Repeat("=", 60)
	fmt.Fprintln(w)
	fmt.Fprintln(w, rule)
	line := fmt.Sprintf("Tests: %d passed, %d failed", passed, failed)
	if skipped > 0 {
		line += fmt.Sprintf(", %d skipped", skipped)
	}
	fmt.Fprintf(w, "%s, %d total\n", line, passed+failed+skipped)
	fmt.Fprintf(w, "Time:  %s\n", roundDuration(elapsed))
	fmt.Fprintln(w, rule)
	if len(failures) > 0 {
		fmt.Fprintln(w, "\nFailed tests:")
		for _, f := range failures {
			fmt.Fprintf(w, "  ✗ %s (%s)\n", f.name, f.file)
			fmt.Fprintf(w, "    Error: %s\n", oneLine(f.err))
		}
	}
	return failed > 0
}

// findTestFiles expands the arguments: a file must end in .star; a
// directory contributes every *_test.star below it (hidden directories
// skipped). The result is sorted within each argument and de-duplicated.
func findTestFiles(args []string) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, arg := range args {
		fi, err := os.Stat(arg)
		if err != nil {
			return nil, withExitCode(libkite.ExitFileError, fmt.Errorf("test path not found: %s", arg))
		}
		if !fi.IsDir() {
			if !strings.HasSuffix(arg, ".star") {
				return nil, usageErrorf("test: %s is not a .star file", arg)
			}
			add(arg)
			continue
		}
		var found []string
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != arg && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(d.Name(), "_test.star") {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, withExitCode(libkite.ExitFileError, fmt.Errorf("test: %w", err))
		}
		sort.Strings(found)
		for _, p := range found {
			add(p)
		}
	}
	return files, nil
}

// oneLine is an error's message without its backtrace.
func oneLine(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}
