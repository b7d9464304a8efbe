package cmd

import "github.com/urfave/cli/v2"

// validateCommand is the `validate` command (issue 7; in progress).
func validateCommand() *cli.Command {
	return &cli.Command{Name: "validate", Hidden: true, Usage: "not yet available", Action: func(*cli.Context) error {
		return usageErrorf("validate: not yet available")
	}}
}
