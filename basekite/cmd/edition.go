package cmd

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
	"gopkg.in/yaml.v3"

	"github.com/project-starkite/starkite/basekite/version"
)

// Editions (editions.md §5): the base binary can install the cloud and ai
// editions into ~/.starkite/editions/<name>/kite and hand off to the
// active one; the active edition is config.active_edition in
// ~/.starkite/config.yaml.

// installableEditions are the editions `edition use` can install, with the
// release asset prefix of each (DECISION E2: the names the release
// pipeline publishes).
var installableEditions = []struct{ name, asset string }{
	{"cloud", "kitecloud"},
	{"ai", "kiteai"},
}

// releaseBaseEnv overrides where editions are downloaded from (tests,
// mirrors); the URL is <base>/v<version>/<asset>.
const releaseBaseEnv = "STARKITE_RELEASE_BASE_URL"

const defaultReleaseBase = "https://github.com/project-starkite/starkite/releases/download"

func editionAsset(name string) (string, bool) {
	for _, e := range installableEditions {
		if e.name == name {
			asset := e.asset + "-" + runtime.GOOS + "-" + runtime.GOARCH
			if runtime.GOOS == "windows" {
				asset += ".exe"
			}
			return asset, true
		}
	}
	return "", false
}

func knownEditions() string {
	names := make([]string, len(installableEditions))
	for i, e := range installableEditions {
		names[i] = e.name
	}
	return strings.Join(names, ", ")
}

func starkiteDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the home directory: %w", err)
	}
	return filepath.Join(home, ".starkite"), nil
}

// editionBinary is where edition name is installed.
func editionBinary(name string) (string, error) {
	dir, err := starkiteDir()
	if err != nil {
		return "", err
	}
	bin := "kite"
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	return filepath.Join(dir, "editions", name, bin), nil
}

func editionCommand() *cli.Command {
	return &cli.Command{
		Name:      "edition",
		Usage:     "switch between the base, cloud and ai editions",
		UsageText: "kite edition use <base|cloud|ai> [--from path] [--force] | remove <name> | status\n\nExample: kite edition use cloud",
		Subcommands: []*cli.Command{
			{
				Name:      "use",
				Usage:     "install (if needed) and activate an edition",
				UsageText: "kite edition use <name> [--from path] [--force]\n\nExample: kite edition use ai --from ./bin/kiteai",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "from", Usage: "install from a local binary `path` instead of downloading"},
					&cli.BoolFlag{Name: "force", Usage: "reinstall even if the edition is installed"},
				},
				Action: editionUse,
			},
			{Name: "remove", Aliases: []string{"rm", "uninstall"}, Usage: "remove an installed edition",
				UsageText: "Example: kite edition remove cloud", Action: editionRemove},
			{Name: "status", Usage: "show the active and installed editions", UsageText: "Example: kite edition status", Action: editionStatus},
		},
	}
}

func editionArg(c *cli.Context) (string, error) {
	if c.NArg() != 1 {
		return "", usageErrorf("edition %s: expected exactly 1 argument <name>, got %d", c.Command.Name, c.NArg())
	}
	return c.Args().First(), nil
}

func editionUse(c *cli.Context) error {
	name, err := editionArg(c)
	if err != nil {
		return err
	}
	out := c.App.Writer
	if name == "base" {
		if err := setActiveEdition(""); err != nil {
			return err
		}
		fmt.Fprintln(out, "Switched to base edition.")
		return nil
	}
	asset, ok := editionAsset(name)
	if !ok {
		return fmt.Errorf("unknown edition: %q (known editions: %s)", name, knownEditions())
	}
	bin, err := editionBinary(name)
	if err != nil {
		return err
	}
	_, statErr := os.Stat(bin)
	installedAlready := statErr == nil
	from, force := c.String("from"), c.Bool("force")
	if installedAlready && from != "" && !force {
		return fmt.Errorf("edition %q already installed at %s (use --force to overwrite)", name, bin)
	}
	if !installedAlready || force {
		fmt.Fprintf(out, "Installing %s edition...\n", name)
		if from != "" {
			err = installFromFile(from, bin)
		} else {
			err = download(c.Context, asset, bin, c.App.ErrWriter)
		}
		if err != nil {
			return fmt.Errorf("installing the %s edition: %w", name, err)
		}
	}
	if err := setActiveEdition(name); err != nil {
		return err
	}
	fmt.Fprintf(out, "Switched to %s edition.\n", name)
	return nil
}

