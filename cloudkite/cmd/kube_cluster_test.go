package cmd

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/project-starkite/starkite/cloudkite/internal/testenv"
)

// script runs src in the generators' trusted cloud runtime and returns
// what it printed.
func script(t *testing.T, src string) string {
	t.Helper()
	var out strings.Builder
	rt, closeRT, err := newRuntime("test.star", nil, func(s string) { out.WriteString(s + "\n") })
	if err != nil {
		t.Fatal(err)
	}
	defer closeRT()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := rt.Execute(ctx, src); err != nil {
		t.Fatalf("%s\n%s", scriptFailure(err), src)
	}
	return out.String()
}

// The generated manifests (YAML mode, CRD included) and the generated
// scripts (script mode) are accepted by a real kube-apiserver.
func TestGenArtifactsApplyToCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test (real kube-apiserver) skipped in -short mode")
	}
	t.Setenv("KUBECONFIG", testenv.Kubeconfig(t))
	sfx := fmt.Sprintf("%06d", rand.IntN(1000000))
	dir := t.TempDir()
	ns, ns2, name := "kite-gen-"+sfx, "kite-gen-script-"+sfx, "gen-"+sfx
	group := "g" + sfx + ".example.io"
	t.Cleanup(func() {
		script(t, fmt.Sprintf(`
for kind, n in [("namespace", %[1]q), ("namespace", %[2]q), ("clusterrole", %[3]q), ("clusterrolebinding", %[3]q),
                ("customresourcedefinitions", "backups.%[4]s"), ("validatingwebhookconfigurations", %[3]q)]:
    k8s.try_delete(kind, n)
`, ns, ns2, name, group))
	})
	os.WriteFile(filepath.Join(dir, "crd.star"), []byte(fmt.Sprintf(
		`print(k8s.yaml(k8s.obj.crd(%q, "v1", "Backup", "backups", spec={"schedule": {"type": "string"}})))`, group)), 0o644)

	// YAML mode, applied as one multi-document manifest.
	out, _, err := kube(t, dir, "gen-controller-artifacts", "--controller", name+".star", "--resource", "crd.star",
		"--image", "reg/c:1", "--namespace", ns)
	if err != nil {
		t.Fatal(err)
	}
	got := script(t, fmt.Sprintf(`
objs = k8s.apply(%q)
print(len(objs))
d = k8s.get("deploy", %q, namespace=%q)
print(d["spec"]["template"]["spec"]["serviceAccountName"], k8s.get("clusterrolebinding", %q)["roleRef"]["name"])
`, out, name, ns, name))
	if got != "6\n"+name+" "+name+"\n" {
		t.Fatalf("applied controller manifests: %q", got)
	}

	// Webhook YAML with a rule on a resource nobody uses (the placeholder
	// service must not block other tests' requests).
	out, _, err = kube(t, dir, "gen-webhook-artifacts", "--name", name, "--image", "reg/w:1", "--namespace", ns,
		"--rule", "group="+group+" resource=things")
	if err != nil {
		t.Fatal(err)
	}
	got = script(t, fmt.Sprintf(`
objs = k8s.apply(%q)
print([o["kind"] for o in objs])
print(k8s.get("validatingwebhookconfigurations", %q)["webhooks"][0]["clientConfig"]["service"]["name"])
`, out, name))
	if got != `["Namespace", "ServiceAccount", "Deployment", "Service", "Secret", "ValidatingWebhookConfiguration"]`+"\n"+name+"\n" {
		t.Fatalf("applied webhook manifests: %q", got)
	}

	// Script modes: the generated programs run and create their objects.
	for _, args := range [][]string{
		{"gen-controller-artifacts", "--controller", name + ".star", "--image", "reg/c:2", "--namespace", ns2, "--output", "script"},
		{"gen-webhook-artifacts", "--name", name + "-wh", "--image", "reg/w:2", "--namespace", ns2, "--output", "script"},
	} {
		prog, _, err := kube(t, dir, args...)
		if err != nil {
			t.Fatal(err)
		}
		if got := script(t, prog); !strings.Contains(got, "applied to namespace "+ns2) {
			t.Fatalf("%s script printed %q", args[0], got)
		}
	}
	got = script(t, fmt.Sprintf(`
print(k8s.get("deploy", %[1]q, namespace=%[2]q)["spec"]["template"]["spec"]["containers"][0]["image"])
print(k8s.get("service", %[1]q + "-wh", namespace=%[2]q)["spec"]["ports"][0]["targetPort"])
`, name, ns2))
	if got != "reg/c:2\n9443\n" {
		t.Fatalf("script-mode objects: %q", got)
	}
}
