package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
	"gopkg.in/yaml.v3"

	"github.com/project-starkite/starkite/basekite/version"
)

// Installed Starlark modules live in ~/.starkite/modules/<name>/, where
// load("<name>", "<name>") finds them (builtins.md §9.2 step 5). Each
// holds the module's files plus metaFile, which records where it came
// from. A module may carry a manifestFile naming itself.
const (
	metaFile     = ".kite-module.json"
	manifestFile = "module.yaml"
)

// moduleMeta is what `module install` records about an installed module.
type moduleMeta struct {
	Name        string    `json:"name"`
	Source      string    `json:"source"`         // as given to install
	Kind        string    `json:"kind"`           // "git" or "local"
	Rev         string    `json:"rev,omitempty"`  // requested @rev
	Version     string    `json:"version"`        // manifest version, else the commit, else "-"
	Type        string    `json:"type,omitempty"` // "starlark" (also when empty) or "wasm"
	Description string    `json:"description,omitempty"`
	Installed   time.Time `json:"installed"`
}

// moduleManifest is the optional module.yaml of a module.
type moduleManifest struct {
	Type        string `yaml:"type"` // "wasm" for a WASM plugin (libkite/modules/wasm)
	Name        string `yaml:"name"`
	Version     string `yaml:"version"`
	Description string `yaml:"description"`
}

var moduleNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

func moduleCommand() *cli.Command {
	return &cli.Command{
		Name:  "module",
		Usage: "install, list and remove Starlark modules (~/.starkite/modules)",
		UsageText: "kite module install <git-url|path>[@rev] [--as name] [--force] [--type starlark|wasm]\n" +
			"kite module list | info <name> | update <name> | remove <name>\n\n" +
			"Example: kite module install github.com/acme/kite-helpers@v1.2.0 --as helpers",
		Subcommands: []*cli.Command{
			{
				Name:  "install",
				Usage: "install a Starlark module or a WASM plugin from a git repository or a local directory",
				UsageText: "kite module install <source>[@rev] [--as name] [--force] [--type starlark|wasm]\n\n" +
					"A directory whose module.yaml says `type: wasm` is a WASM plugin: its .wasm is compiled and\n" +
					"checked against the manifest before it is installed, and scripts use it as a module named\n" +
					"after the manifest (docs/wasm-plugins.md).\n\nExample: kite module install ./my-module --as mine",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "as", Usage: "install under `name` (default: the manifest name, else the source's last path element; a WASM plugin keeps its manifest name)"},
					&cli.BoolFlag{Name: "force", Usage: "replace an installed module of the same name"},
					&cli.StringFlag{Name: "type", Usage: "fail unless the module is of this `type`: starlark or wasm (default: what its module.yaml says)"},
				},
				Action: moduleInstall,
			},
			{Name: "list", Aliases: []string{"ls"}, Usage: "list installed modules", UsageText: "Example: kite module list", Action: moduleList},
			{Name: "info", Usage: "show an installed module", UsageText: "Example: kite module info helpers", Action: moduleInfo},
			{Name: "update", Usage: "re-fetch a git-installed module", UsageText: "Example: kite module update helpers", Action: moduleUpdate},
			{Name: "remove", Aliases: []string{"rm", "uninstall"}, Usage: "remove an installed module", UsageText: "Example: kite module remove helpers", Action: moduleRemove},
		},
	}
}

// modulesDir is ~/.starkite/modules.
func modulesDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the home directory: %w", err)
	}
	return filepath.Join(home, ".starkite", "modules"), nil
}

func oneArg(c *cli.Context, what string) (string, error) {
	if c.NArg() != 1 {
		return "", usageErrorf("module %s: expected exactly 1 argument <%s>, got %d", c.Command.Name, what, c.NArg())
	}
	return c.Args().First(), nil
}

// splitRev splits "<source>@<rev>"; an '@' inside git@host:org/repo is not a rev.
func splitRev(source string) (src, rev string) {
	i := strings.LastIndexByte(source, '@')
	if i <= 0 || strings.ContainsAny(source[i:], "/:") {
		return source, ""
	}
	return source[:i], source[i+1:]
}

// isLocalSource reports whether source names an existing directory.
func isLocalSource(source string) bool {
	fi, err := os.Stat(source)
	return err == nil && fi.IsDir()
}

