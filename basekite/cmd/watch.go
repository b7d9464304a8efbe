package cmd

import "github.com/urfave/cli/v2"

// watchCommand is the `watch` command (issue 7; in progress).
func watchCommand() *cli.Command {
	return &cli.Command{Name: "watch", Hidden: true, Usage: "not yet available", Action: func(*cli.Context) error {
		return usageErrorf("watch: not yet available")
	}}
}
