package cmd

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/project-starkite/starkite/libkite"
)

// newPrompter returns the --prompt hook, or nil unless both in and errw
// are terminals: kite never prompts a pipe, a file or CI.
func newPrompter(in io.Reader, errw io.Writer) func(libkite.PermissionDecision) libkite.PermissionAnswer {
	inF, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(inF.Fd())) {
		return nil
	}
	errF, ok := errw.(*os.File)
	if !ok || !term.IsTerminal(int(errF.Fd())) {
		return nil
	}
	return promptOn(bufio.NewReader(inF), errF)
}

// promptOn asks each question on w and reads the answer line from r:
// y/yes allows the call once, a/always for the rest of the run (same
// module, category, function and resource), anything else — including
// end of input — denies. The checker serialises calls; the mutex keeps
// a question and its answer together regardless.
func promptOn(r *bufio.Reader, w io.Writer) func(libkite.PermissionDecision) libkite.PermissionAnswer {
	var mu sync.Mutex
	return func(d libkite.PermissionDecision) libkite.PermissionAnswer {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "allow %s? [y/N/a(lways)] ", describeCall(d))
		line, err := r.ReadString('\n')
		if err != nil && line == "" {
			fmt.Fprintln(w)
			return libkite.PermissionDeny
		}
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y", "yes":
			return libkite.PermissionAllowOnce
		case "a", "always":
			return libkite.PermissionAllowAlways
		}
		return libkite.PermissionDeny
	}
}

// describeCall renders a call as the prompt shows it: fs.write("/x"), or
// http.server when there is no resource; the function is added when it
// says more than the category (os.exec exec("/bin/ls") reads as
// os.exec("/bin/ls")).
func describeCall(d libkite.PermissionDecision) string {
	s := d.Module + "." + d.Category
	if d.Function != "" && d.Function != d.Category && d.Function != "write" && d.Function != "read_file" {
		s += " " + d.Function
	}
	if d.Resource != "" {
		s += "(" + strconv.Quote(d.Resource) + ")"
	}
	return s
}
