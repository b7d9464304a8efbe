package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/project-starkite/starkite/basekite/varstore"
	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/sandbox"
)

// The OS-level sandbox of the CLI (sandbox.md §1, §5): run, exec, repl,
// test and watch re-run the whole invocation inside the profile the
// --sandbox flags (or STARKITE_SECURITY_SANDBOX) select, through the
// runner the binary linked (sandbox.Backend; only the all-in-one kite on
// Linux has one). The outer process resolves variables and permissions
// on the host and hands them in, so a script sees the same policy inside
// as outside even though the config files are invisible there.

const flagSandbox = "sandbox"

// sandboxRungs are the built-in profiles with a --sandbox-<rung> alias.
var sandboxRungs = []string{sandbox.Opaque, sandbox.NetAccess, sandbox.Host}

// sessionEnvVar carries the outer process's resolved session into the
// sandbox. Private: the inner process removes it before any script runs.
const sessionEnvVar = "STARKITE_SANDBOX_SESSION"

func sandboxFlags() []cli.Flag {
	flags := []cli.Flag{&cli.StringFlag{Name: flagSandbox,
		Usage: "run inside the OS sandbox `profile` (opaque, net-access, host or a config.yaml profile); " +
			"bare --sandbox means \"default\"; the name must be attached with = (env " + sandbox.EngagementEnvVar + ")"}}
	for _, rung := range sandboxRungs {
		flags = append(flags, &cli.BoolFlag{Name: flagSandbox + "-" + rung, Usage: "same as --sandbox=" + rung})
	}
	return flags
}

// expandBareSandbox rewrites a bare --sandbox into --sandbox=default
// before the flags are parsed: the profile name must be attached with
// "=", so the word after --sandbox (often the script) is never taken as
// its value.
func expandBareSandbox(args []string) []string {
	var out []string
	for i, a := range args {
		if a == "--" {
			break
		}
		if i > 0 && (a == "--"+flagSandbox || a == "-"+flagSandbox) {
			if out == nil {
				out = append([]string(nil), args...)
			}
			out[i] = "--" + flagSandbox + "=" + sandbox.DefaultProfileName
		}
	}
	if out == nil {
		return args
	}
	return out
}

// sandboxSelection is the profile name the flags or the environment ask
// for ("" = no sandbox): at most one sandbox flag, then
// STARKITE_SECURITY_SANDBOX. Errors exit 1, like the permission flags'
// (cli.md §2).
func sandboxSelection(c *cli.Context) (string, error) {
	order := make([]string, len(sandboxRungs))
	aliases := map[string]string{}
	for i, rung := range sandboxRungs {
		order[i] = flagSandbox + "-" + rung
		aliases[order[i]] = rung
	}
	name, given, err := selectorFlags(c, "sandbox", flagSandbox, order, aliases)
	if err != nil || given {
		return name, err
	}
	return strings.TrimSpace(os.Getenv(sandbox.EngagementEnvVar)), nil
}

// insideSandbox reports whether this process already runs in a sandbox
// (the recursion guard).
func insideSandbox() bool { return os.Getenv(sandbox.InsideEnvVar) == "1" }

// sandboxRequest resolves what a sandbox-honouring command was asked for:
// the zero profile when it runs natively (nothing requested, or already
// inside), else the loaded profile.
func sandboxRequest(c *cli.Context) (sandbox.Profile, error) {
	if insideSandbox() {
		return sandbox.Profile{}, nil
	}
	name, err := sandboxSelection(c)
	if err != nil || name == "" {
		return sandbox.Profile{}, err
	}
	if !sandbox.Available() {
		return sandbox.Profile{}, sandbox.PlatformError()
	}
	return sandbox.LoadProfile(name)
}

// handOffToSandbox runs the whole invocation inside the requested
// sandbox. handled is false when the command should run natively;
// otherwise the inner process has run and err is its outcome (an exit
// status of the inner kite becomes this process's, printing nothing
// more). scripts are the files the command will read, checked to be
// visible inside the profile before anything starts.
func handOffToSandbox(c *cli.Context, scripts ...string) (handled bool, err error) {
	p, err := sandboxRequest(c)
	if err != nil || p.IsZero() {
		return err != nil, err
	}
	for _, s := range scripts {
		if err := checkVisible(p, s); err != nil {
			return true, err
		}
	}
	s, err := newSession(c)
	if err != nil {
		return true, err
	}
	defer s.close()
	return true, s.runInSandbox(c.Context, p, sandbox.StripSelectors(invocationArgs(c)[1:]), first(scripts))
}

