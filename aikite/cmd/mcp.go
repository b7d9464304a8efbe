// Package cmd holds the AI edition's commands: `mcp serve <script>`,
// which serves a script's functions as MCP tools over stdio so MCP hosts
// (editors, agent runtimes) can launch a kite script as a tool server.
// kiteai and kite register it with Register.
package cmd

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/aikite/internal/tool"
	mcpmod "github.com/project-starkite/starkite/aikite/modules/mcp"
	basecmd "github.com/project-starkite/starkite/basekite/cmd"
	"github.com/project-starkite/starkite/libkite"
)

// Register adds the mcp command group to app (an entry of
// basecmd.RegisterEditionCommands).
func Register(app *cli.App) { app.Commands = append(app.Commands, MCPCommand()) }

// MCPCommand is `mcp` with its serve subcommand.
func MCPCommand() *cli.Command {
	return &cli.Command{
		Name:        "mcp",
		Usage:       "Model Context Protocol commands",
		Subcommands: []*cli.Command{serveCommand()},
	}
}

func serveCommand() *cli.Command {
	return &cli.Command{
		Name:      "serve",
		Usage:     "serve a script's functions as MCP tools over stdio",
		ArgsUsage: "<script>",
		Description: "Runs the script's top level (main() is not called), then serves its public\n" +
			"top-level functions — those defined in the script itself, except main, whose\n" +
			"names do not start with '_' — as MCP tools on stdin/stdout until stdin closes\n" +
			"or SIGINT/SIGTERM.\n" +
			"Each tool's input schema is inferred from its parameters and defaults, its\n" +
			"description is its docstring. print() output goes to stderr (stdout carries\n" +
			"the protocol). Tool calls are checked against --permissions like any script;\n" +
			"the host needs mcp.server and mcp.client (e.g. --permissions=allow-local).\n\n" +
			"Example (an MCP host's server entry): kite mcp serve ./tools.star --permissions=allow-local\n" +
			"Example: kite mcp serve ./ops.star --tool restart_pod --tool pod_logs --name ops",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "server name advertised to clients (default: the script's base name)"},
			&cli.StringFlag{Name: "server-version", Value: "0.1.0", Usage: "server version advertised to clients"},
			&cli.StringSliceFlag{Name: "tool", Usage: "serve only this function (repeatable; any top-level function of the script's globals)"},
		},
		Action: serveAction,
	}
}

func serveAction(c *cli.Context) error {
	if c.NArg() != 1 {
		return basecmd.UsageErrorf("mcp serve: expected exactly 1 argument <script>, got %d", c.NArg())
	}
	path := c.Args().First()
	src, err := basecmd.ReadScript(path)
	if err != nil {
		return err
	}
	name := c.String("name")
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	errw := c.App.ErrWriter
	configure := func(cfg *libkite.Config) {
		cfg.EntryPoint = "" // a tool server is its functions, not its main()
		// stdout carries the protocol: the script's output goes to stderr
		cfg.Print = func(_ *starlark.Thread, msg string) { fmt.Fprintln(errw, msg) }
	}
	return basecmd.WithScriptRuntime(c, path, configure, func(ctx context.Context, rt *libkite.Runtime) error {
		if err := rt.Execute(ctx, src); err != nil {
			return err
		}
		tools, err := scriptTools(rt.Globals(), path, c.StringSlice("tool"))
		if err != nil {
			return fmt.Errorf("mcp serve: %w", err)
		}
		serve := starlark.NewBuiltin("mcp.serve", func(thread *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			return starlark.None, mcpmod.Serve(thread, mcpmod.ServeConfig{
				Name:    name,
				Version: c.String("server-version"),
				Tools:   tools,
				Stdin:   c.App.Reader,
				Stdout:  c.App.Writer,
				Stderr:  errw,
			})
		})
		_, err = rt.CallFn(ctx, serve, nil, nil)
		return err
	})
}

// scriptTools picks the functions to serve: the named ones (any global
// function), or every public def-function defined in the script file
// itself, in source order, except main (the entry point of `kite run`).
func scriptTools(globals starlark.StringDict, path string, only []string) ([]*tool.Tool, error) {
	var fns []*starlark.Function
	if len(only) > 0 {
		for _, n := range only {
			fn, ok := globals[n].(*starlark.Function)
			if !ok {
				if globals[n] == nil {
					return nil, fmt.Errorf("--tool %s: the script defines no function %q", n, n)
				}
				return nil, fmt.Errorf("--tool %s: %q is a %s, not a function", n, n, globals[n].Type())
			}
			fns = append(fns, fn)
		}
	} else {
		abs, _ := filepath.Abs(path)
		for n, v := range globals {
			fn, ok := v.(*starlark.Function)
			if !ok || strings.HasPrefix(n, "_") || n == "main" || n != fn.Name() {
				continue
			}
			if f, _ := filepath.Abs(fn.Position().Filename()); f != abs {
				continue // loaded from another file
			}
			fns = append(fns, fn)
		}
		sort.Slice(fns, func(i, j int) bool { return fns[i].Position().Line < fns[j].Position().Line })
		if len(fns) == 0 {
			return nil, fmt.Errorf("%s defines no public top-level function to serve (names starting with _ are private)", path)
		}
	}
	list := make(starlark.Tuple, len(fns))
	for i, fn := range fns {
		list[i] = fn
	}
	return tool.Coerce(list)
}
