// Package cmd holds the cloud edition's commands: `kube
// gen-controller-artifacts` and `kube gen-webhook-artifacts` (spec k8s.md
// §15, cli.md §8.12), which run a Starlark generator script — embedded, or
// the user's --generator — that prints deployment manifests or a Starlark
// program applying them. kitecloud and kite register them with Register.
package cmd

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"go.starlark.net/starlark"

	basecmd "github.com/project-starkite/starkite/basekite/cmd"
	"github.com/project-starkite/starkite/basekite/varstore"
	"github.com/project-starkite/starkite/basekite/version"
	"github.com/project-starkite/starkite/libkite"
)

//go:embed generators/*.star
var generators embed.FS

// Register adds the kube command group to app (an entry of
// basecmd.RegisterEditionCommands).
func Register(app *cli.App) { app.Commands = append(app.Commands, KubeCommand()) }

// KubeCommand is `kube` with its two generators.
func KubeCommand() *cli.Command {
	return &cli.Command{
		Name:        "kube",
		Usage:       "generate Kubernetes deployment artifacts for controllers and webhooks",
		Subcommands: []*cli.Command{controllerCommand(), webhookCommand()},
	}
}

// DefaultBaseImage is the Dockerfile base when --base-image is not given:
// the published cloud image of this version.
func DefaultBaseImage() string {
	tag := version.Version
	if tag == "" || tag == "dev" {
		tag = "latest"
	}
	return "ghcr.io/project-starkite/kitecloud:" + strings.TrimPrefix(tag, "v")
}

// flags shared by both generators.
func commonFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "image", Usage: "container image of the controller/webhook (required)"},
		&cli.StringFlag{Name: "namespace", Value: "default", Usage: "namespace to deploy into"},
		&cli.StringFlag{Name: "output", Value: "yaml", Usage: "yaml (manifests) or script (a Starlark program applying them)"},
		&cli.StringFlag{Name: "dockerfile", Usage: "also write a Dockerfile with this name in the current directory"},
		&cli.StringFlag{Name: "base-image", Usage: "base image of the Dockerfile (default " + DefaultBaseImage() + ")"},
		&cli.StringFlag{Name: "generator", Usage: "custom generator script (default: built-in)"},
	}
}

func controllerCommand() *cli.Command {
	return &cli.Command{
		Name:      "gen-controller-artifacts",
		Usage:     "print the manifests (or a script) that deploy a controller script",
		UsageText: "kube gen-controller-artifacts --image <ref> [--controller controller.star] [--resource crd.star] [flags]",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "controller", Value: "controller.star", Usage: "the controller script (its name names the app)"},
			&cli.StringFlag{Name: "resource", Usage: "script run first; what it prints is included as CRD YAML"},
			&cli.IntFlag{Name: "replicas", Value: 1, Usage: "controller replicas"},
		}, commonFlags()...),
		Action: genController,
	}
}

func webhookCommand() *cli.Command {
	return &cli.Command{
		Name:      "gen-webhook-artifacts",
		Usage:     "print the manifests (or a script) that deploy an admission webhook script",
		UsageText: "kube gen-webhook-artifacts --image <ref> --name <name> [--webhook webhook.star] [--rule 'resource=pods operations=CREATE']... [flags]",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "webhook", Value: "webhook.star", Usage: "the webhook script"},
			&cli.StringFlag{Name: "name", Usage: "name of the webhook's objects (required)"},
			&cli.StringSliceFlag{Name: "rule", Usage: "admission rule: 'group=<g> version=<v> resource=<r> operations=A,B' (repeatable)"},
			&cli.StringFlag{Name: "type", Value: "validating", Usage: "validating or mutating"},
			&cli.StringFlag{Name: "path", Usage: "path the API server calls (default /validate or /mutate)"},
		}, commonFlags()...),
		Action: genWebhook,
	}
}

// common reads and validates the flags both generators share.
type common struct {
	image, namespace, output, dockerfile, baseImage, generator string
}

