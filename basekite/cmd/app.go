// Package cmd is the kite command line shared by every edition (kitecmd,
// kitecloud, kiteai, kite). An edition's main package swaps the module
// registry (NewRegistry), adds its own commands (RegisterEditionCommands)
// and calls Main.
//
// Main never calls os.Exit: it returns the process exit code, so tests
// and editions can run it in-process.
package cmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/loader"
)

// NewRegistry builds the module registry for every script execution. The
// base binary uses the base module set; editions replace it before Main.
var NewRegistry func(*libkite.ModuleConfig) *libkite.Registry = loader.NewDefaultRegistry

// Plugins is the plugin-module support the edition links (nil: none).
// The all-in-one kite sets it to WASM plugins (libkite/modules/wasm); the
// smaller editions leave it out to stay within their size budgets.
var Plugins PluginSupport

// PluginSupport lets installed plugin modules (module.yaml type: wasm)
// reach scripts and checks them when they are installed.
type PluginSupport interface {
	// Register adds the plugins installed in ~/.starkite/modules to r
	// and reports those it skipped.
	Register(r *libkite.Registry) []error
	// Validate checks the plugin in dir before `module install` puts it
	// in place.
	Validate(ctx context.Context, dir string) error
	// Describe writes what `module info` adds for the plugin in dir.
	Describe(w io.Writer, dir string) error
}

// newScriptRegistry is NewRegistry plus the installed plugins; a plugin
// that cannot be used is reported on warn (nil: not at all) and skipped.
func newScriptRegistry(mc *libkite.ModuleConfig, warn io.Writer) *libkite.Registry {
	reg := NewRegistry(mc)
	if Plugins != nil {
		for _, err := range Plugins.Register(reg) {
			if warn != nil {
				fmt.Fprintf(warn, "kite: plugin skipped: %v\n", err)
			}
		}
	}
	return reg
}

// RegisterEditionCommands are called, in order, with the app after the
// base commands are in place. Editions append their registration
// functions (e.g. the kube command group) before calling Main.
var RegisterEditionCommands []func(*cli.App)

// productName is the name in version output, whatever the binary is called.
const productName = "kite"

// streams are the process's standard streams; tests substitute buffers.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// Main runs the CLI with args (args[0] is the program path) and returns
// the exit code (cli.md §5).
func Main(args []string) int {
	handOff(args, os.Stderr) // returns unless the active edition took over
	takeHandedSession()      // inside a sandbox: the session resolved outside
	return runMain(args, streams{in: os.Stdin, out: os.Stdout, err: os.Stderr})
}

func runMain(args []string, s streams) int {
	bin := "kite"
	if len(args) > 0 && args[0] != "" {
		bin = filepath.Base(args[0])
	} else {
		args = []string{bin}
	}
	app := newApp(bin, s)
	app.Metadata = map[string]any{metaArgv: args}
	argv, err := normalizeArgs(app, expandBareSandbox(args))
	if err == nil {
		err = app.RunContext(context.Background(), argv)
	}
	return reportError(s.err, bin, err, debugRequested(args))
}

// newApp builds a fresh app (flag values live in the flag structs, so
// every Main call needs its own).
func newApp(bin string, s streams) *cli.App {
	app := &cli.App{
		Name:     bin,
		HelpName: bin,
		Usage:    "run permission-checked Starlark scripts",
		UsageText: bin + " [global flags] <script.star> [global flags]\n" +
			bin + " run <script> | exec '<code>' | test <path>... | version | help [command]",
		Description: "Scripts are denied file, network and process access unless a permission\n" +
			"profile allows it (--permissions deny-all|allow-fs|allow-net|allow-local|allow-all;\n" +
			"default deny-all). Global flags may also follow the script path.",
		Flags:                     append(globalFlags(), versionFlag()),
		Commands:                  baseCommands(),
		Reader:                    s.in,
		Writer:                    s.out,
		ErrWriter:                 s.err,
		HideVersion:               true, // --version/-v is our own flag (versionFlag)
		DisableSliceFlagSeparator: true, // --var tags=a,b is one value
		ExitErrHandler:            func(*cli.Context, error) {},
		OnUsageError:              onUsageError,
		Before:                    rootBefore,
		Action:                    rootAction,
	}
	for _, register := range RegisterEditionCommands {
		register(app)
	}
	app.Setup() // adds the help command so the loop below covers it
	setUsageHandlers(app.Commands)
	return app
}

// baseCommands are the commands of every edition.
func baseCommands() []*cli.Command {
	return []*cli.Command{runCommand(), execCommand(), replCommand(), testCommand(), watchCommand(), validateCommand(), initCommand(), moduleCommand(), editionCommand(), completionCommand(), versionCommand()}
}

// rootBefore handles --version before any command runs.
func rootBefore(c *cli.Context) error {
	if c.Bool("version") {
		printVersionLine(c.App.Writer)
		return errHandled
	}
	return nil
}

// rootAction runs when no command was named: help, or an unknown command.
func rootAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErrorf("unknown command %q", c.Args().First())
	}
	return cli.ShowAppHelp(c)
}

// onUsageError replaces urfave's "Incorrect Usage" + help dump with one
// usage error that Main reports.
func onUsageError(_ *cli.Context, err error, _ bool) error {
	return &usageError{msg: rewriteFlagError(err.Error())}
}

func setUsageHandlers(cmds []*cli.Command) {
	for _, c := range cmds {
		if c.OnUsageError == nil {
			c.OnUsageError = onUsageError
		}
		setUsageHandlers(c.Subcommands)
	}
}
