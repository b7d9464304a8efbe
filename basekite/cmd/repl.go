package cmd

import "github.com/urfave/cli/v2"

// replCommand is the `repl` command (issue 7; in progress).
func replCommand() *cli.Command {
	return &cli.Command{Name: "repl", Hidden: true, Usage: "not yet available", Action: func(*cli.Context) error {
		return usageErrorf("repl: not yet available")
	}}
}