// runInSandbox runs kite with args inside profile p, handing it this
// session's variables, permissions and audit log. A non-zero exit of the
// inner kite, which has reported its own error, becomes the same exit
// status here with nothing more printed.
func (s *session) runInSandbox(ctx context.Context, p sandbox.Profile, args []string, script string) error {
	state := handedSession{Permissions: s.perms, HostMemTotal: memTotal()}
	var extra []*os.File
	if s.audit != nil {
		extra = append(extra, s.audit)
		state.AuditFD = 3
	}
	var err error
	if state.Vars, err = s.vars.Snapshot(); err != nil {
		return err
	}
	data, err := yaml.Marshal(state)
	if err != nil {
		return err
	}
	err = sandbox.Backend.Run(ctx, sandbox.ExecSpec{
		ScriptPath:  script,
		Args:        args,
		Env:         append(withoutEnv(os.Environ(), sessionEnvVar), sessionEnvVar+"="+string(data)),
		Profile:     p,
		ExtraFiles:  extra,
		Debug:       s.opts.Debug,
		MemoryBytes: s.opts.Limits.MaxMemoryBytes,
	})
	var exit *sandbox.ExitError
	if errors.As(err, &exit) {
		return libkite.NewExitError(exit.Code)
	}
	var le *libkite.LimitError
	if errors.As(err, &le) {
		// the sandbox died at a limit: the kite inside could not report
		writeLimitsReport(s.errw, s.opts, libkite.LimitsEnforced{Limits: s.opts.Limits, StoppedBy: le.Limit,
			Enforced: map[libkite.Limit]string{le.Limit: "the gVisor sandbox's memory cgroup"}})
	}
	return s.stopped(ctx, err)
}

// checkVisible fails early, with the fix, when path would not exist
// inside profile p: the deepest mount holding it must be a bind of the
// same host path. Where the file really is decides, so the path and the
// mounts are compared with symlinks resolved (a link out of the working
// directory leads nowhere inside; a working directory entered through a
// link is still the directory it links to).
func checkVisible(p sandbox.Profile, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if visible(p.Mounts, resolved(abs), resolved) {
		return nil
	}
	wd, _ := os.Getwd()
	return fmt.Errorf("sandbox: %s is outside what profile %q shows the script (the working directory %s is the only host directory it can write); "+
		"run kite from the script's directory, or add a mount for it to a custom profile", path, p.Name, wd)
}

// visible reports whether path lies in a same-path bind mount and no
// deeper mount hides it; norm normalises mount paths.
func visible(mounts []sandbox.Mount, path string, norm func(string) string) bool {
	var deepest *sandbox.Mount
	depth := -1
	for i := range mounts {
		m := &mounts[i]
		if d := norm(m.Destination); within(path, d) && len(d) >= depth {
			deepest, depth = m, len(d)
		}
	}
	return deepest != nil && deepest.Type == sandbox.MountBind && norm(deepest.Source) == norm(deepest.Destination)
}

// resolved is p with symlinks resolved, or p cleaned when it cannot be.
func resolved(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return filepath.Clean(p)
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	return path == dir || dir == "/" || strings.HasPrefix(path, dir+string(filepath.Separator))
}

// handedSession is what the outer kite passes to the one inside.
type handedSession struct {
	Permissions *libkite.PermissionConfig `yaml:"permissions"`
	Vars        []byte                    `yaml:"vars"`               // varstore snapshot
	AuditFD     int                       `yaml:"audit_fd,omitempty"` // the open --audit-log file
	// HostMemTotal is the host's MemTotal: inside, a smaller MemTotal
	// shows the --max-memory cgroup took effect.
	HostMemTotal uint64 `yaml:"host_mem_total,omitempty"`
}

// handed is the session this process received from outside the
// sandbox, nil when none; handedErr reports a corrupt one.
var (
	handed    *handedSession
	handedErr error
)

// takeHandedSession reads and removes the handed-in session, so neither
// the script nor the processes it starts see it. Only a process inside a
// sandbox accepts one.
func takeHandedSession() {
	data, ok := os.LookupEnv(sessionEnvVar)
	if !ok {
		return
	}
	os.Unsetenv(sessionEnvVar)
	if !insideSandbox() {
		return
	}
	var h handedSession
	if err := yaml.Unmarshal([]byte(data), &h); err != nil {
		handedErr = fmt.Errorf("sandbox: reading the session handed in from outside: %w", err)
		return
	}
	handed = &h
}

