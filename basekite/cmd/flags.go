package cmd

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// Global flag names (cli.md §2).
const (
	flagVar         = "var"
	flagVarFile     = "var-file"
	flagTimeout     = "timeout"
	flagDebug       = "debug"
	flagDryRun      = "dry-run"
	flagOutput      = "output"
	flagPermissions = "permissions"
)

// Environment fallbacks (cli.md §3); each applies only when its flag was
// not given.
const (
	envDebug   = "STARKITE_DEBUG"
	envOutput  = "STARKITE_OUTPUT"
	envTimeout = "STARKITE_TIMEOUT"
)

const defaultTimeout = 300 // seconds

// globalFlags returns fresh instances of the global flags. They live on
// the app; normalizeArgs moves them there from wherever they appear after
// a command, so `kite run s.star --var a=1` works. Env fallbacks are
// applied by resolveOptions, not urfave, because invalid env values must
// be ignored rather than fail parsing.
func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: flagVar, Usage: "set a variable `key=value` (repeatable; highest precedence)"},
		&cli.StringSliceFlag{Name: flagVarFile, Usage: "load variables from a YAML `file` (repeatable; later files win)"},
		&cli.IntFlag{Name: flagTimeout, Value: defaultTimeout, Usage: "execution deadline in `seconds`, <=0 disables (env " + envTimeout + ")"},
		&cli.BoolFlag{Name: flagDebug, Usage: "debug mode (env " + envDebug + "=1|true)"},
		&cli.BoolFlag{Name: flagDryRun, Usage: "modules simulate side effects"},
		&cli.StringFlag{Name: flagOutput, Aliases: []string{"o"}, Value: "text", Usage: "output `format`: text|json|yaml|table (env " + envOutput + ")"},
		&cli.StringFlag{Name: flagPermissions, Usage: "permission `profile`: deny-all (default), allow-fs, allow-net, allow-local, allow-all"},
	}
}

func versionFlag() cli.Flag {
	return &cli.BoolFlag{Name: "version", Aliases: []string{"v"}, Usage: "print the version and exit"}
}

// options are the resolved global flags of a script-executing command.
type options struct {
	Vars        []string
	VarFiles    []string
	Timeout     int // seconds; <= 0 = no deadline
	Debug       bool
	DryRun      bool
	Output      string
	Permissions string // profile name; "" = default posture
}

// resolveOptions reads the global flags with their env fallbacks
// (CLI > env > built-in default). Announcements go to errw.
func resolveOptions(c *cli.Context, errw io.Writer) *options {
	o := &options{
		Vars:        c.StringSlice(flagVar),
		VarFiles:    c.StringSlice(flagVarFile),
		Timeout:     defaultTimeout,
		DryRun:      c.Bool(flagDryRun),
		Output:      "text",
		Permissions: c.String(flagPermissions),
	}
	if c.IsSet(flagTimeout) {
		o.Timeout = c.Int(flagTimeout)
	} else if n, err := strconv.Atoi(strings.TrimSpace(os.Getenv(envTimeout))); err == nil && n > 0 {
		o.Timeout = n
	}
	if c.IsSet(flagDebug) {
		o.Debug = c.Bool(flagDebug)
	} else if envTrue(os.Getenv(envDebug)) {
		o.Debug = true
		fmt.Fprintln(errw, "[DEBUG] Debug mode enabled via "+envDebug)
	}
	if c.IsSet(flagOutput) {
		o.Output = c.String(flagOutput)
	} else if v := os.Getenv(envOutput); v != "" {
		o.Output = v
	}
	return o
}

func envTrue(v string) bool {
	v = strings.TrimSpace(v)
	return v == "1" || strings.EqualFold(v, "true")
}

// debugRequested reports whether debug output was asked for, from the raw
// arguments (the last --debug[=bool] wins, else STARKITE_DEBUG). Error
// reporting uses it because it runs after the app and its flags are gone.
func debugRequested(args []string) bool {
	explicit, val := false, false
	for _, a := range args[1:] {
		if a == "--" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !strings.HasPrefix(a, "-") || name != flagDebug {
			continue
		}
		explicit, val = true, true
		if hasValue {
			val, _ = strconv.ParseBool(value)
		}
	}
	if explicit {
		return val
	}
	return envTrue(os.Getenv(envDebug))
}