func readCommon(c *cli.Context) (*common, error) {
	o := &common{image: c.String("image"), namespace: c.String("namespace"), output: c.String("output"),
		dockerfile: c.String("dockerfile"), baseImage: c.String("base-image"), generator: c.String("generator")}
	if o.image == "" {
		return nil, errors.New("--image is required")
	}
	if o.output != "yaml" && o.output != "script" {
		return nil, fmt.Errorf("--output must be 'yaml' or 'script', got %q", o.output)
	}
	if o.namespace == "" {
		return nil, errors.New("--namespace must not be empty")
	}
	if o.baseImage == "" {
		o.baseImage = DefaultBaseImage()
	}
	return o, nil
}

func genController(c *cli.Context) error {
	o, err := readCommon(c)
	if err != nil {
		return err
	}
	controller, resource := c.String("controller"), c.String("resource")
	if c.Int("replicas") < 0 {
		return fmt.Errorf("--replicas must not be negative, got %d", c.Int("replicas"))
	}
	crd := ""
	if resource != "" {
		if crd, err = captureOutput(c, resource); err != nil {
			return err
		}
	}
	vars := map[string]any{
		"controller_script": controller, "image": o.image, "namespace": o.namespace,
		"replicas": c.Int("replicas"), "output_format": o.output, "crd_yaml": crd,
		"binary": c.App.Name,
	}
	if err := runGenerator(c, o.generator, "generators/controller.star", vars); err != nil {
		return err
	}
	copies := []string{controller}
	if resource != "" {
		copies = append(copies, resource)
	}
	return writeDockerfile(c, o, controller, copies)
}

func genWebhook(c *cli.Context) error {
	o, err := readCommon(c)
	if err != nil {
		return err
	}
	name := c.String("name")
	if name == "" {
		return errors.New("--name is required")
	}
	kind := c.String("type")
	if kind != "validating" && kind != "mutating" {
		return fmt.Errorf("--type must be 'validating' or 'mutating', got %q", kind)
	}
	path := c.String("path")
	if path == "" {
		path = "/validate"
		if kind == "mutating" {
			path = "/mutate"
		}
	}
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("--path must start with '/', got %q", path)
	}
	rules := make([]map[string]any, 0, len(c.StringSlice("rule")))
	for _, r := range c.StringSlice("rule") {
		rule, err := parseRule(r)
		if err != nil {
			return err
		}
		rules = append(rules, rule)
	}
	rulesJSON, err := json.Marshal(rules)
	if err != nil {
		return err
	}
	webhook := c.String("webhook")
	vars := map[string]any{
		"webhook_script": webhook, "webhook_name": name, "image": o.image, "namespace": o.namespace,
		"rules_json": string(rulesJSON), "output_format": o.output,
		"webhook_type": kind, "webhook_path": path, "binary": c.App.Name,
	}
	if err := runGenerator(c, o.generator, "generators/webhook.star", vars); err != nil {
		return err
	}
	return writeDockerfile(c, o, webhook, []string{webhook})
}

// parseRule reads one --rule: whitespace-separated group=, version=,
// resource= (required) and operations=A,B.
func parseRule(s string) (map[string]any, error) {
	var group, version, resource, ops string
	seen := false
	for _, tok := range strings.Fields(s) {
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			return nil, fmt.Errorf("invalid --rule %q: %q is not key=value", s, tok)
		}
		seen = true
		switch k {
		case "group":
			group = v
		case "version":
			version = v
		case "resource":
			resource = v
		case "operations":
			ops = v
		default:
			return nil, fmt.Errorf("invalid --rule %q: unknown key %q (want group, version, resource, operations)", s, k)
		}
	}
	if !seen || resource == "" {
		return nil, fmt.Errorf("invalid --rule %q: resource= is required", s)
	}
	if version == "" {
		version = "*"
	}
	operations := []any{"CREATE", "UPDATE"}
	if ops != "" {
		operations = nil
		for _, op := range strings.Split(ops, ",") {
			if op = strings.ToUpper(strings.TrimSpace(op)); op != "" {
				operations = append(operations, op)
			}
		}
	}
	return map[string]any{
		"apiGroups": []any{group}, "apiVersions": []any{version}, "resources": []any{resource},
		"operations": operations, "scope": "*",
	}, nil
}

