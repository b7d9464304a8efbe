package k8s

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// k8s.webhook called by a real kube-apiserver. Two scripts serve on
// 127.0.0.1: the spec-style webhook (validate denies ConfigMaps with a
// "forbidden" data key, mutate adds an owner label) behind a
// MutatingWebhookConfiguration, and a validate-only webhook behind a
// ValidatingWebhookConfiguration that sees the mutated object and denies
// owner=blocked. Both configurations are scoped to the test namespace.
func TestWebhookIntegrationAPIServer(t *testing.T) {
	c := newCluster(t)
	w := newWebhookTLS(t)

	mutating := startWebhook(t, c.runtime(t, nil), w, fmt.Sprintf(`
def deny_forbidden(obj):
    if obj.data and "forbidden" in obj.data:
        return {"allowed": False, "message": "configmap %%s: key 'forbidden' is not allowed" %% obj.metadata.name}
    return {"allowed": True}

def add_owner(obj):
    labels = obj["metadata"]["labels"]          # assumes the object carries labels
    labels["owner"] = labels["team"] if "team" in labels else "unknown"
    return obj

k8s.webhook("/admit", validate=deny_forbidden, mutate=add_owner, port=0,
            tls_cert=%q, tls_key=%q)
`, w.certFile, w.keyFile))
	validating := startWebhook(t, c.runtime(t, nil), w, fmt.Sprintf(`
def check_owner(obj):
    owner = obj.metadata.labels.get("owner")
    if owner == None:
        return {"allowed": False, "message": "configmap %%s has no owner label" %% obj.metadata.name}
    if owner == "blocked":
        return {"allowed": False, "message": "owner blocked may not create configmaps"}
    return {"allowed": True}

k8s.webhook("/validate", validate=check_owner, port=0, tls_cert=%q, tls_key=%q)
`, w.certFile, w.keyFile))

	vName, mName := "v-"+c.suffix+".kite.test", "m-"+c.suffix+".kite.test"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, cfg := range []struct {
		resource, kind, name string
		port                 int
		path                 string
	}{
		{"validatingwebhookconfigurations", "ValidatingWebhookConfiguration", vName, validating.port, "/validate"},
		{"mutatingwebhookconfigurations", "MutatingWebhookConfiguration", mName, mutating.port, "/admit"},
	} {
		res := c.admin.dyn.Resource(schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: cfg.resource})
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "admissionregistration.k8s.io/v1", "kind": cfg.kind,
			"metadata": map[string]any{"name": cfg.name},
			"webhooks": []any{map[string]any{
				"name": cfg.name,
				"clientConfig": map[string]any{
					"url":      fmt.Sprintf("https://127.0.0.1:%d%s", cfg.port, cfg.path),
					"caBundle": base64.StdEncoding.EncodeToString(w.caPEM),
				},
				"rules": []any{map[string]any{
					"apiGroups": []any{""}, "apiVersions": []any{"v1"}, "resources": []any{"configmaps"},
					"operations": []any{"CREATE", "UPDATE"}, "scope": "Namespaced",
				}},
				"namespaceSelector":       map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": c.ns}},
				"sideEffects":             "None",
				"admissionReviewVersions": []any{"v1"},
				"failurePolicy":           "Fail",
				"timeoutSeconds":          int64(5),
			}},
		}}
		if _, err := res.Create(ctx, u, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating %s: %v", cfg.kind, err)
		}
		name := cfg.name
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = res.Delete(ctx, name, metav1.DeleteOptions{})
		})
	}

	cms := c.admin.dyn.Resource(gvrConfigMaps).Namespace(c.ns)
	cm := func(name string, labels, data map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": name, "labels": labels}, "data": data}}
	}
	// create returns the stored object, or the error (anything created
	// while probing is deleted again).
	create := func(o *unstructured.Unstructured, keep bool) (*unstructured.Unstructured, error) {
		got, err := cms.Create(ctx, o, metav1.CreateOptions{})
		if err == nil && !keep {
			_ = cms.Delete(ctx, o.GetName(), metav1.DeleteOptions{})
		}
		return got, err
	}

	// Wait (poll) until both configurations are in effect.
	deadline := time.Now().Add(60 * time.Second)
	for i := 0; ; i++ {
		if time.Now().After(deadline) {
			t.Fatal("the webhook configurations did not take effect within 60s")
		}
		p := fmt.Sprintf("probe-%d", i)
		_, errForbidden := create(cm(p+"-f", map[string]any{"p": "1"}, map[string]any{"forbidden": "x"}), false)
		_, errBlocked := create(cm(p+"-b", map[string]any{"team": "blocked"}, nil), false)
		ok, errOK := create(cm(p+"-ok", map[string]any{"p": "1"}, nil), false)
		if errOK != nil {
			t.Fatalf("an acceptable probe was rejected: %v", errOK)
		}
		if errForbidden != nil && errBlocked != nil && ok.GetLabels()["owner"] == "unknown" {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}

	// Denied by the mutating configuration's webhook (validate runs first).
	_, err := create(cm("bad", map[string]any{"team": "payments"}, map[string]any{"forbidden": "yes"}), true)
	if want := fmt.Sprintf("admission webhook %q denied the request: configmap bad: key 'forbidden' is not allowed", mName); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want it to contain %q", err, want)
	}
	if _, err := cms.Get(ctx, "bad", metav1.GetOptions{}); err == nil {
		t.Fatal("the forbidden ConfigMap was stored")
	}

	// Mutated, then denied by the validating configuration's webhook,
	// which saw the owner label the mutation added.
	_, err = create(cm("blocked", map[string]any{"team": "blocked"}, map[string]any{"k": "v"}), true)
	if want := fmt.Sprintf("admission webhook %q denied the request: owner blocked may not create configmaps", vName); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want it to contain %q", err, want)
	}

	// Admitted and stored with the mutated label.
	if _, err := create(cm("good", map[string]any{"team": "payments"}, map[string]any{"k": "v"}), true); err != nil {
		t.Fatalf("creating the acceptable ConfigMap: %v", err)
	}
	stored, err := cms.Get(ctx, "good", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l := stored.GetLabels(); len(l) != 2 || l["owner"] != "payments" || l["team"] != "payments" {
		t.Fatalf("stored labels = %v, want team=payments plus owner=payments", l)
	}

	// UPDATE goes through the webhooks too.
	stored.Object["data"] = map[string]any{"k": "v", "forbidden": "now"}
	if _, err := cms.Update(ctx, stored, metav1.UpdateOptions{}); err == nil || !strings.Contains(err.Error(), "configmap good: key 'forbidden' is not allowed") {
		t.Fatalf("update error = %v, want the script's denial", err)
	}

	// What a script sees: the denial through k8s.try_create, the label on
	// an admitted object.
	run(t, c.runtime(t, nil), `
r = k8s.try_create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "scripted", "labels": {"x": "y"}},
                    "data": {"forbidden": "1"}}, namespace=NS)
eq(r.ok, False)
has(r.error, "configmap scripted: key 'forbidden' is not allowed")
made = k8s.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "scripted", "labels": {"x": "y"}}}, namespace=NS)
eq(made["metadata"]["labels"], {"x": "y", "owner": "unknown"})
`)

	for _, s := range []*servingWebhook{mutating, validating} {
		if err := s.stop(); !errors.Is(err, context.Canceled) {
			t.Fatalf("webhook script ended with %v, want cancellation", err)
		}
	}
}
