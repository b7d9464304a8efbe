package cmd

import "github.com/urfave/cli/v2"

// initCommand is the `init` command (issue 7; in progress).
func initCommand() *cli.Command {
	return &cli.Command{Name: "init", Hidden: true, Usage: "not yet available", Action: func(*cli.Context) error {
		return usageErrorf("init: not yet available")
	}}
}