// newRuntime is a trusted runtime over the edition's registry with vars
// at the CLI tier; print goes to out.
func newRuntime(scriptPath string, vars map[string]any, print func(string)) (*libkite.Runtime, func(), error) {
	store := varstore.New()
	for k, v := range vars {
		store.Set(k, v)
	}
	reg := basecmd.NewRegistry(&libkite.ModuleConfig{VarStore: store})
	rt, err := libkite.New(&libkite.Config{
		Registry:    reg,
		VarStore:    store,
		Permissions: libkite.AllowAllPermissions(),
		ScriptPath:  scriptPath,
		Print:       func(_ *starlark.Thread, msg string) { print(msg) },
		NoSignals:   true,
	})
	if err != nil {
		reg.Close()
		return nil, nil, err
	}
	return rt, func() { rt.Close(); reg.Close() }, nil
}

// captureOutput runs the --resource script and returns what it printed.
func captureOutput(c *cli.Context, path string) (string, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read the resource script: %w", err)
	}
	var b strings.Builder
	rt, closeRT, err := newRuntime(path, nil, func(msg string) { b.WriteString(msg + "\n") })
	if err != nil {
		return "", err
	}
	defer closeRT()
	if err := rt.Execute(c.Context, string(src)); err != nil {
		return "", fmt.Errorf("resource script %s failed: %s", path, scriptFailure(err))
	}
	return b.String(), nil
}

// runGenerator runs the --generator script, else the built-in one, with
// vars; its output goes to stdout.
func runGenerator(c *cli.Context, custom, builtin string, vars map[string]any) error {
	path, src := builtin, []byte(nil)
	var err error
	if custom != "" {
		path = custom
		src, err = os.ReadFile(custom)
		if err != nil {
			return fmt.Errorf("cannot read the generator: %w", err)
		}
	} else if src, err = generators.ReadFile(builtin); err != nil {
		return err
	}
	out := c.App.Writer
	rt, closeRT, err := newRuntime(path, vars, func(msg string) { fmt.Fprintln(out, msg) })
	if err != nil {
		return err
	}
	defer closeRT()
	if err := rt.Execute(c.Context, string(src)); err != nil {
		return fmt.Errorf("generator failed: %s", scriptFailure(err))
	}
	return nil
}

// scriptFailure is a script's error message followed by its call stack
// (innermost last), one "  file:line:col: in fn" line per frame.
func scriptFailure(err error) string {
	var ee *starlark.EvalError
	if !errors.As(err, &ee) {
		return err.Error()
	}
	var b strings.Builder
	b.WriteString(ee.Msg)
	for _, fr := range ee.CallStack {
		fmt.Fprintf(&b, "\n  %s: in %s", fr.Pos, fr.Name)
	}
	return b.String()
}

// writeDockerfile writes --dockerfile (if given) in the current
// directory: FROM the base image, COPY the scripts to /app/, CMD running
// the main one with this binary. The file is replaced atomically.
func writeDockerfile(c *cli.Context, o *common, main string, copies []string) error {
	if o.dockerfile == "" {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "FROM %s\n", o.baseImage)
	for _, f := range copies {
		fmt.Fprintf(&b, "COPY %s /app/\n", f)
	}
	cmd, _ := json.Marshal([]string{c.App.Name, "run", "/app/" + filepath.Base(main)})
	fmt.Fprintf(&b, "CMD %s\n", cmd)
	if err := basecmd.WriteFileAtomic(o.dockerfile, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("cannot write the Dockerfile: %w", err)
	}
	fmt.Fprintf(c.App.ErrWriter, "Dockerfile written to ./%s\n", o.dockerfile)
	return nil
}
