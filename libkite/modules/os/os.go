// Package os is kite's "os" module: process environment, working
// directory, identity and shell command execution (spec: os.md).
//
// Every function is also a global alias of the same name (plus the global
// user struct); the runtime's own exit builtin shadows the exit alias.
package os

import (
	"fmt"
	stdos "os"
	"os/exec"
	"strconv"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// members is the module's whole API; aliases adds the global user struct.
func members() starlark.StringDict {
	return starlark.StringDict{
		"env":      starlark.NewBuiltin("env", env),
		"setenv":   starlark.NewBuiltin("setenv", setenv),
		"cwd":      starlark.NewBuiltin("cwd", cwd),
		"chdir":    starlark.NewBuiltin("chdir", chdir),
		"hostname": starlark.NewBuiltin("hostname", hostname),
		"pid":      starlark.NewBuiltin("pid", pid),
		"ppid":     starlark.NewBuiltin("ppid", ppid),
		"exit":     starlark.NewBuiltin("exit", exit),
		"exec":     starlark.NewBuiltin("exec", execCmd),
		"try_exec": starlark.NewBuiltin("try_exec", tryExec),
		"which":    starlark.NewBuiltin("which", which),
		"username": starlark.NewBuiltin("username", username),
		"userid":   starlark.NewBuiltin("userid", userid),
		"groupid":  starlark.NewBuiltin("groupid", groupid),
		"home":     starlark.NewBuiltin("home", home),
	}
}

// New returns the os module: try-enabled, every function also a global
// alias, plus the global user struct (exit is shadowed by the runtime's
// exit builtin). It holds no per-runtime state: env and cwd are
// process-wide by nature.
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:    "os",
		Doc:   "process environment, working directory, identity and command execution",
		Try:   true,
		Build: members,
		GlobalAliases: func(m starlark.StringDict) starlark.StringDict {
			aliases := libkite.AliasAllMembers(m)
			aliases["user"] = newUserStruct(m)
			return aliases
		},
	}
}

// errorf prefixes an error with the builtin's name.
func errorf(b *starlark.Builtin, format string, args ...any) error {
	return fmt.Errorf("%s: %s", b.Name(), fmt.Sprintf(format, args...))
}

// exitProcess terminates the process; tests replace it. If it returns, the
// builtin stops the script with the same code instead.
var exitProcess = stdos.Exit

// env(name, default="") → str. perm os.env:env(name).
func env(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	def := ""
	if err := libkite.UnpackArgs(b.Name(), args, kwargs, "name", &name, "default?", &def); err != nil {
		return nil, err
	}
	if err := libkite.Check(thread, "os", "env", "env", name); err != nil {
		return nil, err
	}
	if v, ok := stdos.LookupEnv(name); ok {
		return starlark.String(v), nil
	}
	return starlark.String(def), nil
}

// setenv(name, value) → None. perm os.env:setenv(name).
func setenv(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, value string
	if err := libkite.UnpackArgs(b.Name(), args, kwargs, "name", &name, "value", &value); err != nil {
		return nil, err
	}
	if err := libkite.Check(thread, "os", "env", "setenv", name); err != nil {
		return nil, err
	}
	if err := stdos.Setenv(name, value); err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// cwd() → absolute process working directory.
func cwd(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	dir, err := stdos.Getwd()
	if err != nil {
		return nil, err
	}
	return starlark.String(dir), nil
}

// chdir(path) → None. perm os.process:chdir(canonical path).
func chdir(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	if err := libkite.UnpackArgs(b.Name(), args, kwargs, "path", &path); err != nil {
		return nil, err
	}
	if _, err := libkite.CheckPath(thread, "os", "process", "chdir", path); err != nil {
		return nil, err
	}
	if err := stdos.Chdir(path); err != nil {
		return nil, err // "chdir <path>: no such file or directory"
	}
	return starlark.None, nil
}

// hostname() → str.
func hostname(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	h, err := stdos.Hostname()
	if err != nil {
		return nil, err
	}
	return starlark.String(h), nil
}

// pid() → int.
func pid(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	return starlark.MakeInt(stdos.Getpid()), nil
}

// ppid() → int.
func ppid(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	return starlark.MakeInt(stdos.Getppid()), nil
}

// exit(code=0) terminates the process at once: no deferred functions, no
// cleanup. perm os.process:exit("<code>"). Not simulated in dry-run.
func exit(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	code := 0
	if err := libkite.UnpackArgs(b.Name(), args, kwargs, "code?", &code); err != nil {
		return nil, err
	}
	if err := libkite.Check(thread, "os", "process", "exit", strconv.Itoa(code)); err != nil {
		return nil, err
	}
	exitProcess(code)
	return nil, libkite.NewExitError(code) // only reached when exitProcess is intercepted
}

// which(name) → path or None. perm os.exec:which(resolved binary path,
// and the file its symlinks lead to).
func which(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := libkite.UnpackArgs(b.Name(), args, kwargs, "name", &name); err != nil {
		return nil, err
	}
	dir, err := stdos.Getwd()
	if err != nil {
		return nil, errorf(b, "%v", err)
	}
	if err := checkProgram(thread, "which", resolveBinary(name, dir, stdos.Getenv("PATH"))); err != nil {
		return nil, err
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return starlark.None, nil
	}
	return starlark.String(p), nil
}