// gitURL turns the accepted source forms into something git clones:
// host.tld/org/repo → https://host.tld/org/repo; URLs, git@ and file
// paths are used as given.
func gitURL(src string) string {
	if strings.Contains(src, "://") || strings.HasPrefix(src, "git@") || strings.HasPrefix(src, "/") {
		return src
	}
	if first, _, ok := strings.Cut(src, "/"); ok && strings.Contains(first, ".") {
		return "https://" + src
	}
	return src
}

// defaultName is the last path element of a source, without .git.
func defaultName(src string) string {
	src = strings.TrimRight(src, "/")
	if i := strings.LastIndexAny(src, "/:"); i >= 0 {
		src = src[i+1:]
	}
	return strings.TrimSuffix(src, ".git")
}

func moduleInstall(c *cli.Context) error {
	source, err := oneArg(c, "source")
	if err != nil {
		return err
	}
	want := c.String("type")
	if want != "" && want != typeStarlark && want != typeWasm {
		return usageErrorf("module install: --type must be starlark or wasm, got %q", want)
	}
	_, err = installModule(c.Context, source, c.String("as"), want, c.Bool("force"), false, c.App.Writer, c.App.ErrWriter)
	return err
}

// Module types of `module list`/`info`.
const (
	typeStarlark = "starlark"
	typeWasm     = "wasm"
)

// typeOf is m's type, "starlark" for modules installed before types.
func typeOf(m moduleMeta) string {
	if m.Type == "" {
		return typeStarlark
	}
	return m.Type
}

// installModule installs source under name as (or the derived name),
// replacing an installed one only with force. A local directory is
// copied unless viaGit (update of a module cloned from a repository
// that happens to be a local path).
func installModule(ctx context.Context, source, as, wantType string, force, viaGit bool, out, errw io.Writer) (moduleMeta, error) {
	meta := moduleMeta{Source: source, Installed: time.Now().UTC()}
	dir, err := modulesDir()
	if err != nil {
		return meta, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return meta, err
	}
	fmt.Fprintf(out, "Installing module from %s...\n", source)

	// stage into a temporary sibling, then rename into place: a failed
	// install never leaves a half-copied module behind
	stage, err := os.MkdirTemp(dir, ".install-")
	if err != nil {
		return meta, err
	}
	defer os.RemoveAll(stage)
	src, rev := splitRev(source)
	if isLocalSource(source) && !viaGit {
		src, rev = source, ""
	}
	if rev == "" && isLocalSource(src) && !viaGit {
		meta.Kind = "local"
		if err := copyTree(src, stage); err != nil {
			return meta, fmt.Errorf("module install: copying %s: %w", src, err)
		}
	} else {
		meta.Kind, meta.Rev = "git", rev
		if err := gitClone(ctx, gitURL(src), rev, stage, errw); err != nil {
			return meta, err
		}
		meta.Version = gitDescribe(ctx, stage)
		_ = os.RemoveAll(filepath.Join(stage, ".git"))
	}
	man, err := readManifest(stage)
	if err != nil {
		return meta, err
	}
	meta.Type = typeStarlark
	if man.Type == typeWasm {
		meta.Type = typeWasm
	}
	if wantType != "" && wantType != meta.Type {
		return meta, fmt.Errorf("module install: %s is a %s module, not %s (its module.yaml decides)", source, meta.Type, wantType)
	}
	meta.Name = as
	if meta.Name == "" {
		meta.Name = man.Name
	}
	if meta.Type == typeWasm && meta.Name != man.Name {
		return meta, usageErrorf("module install: a WASM plugin is named by its manifest (name: %s); --as %s cannot rename it", man.Name, as)
	}
	if meta.Name == "" {
		meta.Name = defaultName(src)
	}
	if !moduleNameRE.MatchString(meta.Name) {
		return meta, usageErrorf("module install: %q is not a valid module name (letters, digits, _ and -; use --as)", meta.Name)
	}
	if man.Version != "" {
		meta.Version = man.Version
	}
	if meta.Version == "" {
		meta.Version = "-"
	}
	meta.Description = man.Description
	if meta.Type == typeWasm {
		// compiled and checked against its manifest now, not at first use
		if Plugins == nil {
			return meta, fmt.Errorf("module install: %s is a WASM plugin; WASM plugins need the all-in-one kite edition (this is the %s edition)", source, version.EditionName())
		}
		if err := Plugins.Validate(ctx, stage); err != nil {
			return meta, fmt.Errorf("module install: %w", err)
		}
	} else if !hasEntry(stage, meta.Name) {
		return meta, fmt.Errorf("module install: %s has no main.star or %s.star, so load(%q) could not use it", source, meta.Name, meta.Name)
	}
	if err := writeMeta(stage, meta); err != nil {
		return meta, err
	}
	target := filepath.Join(dir, meta.Name)
	if _, err := os.Lstat(target); err == nil {
		if !force {
			return meta, fmt.Errorf("module %s is already installed at %s; use --force to replace it", meta.Name, target)
		}
		old := target + ".old-" + fmt.Sprint(time.Now().UnixNano())
		if err := os.Rename(target, old); err != nil {
			return meta, err
		}
		defer os.RemoveAll(old)
	}
	if err := os.Rename(stage, target); err != nil {
		return meta, err
	}
	fmt.Fprintf(out, "Installed %s (%s) to %s\n", meta.Name, meta.Version, target)
	return meta, nil
}

