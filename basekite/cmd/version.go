package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime"

	"github.com/urfave/cli/v2"

	"github.com/project-starkite/starkite/basekite/version"
)

// versionInfo is the `version --json` document (cli.md §8.8).
type versionInfo struct {
	Version string `json:"version"`
	Edition string `json:"edition"`
	Commit  string `json:"commit"`
	Built   string `json:"built"`
	Go      string `json:"go"`
	OS      string `json:"os"`
	Arch    string `json:"arch"`
}

func currentVersion() versionInfo {
	return versionInfo{
		Version: version.Version,
		Edition: version.EditionName(),
		Commit:  version.GitCommit,
		Built:   version.BuildTime,
		Go:      runtime.Version(),
		OS:      runtime.GOOS,
		Arch:    runtime.GOARCH,
	}
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print version information",
		Description: "Example: kite version\n" +
			"Example: kite version --short\n" +
			"Example: kite version --json",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "short", Usage: "print the version number only"},
			&cli.BoolFlag{Name: "json", Usage: "print a JSON object"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageErrorf("version: unexpected argument %q", c.Args().First())
			}
			if c.Bool("short") && c.Bool("json") {
				return usageErrorf("version: --short and --json are mutually exclusive")
			}
			w, v := c.App.Writer, currentVersion()
			switch {
			case c.Bool("short"):
				fmt.Fprintln(w, v.Version)
			case c.Bool("json") || c.String(flagOutput) == "json":
				b, err := json.MarshalIndent(v, "", "  ")
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "%s\n", b)
			default:
				fmt.Fprintf(w, "%s version %s (%s)\n", productName, v.Version, v.Edition)
				fmt.Fprintf(w, "  edition: %s\n", v.Edition)
				fmt.Fprintf(w, "  commit:  %s\n", v.Commit)
				fmt.Fprintf(w, "  built:   %s\n", v.Built)
				fmt.Fprintf(w, "  go:      %s\n", v.Go)
				fmt.Fprintf(w, "  os/arch: %s/%s\n", v.OS, v.Arch)
			}
			return nil
		},
	}
}

// printVersionLine is the --version / -v output.
func printVersionLine(w io.Writer) {
	v := currentVersion()
	fmt.Fprintf(w, "%s version %s (%s) (commit: %s)\n", productName, v.Version, v.Edition, v.Commit)
}