func editionRemove(c *cli.Context) error {
	name, err := editionArg(c)
	if err != nil {
		return err
	}
	if name == "base" {
		return errors.New("cannot remove the base edition")
	}
	if _, ok := editionAsset(name); !ok {
		return fmt.Errorf("unknown edition: %q (known editions: %s)", name, knownEditions())
	}
	bin, err := editionBinary(name)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("edition %q is not installed", name)
	}
	if err := os.RemoveAll(filepath.Dir(bin)); err != nil {
		return err
	}
	if active, _ := activeEdition(); active == name {
		if err := setActiveEdition(""); err != nil {
			fmt.Fprintf(c.App.ErrWriter, "warning: could not reset the active edition: %v\n", err)
		}
	}
	fmt.Fprintf(c.App.Writer, "Removed %s edition.\n", name)
	return nil
}

func editionStatus(c *cli.Context) error {
	active, err := activeEdition()
	if err != nil {
		return err
	}
	w := c.App.Writer
	fmt.Fprintf(w, "Current edition: %s\n", active)
	fmt.Fprintf(w, "Version:         %s\n", version.Version)
	fmt.Fprintf(w, "Binary edition:  %s\n\n", version.EditionName())
	fmt.Fprintln(w, "Installed editions:")
	line := func(name, size string) {
		mark := "  "
		if name == active {
			mark = "* "
		}
		fmt.Fprintf(w, "  %s%s%s\n", mark, name, size)
	}
	line("base", "")
	for _, e := range installableEditions {
		bin, err := editionBinary(e.name)
		if err != nil {
			return err
		}
		if fi, err := os.Stat(bin); err == nil {
			line(e.name, " ("+humanSize(fi.Size())+")")
		}
	}
	return nil
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// --- active edition in ~/.starkite/config.yaml --------------------------

func homeConfigPath() (string, error) {
	dir, err := starkiteDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "config.yaml"), nil
}

