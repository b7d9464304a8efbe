package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	gossh "golang.org/x/crypto/ssh"

	"github.com/project-starkite/starkite/libkite"
)

// execMethod: client.exec(cmd, *, sudo=False, as_user="", cwd="",
// env=None) → list of SSHResult, one per host in host order. Checks
// ssh.connect:exec("<host>:<cmd>") per host. A non-zero exit status is a
// result (ok=False), not an error.
func execMethod(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	c := fn.Receiver().(*Client)
	var (
		cmd, asUser, cwd string
		sudo             bool
		envV             starlark.Value
	)
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "cmd", &cmd, "*", nil,
		"sudo?", &sudo, "as_user?", &asUser, "cwd?", &cwd, "env??", &envV); err != nil {
		return nil, bindingError(err, args, []string{"cmd"})
	}
	if envV != nil {
		if _, ok := envV.(*starlark.Dict); !ok {
			return nil, fmt.Errorf("%s: keyword arg 'env': got %s, want dict", fn.Name(), envV.Type())
		}
	}
	for _, h := range c.opts.hosts {
		if err := libkite.Check(thread, "ssh", "connect", "exec", h+":"+cmd); err != nil {
			return nil, err
		}
	}
	if len(c.opts.hosts) == 0 {
		return starlark.NewList(nil), nil
	}
	keyPath, khPath, err := c.fileChecks(thread)
	if err != nil {
		return nil, err
	}
	env := make(map[string]string, len(c.opts.env))
	for k, v := range c.opts.env {
		env[k] = v
	}
	for k, v := range stringDict(envV) {
		env[k] = v
	}
	if asUser == "" {
		asUser = c.opts.asUser
	}
	if cwd == "" {
		cwd = c.opts.cwd
	}
	final, err := remoteCommand(cmd, sudo || c.opts.sudo, asUser, cwd, env)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn.Name(), err)
	}
	if c.dryRun(thread) {
		out := make([]starlark.Value, len(c.opts.hosts))
		for i, h := range c.opts.hosts {
			out[i] = execResult(h, "[DRY RUN] Would execute on "+h+": "+final, "", 0, true)
		}
		return starlark.NewList(out), nil
	}
	d, err := c.newDialer(keyPath, khPath)
	if err != nil {
		return nil, err
	}
	defer d.close()
	results := make([]starlark.Value, len(c.opts.hosts))
	err = c.eachHost(libkite.Context(thread), func(ctx context.Context, i int, host string) error {
		r, err := d.run(ctx, host, final)
		if err == nil {
			results[i] = execResult(host, r.stdout, r.stderr, r.code, false)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return starlark.NewList(results), nil
}

// eachHost runs op for every host: all at once under the concurrent
// policy (the first failing host in host order is reported once all are
// done), one after another otherwise (stopping at the first failure).
// Errors are wrapped `host <host>: …`.
func (c *Client) eachHost(ctx context.Context, op func(ctx context.Context, i int, host string) error) error {
	hosts := c.opts.hosts
	wrap := func(i int, err error) error { return fmt.Errorf("host %s: %w", hosts[i], err) }
	if c.opts.linear || len(hosts) == 1 {
		for i, h := range hosts {
			if err := op(ctx, i, h); err != nil {
				return wrap(i, err)
			}
		}
		return nil
	}
	errs := make([]error, len(hosts))
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = op(ctx, i, h)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return wrap(i, err)
		}
	}
	return nil
}

// execOutput is what one host's command produced.
type execOutput struct {
	stdout, stderr string
	code           int
}

// run executes the final command string on host.
func (d *dialer) run(ctx context.Context, host, command string) (execOutput, error) {
	c, err := d.connect(ctx, host)
	if err != nil {
		return execOutput{}, err
	}
	defer c.Close()
	sess, err := c.NewSession()
	if err != nil {
		return execOutput{}, ctxErr(ctx, fmt.Errorf("failed to open session: %w", err))
	}
	defer sess.Close()
	var stdout, stderr bytes.Buffer
	sess.Stdout, sess.Stderr = &stdout, &stderr
	err = sess.Run(command)
	var exit *gossh.ExitError
	switch {
	case ctx.Err() != nil:
		return execOutput{}, ctx.Err()
	case errors.As(err, &exit):
		return execOutput{stdout.String(), stderr.String(), exit.ExitStatus()}, nil
	case err != nil:
		return execOutput{}, fmt.Errorf("failed to run command: %w", err)
	}
	return execOutput{stdout.String(), stderr.String(), 0}, nil
}

// ctxErr prefers the context's error: a cancelled operation fails because
// of the cancellation, whatever the closed connection reported.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// remoteCommand builds the command line sent to the host: cmd, then
// `cd <cwd> && `, then `K="v" ` assignments (sorted by name), then `sudo `
// or `sudo -u <user> ` (as_user only with sudo). Values that the remote
// shell would otherwise expand or split are single-quoted instead, so the
// wrapping cannot run anything but cmd.
func remoteCommand(cmd string, sudo bool, asUser, cwd string, env map[string]string) (string, error) {
	out := cmd
	if cwd != "" {
		out = "cd " + shellQuote(cwd) + " && " + out
	}
	if len(env) > 0 {
		names := make([]string, 0, len(env))
		for k := range env {
			if !envName.MatchString(k) {
				return "", fmt.Errorf("invalid environment variable name %q", k)
			}
			names = append(names, k)
		}
		sort.Strings(names)
		var b strings.Builder
		for _, k := range names {
			b.WriteString(k + "=" + envValue(env[k]) + " ")
		}
		out = b.String() + out
	}
	if sudo {
		if asUser != "" {
			out = "sudo -u " + shellQuote(asUser) + " " + out
		} else {
			out = "sudo " + out
		}
	}
	return out, nil
}

// envValue renders an environment value: Go-quoted ("v") when the shell
// takes that text literally, else single-quoted.
func envValue(v string) string {
	for _, r := range v {
		if r < 0x20 || r == 0x7f || strings.ContainsRune("$`\\\"!", r) {
			return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
		}
	}
	return strconv.Quote(v)
}

// shellQuote returns s as one shell word: unchanged when it only holds
// characters the shell takes literally, else single-quoted.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_@%+=:,./~-", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// execResult is an SSHResult struct; dry-run results carry dry_run=True.
func execResult(host, stdout, stderr string, code int, dryRun bool) starlark.Value {
	d := starlark.StringDict{
		"host":   starlark.String(host),
		"stdout": starlark.String(stdout),
		"stderr": starlark.String(stderr),
		"code":   starlark.MakeInt(code),
		"ok":     starlark.Bool(code == 0),
	}
	if dryRun {
		d["dry_run"] = starlark.True
	}
	return starlarkstruct.FromStringDict(starlark.String("SSHResult"), d)
}
