package k8s

import (
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

func attrDictFixture() map[string]any {
	return map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "team-a", "labels": map[string]any{"team": "blue"}},
		"spec": map[string]any{"replicas": int64(3), "template": map[string]any{"spec": map[string]any{
			"containers": []any{map[string]any{"name": "web", "image": "nginx:latest"}}}}},
	}
}

func TestAttrDict(t *testing.T) {
	f := newFake(t)
	with := func(t testing.TB) *libkite.Runtime {
		return f.runtime(t, &libkite.Config{Globals: map[string]any{"OBJ": NewAttrDict(attrDictFixture())}})
	}
	kitetest.RunCases(t, with, []kitetest.Case{
		{Name: "attr", Expr: `OBJ.metadata.name, OBJ.spec.replicas`, Want: `("web", 3)`},
		{Name: "missing is None", Expr: `OBJ.status, OBJ.spec.paused`, Want: `(None, None)`},
		{Name: "index", Expr: `OBJ["kind"]`, Want: `Deployment`},
		{Name: "index missing", Expr: `OBJ["status"]`, Err: `key "status" not in AttrDict`, ErrContains: true},
		{Name: "in", Expr: `"spec" in OBJ, "status" in OBJ`, Want: `(True, False)`},
		{Name: "list items are AttrDicts", Expr: `[c.image for c in OBJ.spec.template.spec.containers]`, Want: `["nginx:latest"]`},
		{Name: "type dir", Expr: `type(OBJ), dir(OBJ.metadata)`, Want: `("AttrDict", ["labels", "name", "namespace"])`},
		{Name: "truth", Expr: `bool(OBJ), bool(OBJ.metadata.labels), len(OBJ)`, Want: `(True, True, 4)`},
		{Name: "unhashable", Expr: `{OBJ: 1}`, Err: `unhashable type: AttrDict`},
		{Name: "get keys items", Expr: `OBJ.metadata.labels.get("team"), OBJ.metadata.labels.get("x", "d"), OBJ.metadata.keys(), OBJ.metadata.labels.items()`,
			Want: `("blue", "d", ["labels", "name", "namespace"], [("team", "blue")])`},
		{Name: "write through nested", Pre: `l = OBJ.metadata.labels
l["owner"] = "x"
OBJ.spec.replicas = 5`, Expr: `OBJ.metadata.labels.owner, OBJ["spec"]["replicas"], k8s.yaml(OBJ.metadata)`,
			Want: "(\"x\", 5, \"labels:\\n    owner: x\\n    team: blue\\nname: web\\nnamespace: team-a\\n\")"},
		{Name: "stored as data", Pre: `OBJ["extra"] = {"a": [1, OBJ.metadata.labels]}`, Expr: `OBJ.extra.a[1].team`, Want: `blue`},
		{Name: "iterate and dict", Expr: `[k for k in OBJ.metadata], dict(OBJ.metadata.labels)`, Want: `(["labels", "name", "namespace"], {"team": "blue"})`},
		{Name: "accepted as manifest", Expr: `k8s.create(OBJ)["metadata"]["name"]`, Want: `web`},
	})
}

// Writes through nested views reach the Go object the AttrDict was made
// from (controllers and webhooks diff or send that object).
func TestAttrDictWritesReachRoot(t *testing.T) {
	f := newFake(t)
	root := attrDictFixture()
	rt := f.runtime(t, &libkite.Config{Globals: map[string]any{"OBJ": NewAttrDict(root)}})
	if _, _, err := kitetest.Eval(rt, `OBJ.metadata.labels["owner"] = "x"
OBJ.spec.template.spec.containers[0]["image"] = "nginx:1.27"`, `1`); err != nil {
		t.Fatal(err)
	}
	if got := root["metadata"].(map[string]any)["labels"].(map[string]any)["owner"]; got != "x" {
		t.Fatalf("label owner = %v", got)
	}
	c := root["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0]
	if got := c.(map[string]any)["image"]; got != "nginx:1.27" {
		t.Fatalf("image = %v", got)
	}
}
