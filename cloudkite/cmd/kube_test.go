package cmd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	basecmd "github.com/project-starkite/starkite/basekite/cmd"
	"github.com/project-starkite/starkite/cloudkite/loader"
)

func TestMain(m *testing.M) {
	basecmd.NewRegistry = loader.NewCloudRegistry // what kitecloud's main does
	os.Exit(m.Run())
}

// kube runs `kitecloud kube <args>` in-process from dir.
func kube(t *testing.T, dir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	if dir != "" {
		t.Chdir(dir)
	}
	var out, errOut bytes.Buffer
	app := &cli.App{Name: "kitecloud", Writer: &out, ErrWriter: &errOut, Commands: []*cli.Command{KubeCommand()},
		ExitErrHandler: func(*cli.Context, error) {}}
	err = app.RunContext(context.Background(), append([]string{"kitecloud", "kube"}, args...))
	return out.String(), errOut.String(), err
}

// docs splits generator YAML output into its documents.
func docs(t *testing.T, out string) []map[string]any {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(out))
	var all []map[string]any
	for {
		var d map[string]any
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return all
		}
		if err != nil {
			t.Fatalf("output is not YAML: %v\n%s", err, out)
		}
		if d != nil {
			all = append(all, d)
		}
	}
}

func kinds(ds []map[string]any) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d["kind"].(string))
	}
	return out
}

func dig(m any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m = m.(map[string]any)[k]
		case int:
			m = m.([]any)[k]
		}
	}
	return m
}

func TestGenErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"gen-controller-artifacts"}, "--image is required"},
		{[]string{"gen-controller-artifacts", "--image", "x", "--output", "json"}, `--output must be 'yaml' or 'script', got "json"`},
		{[]string{"gen-webhook-artifacts", "--name", "w"}, "--image is required"},
		{[]string{"gen-webhook-artifacts", "--image", "x"}, "--name is required"},
		{[]string{"gen-webhook-artifacts", "--image", "x", "--name", "w", "--rule", "resource=pods verbs=CREATE"}, `invalid --rule "resource=pods verbs=CREATE": unknown key "verbs"`},
		{[]string{"gen-webhook-artifacts", "--image", "x", "--name", "w", "--rule", "pods"}, `invalid --rule "pods": "pods" is not key=value`},
		{[]string{"gen-webhook-artifacts", "--image", "x", "--name", "w", "--rule", "group=apps"}, `invalid --rule "group=apps": resource= is required`},
		{[]string{"gen-webhook-artifacts", "--image", "x", "--name", "w", "--type", "x"}, `--type must be 'validating' or 'mutating', got "x"`},
		{[]string{"gen-controller-artifacts", "--image", "x", "--generator", "missing.star"}, "cannot read the generator"},
		{[]string{"gen-controller-artifacts", "--image", "x", "--resource", "missing.star"}, "cannot read the resource script"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			out, _, err := kube(t, t.TempDir(), c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if out != "" {
				t.Fatalf("stdout = %q, want nothing on error", out)
			}
		})
	}
}

