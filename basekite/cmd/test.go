package cmd

import (
	"bytes"
	"encoding/json"
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
	"golang.org/x/term"
	"gopkg.in/yaml.v3"

	"github.com/project-starkite/starkite/libkite"
)

const (
	flagVerbose  = "verbose"
	flagParallel = "parallel"
	flagRun      = "run"
	flagJUnit    = "junit"
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
			&cli.StringFlag{Name: flagRun, Aliases: []string{"filter"}, Usage: "only run test_* functions whose name contains `substr`"},
			&cli.StringFlag{Name: flagJUnit, Usage: "also write the results as JUnit XML to `file`"},
		},
		Action: testAction,
	}
}

// parallel calls fn(0) … fn(n-1) on up to workers goroutines and returns
// when all have returned.
func parallel(n, workers int, fn func(i int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				fn(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
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
	if len(files) == 1 {
		if handled, err := handOffToSandbox(c, files[0]); handled {
			return err
		}
	} else if p, err := sandboxRequest(c); err != nil {
		return err
	} else if !p.IsZero() {
		return runSandboxedTests(c, p.Name, files)
	}
	s, err := newSession(c)
	if err != nil {
		return err
	}
	defer s.close()
	verbose, filter := c.Bool(flagVerbose), c.String(flagRun)
	colour := newPalette(out)
	structured := s.opts.Output == "json" || s.opts.Output == "yaml"
	if !structured {
		fmt.Fprintf(out, "Found %d test file(s)\n", len(files))
		if filter != "" {
			fmt.Fprintf(out, "Filter: %s\n", filter)
		}
	}

	start := time.Now()
	reports := make([]*fileReport, len(files))
	workers := max(1, min(c.Int(flagParallel), len(files)))
	if workers == 1 && !structured {
		// sequential: stream each file's output as it happens
		for i, f := range files {
			reports[i] = s.runTestFile(c, f, filter, verbose, colour, out)
		}
	} else {
		parallel(len(files), workers, func(i int) {
			reports[i] = s.runTestFile(c, files[i], filter, verbose, colour, nil)
		})
		if !structured {
			for _, r := range reports {
				out.Write(r.output.Bytes())
			}
		}
	}
	elapsed := time.Since(start)
	if path := c.String(flagJUnit); path != "" {
		if err := writeJUnit(path, reports, elapsed); err != nil {
			return err
		}
	}
	if structured {
		failed, err := writeTestReport(out, s.opts.Output, reports, elapsed)
		if err != nil {
			return err
		}
		if failed {
			return errTestsFailed
		}
		return nil
	}
	if colour.printSummary(out, reports, elapsed) {
		return errTestsFailed
	}
	return nil
}

// testReport is `kite test --output json|yaml`: the whole run as one
// document on stdout (what the tests printed is kept per file).
type testReport struct {
	Passed     int              `json:"passed" yaml:"passed"`
	Failed     int              `json:"failed" yaml:"failed"`
	Skipped    int              `json:"skipped" yaml:"skipped"`
	Total      int              `json:"total" yaml:"total"`
	DurationMS float64          `json:"duration_ms" yaml:"duration_ms"`
	Files      []testFileReport `json:"files" yaml:"files"`
}

type testFileReport struct {
	File   string           `json:"file" yaml:"file"`
	Output string           `json:"output,omitempty" yaml:"output,omitempty"`
	Tests  []testCaseReport `json:"tests" yaml:"tests"`
}

type testCaseReport struct {
	Name       string  `json:"name" yaml:"name"`
	Status     string  `json:"status" yaml:"status"` // passed, failed, skipped
	DurationMS float64 `json:"duration_ms" yaml:"duration_ms"`
	Error      string  `json:"error,omitempty" yaml:"error,omitempty"` // failure message, or skip reason
}

func writeTestReport(w io.Writer, format string, reports []*fileReport, elapsed time.Duration) (failed bool, err error) {
	rep := testReport{DurationMS: ms(elapsed), Files: []testFileReport{}}
	for _, r := range reports {
		fr := testFileReport{File: r.path, Output: r.output.String(), Tests: []testCaseReport{}}
		for _, t := range r.results {
			tc := testCaseReport{Name: t.Name, DurationMS: ms(t.Duration)}
			switch {
			case t.Skipped:
				tc.Status = "skipped"
				rep.Skipped++
			case t.Passed:
				tc.Status = "passed"
				rep.Passed++
			default:
				tc.Status = "failed"
				rep.Failed++
			}
			if t.Error != nil {
				tc.Error = t.Error.Error()
			}
			fr.Tests = append(fr.Tests, tc)
		}
		rep.Files = append(rep.Files, fr)
	}
	rep.Total = rep.Passed + rep.Failed + rep.Skipped
	var b []byte
	if format == "yaml" {
		b, err = yaml.Marshal(rep)
	} else {
		b, err = json.MarshalIndent(rep, "", "  ")
		b = append(b, '\n')
	}
	if err != nil {
		return false, err
	}
	_, err = w.Write(b)
	return rep.Failed > 0, err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// runTestFile runs one file in its own runtime. Output goes to w, or is
// buffered in the report when w is nil (parallel runs print in order).
func (s *session) runTestFile(c *cli.Context, path, filter string, verbose bool, colour palette, w io.Writer) *fileReport {
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
			fmt.Fprintf(w, "  %s %s: %s\n", colour.red("✗"), path, oneLine(err))
		}
		return r
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fail(fmt.Errorf("failed to read file: %w", err))
	}
	src := string(b)
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
		return fail(fmt.Errorf("failed to create runtime: %w", err))
	}
	defer closeRT()
	ctx := c.Context // the file is one libkite run: Limits carry --timeout
	tc := libkite.TestConfig{Filter: filter, Verbose: verbose}
	if verbose {
		tc.Report = func(res libkite.TestResult) {
			printMu.Lock()
			colour.printTestLine(w, res)
			printMu.Unlock()
		}
	}
	results, err := rt.ExecuteTestsWithConfig(ctx, src, tc)
	r.results = results
	if err != nil && (len(results) == 0 || !errors.Is(err, libkite.ErrLimitExceeded) && !errors.Is(err, ctx.Err())) {
		// the top level failed (or exit(n)): the file is one failure
		r.results = nil
		return fail(fmt.Errorf("failed to execute tests: %w", s.stopped(ctx, err)))
	}
	return r
}