// gitClone clones url (at rev, if given) into dir with progress on errw.
func gitClone(ctx context.Context, url, rev, dir string, errw io.Writer) error {
	if _, err := exec.LookPath("git"); err != nil {
		return errors.New("git is required but not found in PATH")
	}
	args := []string{"clone", "--progress", "--quiet"}
	if rev == "" {
		args = append(args, "--depth", "1")
	}
	args = append(args, "--", url, dir)
	if err := runGit(ctx, errw, "", args...); err != nil {
		return fmt.Errorf("module install: git clone %s: %w", url, err)
	}
	if rev != "" {
		if err := runGit(ctx, errw, dir, "-c", "advice.detachedHead=false", "checkout", "--quiet", rev); err != nil {
			return fmt.Errorf("module install: no revision %q in %s: %w", rev, url, err)
		}
	}
	return nil
}

// runGit runs git, turning its --progress output into a progress display.
func runGit(ctx context.Context, errw io.Writer, dir string, args ...string) error {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	p := newProgress(errw)
	var tail bytes.Buffer // the last lines, for the error message
	sc := bufio.NewScanner(stderr)
	sc.Split(scanProgressLines)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if !p.update(line) {
			tail.WriteString(line + "\n")
		}
	}
	p.done()
	if err := cmd.Wait(); err != nil {
		if msg := strings.TrimSpace(tail.String()); msg != "" {
			return errors.New(lastLine(msg))
		}
		return err
	}
	return nil
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// scanProgressLines splits on \n and on the \r git uses to redraw a line.
func scanProgressLines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

var progressRE = regexp.MustCompile(`^([A-Za-z ]+):\s+(\d+)%`)

// progress renders git's "Receiving objects:  45% (9/20)" lines: a bar
// redrawn in place on a terminal, one plain line per phase otherwise.
type progress struct {
	w     io.Writer
	tty   bool
	phase string
	drawn bool
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, tty: ok && term.IsTerminal(int(f.Fd()))}
}

// update shows line if it is a progress line and reports whether it was.
func (p *progress) update(line string) bool {
	m := progressRE.FindStringSubmatch(line)
	if m == nil {
		return false
	}
	phase, pct := m[1], m[2]
	if p.tty {
		n := 0
		fmt.Sscan(pct, &n)
		fmt.Fprintf(p.w, "\r  %-20s %s", phase, progressBar(n))
		p.drawn = true
	} else if phase != p.phase {
		fmt.Fprintf(p.w, "  %s...\n", phase)
	}
	p.phase = phase
	return true
}

// progressBar renders pct (0-100) as "[#####...............]  25%", the
// bar every long operation (clones, downloads) draws on a terminal.
func progressBar(pct int) string {
	pct = max(0, min(100, pct))
	return "[" + strings.Repeat("#", pct/5) + strings.Repeat(".", 20-pct/5) + fmt.Sprintf("] %3d%%", pct)
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// gitDescribe names the checked-out commit: a tag if one points at it,
// else the short hash.
func gitDescribe(ctx context.Context, dir string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "describe", "--tags", "--always").Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func readManifest(dir string) (moduleManifest, error) {
	var m moduleManifest
	b, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, err
	}
	if err := yaml.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("module install: invalid %s: %w", manifestFile, err)
	}
	return m, nil
}

// hasEntry reports whether dir is a module directory load() accepts.
func hasEntry(dir, name string) bool {
	for _, f := range []string{"main.star", name + ".star"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

func writeMeta(dir string, m moduleMeta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, metaFile), append(b, '\n'), 0o644)
}

func readMeta(dir string) (moduleMeta, error) {
	var m moduleMeta
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(b, &m)
}