func TestGenControllerYAML(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "crd.star"), []byte(`print(k8s.yaml(k8s.obj.crd("example.io", "v1", "Backup", "backups", spec={"schedule": {"type": "string", "required": True}})))`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := kube(t, dir, "gen-controller-artifacts", "--controller", "ops/Backup_Controller.star",
		"--resource", "crd.star", "--image", "reg/backup:1.0", "--namespace", "ops", "--replicas", "2", "--dockerfile", "Dockerfile.ctl")
	if err != nil {
		t.Fatal(err)
	}
	ds := docs(t, out)
	if got := strings.Join(kinds(ds), ","); got != "CustomResourceDefinition,Namespace,ServiceAccount,ClusterRole,ClusterRoleBinding,Deployment" {
		t.Fatalf("kinds = %s\n%s", got, out)
	}
	if !strings.HasPrefix(out, "---\n") || !strings.Contains(out, "# Full access for a start: tighten these rules for production.\n") {
		t.Errorf("output framing:\n%s", out)
	}
	dep := ds[5]
	for _, c := range []struct {
		got  any
		want any
	}{
		{dig(ds[0], "metadata", "name"), "backups.example.io"},
		{dig(ds[1], "metadata", "name"), "ops"},
		{dig(ds[2], "metadata", "name"), "backup-controller"},
		{dig(ds[3], "rules", 0, "verbs", 0), "*"},
		{dig(ds[4], "subjects", 0, "name"), "backup-controller"},
		{dig(ds[4], "roleRef", "name"), "backup-controller"},
		{dig(dep, "metadata", "namespace"), "ops"},
		{dig(dep, "spec", "replicas"), 2},
		{dig(dep, "spec", "selector", "matchLabels", "app"), "backup-controller"},
		{dig(dep, "spec", "template", "spec", "serviceAccountName"), "backup-controller"},
		{dig(dep, "spec", "template", "spec", "containers", 0, "name"), "controller"},
		{dig(dep, "spec", "template", "spec", "containers", 0, "image"), "reg/backup:1.0"},
	} {
		if c.got != c.want {
			t.Errorf("got %v, want %v", c.got, c.want)
		}
	}
	if errOut != "Dockerfile written to ./Dockerfile.ctl\n" {
		t.Errorf("stderr = %q", errOut)
	}
	df, err := os.ReadFile(filepath.Join(dir, "Dockerfile.ctl"))
	if err != nil {
		t.Fatal(err)
	}
	want := "FROM " + DefaultBaseImage() + "\nCOPY ops/Backup_Controller.star /app/\nCOPY crd.star /app/\nCMD [\"kitecloud\",\"run\",\"/app/Backup_Controller.star\"]\n"
	if string(df) != want {
		t.Errorf("Dockerfile =\n%s\nwant\n%s", df, want)
	}
}

