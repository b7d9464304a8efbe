package cmd

import (
	"encoding/xml"
	"errors"
	"fmt"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// JUnit XML in the shape CI systems read (Jenkins, GitLab, GitHub
// reporters): one <testsuite> per test file, one <testcase> per test, a
// <failure> or <skipped> child when it did not pass.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr,omitempty"`
	Text    string `xml:",chardata"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// junitReport builds the document for the reports of one run.
func junitReport(reports []*fileReport, elapsed time.Duration, now time.Time) junitSuites {
	doc := junitSuites{Name: "kite test", Time: seconds(elapsed)}
	for _, r := range reports {
		suite := junitSuite{Name: r.path, Timestamp: now.UTC().Format("2006-01-02T15:04:05")}
		var total time.Duration
		for _, res := range r.results {
			tc := junitCase{Name: res.Name, Classname: r.path, Time: seconds(res.Duration)}
			switch {
			case res.Skipped:
				suite.Skipped++
				tc.Skipped = &junitMessage{Message: skipReason(res)}
			case !res.Passed:
				suite.Failures++
				tc.Failure = &junitMessage{Message: oneLine(res.Error), Text: errorText(res.Error)}
			}
			total += res.Duration
			suite.Cases = append(suite.Cases, tc)
		}
		suite.Tests = len(r.results)
		suite.Time = seconds(total)
		doc.Tests += suite.Tests
		doc.Failures += suite.Failures
		doc.Skipped += suite.Skipped
		doc.Suites = append(doc.Suites, suite)
	}
	return doc
}

// errorText is an error's full message, with the Starlark backtrace when
// there is one (CI shows it under the failure).
func errorText(err error) string {
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		return ee.Backtrace()
	}
	return err.Error()
}

// writeJUnit writes the report to path, replacing it whole.
func writeJUnit(path string, reports []*fileReport, elapsed time.Duration) error {
	out, err := xml.MarshalIndent(junitReport(reports, elapsed, time.Now()), "", "  ")
	if err != nil {
		return err
	}
	f, err := libkite.CreateAtomic(path, 0o644)
	if err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	if _, err := f.Write(append([]byte(xml.Header), append(out, '\n')...)); err != nil {
		f.Abort()
		return fmt.Errorf("junit report: %w", err)
	}
	if err := f.Commit(); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	return nil
}
