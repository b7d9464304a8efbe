package cmd

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
)

// templateFS holds the project templates of `init`, one directory each.
//
//go:embed templates
var templateFS embed.FS

// projectTemplate is one `init --template`: the files of
// templates/<name>/, written with the same relative names.
type projectTemplate struct {
	name, about string
}

// projectTemplates in --list-templates order (cli.md §8.7). Every one
// writes a Gen B config.yaml (config:, permissions:, sandbox:), a
// #!/usr/bin/env kite script and its *_test.star (cli.md D8).
var projectTemplates = []projectTemplate{
	{"basic", "a script (hello.star), its tests and config.yaml"},
	{"deployment", "roll a release out to hosts over SSH (deploy.star, hosts.yaml)"},
	{"kubernetes", "render Kubernetes manifests as YAML (manifests.star)"},
	{"backup", "archive directories of hosts over SSH and prune old archives (backup.star, hosts.yaml)"},
}

// projectPlaceholder in a template's config.yaml becomes the project name
// (the target directory's name), as a quoted YAML string.
const projectPlaceholder = "__PROJECT__"

func initCommand() *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "create a project: config.yaml, a script and its tests",
		ArgsUsage: "[dir]",
		Description: "Writes the files of a template into dir (default: the current directory),\n" +
			"creating it if needed: a config.yaml with config:, permissions: and sandbox:\n" +
			"sections, a #!/usr/bin/env kite script and a *_test.star file for 'kite test'.\n" +
			"Existing files are never overwritten without --force: they are reported as\n" +
			"skipped and the command fails (exit 1) after writing the other files.\n\n" +
			"Example: kite init myproject\n" +
			"Example: kite init -t deployment ops/ && cd ops && kite test .",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "template", Aliases: []string{"t"}, Value: "basic", Usage: "project `template` (see --list-templates)"},
			&cli.BoolFlag{Name: "list-templates", Usage: "list the templates and exit"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite existing files"},
		},
		Action: initAction,
	}
}

func initAction(c *cli.Context) error {
	out := c.App.Writer
	if c.Bool("list-templates") {
		fmt.Fprintln(out, "Available templates:")
		for _, t := range projectTemplates {
			fmt.Fprintf(out, "  %-12s %s\n", t.name, t.about)
		}
		return nil
	}
	if c.NArg() > 1 {
		return usageErrorf("init: expected at most 1 argument [dir], got %d", c.NArg())
	}
	name := c.String("template")
	if findTemplate(name) == nil {
		return usageErrorf("unknown template: %s (use --list-templates to see available)", name)
	}
	dir := "."
	if c.NArg() == 1 {
		dir = c.Args().First()
	}
	files, err := templateFiles(name, dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	force, skipped := c.Bool("force"), 0
	for _, f := range files {
		target := filepath.Join(dir, f.name)
		_, statErr := os.Lstat(target)
		exists := statErr == nil
		if exists && !force {
			fmt.Fprintf(out, "Skipped %s (already exists)\n", target)
			skipped++
			continue
		}
		if err := WriteFileAtomic(target, f.data, f.mode); err != nil {
			return fmt.Errorf("init: %w", err)
		}
		verb := "Created"
		if exists {
			verb = "Overwrote"
		}
		fmt.Fprintf(out, "%s %s\n", verb, target)
	}
	if skipped > 0 {
		return fmt.Errorf("%d file(s) already exist; use --force to overwrite", skipped)
	}
	return nil
}

func findTemplate(name string) *projectTemplate {
	for i := range projectTemplates {
		if projectTemplates[i].name == name {
			return &projectTemplates[i]
		}
	}
	return nil
}

// templateFile is one file to write, relative to the project directory.
type templateFile struct {
	name string
	data []byte
	mode fs.FileMode
}

// templateFiles returns the files of template name for a project in dir:
// config.yaml first, then the others by name. Scripts (*.star but not
// *_test.star) are executable.
func templateFiles(name, dir string) ([]templateFile, error) {
	root := path.Join("templates", name)
	var files []templateFile
	err := fs.WalkDir(templateFS, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := templateFS.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, root+"/")
		mode := fs.FileMode(0o644)
		if strings.HasSuffix(rel, ".star") && !strings.HasSuffix(rel, "_test.star") {
			mode = 0o755
		}
		if rel == "config.yaml" {
			data = []byte(strings.ReplaceAll(string(data), projectPlaceholder, projectName(dir)))
		}
		files = append(files, templateFile{name: filepath.FromSlash(rel), data: data, mode: mode})
		return nil
	})
	first := func(f templateFile) bool { return f.name == "config.yaml" }
	sort.SliceStable(files, func(i, j int) bool {
		if first(files[i]) != first(files[j]) {
			return first(files[i])
		}
		return files[i].name < files[j].name
	})
	return files, err
}

// projectName is dir's base name as a YAML (JSON) string.
func projectName(dir string) string {
	name := filepath.Base(dir)
	if abs, err := filepath.Abs(dir); err == nil {
		name = filepath.Base(abs)
	}
	b, _ := json.Marshal(name)
	return string(b)
}
