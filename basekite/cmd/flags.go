package cmd

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/project-starkite/starkite/libkite"
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
	flagAuditLog    = "audit-log"
	flagPrompt      = "prompt"
)

// permissionAliases are the bare-bool aliases of --permissions=<name>
// (cli.md §2), in ladder order.
var permissionAliases = []string{"deny-all", "allow-fs", "allow-net", "allow-local", "allow-all"}

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
	return append([]cli.Flag{
		&cli.StringSliceFlag{Name: flagVar, Usage: "set a variable `key=value` (repeatable; highest precedence)"},
		&cli.StringSliceFlag{Name: flagVarFile, Usage: "load variables from a YAML `file` (repeatable; later files win)"},
		&cli.IntFlag{Name: flagTimeout, Value: defaultTimeout, Usage: "execution deadline in `seconds`, <=0 disables (env " + envTimeout + ")"},
		&cli.BoolFlag{Name: flagDebug, Usage: "debug mode (env " + envDebug + "=1|true)"},
		&cli.BoolFlag{Name: flagDryRun, Usage: "modules simulate side effects"},
		&cli.StringFlag{Name: flagOutput, Aliases: []string{"o"}, Value: "text", Usage: "output `format`: text|json|yaml|table (env " + envOutput + ")"},
		&cli.StringFlag{Name: flagPermissions, Usage: "permission `profile`: a built-in (deny-all, allow-fs, allow-net, allow-local, allow-all) or a config.yaml profile; default: the config's \"default\" profile, else deny-all"},
		&cli.BoolFlag{Name: "deny-all", Usage: "same as --permissions=deny-all: compute, print, log and load() only"},
		&cli.BoolFlag{Name: "allow-fs", Usage: "same as --permissions=allow-fs: read files, write/delete under the working directory, env, prompts"},
		&cli.BoolFlag{Name: "allow-net", Usage: "same as --permissions=allow-net: allow-fs plus the HTTP client and SSH"},
		&cli.BoolFlag{Name: "allow-local", Usage: "same as --permissions=allow-local: allow-net plus serving, exec under the working directory, AI, k8s, MCP"},
		&cli.BoolFlag{Name: "allow-all", Usage: "same as --permissions=allow-all: everything"},
		&cli.StringFlag{Name: flagAuditLog, Usage: "append one JSON line per permission decision to `file`"},
		&cli.BoolFlag{Name: flagPrompt, Usage: "ask on the terminal before failing a call no rule grants (y = once, a = always); never asks without a terminal"},
	}, append(limitFlags(), sandboxFlags()...)...)
}

// permissionSelection reads --permissions and its aliases: at most one may
// be given (cli.md §2), and an alias takes no value but true.
func permissionSelection(c *cli.Context) (string, error) {
	aliases := map[string]string{}
	for _, a := range permissionAliases {
		aliases[a] = a
	}
	name, _, err := selectorFlags(c, "permission", flagPermissions, permissionAliases, aliases)
	return name, err
}

// selectorFlags reads a selector: the flag named (its value is a profile
// name) and boolean aliases, each selecting the profile aliases[alias]. At
// most one may be given; an alias takes no value but true. given reports
// whether any was.
func selectorFlags(c *cli.Context, kind, named string, order []string, aliases map[string]string) (name string, given bool, err error) {
	var set []string
	if c.IsSet(named) {
		set = append(set, "--"+named)
		if name = c.String(named); name == "" {
			builtins := make([]string, len(order))
			for i, a := range order {
				builtins[i] = aliases[a]
			}
			return "", true, fmt.Errorf("--%s needs a profile name (built-ins: %s)", named, strings.Join(builtins, ", "))
		}
	}
	for _, alias := range order {
		if !c.IsSet(alias) {
			continue
		}
		if !c.Bool(alias) {
			return "", true, fmt.Errorf("--%s takes no value (it selects the %s profile); drop \"=false\"", alias, aliases[alias])
		}
		set = append(set, "--"+alias)
		name = aliases[alias]
	}
	if len(set) > 1 {
		return "", true, fmt.Errorf("only one %s flag may be set; got %s", kind, strings.Join(set, " and "))
	}
	return name, len(set) == 1, nil
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
	Permissions string         // profile name; "" = default posture
	AuditLog    string         // --audit-log file ("" = none)
	Prompt      bool           // --prompt
	Limits      libkite.Limits // --max-* and --timeout (resolved by newSession)
}

// resolveOptions reads the global flags with their env fallbacks
// (CLI > env > built-in default). Announcements go to errw.
func resolveOptions(c *cli.Context, errw io.Writer) *options {
	o := &options{
		Vars:     c.StringSlice(flagVar),
		VarFiles: c.StringSlice(flagVarFile),
		Timeout:  defaultTimeout,
		DryRun:   c.Bool(flagDryRun),
		Output:   "text",
		AuditLog: c.String(flagAuditLog),
		Prompt:   c.Bool(flagPrompt),
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
	} else if v := os.Getenv(envOutput); validOutput(v) {
		o.Output = v // an invalid STARKITE_OUTPUT is ignored, like STARKITE_TIMEOUT
	}
	return o
}

// outputFormats are the values of --output.
var outputFormats = []string{"text", "json", "yaml", "table"}

func validOutput(v string) bool {
	for _, f := range outputFormats {
		if v == f {
			return true
		}
	}
	return false
}

// checkOutput rejects an --output value no command understands (the
// reference accepts anything and ignores it).
func checkOutput(o *options) error {
	if !validOutput(o.Output) {
		return usageErrorf("invalid --%s %q (want %s)", flagOutput, o.Output, strings.Join(outputFormats, ", "))
	}
	return nil
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