// activeEdition reads config.active_edition; absent means base.
func activeEdition() (string, error) {
	p, err := homeConfigPath()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "base", nil
	}
	if err != nil {
		return "", err
	}
	var doc struct {
		Config struct {
			Active string `yaml:"active_edition"`
		} `yaml:"config"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return "", fmt.Errorf("failed to parse %s: %w", p, err)
	}
	if doc.Config.Active == "" {
		return "base", nil
	}
	return doc.Config.Active, nil
}

// setActiveEdition writes config.active_edition ("" removes it, and an
// emptied config: map) with a read-modify-write of the YAML document
// that keeps every other key and comment.
func setActiveEdition(name string) error {
	p, err := homeConfigPath()
	if err != nil {
		return err
	}
	var doc yaml.Node
	b, err := os.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if name == "" {
			return nil
		}
	case err != nil:
		return err
	default:
		if err := yaml.Unmarshal(b, &doc); err != nil {
			return fmt.Errorf("failed to parse %s: %w", p, err)
		}
	}
	if doc.Kind == 0 {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s: the top level must be a mapping", p)
	}
	cfg := mapValue(root, "config")
	if cfg == nil {
		if name == "" {
			return nil
		}
		cfg = &yaml.Node{Kind: yaml.MappingNode}
		root.Content = append(root.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "config"}, cfg)
	}
	if cfg.Kind != yaml.MappingNode {
		return fmt.Errorf("%s: config must be a mapping", p)
	}
	if name == "" {
		deleteKey(cfg, "active_edition")
		if len(cfg.Content) == 0 {
			deleteKey(root, "config")
		}
	} else if v := mapValue(cfg, "active_edition"); v != nil {
		v.Kind, v.Tag, v.Value = yaml.ScalarNode, "!!str", name
	} else {
		cfg.Content = append(cfg.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: "active_edition"},
			&yaml.Node{Kind: yaml.ScalarNode, Value: name})
	}
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return WriteFileAtomic(p, out, 0o644)
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func deleteKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
			return
		}
	}
}

// --- installing ---------------------------------------------------------

func installFromFile(from, bin string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return err
	}
	return WriteFileAtomic(bin, b, 0o755)
}

// download fetches <base>/v<version>/<asset> into bin, verifying its
// SHA-256 against the release's checksums.txt: a missing or mismatching
// checksum is fatal (the reference only warns) and leaves nothing behind.
func download(ctx context.Context, asset, bin string, progressW io.Writer) error {
	base := os.Getenv(releaseBaseEnv)
	if base == "" {
		base = defaultReleaseBase
	}
	prefix := strings.TrimRight(base, "/") + "/v" + strings.TrimPrefix(version.Version, "v") + "/"
	client := &http.Client{Timeout: 10 * time.Minute}
	sums, err := fetch(ctx, client, prefix+"checksums.txt")
	if err != nil {
		return err
	}
	want, err := checksumFor(string(sums), asset)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, prefix+asset, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", prefix+asset, resp.Status)
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(bin), ".download-")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	h := sha256.New()
	bar := newByteProgress(progressW, asset, resp.ContentLength)
	_, err = io.Copy(io.MultiWriter(f, h, bar), resp.Body)
	bar.done()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("checksum mismatch for %s: got %s, checksums.txt says %s (download refused)", asset, got, want)
	}
	if err := os.Chmod(f.Name(), 0o755); err != nil {
		return err
	}
	return os.Rename(f.Name(), bin)
}

func fetch(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// checksumFor finds asset's line ("<hex>  <asset>") in checksums.txt.
func checksumFor(sums, asset string) (string, error) {
	for _, line := range strings.Split(sums, "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && strings.TrimPrefix(f[1], "*") == asset {
			return strings.ToLower(f[0]), nil
		}
	}
	return "", fmt.Errorf("checksums.txt has no entry for %s (download refused)", asset)
}

// byteProgress shows a download: a redrawn bar on a terminal, a start and
// an end line otherwise.
type byteProgress struct {
	w        io.Writer
	tty      bool
	name     string
	total, n int64
	shown    int
}

func newByteProgress(w io.Writer, name string, total int64) *byteProgress {
	f, ok := w.(*os.File)
	p := &byteProgress{w: w, tty: ok && term.IsTerminal(int(f.Fd())), name: name, total: total, shown: -1}
	if !p.tty {
		if total > 0 {
			fmt.Fprintf(w, "  downloading %s (%s)...\n", name, humanSize(total))
		} else {
			fmt.Fprintf(w, "  downloading %s...\n", name)
		}
	}
	return p
}

func (p *byteProgress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if p.tty && p.total > 0 {
		if pct := int(p.n * 100 / p.total); pct != p.shown {
			p.shown = pct
			fmt.Fprintf(p.w, "\r  %s %s", p.name, progressBar(pct))
		}
	}
	return len(b), nil
}

func (p *byteProgress) done() {
	if p.tty {
		fmt.Fprintln(p.w)
		return
	}
	fmt.Fprintf(p.w, "  downloaded %s\n", humanSize(p.n))
}

// --- hand-off ------------------------------------------------------------

// handOff replaces the base binary's process with the active edition's
// binary (editions.md §5) when one is active and installed. It returns
// only when there is nothing to hand off to or the exec failed (then a
// warning is printed and base carries on).
func handOff(args []string, errw io.Writer) {
	if version.Edition != "" || len(args) > 1 && (args[1] == "edition" || args[1] == "update") {
		return // only base hands off, and never for edition management
	}
	if os.Getenv("STARKITE_INSIDE_SANDBOX") == "1" {
		return
	}
	active, err := activeEdition()
	if err != nil || active == "base" {
		return
	}
	bin, err := editionBinary(active)
	if err != nil {
		return
	}
	if _, err := os.Stat(bin); err != nil {
		return
	}
	if err := execEdition(bin, append([]string{bin}, args[1:]...)); err != nil {
		fmt.Fprintf(errw, "warning: edition handoff failed: %v (falling back to base)\n", err)
	}
}
