package os

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	stdos "os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

const (
	defaultShell   = "/bin/sh"
	defaultTimeout = 60 * time.Second
	// drainGrace bounds the wait for output after a killed group: only a
	// descendant that left the group (setsid) can still hold the pipes.
	drainGrace = time.Second
)

// execCmd: exec(cmd, /, *, shell=None, env=None, cwd=None, timeout=None) → str.
// Raises for a failed, unstartable or timed-out command.
func execCmd(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	o, err := prepareExec(thread, args, kwargs)
	if err != nil {
		return nil, err
	}
	if libkite.DryRun(thread) {
		return starlark.String(dryRunText(o.cmd)), nil
	}
	out, err := o.run(libkite.Context(thread))
	if err != nil {
		return nil, err
	}
	switch {
	case out.err != nil:
		return nil, out.err
	case out.code != 0:
		msg := strings.TrimSpace(out.stderr)
		if msg == "" {
			msg = strings.TrimSpace(out.stdout)
		}
		if msg == "" {
			msg = out.signal
		}
		if msg == "" {
			return nil, fmt.Errorf("command failed (exit code %d)", out.code)
		}
		return nil, fmt.Errorf("command failed (exit code %d): %s", out.code, msg)
	case out.stderr != "":
		return starlark.String(out.stderr + " " + out.stdout), nil
	}
	return starlark.String(out.stdout), nil
}

// tryExec: try_exec(...) → ExecResult. Process outcomes are reported in the
// result; argument errors, permission denials and cancellation raise.
func tryExec(thread *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	o, err := prepareExec(thread, args, kwargs)
	if err != nil {
		return nil, err
	}
	if libkite.DryRun(thread) {
		return &ExecResult{Stdout: dryRunText(o.cmd), OK: true}, nil
	}
	out, err := o.run(libkite.Context(thread))
	if err != nil {
		return nil, err
	}
	r := &ExecResult{Stdout: out.stdout, Stderr: out.stderr, Code: out.code}
	switch {
	case out.err != nil:
		r.Error = out.err.Error()
	case out.code != 0:
		r.Error = strings.TrimSpace(out.stderr)
		if r.Error == "" {
			r.Error = out.signal
		}
	default:
		r.OK = true
	}
	return r, nil
}

func dryRunText(cmd string) string { return "[DRY RUN] Would execute: " + cmd }

// execOptions is one exec call after binding.
type execOptions struct {
	cmd     string
	shell   string
	env     [][2]string // overrides, in the script's order
	dir     string      // child working directory ("" = process cwd)
	program string      // set when the command runs without a shell (direct.go)
	argv    []string
	timeout time.Duration
}