func (p palette) printTestLine(w io.Writer, res libkite.TestResult) {
	switch {
	case res.Skipped:
		reason := ""
		if r := skipReason(res); r != "" {
			reason = " (" + r + ")"
		}
		fmt.Fprintf(w, "  %s %s %s%s\n", p.yellow("-"), res.Name, p.yellow("[SKIPPED]"), reason)
	case res.Passed:
		fmt.Fprintf(w, "  %s %s (%s)\n", p.green("✓"), res.Name, roundDuration(res.Duration))
	default:
		fmt.Fprintf(w, "  %s %s: %s\n", p.red("✗"), res.Name, oneLine(res.Error))
	}
}

func skipReason(res libkite.TestResult) string {
	var skip *libkite.SkipError
	if errors.As(res.Error, &skip) {
		return skip.Reason
	}
	return ""
}

// palette colours the result marks when stdout is a terminal (and
// NO_COLOR is unset); otherwise every method returns its text unchanged.
type palette struct{ on bool }

func newPalette(w io.Writer) palette {
	f, ok := w.(*os.File)
	return palette{on: ok && os.Getenv("NO_COLOR") == "" && term.IsTerminal(int(f.Fd()))}
}

func (p palette) paint(code, s string) string {
	if !p.on {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p palette) green(s string) string  { return p.paint("32", s) }
func (p palette) red(s string) string    { return p.paint("31", s) }
func (p palette) yellow(s string) string { return p.paint("33", s) }

// printSummary prints the totals and the failed tests; it reports whether
// any test failed.
func (p palette) printSummary(w io.Writer, reports []*fileReport, elapsed time.Duration) bool {
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
	fmt.Fprintf(w, "Time:  %s\n", elapsed.Round(time.Millisecond))
	fmt.Fprintln(w, rule)
	if len(failures) > 0 {
		fmt.Fprintln(w, "\nFailed tests:")
		for _, f := range failures {
			fmt.Fprintf(w, "  %s %s (%s)\n", p.red("✗"), f.name, f.file)
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
			return nil, fmt.Errorf("failed to find test files: %w", err)
		}
		if !fi.IsDir() {
			if !strings.HasSuffix(arg, ".star") {
				return nil, fmt.Errorf("not a .star file: %s", arg)
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
			return nil, fmt.Errorf("failed to find test files: %w", err)
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