// apply gives s the handed-in variables, permissions and audit log in
// place of resolving them again from files the sandbox hides.
func (h *handedSession) apply(s *session) error {
	vars, err := varstore.FromSnapshot(h.Vars)
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	s.vars = vars
	s.perms = h.Permissions
	if s.perms == nil {
		s.perms = libkite.DenyAllPermissions()
	}
	if h.AuditFD > 0 {
		s.audit = os.NewFile(uintptr(h.AuditFD), s.opts.AuditLog)
	}
	return nil
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// withoutEnv is env minus the entries for key.
func withoutEnv(env []string, key string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// invocationArgs is the argv the CLI was started with.
func invocationArgs(c *cli.Context) []string {
	if argv, ok := c.App.Metadata[metaArgv].([]string); ok {
		return argv
	}
	return os.Args
}

const metaArgv = "argv"

// runSandboxedTests runs each test file in a sandbox of its own (cli.md
// §8.4): a child `kite test <file>` per file with the file's directory as
// working directory (so the profile's $CWD mount shows it), up to
// --parallel at a time. Output streams through under a header per file
// (buffered per file when parallel); any failing file fails the run.
func runSandboxedTests(c *cli.Context, profile string, files []string) error {
	if c.String(flagJUnit) != "" {
		return usageErrorf("--%s cannot be combined with a sandbox over several test files (each runs in its own sandbox); run one file or directory at a time", flagJUnit)
	}
	if o := c.String(flagOutput); c.IsSet(flagOutput) && o != "text" {
		return usageErrorf("--%s %s cannot be combined with a sandbox over several test files (each runs in its own sandbox)", flagOutput, o)
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	opts := resolveOptions(c, c.App.ErrWriter)
	perms, err := permissionSelection(c)
	if err != nil {
		return err
	}
	forwarded, err := forwardedTestFlags(c, opts, perms)
	if err != nil {
		return err
	}
	env := append(withoutEnv(os.Environ(), sandbox.EngagementEnvVar), sandbox.EngagementEnvVar+"="+profile)
	out := c.App.Writer
	start := time.Now()
	type result struct {
		output bytes.Buffer
		err    error
	}
	results := make([]result, len(files))
	runOne := func(i int, w io.Writer) {
		abs, err := filepath.Abs(files[i])
		if err != nil {
			results[i].err = err
			return
		}
		cmd := exec.CommandContext(c.Context, exe, append(append([]string{"test"}, forwarded...), "--", filepath.Base(abs))...)
		cmd.Dir, cmd.Env = filepath.Dir(abs), env
		cmd.Stdout, cmd.Stderr = w, w
		results[i].err = cmd.Run()
	}
	workers := max(1, min(c.Int(flagParallel), len(files)))
	if workers == 1 {
		for i, f := range files {
			fmt.Fprintf(out, "--- %s ---\n", f)
			runOne(i, out)
		}
	} else {
		parallel(len(files), workers, func(i int) {
			runOne(i, &results[i].output) // os/exec writes one stream at a time when both are the same writer
		})
		for i, f := range files {
			fmt.Fprintf(out, "--- %s ---\n", f)
			out.Write(results[i].output.Bytes())
		}
	}
	fmt.Fprintf(out, "Total: %s across %d file(s)\n", time.Since(start).Round(time.Millisecond), len(files))
	for _, r := range results {
		var exitErr *exec.ExitError
		if r.err != nil && !errors.As(r.err, &exitErr) {
			return r.err // the child could not start
		}
	}
	for _, r := range results {
		if r.err != nil {
			return errTestsFailed
		}
	}
	return nil
}

// forwardedTestFlags are the flags a per-file test child gets (cli.md
// §8.4). Paths become absolute: the child runs in the file's directory.
func forwardedTestFlags(c *cli.Context, o *options, perms string) ([]string, error) {
	var args []string
	if c.Bool(flagVerbose) {
		args = append(args, "--"+flagVerbose)
	}
	if r := c.String(flagRun); r != "" {
		args = append(args, "--"+flagRun+"="+r)
	}
	if perms != "" {
		args = append(args, "--"+flagPermissions+"="+perms)
	}
	if o.Debug {
		args = append(args, "--"+flagDebug)
	}
	if o.DryRun {
		args = append(args, "--"+flagDryRun)
	}
	if o.Timeout != defaultTimeout {
		args = append(args, fmt.Sprintf("--%s=%d", flagTimeout, o.Timeout))
	}
	for _, v := range o.Vars {
		args = append(args, "--"+flagVar+"="+v)
	}
	for _, f := range o.VarFiles {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, err
		}
		args = append(args, "--"+flagVarFile+"="+abs)
	}
	if o.AuditLog != "" {
		abs, err := filepath.Abs(o.AuditLog)
		if err != nil {
			return nil, err
		}
		args = append(args, "--"+flagAuditLog+"="+abs)
	}
	return args, nil
}
