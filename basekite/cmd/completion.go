package cmd

import "github.com/urfave/cli/v2"

// completionCommand is the `completion` command (issue 7; in progress).
func completionCommand() *cli.Command {
	return &cli.Command{Name: "completion", Hidden: true, Usage: "not yet available", Action: func(*cli.Context) error {
		return usageErrorf("completion: not yet available")
	}}
}
