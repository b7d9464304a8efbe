package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/project-starkite/starkite/libkite"
)

// errValidationFailed ends `validate` after its report (exit 1, or 2 when
// a file could not be read: cli.md D4).
var errValidationFailed = errors.New("validation failed")

// validateCommand is `validate <file|dir>...` (cli.md §8.6): a syntax and
// name-resolution check of Starlark files without running them.
func validateCommand() *cli.Command {
	return &cli.Command{
		Name:      "validate",
		Usage:     "check Starlark files for syntax errors and undefined names without running them",
		ArgsUsage: "<file.star|dir>...",
		Description: "Parses every file with kite's dialect and resolves every name against the\n" +
			"builtins and modules of this edition, reporting all errors as file:line:col.\n" +
			"A directory is searched recursively for *.star files (hidden directories are\n" +
			"skipped). load() statements are not executed; an explicit path (./lib.star,\n" +
			"dir/x.star) must exist next to the file or in the working directory.\n" +
			"Exit code 0 when every file is valid, 1 when any is not, 2 when any cannot\n" +
			"be read.\n\n" +
			"Example: kite validate deploy.star lib/\n" +
			"Example: kite validate --json scripts/ > report.json",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the report as a JSON array"},
		},
		Action: validateAction,
	}
}

// validationError is one problem of a file. Line and Column are 0 when
// the file could not be read.
type validationError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

// fileValidation is the report of one file.
type fileValidation struct {
	File       string            `json:"file"`
	Valid      bool              `json:"valid"`
	Errors     []validationError `json:"errors,omitempty"`
	unreadable bool
}

func validateAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageErrorf("validate: expected at least 1 argument <file.star|dir>")
	}
	files := validationTargets(c.Args().Slice())
	if len(files) == 0 && !c.Bool("json") {
		fmt.Fprintln(c.App.Writer, "No .star files found")
		return nil
	}
	v, err := newValidator()
	if err != nil {
		return err
	}
	defer v.close()
	reports := make([]fileValidation, 0, len(files))
	for _, f := range files {
		reports = append(reports, v.validate(f))
	}
	if c.Bool("json") {
		if err := writeValidationJSON(c.App.Writer, reports); err != nil {
			return err
		}
	} else {
		writeValidationText(c.App.Writer, reports)
	}
	code := libkite.ExitSuccess
	for _, r := range reports {
		switch {
		case r.unreadable:
			code = libkite.ExitFileError
		case !r.Valid && code == libkite.ExitSuccess:
			code = libkite.ExitScriptError
		}
	}
	if code != libkite.ExitSuccess {
		return withExitCode(code, errValidationFailed)
	}
	return nil
}

// target is a file to validate, or a path that could not be read (err).
type target struct {
	path string
	err  error
}

// validationTargets expands the arguments: a file is taken as it is
// (whatever its name), a directory contributes its *.star files in
// lexical order, a path that cannot be read is reported as such.
func validationTargets(args []string) []target {
	var out []target
	seen := map[string]bool{}
	add := func(t target) {
		if !seen[t.path] {
			seen[t.path] = true
			out = append(out, t)
		}
	}
	for _, arg := range args {
		if fi, err := os.Stat(arg); err != nil || !fi.IsDir() {
			add(target{path: arg}) // reading it reports what is wrong
			continue
		}
		_ = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				add(target{path: p, err: err})
				if d != nil && d.IsDir() {
					return filepath.SkipDir
				}
			case d.IsDir() && p != arg && strings.HasPrefix(d.Name(), "."):
				return filepath.SkipDir
			case !d.IsDir() && strings.HasSuffix(d.Name(), ".star"):
				add(target{path: p})
			}
			return nil
		})
	}
	return out
}

// validator checks files against the names a script of this edition
// sees.
type validator struct {
	rt      *libkite.Runtime
	closeRT func()
	known   map[string]bool // isPredeclared answers so far
}

func newValidator() (*validator, error) {
	// Test mode: the widest name set (test files are validated too).
	reg := newScriptRegistry(&libkite.ModuleConfig{TestMode: true}, nil)
	rt, err := libkite.New(&libkite.Config{Registry: reg, Permissions: libkite.DenyAllPermissions(), NoSignals: true, TestMode: true})
	if err != nil {
		reg.Close()
		return nil, err
	}
	return &validator{rt: rt, closeRT: func() { rt.Close(); reg.Close() }, known: map[string]bool{}}, nil
}