func TestGenWebhookYAML(t *testing.T) {
	dir := t.TempDir()
	out, _, err := kube(t, dir, "gen-webhook-artifacts", "--name", "pin-tags", "--image", "reg/wh:2", "--namespace", "sec",
		"--rule", "resource=pods operations=create", "--rule", "group=apps version=v1 resource=deployments",
		"--base-image", "example/base:1", "--dockerfile", "Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	ds := docs(t, out)
	if got := strings.Join(kinds(ds), ","); got != "Namespace,ServiceAccount,Deployment,Service,Secret,ValidatingWebhookConfiguration" {
		t.Fatalf("kinds = %s\n%s", got, out)
	}
	dep, svc, sec, vwc := ds[2], ds[3], ds[4], ds[5]
	for _, c := range []struct {
		got  any
		want any
	}{
		{dig(dep, "spec", "template", "spec", "serviceAccountName"), "pin-tags"},
		{dig(dep, "spec", "template", "spec", "containers", 0, "name"), "webhook"},
		{strings.Join(toStrings(dig(dep, "spec", "template", "spec", "containers", 0, "command")), " "), "kitecloud run /app/webhook.star"},
		{dig(dep, "spec", "template", "spec", "containers", 0, "ports", 0, "containerPort"), 9443},
		{dig(dep, "spec", "template", "spec", "containers", 0, "volumeMounts", 0, "mountPath"), "/certs"},
		{dig(dep, "spec", "template", "spec", "containers", 0, "volumeMounts", 0, "readOnly"), true},
		{dig(dep, "spec", "template", "spec", "volumes", 0, "secret", "secretName"), "pin-tags-tls"},
		{dig(svc, "spec", "ports", 0, "port"), 443},
		{dig(svc, "spec", "ports", 0, "targetPort"), 9443},
		{dig(svc, "spec", "selector", "app"), "pin-tags"},
		{dig(sec, "type"), "kubernetes.io/tls"},
		{dig(vwc, "webhooks", 0, "name"), "pin-tags.sec.svc"},
		{dig(vwc, "webhooks", 0, "clientConfig", "service", "path"), "/validate"},
		{dig(vwc, "webhooks", 0, "rules", 0, "apiGroups", 0), ""},
		{dig(vwc, "webhooks", 0, "rules", 0, "apiVersions", 0), "*"},
		{dig(vwc, "webhooks", 0, "rules", 0, "operations", 0), "CREATE"},
		{dig(vwc, "webhooks", 0, "rules", 1, "apiGroups", 0), "apps"},
		{strings.Join(toStrings(dig(vwc, "webhooks", 0, "rules", 1, "operations")), ","), "CREATE,UPDATE"},
		{dig(vwc, "webhooks", 0, "sideEffects"), "None"},
		{dig(vwc, "webhooks", 0, "failurePolicy"), "Fail"},
	} {
		if c.got != c.want {
			t.Errorf("got %v, want %v", c.got, c.want)
		}
	}
	df, _ := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if string(df) != "FROM example/base:1\nCOPY webhook.star /app/\nCMD [\"kitecloud\",\"run\",\"/app/webhook.star\"]\n" {
		t.Errorf("Dockerfile = %q", df)
	}

	// Without rules there is no webhook configuration; --type mutating
	// with rules gives a MutatingWebhookConfiguration on /mutate.
	out, _, err = kube(t, dir, "gen-webhook-artifacts", "--name", "w", "--image", "x")
	if err != nil || strings.Contains(out, "WebhookConfiguration") {
		t.Fatalf("no rules: %v\n%s", err, out)
	}
	out, _, err = kube(t, dir, "gen-webhook-artifacts", "--name", "w", "--image", "x", "--type", "mutating", "--rule", "resource=pods")
	if err != nil {
		t.Fatal(err)
	}
	ds = docs(t, out)
	last := ds[len(ds)-1]
	if last["kind"] != "MutatingWebhookConfiguration" || dig(last, "webhooks", 0, "clientConfig", "service", "path") != "/mutate" {
		t.Fatalf("mutating: %v", last)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, e.(string))
	}
	return out
}

func TestGenCustomGeneratorAndFailure(t *testing.T) {
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen.star")
	os.WriteFile(gen, []byte(`print(var_str("webhook_name"), var_str("namespace"), json.decode(var_str("rules_json"))[0]["resources"], var_str("output_format"))`), 0o644)
	out, _, err := kube(t, dir, "gen-webhook-artifacts", "--name", "w", "--image", "x", "--generator", gen, "--rule", "resource=pods", "--output", "script")
	if err != nil || out != `w default ["pods"] script`+"\n" {
		t.Fatalf("custom generator: %v %q", err, out)
	}
	os.WriteFile(gen, []byte("print('partial')\nfail('boom')\n"), 0o644)
	_, _, err = kube(t, dir, "gen-controller-artifacts", "--image", "x", "--generator", gen, "--dockerfile", "Dockerfile")
	if err == nil || !strings.HasPrefix(err.Error(), "generator failed: boom\n  "+gen+":2:5: in <toplevel>") {
		t.Fatalf("err = %v", err)
	}
	if _, statErr := os.Stat(filepath.Join(dir, "Dockerfile")); statErr == nil {
		t.Fatal("a failed generator must not write the Dockerfile")
	}
}

// The generated script parses and names the objects; applying it to a
// real cluster is TestGenArtifactsApplyToCluster.
func TestGenScriptMode(t *testing.T) {
	out, _, err := kube(t, t.TempDir(), "gen-controller-artifacts", "--image", "reg/c:1", "--output", "script")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`NAME = "controller"`, `k8s.obj.deployment(`, `service_account = NAME`, `k8s.apply(o)`, `printf(`} {
		if !strings.Contains(out, want) {
			t.Errorf("script lacks %q:\n%s", want, out)
		}
	}
}
