package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/urfave/cli/v2"
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/basekite/varstore"
	"github.com/project-starkite/starkite/basekite/version"
	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/permissions"
)

const globalFlagsNote = "Global flags may be given before the command or after its argument:\n" +
	"--var, --var-file, --timeout, --debug, --dry-run, -o/--output, --permissions\n" +
	"(described by --help without a command)."

func runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "execute a Starlark script file",
		ArgsUsage: "<script>",
		Description: "Runs the script, then its main() if it defines one and did not call it.\n" +
			"'run' may be omitted: 'kite ./deploy.star' means 'kite run ./deploy.star'.\n\n" +
			"Example: kite run deploy.star --var env=prod --permissions=allow-net\n" +
			"Example: kite ./backup.star --allow-fs --dry-run\n\n" + globalFlagsNote,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("run: expected exactly 1 argument <script>, got %d", c.NArg())
			}
			path := c.Args().First()
			src, err := readScript(path)
			if err != nil {
				return err
			}
			if handled, err := handOffToSandbox(c, path); handled {
				return err
			}
			return executeScript(c, path, src)
		},
	}
}

func execCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "execute Starlark code given as an argument ('-' reads stdin)",
		ArgsUsage: "'<code>'",
		Description: "Runs the code like a script named <inline>.\n\n" +
			"Example: kite exec 'print(1 + 2)'\n" +
			"Example: echo 'print(var_str(\"who\"))' | kite exec - --var who=kite\n\n" + globalFlagsNote,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageErrorf("exec: expected exactly 1 argument '<code>', got %d", c.NArg())
			}
			if handled, err := handOffToSandbox(c); handled {
				return err
			}
			code := c.Args().First()
			if code == "-" {
				b, err := io.ReadAll(c.App.Reader)
				if err != nil {
					return withExitCode(libkite.ExitFileError, fmt.Errorf("failed to read code from stdin: %w", err))
				}
				code = string(b)
			}
			return executeScript(c, "<inline>", code)
		},
	}
}

// readScript reads a run target (cli.md §8.1): exit 2 when it is missing
// or unreadable.
func readScript(path string) (string, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", withExitCode(libkite.ExitFileError, fmt.Errorf("script file not found: %s", path))
	case err == nil && fi.IsDir():
		return "", withExitCode(libkite.ExitFileError, fmt.Errorf("script path is a directory: %s", path))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", withExitCode(libkite.ExitFileError, fmt.Errorf("failed to read script file %s: %w", path, err))
	}
	return string(b), nil
}

// session is what every script-executing command resolves once from its
// flags: options, variable store and permission policy. Each script then
// gets its own registry and runtime from newRuntime.
type session struct {
	opts      *options
	vars      *varstore.Vars
	perms     *libkite.PermissionConfig
	out, errw io.Writer
	audit     *os.File                                                  // --audit-log, open for the session
	prompt    func(libkite.PermissionDecision) libkite.PermissionAnswer // --prompt on a terminal
	memNote   string                                                    // why the sandbox cannot enforce --max-memory
}

// close releases what the session opened (the audit log).
func (s *session) close() {
	if s.audit != nil {
		s.audit.Close()
	}
}

func newSession(c *cli.Context) (*session, error) {
	s := &session{out: c.App.Writer, errw: c.App.ErrWriter}
	s.opts = resolveOptions(c, s.errw)
	var err error
	if s.opts.Permissions, err = permissionSelection(c); err != nil {
		return nil, err
	}
	if err = checkOutput(s.opts); err != nil {
		return nil, err
	}
	if s.opts.Limits, err = resolveLimits(c, s.opts.Timeout); err != nil {
		return nil, err
	}
	switch {
	case handedErr != nil:
		return nil, handedErr
	case handed != nil: // inside a sandbox: resolved outside, from files hidden here
		if err = handed.apply(s); err != nil {
			return nil, err
		}
	default:
		if s.vars, err = buildVarStore(s.opts); err != nil {
			return nil, withExitCode(libkite.ExitConfigError, err)
		}
		if s.perms, err = resolvePermissions(s.opts, s.vars); err != nil {
			return nil, err
		}
	}
	if s.opts.AuditLog != "" && s.audit == nil {
		// the operator's own file (not the script's): created 0600, appended to
		if s.audit, err = os.OpenFile(s.opts.AuditLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
			return nil, withExitCode(libkite.ExitConfigError, fmt.Errorf("--%s: %w", flagAuditLog, err))
		}
	}
	if s.opts.Prompt {
		s.prompt = newPrompter(c.App.Reader, s.errw)
		if s.prompt == nil {
			fmt.Fprintf(s.errw, "kite: --%s needs a terminal on stdin and stderr; calls no rule grants are denied without asking\n", flagPrompt)
		}
	}
	libkite.SetAppVersion(version.Version)
	return s, nil
}