func (v *validator) close() { v.closeRT() }

// isPredeclared reports whether a script sees name without defining it:
// the edition's module namespaces and global aliases, libkite's runtime
// builtins (fail, exit, defer, on_signal, Result) — exactly the runtime's
// environment, asked by evaluating the bare name, which has no side
// effects — plus _config, which files run through load() see.
func (v *validator) isPredeclared(name string) bool {
	if name == "_config" {
		return true
	}
	known, ok := v.known[name]
	if !ok {
		_, err := v.rt.Eval(context.Background(), name)
		known = err == nil
		v.known[name] = known
	}
	return known
}

// validate parses and resolves one file. A syntax error stops the parser,
// so it is the file's only error; resolution reports every undefined name.
func (v *validator) validate(t target) fileValidation {
	r := fileValidation{File: t.path}
	fail := func(line, col int, msg string) {
		r.Errors = append(r.Errors, validationError{File: t.path, Line: line, Column: col, Message: msg})
	}
	src, err := []byte(nil), t.err
	if err == nil {
		src, err = os.ReadFile(t.path)
	}
	if err != nil {
		r.unreadable = true
		fail(0, 0, "failed to read file: "+err.Error())
		return r
	}
	f, err := libkite.FileOptions().Parse(t.path, src, 0)
	if err == nil {
		err = resolve.File(f, v.isPredeclared, starlark.Universe.Has)
	}
	var (
		synErr  syntax.Error
		resErrs resolve.ErrorList
	)
	switch {
	case err == nil:
	case errors.As(err, &synErr) && synErr.Pos.Line > 0:
		fail(int(synErr.Pos.Line), int(synErr.Pos.Col), synErr.Msg)
	case errors.As(err, &resErrs):
		for _, e := range resErrs {
			fail(int(e.Pos.Line), int(e.Pos.Col), e.Msg)
		}
	default:
		fail(1, 1, err.Error())
	}
	if f != nil {
		for _, e := range missingLoads(t.path, f) {
			fail(int(e.Pos.Line), int(e.Pos.Col), e.Msg)
		}
	}
	sort.SliceStable(r.Errors, func(i, j int) bool {
		a, b := r.Errors[i], r.Errors[j]
		return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
	})
	r.Valid = len(r.Errors) == 0
	return r
}

// missingLoads reports the load() statements of f whose module is an
// explicit path (contains "/" or ends in .star) that exists neither
// relative to the file nor to the working directory — the places load()
// searches for such paths when the file runs. Bare module names are not
// checked: they may be built-in modules or resolve through
// $STARKITE_MODULE_PATH and ~/.starkite/modules at run time.
func missingLoads(file string, f *syntax.File) []resolve.Error {
	var errs []resolve.Error
	for _, stmt := range f.Stmts {
		load, ok := stmt.(*syntax.LoadStmt)
		if !ok {
			continue
		}
		module := load.ModuleName()
		if !strings.Contains(module, "/") && !strings.HasSuffix(module, ".star") {
			continue
		}
		candidates := []string{module}
		if !filepath.IsAbs(module) {
			candidates = []string{filepath.Join(filepath.Dir(file), module), module}
		}
		found := false
		for _, p := range candidates {
			if _, err := os.Stat(p); err == nil {
				found = true
				break
			}
		}
		if !found {
			errs = append(errs, resolve.Error{Pos: load.Module.TokenPos, Msg: fmt.Sprintf("cannot load %s: file not found", module)})
		}
	}
	return errs
}

func writeValidationText(w io.Writer, reports []fileValidation) {
	for _, r := range reports {
		if r.Valid {
			fmt.Fprintf(w, "%s: OK\n", r.File)
			continue
		}
		fmt.Fprintf(w, "%s: FAILED (%d errors)\n", r.File, len(r.Errors))
		for _, e := range r.Errors {
			fmt.Fprintf(w, "  %s:%d:%d: %s\n", e.File, e.Line, e.Column, e.Message)
		}
	}
}

func writeValidationJSON(w io.Writer, reports []fileValidation) error {
	b, err := json.MarshalIndent(reports, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