// copyTree copies regular files and directories of src into dst (which
// exists), skipping .git; symlinks are refused rather than followed out
// of the source tree.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "." {
			return nil
		}
		if d.Name() == ".git" && d.IsDir() {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, fi.Mode().Perm())
		default:
			return fmt.Errorf("%s is not a regular file or directory", rel)
		}
	})
}

// installed returns the metadata of every installed module, by name.
func installed() ([]moduleMeta, error) {
	dir, err := modulesDir()
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var mods []moduleMeta
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		m, err := readMeta(filepath.Join(dir, e.Name()))
		if err != nil { // copied in by hand: still listed
			m = moduleMeta{Name: e.Name(), Kind: "local", Version: "-"}
		}
		m.Name = e.Name()
		mods = append(mods, m)
	}
	sort.Slice(mods, func(i, j int) bool { return mods[i].Name < mods[j].Name })
	return mods, nil
}

// shortSource is a source as `module list` shows it.
func shortSource(m moduleMeta) string {
	if m.Source == "" {
		return "(local)"
	}
	s := m.Source
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	s = strings.TrimSuffix(s, ".git")
	if strings.HasPrefix(s, "git@") {
		s = strings.Replace(strings.TrimPrefix(s, "git@"), ":", "/", 1)
	}
	return s
}

func moduleList(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageErrorf("module list: unexpected argument %q", c.Args().First())
	}
	mods, err := installed()
	if err != nil {
		return err
	}
	w := c.App.Writer
	if len(mods) == 0 {
		fmt.Fprintln(w, "No modules installed.")
		fmt.Fprintln(w, "Install one with: kite module install <git-url|path>")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tVERSION\tSOURCE")
	fmt.Fprintln(tw, "----\t----\t-------\t------")
	for _, m := range mods {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Name, typeOf(m), m.Version, shortSource(m))
	}
	return tw.Flush()
}

// lookup finds an installed module by name.
func lookup(name string) (string, moduleMeta, error) {
	dir, err := modulesDir()
	if err != nil {
		return "", moduleMeta{}, err
	}
	if !moduleNameRE.MatchString(name) {
		return "", moduleMeta{}, usageErrorf("%q is not a module name", name)
	}
	p := filepath.Join(dir, name)
	if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
		return "", moduleMeta{}, fmt.Errorf("module %s is not installed (see kite module list)", name)
	}
	m, err := readMeta(p)
	if err != nil {
		m = moduleMeta{Kind: "local", Version: "-"}
	}
	m.Name = name
	return p, m, nil
}

func moduleInfo(c *cli.Context) error {
	name, err := oneArg(c, "name")
	if err != nil {
		return err
	}
	p, m, err := lookup(name)
	if err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "Name:        %s\nType:        %s\nPath:        %s\n", m.Name, typeOf(m), p)
	if m.Version != "" && m.Version != "-" {
		fmt.Fprintf(w, "Version:     %s\n", m.Version)
	}
	if m.Source != "" {
		fmt.Fprintf(w, "Repository:  %s\n", m.Source)
	}
	if m.Description != "" {
		fmt.Fprintf(w, "Description: %s\n", m.Description)
	}
	if typeOf(m) == typeWasm {
		if Plugins == nil {
			fmt.Fprintf(w, "Note:        WASM plugins need the all-in-one kite edition\n")
			return nil
		}
		return Plugins.Describe(w, p)
	}
	entry := "main.star"
	if _, err := os.Stat(filepath.Join(p, entry)); err != nil {
		entry = name + ".star"
	}
	fmt.Fprintf(w, "Entry point: %s\n", entry)
	return nil
}

func moduleUpdate(c *cli.Context) error {
	name, err := oneArg(c, "name")
	if err != nil {
		return err
	}
	_, m, err := lookup(name)
	if err != nil {
		return err
	}
	if m.Kind != "git" {
		return fmt.Errorf("module %s was not installed from git; reinstall it with kite module install <path> --as %s --force", name, name)
	}
	latest, _ := splitRev(m.Source) // update moves a pinned module to the latest commit
	now, err := installModule(c.Context, latest, name, m.Type, true, true, c.App.Writer, c.App.ErrWriter)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "Updated %s to %s\n", name, now.Version)
	return nil
}

func moduleRemove(c *cli.Context) error {
	name, err := oneArg(c, "name")
	if err != nil {
		return err
	}
	p, _, err := lookup(name)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(p); err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "Removed module %s\n", name)
	return nil
}