// newRuntime builds a runtime with a fresh registry for one script;
// configure may adjust the config first. close releases both.
func (s *session) newRuntime(scriptPath string, configure func(*libkite.Config)) (rt *libkite.Runtime, close func(), err error) {
	o := s.opts
	cfg := &libkite.Config{
		ScriptPath:       scriptPath,
		VarStore:         s.vars,
		Permissions:      s.perms,
		EntryPoint:       "main",
		OutputFormat:     o.Output,
		Debug:            o.Debug,
		DryRun:           o.DryRun,
		PermissionPrompt: s.prompt,
		Limits:           o.Limits,
	}
	if s.audit != nil {
		cfg.AuditLog = s.audit
	}
	if s.out != io.Writer(os.Stdout) { // in-process callers capture print()
		out := s.out
		cfg.Print = func(_ *starlark.Thread, msg string) { fmt.Fprintln(out, msg) }
	}
	if handed != nil {
		s.memNote = applySandboxMemory(cfg, handed)
	}
	if configure != nil {
		configure(cfg)
	}
	// built after configure so test-only members (ssh.test_server) follow cfg.TestMode
	reg := newScriptRegistry(&libkite.ModuleConfig{DryRun: cfg.DryRun, Debug: cfg.Debug, TestMode: cfg.TestMode, VarStore: s.vars}, s.errw)
	cfg.Registry = reg
	rt, err = libkite.New(cfg)
	if err != nil {
		reg.Close()
		return nil, nil, err
	}
	return rt, func() { rt.Close(); reg.Close() }, nil
}

// deadline applies --timeout (<= 0: none) to ctx, for work that is not
// one libkite run (whose Limits.Timeout carries --timeout itself).
func (s *session) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.opts.Timeout > 0 {
		return context.WithTimeout(ctx, time.Duration(s.opts.Timeout)*time.Second)
	}
	return ctx, func() {}
}

// stopped turns an error of a run a limit stopped into the error the CLI
// reports: --timeout's (exit 5), or the limit's with the flag raising it;
// a deadline of ctx counts as --timeout's.
func (s *session) stopped(ctx context.Context, err error) error {
	var (
		le *libkite.LimitError
		se *libkite.ScriptError
	)
	if errors.As(err, &le) && errors.As(err, &se) {
		if le.Limit == libkite.LimitTimeout {
			return &timeoutError{seconds: s.opts.Timeout, err: err}
		}
		if flag := limitHints[le.Limit]; flag != "" {
			return &limitStopped{err: se, flag: flag}
		}
	}
	if err != nil && s.opts.Timeout > 0 && !libkite.IsExitError(err) &&
		(errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded)) {
		return &timeoutError{seconds: s.opts.Timeout, err: err}
	}
	return err
}

// executeScript is the pipeline shared by run and exec: session, runtime,
// execution under the deadline.
func executeScript(c *cli.Context, scriptPath, src string) error {
	s, err := newSession(c)
	if err != nil {
		return err
	}
	defer s.close()
	if s.opts.Debug {
		fmt.Fprintf(s.out, "[DEBUG] Loaded variables: %v\n", s.vars.All())
		fmt.Fprintf(s.out, "[DEBUG] Provider defaults: %v\n", s.vars.GetAllProviderDefaults())
	}
	rt, closeRT, err := s.newRuntime(scriptPath, nil)
	if err != nil {
		return err
	}
	defer closeRT()
	err = rt.Execute(c.Context, src)
	s.writeLimitsReport(rt)
	return s.stopped(c.Context, err)
}

// buildVarStore loads the variable tiers in the order of cli.md §4.1:
// env → config defaults → var files → CLI.
func buildVarStore(o *options) (*varstore.Vars, error) {
	v := varstore.New()
	v.LoadFromEnv()
	if err := v.LoadDefaults(); err != nil {
		return nil, err
	}
	if err := v.LoadFromFiles(o.VarFiles); err != nil {
		return nil, err
	}
	if err := v.LoadFromCLI(o.Vars); err != nil {
		return nil, err
	}
	return v, nil
}

// resolvePermissions selects the permission policy of a script run
// (permissions.md §6.2): a built-in tier, a profile of the config.yaml
// permissions: section (./config.yaml replaces ~/.starkite/config.yaml's
// section), and with no flag the config's "default" profile, else
// deny-all (cli.md D1).
func resolvePermissions(o *options, vars *varstore.Vars) (*libkite.PermissionConfig, error) {
	section, file := vars.GetPermissions()
	profiles, err := permissions.ParseProfiles(section)
	if err != nil {
		return nil, withExitCode(libkite.ExitConfigError, fmt.Errorf("%s: %w", file, err))
	}
	return profiles.Resolve(o.Permissions)
}

// ReadScript reads a script file the way `run` does: exit code 2 with a
// clear message when it is missing, a directory or unreadable.
func ReadScript(path string) (string, error) { return readScript(path) }

// WithScriptRuntime runs fn with a runtime for scriptPath built exactly as
// `run` builds one — variables, permission policy, audit log, --prompt,
// --dry-run and --debug from c's global flags — under the --timeout
// deadline. configure may adjust the config before the runtime is built.
// Edition commands that execute a user script (kite mcp serve) use it so
// the script gets the same policy as under `kite run`.
func WithScriptRuntime(c *cli.Context, scriptPath string, configure func(*libkite.Config), fn func(ctx context.Context, rt *libkite.Runtime) error) error {
	s, err := newSession(c)
	if err != nil {
		return err
	}
	defer s.close()
	// --timeout bounds the whole session here, not each call
	rt, closeRT, err := s.newRuntime(scriptPath, func(cfg *libkite.Config) {
		cfg.Limits.Timeout = 0
		if configure != nil {
			configure(cfg)
		}
	})
	if err != nil {
		return err
	}
	defer closeRT()
	ctx, cancel := s.deadline(c.Context)
	defer cancel()
	return s.stopped(ctx, fn(ctx, rt))
}
