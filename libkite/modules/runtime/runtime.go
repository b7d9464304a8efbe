// Package runtime is kite's runtime module (spec/runtime.md): platform
// facts. A plain namespace: no try_ twins, no aliases, no permission checks.
package runtime

import (
	"os"
	goruntime "runtime"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// New returns the runtime module: a plain namespace of no-arg functions.
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:    "runtime",
		Doc:   "Platform facts: OS, architecture, CPUs, versions, uname",
		Build: members,
	}
}

func members() starlark.StringDict {
	return starlark.StringDict{
		"platform":   noArgs("platform", func() starlark.Value { return starlark.String(goruntime.GOOS) }),
		"arch":       noArgs("arch", func() starlark.Value { return starlark.String(goruntime.GOARCH) }),
		"cpu_count":  noArgs("cpu_count", func() starlark.Value { return starlark.MakeInt(goruntime.NumCPU()) }),
		"version":    noArgs("version", func() starlark.Value { return starlark.String(libkite.AppVersion()) }),
		"go_version": noArgs("go_version", func() starlark.Value { return starlark.String(goruntime.Version()) }),
		"uname":      noArgs("uname", unameDict),
	}
}

// noArgs builds a builtin that refuses every argument
// (`<name> takes no arguments`) and returns f().
func noArgs(name string, f func() starlark.Value) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
			return nil, err
		}
		return f(), nil
	})
}

// Uname is the uname() result: uname(2) fields on Unix, a partial
// record elsewhere.
type Uname struct {
	System, Node, Release, Version, Machine string
}

// unameDict returns uname() as a dict with keys in spec order.
func unameDict() starlark.Value {
	u := uname()
	d := starlark.NewDict(5)
	for _, kv := range [...][2]string{
		{"system", u.System},
		{"node", u.Node},
		{"release", u.Release},
		{"version", u.Version},
		{"machine", u.Machine},
	} {
		_ = d.SetKey(starlark.String(kv[0]), starlark.String(kv[1]))
	}
	return d
}

// fallbackUname is the record for systems without uname(2) (or when it
// fails): GOOS, the hostname, empty release/version, GOARCH.
func fallbackUname() Uname {
	host, _ := os.Hostname()
	return Uname{System: goruntime.GOOS, Node: host, Machine: goruntime.GOARCH}
}