// prepareExec binds exec's arguments (loose binding, os.md) and checks
// os.exec:exec(<resolved program>, and the file its symlinks lead to) —
// plus the shell itself when the script picked one — before anything
// runs, dry-run included.
func prepareExec(thread *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (*execOptions, error) {
	if len(args) == 0 {
		return nil, errors.New("exec: expected at least 1 argument (cmd)")
	}
	cmd, ok := args[0].(starlark.String)
	if !ok {
		return nil, fmt.Errorf("exec: cmd must be a string, got %s", args[0].Type())
	}
	o := &execOptions{cmd: string(cmd), shell: defaultShell, timeout: defaultTimeout}
	envPath := ""
	for _, kv := range kwargs {
		v := kv[1]
		switch string(kv[0].(starlark.String)) {
		case "shell":
			if s, ok := v.(starlark.String); ok && s != "" {
				o.shell = string(s)
			}
		case "cwd":
			if s, ok := v.(starlark.String); ok && s != "" {
				o.dir = string(s)
			}
		case "env":
			d, ok := v.(*starlark.Dict)
			if !ok {
				break
			}
			for _, item := range d.Items() {
				k, kok := item[0].(starlark.String)
				val, vok := item[1].(starlark.String)
				if !kok || !vok || k == "" || strings.ContainsAny(string(k), "=\x00") {
					continue
				}
				o.env = append(o.env, [2]string{string(k), string(val)})
				if k == "PATH" {
					envPath = string(val)
				}
			}
		case "timeout":
			if v == starlark.None {
				break
			}
			s, ok := v.(starlark.String)
			if !ok {
				return nil, fmt.Errorf(`os.exec: timeout must be a duration string (e.g. "60s"), got %s`, v.Type())
			}
			d, err := time.ParseDuration(string(s))
			if err != nil {
				return nil, fmt.Errorf("os.exec: invalid timeout %q: %v", string(s), err)
			}
			o.timeout = d
		}
	}

	dir, err := stdos.Getwd()
	if err != nil {
		return nil, fmt.Errorf("exec: %v", err)
	}
	if o.dir != "" {
		if filepath.IsAbs(o.dir) {
			dir = filepath.Clean(o.dir)
		} else {
			dir = filepath.Join(dir, o.dir)
		}
	}
	resource := commandResource(o.cmd, dir, envPath)
	if err := checkProgram(thread, "exec", resource); err != nil {
		return nil, err
	}
	if o.shell == defaultShell {
		o.program, o.argv, _ = directProgram(o.cmd, resource)
	}
	if o.shell != defaultShell {
		if err := checkProgram(thread, "exec", resolveBinary(o.shell, dir, stdos.Getenv("PATH"))); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// environ is the inherited environment with the overrides applied.
func (o *execOptions) environ() []string {
	if len(o.env) == 0 {
		return nil // inherit as is
	}
	over := make(map[string]bool, len(o.env))
	for _, kv := range o.env {
		over[kv[0]] = true
	}
	base := stdos.Environ()
	out := make([]string, 0, len(base)+len(o.env))
	for _, e := range base {
		if k, _, _ := strings.Cut(e, "="); !over[k] {
			out = append(out, e)
		}
	}
	for _, kv := range o.env {
		out = append(out, kv[0]+"="+kv[1])
	}
	return out
}

// execOutcome is how a command ended.
type execOutcome struct {
	stdout, stderr string
	code           int    // exit status, -1 if none
	err            error  // could not start, or timed out
	signal         string // "signal: killed" when the process died by a signal
}

// run executes the command in its own process group, capturing stdout and
// stderr with no stdin. On timeout or when ctx is done the whole group is
// killed; so is it when kite dies while the command runs (see lifeline).
// The error is non-nil only when ctx was cancelled.
func (o *execOptions) run(ctx context.Context) (*execOutcome, error) {
	p, err := o.start()
	if err != nil {
		return &execOutcome{code: -1, err: err}, nil
	}
	tctx, cancel := ctx, context.CancelFunc(func() {})
	if o.timeout > 0 {
		tctx, cancel = context.WithTimeout(ctx, o.timeout)
	}
	defer cancel()
	interrupted := p.wait(tctx)

	out := &execOutcome{stdout: p.stdout.String(), stderr: p.stderr.String(), code: p.cmd.ProcessState.ExitCode()}
	var ee *exec.ExitError
	switch {
	case interrupted && ctx.Err() != nil:
		return nil, fmt.Errorf("exec: command cancelled: %v", ctx.Err())
	case interrupted:
		out.code = -1
		out.err = fmt.Errorf("command timed out after %s", o.timeout)
	case p.waitErr == nil:
	case errors.As(p.waitErr, &ee):
		if out.code == -1 {
			out.signal = ee.Error()
		}
	default:
		out.code = -1
		out.err = p.waitErr
	}
	return out, nil
}

// process is a started command whose output is being captured.
type process struct {
	cmd            *exec.Cmd
	outR, errR     *stdos.File
	stdout, stderr bytes.Buffer
	drained        chan struct{} // closed when both pipes reached EOF
	exited         chan error    // cmd.Wait's result
	waitErr        error
	release        func() // dismisses the lifeline
}

// start launches the command. It uses its own pipes rather than Cmd's
// copying goroutines so that, after a kill, it decides how long to wait
// for output even if an escaped descendant still holds the pipes.
func (o *execOptions) start() (*process, error) {
	cmd := exec.Command(o.shell, "-c", o.cmd)
	if o.program != "" {
		cmd = exec.Command(o.program)
		cmd.Args = o.argv
	}
	if cmd.Err != nil {
		return nil, cmd.Err
	}
	if o.dir != "" {
		// Go would report a missing directory as a missing shell.
		if _, err := stdos.Stat(o.dir); err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, &fs.PathError{Op: "chdir", Path: o.dir, Err: err}
		}
	}
	cmd.Dir = o.dir
	cmd.Env = o.environ()
	newProcessGroup(cmd)

	outR, outW, err := stdos.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := stdos.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = outW, errW
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, err
	}

	p := &process{cmd: cmd, outR: outR, errR: errR, drained: make(chan struct{}), exited: make(chan error, 1)}
	p.release = startLifeline(cmd.Process.Pid) // before Wait can reap the leader
	go func() {
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _, _ = io.Copy(&p.stdout, outR) }()
		go func() { defer wg.Done(); _, _ = io.Copy(&p.stderr, errR) }()
		wg.Wait()
		close(p.drained)
	}()
	go func() { p.exited <- cmd.Wait() }()
	return p, nil
}

// wait waits until the command exited and its output is drained, or until
// ctx is done; then it kills the process group. It reports whether ctx
// interrupted the command. Afterwards the buffers and waitErr are final.
func (p *process) wait(ctx context.Context) (interrupted bool) {
	exited, drained := p.exited, p.drained
	for (exited != nil || drained != nil) && !interrupted {
		select {
		case p.waitErr = <-exited:
			exited = nil
		case <-drained:
			drained = nil
		case <-ctx.Done():
			interrupted = true
		}
	}
	if interrupted {
		killGroup(p.cmd.Process.Pid, p.cmd.Process)
		if exited != nil {
			p.waitErr = <-exited
		}
		if drained != nil {
			select {
			case <-drained:
			case <-time.After(drainGrace):
				p.outR.Close()
				p.errR.Close()
				<-drained
			}
		}
	}
	p.release()
	p.outR.Close()
	p.errR.Close()
	return interrupted
}
