package inventory_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/concur"
	"github.com/project-starkite/starkite/libkite/modules/fs"
	"github.com/project-starkite/starkite/libkite/modules/inventory"
	"github.com/project-starkite/starkite/libkite/modules/vars"
)

var kit = kitetest.Modules{inventory.New}

const fleetYAML = `
- name: web1
  address: 10.0.0.1
  env: prod
  cpu: 8
  tags: [a, b]
  ok: true
- name: web2
  address: 10.0.0.2
  env: staging
  cpu: 4
  ok: false
- name: db1
  address: 10.0.0.3
  env: prod
  cpu: 16.0
  meta: {rack: r1}
- name: nohost
  env: dev
`

// fixture writes content to a fresh temp file and returns a Starlark
// statement binding inv to inventory.file(path).
func fixture(t testing.TB, name, content string) (path, pre string) {
	path = kitetest.WriteFile(t, filepath.Join(kitetest.TempDir(t), name), content)
	return path, "inv = inventory.file(" + kitetest.Lit(path) + ")"
}

func TestFile(t *testing.T) {
	dir := kitetest.TempDir(t)
	write := func(name, content string) string {
		return kitetest.Lit(kitetest.WriteFile(t, filepath.Join(dir, name), content))
	}
	list := write("list.yaml", fleetYAML)
	groups := write("groups.yaml", "web:\n  - name: w1\n  - name: w2\n    _group: old\ndb:\n  - name: d1\nempty:\n")
	jsonList := write("list.json", `[{"name": "a", "port": 80, "ratio": 0.5, "up": true, "x": null}, {"name": "b"}]`)
	jsonGroups := write("groups.json", "{\n\t\"web\": [{\"name\": \"w1\"}],\n\t\"db\": [{\"name\": \"d1\"}]\n}")
	empty := write("empty.yaml", "")
	nullItem := write("null.yaml", "- \n- name: x\n")
	intKeys := write("keys.yaml", "- 1: one\n  true: yes\n")
	mapping := write("mapping.yaml", "key: value\n")
	scalars := write("scalars.yaml", "- a\n- b\n")
	broken := write("broken.yaml", "[a, b\n")
	scalar := write("scalar.yaml", "42\n")
	// JSON that yaml.v3 refuses (an implicit key over 1024 characters,
	// duplicate keys) is read as JSON
	longKey := write("long.json", `[{"`+strings.Repeat("k", 1100)+`": 1, "name": "long"}]`)
	dupKeys := write("dup.json", `{"g": [{"a": 1, "a": 2.0}]}`)
	dupBad := write("dupbad.json", `[{"a": 1, "a": 2}, 3]`)
	// documents outside the plain shapes take the reference's yaml.v3 path
	nullKey := write("nullkey.yaml", "- ~: x\n  name: b\n")
	complexKey := write("complex.yaml", "- name: a\n  ? [x, y]\n  : z\n")
	emptyMap := write("emptymap.yaml", "{}\n")
	intGroup := write("intgroup.yaml", "1:\n  - a: 1\n")
	badGroup := write("badgroup.yaml", "web: 3\n")
	oddGroups := write("oddgroups.yaml", "web:\n  - ~: x\n    name: w\n    port: 80\ndb:\n  - name: d\n")

	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "list", Expr: `[(h["name"], h.get("cpu")) for h in inventory.file(` + list + `).items]`,
			Want: `[("web1", 8), ("web2", 4), ("db1", 16.0), ("nohost", None)]`},
		{Name: "list keeps types", Expr: `inventory.file(` + list + `).items[0]`,
			Want: `{"name": "web1", "address": "10.0.0.1", "env": "prod", "cpu": 8, "tags": ["a", "b"], "ok": True}`},
		{Name: "path keyword", Expr: `inventory.file(path=` + list + `).count`, Want: `4`},
		{Name: "groups get _group", Expr: `[(h["name"], h["_group"]) for h in inventory.file(` + groups + `).items]`,
			Want: `[("w1", "web"), ("w2", "web"), ("d1", "db")]`},
		{Name: "json list", Expr: `inventory.file(` + jsonList + `).items`,
			Want: `[{"name": "a", "port": 80, "ratio": 0.5, "up": True, "x": None}, {"name": "b"}]`},
		{Name: "json groups with tabs", Expr: `[(h["name"], h["_group"]) for h in inventory.file(` + jsonGroups + `).items]`,
			Want: `[("w1", "web"), ("d1", "db")]`},
		{Name: "empty file", Expr: `inventory.file(` + empty + `).count`, Want: `0`},
		{Name: "null item is empty", Expr: `inventory.file(` + nullItem + `).items`, Want: `[{}, {"name": "x"}]`},
		{Name: "keys become strings", Expr: `inventory.file(` + intKeys + `).items`, Want: `[{"1": "one", "true": "yes"}]`},
		{Name: "plain mapping", Expr: `inventory.file(` + mapping + `)`,
			Err: "failed to parse inventory file: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!map into []map[string]interface {}"},
		{Name: "list of scalars", Expr: `inventory.file(` + scalars + `)`,
			Err: "failed to parse inventory file: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `a` into map[string]interface {}\n  line 2: cannot unmarshal !!str `b` into map[string]interface {}"},
		{Name: "syntax error", Expr: `inventory.file(` + broken + `)`, Err: "failed to parse inventory file: yaml: line 1: did not find expected ',' or ']'"},
		{Name: "scalar document", Expr: `inventory.file(` + scalar + `)`,
			Err: "failed to parse inventory file: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!int `42` into []map[string]interface {}"},
		{Name: "long JSON key", Expr: `inventory.file(` + longKey + `).items[0]["name"]`, Want: `long`},
		{Name: "JSON duplicate keys", Expr: `inventory.file(` + dupKeys + `).items`, Want: `[{"a": 2, "_group": "g"}]`},
		{Name: "JSON of another shape", Expr: `inventory.file(` + dupBad + `)`,
			Err: "failed to parse inventory file: yaml: unmarshal errors:\n  line 1: mapping key \"a\" already defined at line 1\n  line 1: cannot unmarshal !!int `3` into map[string]interface {}"},
		{Name: "null key dropped", Expr: `inventory.file(` + nullKey + `).items`, Want: `[{"name": "b"}]`},
		{Name: "complex key", Expr: `inventory.file(` + complexKey + `)`,
			Err: "failed to parse inventory file: yaml: unmarshal errors:\n  line 2: cannot unmarshal !!seq into string"},
		{Name: "groups on the reference path", Expr: `inventory.file(` + oddGroups + `).items`,
			Want: `[{"name": "d", "_group": "db"}, {"name": "w", "port": 80, "_group": "web"}]`},
		{Name: "empty mapping", Expr: `inventory.file(` + emptyMap + `).count`, Want: `0`},
		{Name: "int group name", Expr: `inventory.file(` + intGroup + `).items`, Want: `[{"a": 1, "_group": "1"}]`},
		{Name: "group not a list", Expr: `inventory.file(` + badGroup + `)`,
			Err: "failed to parse inventory file: yaml: unmarshal errors:\n  line 1: cannot unmarshal !!map into []map[string]interface {}"},
		{Name: "missing file", Expr: `inventory.file("kite-no-such-inventory.yaml")`, Err: `open kite-no-such-inventory.yaml: no such file or directory`},
		{Name: "directory", Expr: `inventory.file(` + kitetest.Lit(dir) + `)`, Err: `read ` + dir + `: is a directory`},
		{Name: "missing path", Expr: `inventory.file()`, Err: `inventory.file: missing required argument: path`},
		{Name: "path type", Expr: `inventory.file(1)`, Err: `inventory.file: for parameter path: got int, want string`},
	})
}

func TestInventoryValue(t *testing.T) {
	_, pre := fixture(t, "fleet.yaml", fleetYAML)
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "type", Pre: pre, Expr: `type(inv)`, Want: `inventory`},
		{Name: "str", Pre: pre, Expr: `str(inv)`, Want: `<inventory 4 items>`},
		{Name: "dir", Pre: pre, Expr: `dir(inv)`, Want: `["count", "items"]`},
		{Name: "count", Pre: pre, Expr: `inv.count`, Want: `4`},
		{Name: "truthy", Pre: pre, Expr: `bool(inv)`, Want: `True`},
		{Name: "empty falsy", Expr: `bool(inventory.merge())`, Want: `False`},
		{Name: "items are copies", Pre: pre + "\nitems = inv.items\nitems[0][\"name\"] = \"changed\"\nitems[0][\"tags\"].append(\"c\")\nitems.append({})",
			Expr: `(inv.count, inv.items[0]["name"], inv.items[0]["tags"])`, Want: `(4, "web1", ["a", "b"])`},
		{Name: "items mutable", Pre: pre + "\nh = inv.items[0]\nh[\"x\"] = 1", Expr: `h["x"]`, Want: `1`},
		{Name: "unhashable", Pre: pre, Expr: `{inv: 1}`, Err: `unhashable type: inventory`},
		{Name: "unknown attr", Pre: pre, Expr: `inv.nope`, Err: `inventory has no .nope field or method`},
		{Name: "dir(inventory)", Expr: `dir(inventory)`, Want: `["addresses", "file", "filter", "group_by", "list", "merge"]`},
		{Name: "no try_", Expr: `hasattr(inventory, "try_file")`, Want: `False`},
	})
}

func TestList(t *testing.T) {
	_, pre := fixture(t, "fleet.yaml", fleetYAML)
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "list", Pre: pre, Expr: `[h["name"] for h in inventory.list(inv)]`, Want: `["web1", "web2", "db1", "nohost"]`},
		{Name: "same as items", Pre: pre, Expr: `inventory.list(inventory=inv) == inv.items`, Want: `True`},
		{Name: "copies", Pre: pre + "\nl = inventory.list(inv)\nl[0][\"name\"] = \"x\"", Expr: `inv.items[0]["name"]`, Want: `web1`},
		{Name: "wrong type", Expr: `inventory.list([])`, Err: `inventory.list: for parameter inventory: got list, want inventory`},
		{Name: "missing", Expr: `inventory.list()`, Err: `inventory.list: missing argument for inventory`},
	})
}

func TestFilter(t *testing.T) {
	_, pre := fixture(t, "fleet.yaml", fleetYAML)
	names := func(expr string) string { return `[h["name"] for h in ` + expr + `.items]` }
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "copy of all", Pre: pre, Expr: names(`inventory.filter(inv)`), Want: `["web1", "web2", "db1", "nohost"]`},
		{Name: "predicate", Pre: pre, Expr: names(`inventory.filter(inv, lambda h: h.get("cpu", 0) >= 8)`), Want: `["web1", "db1"]`},
		{Name: "predicate truthiness", Pre: pre, Expr: names(`inventory.filter(inv, lambda h: h.get("tags"))`), Want: `["web1"]`},
		{Name: "predicate ignores keywords", Pre: pre, Expr: names(`inventory.filter(inv, lambda h: True, env="prod")`), Want: `["web1", "web2", "db1", "nohost"]`},
		{Name: "predicate gets a copy", Pre: pre + "\ndef p(h):\n    h[\"name\"] = \"x\"\n    return True",
			Expr: names(`inventory.filter(inv, p)`), Want: `["web1", "web2", "db1", "nohost"]`},
		{Name: "predicate error propagates", Pre: pre, Expr: `inventory.filter(inv, lambda h: fail("pred: " + h["name"]))`, Err: `pred: web1`},
		{Name: "predicate error type", Pre: pre, Expr: `inventory.filter(inv, lambda h: h["missing"])`, Err: `key "missing" not in dict`},
		{Name: "string match", Pre: pre, Expr: names(`inventory.filter(inv, env="prod")`), Want: `["web1", "db1"]`},
		{Name: "several keys", Pre: pre, Expr: names(`inventory.filter(inv, env="prod", name="db1")`), Want: `["db1"]`},
		{Name: "bool match", Pre: pre, Expr: names(`inventory.filter(inv, ok=False)`), Want: `["web2"]`},
		{Name: "int matches int (fixed)", Pre: pre, Expr: names(`inventory.filter(inv, cpu=8)`), Want: `["web1"]`},
		{Name: "int matches float", Pre: pre, Expr: names(`inventory.filter(inv, cpu=16)`), Want: `["db1"]`},
		{Name: "list value (fixed)", Pre: pre, Expr: names(`inventory.filter(inv, tags=["a", "b"])`), Want: `["web1"]`},
		{Name: "dict value (fixed)", Pre: pre, Expr: names(`inventory.filter(inv, meta={"rack": "r1"})`), Want: `["db1"]`},
		{Name: "None value", Pre: pre, Expr: names(`inventory.filter(inv, address=None)`), Want: `[]`},
		{Name: "missing key never matches", Pre: pre, Expr: names(`inventory.filter(inv, nope="x")`), Want: `[]`},
		{Name: "func= is the predicate", Pre: pre, Expr: names(`inventory.filter(inv, func=lambda h: h["env"] == "dev")`), Want: `["nohost"]`},
		{Name: "func= with other keys ignores them", Pre: pre, Expr: names(`inventory.filter(inv, env="prod", func=lambda h: h["env"] == "dev")`), Want: `["nohost"]`},
		{Name: "non-callable func= is a key", Pre: pre, Expr: names(`inventory.filter(inv, func="x")`), Want: `[]`},
		{Name: "result is an inventory", Pre: pre, Expr: `str(inventory.filter(inv, env="prod"))`, Want: `<inventory 2 items>`},
		{Name: "no arguments", Expr: `inventory.filter()`, Err: `filter requires at least an inventory argument`},
		{Name: "first argument", Expr: `inventory.filter([])`, Err: `first argument must be an inventory`},
		{Name: "second argument", Pre: pre, Expr: `inventory.filter(inv, "env")`, Err: `second argument must be a callable`},
		{Name: "third argument", Pre: pre, Expr: `inventory.filter(inv, len, len)`, Err: `inventory.filter: unexpected positional argument at index 2`},
	})
}

func TestGroupBy(t *testing.T) {
	_, pre := fixture(t, "fleet.yaml", fleetYAML)
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "groups", Pre: pre, Expr: `{k: [h["name"] for h in g.items] for k, g in inventory.group_by(inv, "env").items()}`,
			Want: `{"prod": ["web1", "db1"], "staging": ["web2"], "dev": ["nohost"]}`},
		{Name: "values are inventories", Pre: pre, Expr: `[type(g) for g in inventory.group_by(inv, "env").values()]`,
			Want: `["inventory", "inventory", "inventory"]`},
		{Name: "numbers as text, missing key in \"\"", Pre: pre, Expr: `{k: g.count for k, g in inventory.group_by(inventory=inv, key="cpu").items()}`,
			Want: `{"8": 1, "4": 1, "16": 1, "": 1}`},
		{Name: "bools as text", Pre: pre, Expr: `sorted(inventory.group_by(inv, "ok").keys())`, Want: `["", "false", "true"]`},
		{Name: "lists as text", Pre: pre, Expr: `sorted(inventory.group_by(inv, "tags").keys())`, Want: `["", "[a b]"]`},
		{Name: "empty", Expr: `inventory.group_by(inventory.merge(), "x")`, Want: `{}`},
		{Name: "missing key", Pre: pre, Expr: `inventory.group_by(inv)`, Err: `inventory.group_by: missing argument for key`},
		{Name: "key type", Pre: pre, Expr: `inventory.group_by(inv, 1)`, Err: `inventory.group_by: for parameter key: got int, want string`},
		{Name: "inventory type", Expr: `inventory.group_by({}, "k")`, Err: `inventory.group_by: for parameter inventory: got dict, want inventory`},
	})
}

func TestMergeAndAddresses(t *testing.T) {
	_, pre := fixture(t, "fleet.yaml", fleetYAML)
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "merge", Pre: pre, Expr: `[h["name"] for h in inventory.merge(inventory.filter(inv, env="staging"), inv).items]`,
			Want: `["web2", "web1", "web2", "db1", "nohost"]`},
		{Name: "merge none", Expr: `str(inventory.merge())`, Want: `<inventory 0 items>`},
		{Name: "merge one", Pre: pre, Expr: `inventory.merge(inv).count`, Want: `4`},
		{Name: "merge error", Pre: pre, Expr: `inventory.merge(inv, [])`, Err: `all arguments must be inventories`},
		{Name: "merge keyword", Pre: pre, Expr: `inventory.merge(x=inv)`, Err: `inventory.merge: unknown keyword argument: x`},
		{Name: "addresses", Pre: pre, Expr: `inventory.addresses(inv)`, Want: `["10.0.0.1", "10.0.0.2", "10.0.0.3"]`},
		{Name: "addresses key", Pre: pre, Expr: `inventory.addresses(inv, "cpu")`, Want: `[8, 4, 16.0]`},
		{Name: "addresses key keyword", Pre: pre, Expr: `inventory.addresses(inventory=inv, key="tags")`, Want: `[["a", "b"]]`},
		{Name: "addresses copies", Pre: pre + "\na = inventory.addresses(inv, \"tags\")\na[0].append(\"z\")", Expr: `inventory.addresses(inv, "tags")`, Want: `[["a", "b"]]`},
		{Name: "addresses type", Expr: `inventory.addresses(1)`, Err: `inventory.addresses: for parameter inventory: got int, want inventory`},
		{Name: "addresses key type", Pre: pre, Expr: `inventory.addresses(inv, 1)`, Err: `inventory.addresses: for parameter key: got int, want string`},
	})
}

// TestPermissions: inventory.file is an fs.read of its (canonical) path;
// nothing else is gated.
func TestPermissions(t *testing.T) {
	path, _ := fixture(t, "fleet.yaml", fleetYAML)
	dir := filepath.Dir(path)
	expr := `inventory.file(` + kitetest.Lit(path) + `).count`
	kitetest.RunPermCases(t, func(t testing.TB, cfg *libkite.Config) *libkite.Runtime { return kit.Runtime(t, cfg) }, []kitetest.PermCase{
		{Name: "deny-all", Cfg: &libkite.Config{Permissions: libkite.DenyAllPermissions()}, Expr: expr,
			ErrPrefix: kitetest.Denied("fs.read", "read_file", path)},
		{Name: "allow-all", Cfg: &libkite.Config{Permissions: libkite.AllowAllPermissions()}, Expr: expr, Want: "4"},
		{Name: "trusted", Cfg: nil, Expr: expr, Want: "4"},
		{Name: "allowed directory", Cfg: &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"fs.read(" + dir + "/*)"}}},
			Expr: expr, Want: "4"},
		{Name: "other directory", Cfg: &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"fs.read(/nowhere/*)"}}},
			Expr: expr, ErrPrefix: kitetest.Denied("fs.read", "read_file", path)},
		{Name: "deny rule", Cfg: &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"fs.read"}, Deny: []string{"fs.read(" + dir + "/*)"}}},
			Expr: expr, ErrHas: []string{`fs.read read_file(` + kitetest.Lit(path) + `)`, "blocked by deny rule"}},
		{Name: "relative path checked canonically", Cfg: &libkite.Config{Permissions: libkite.DenyAllPermissions()},
			Expr: `inventory.file("` + filepath.Join(dir, "..", filepath.Base(dir), "fleet.yaml") + `")`, ErrPrefix: kitetest.Denied("fs.read", "read_file", path)},
		{Name: "compute-only functions ungated", Cfg: &libkite.Config{Permissions: libkite.DenyAllPermissions()},
			Expr: `(inventory.merge().count, inventory.filter(inventory.merge()).count, inventory.group_by(inventory.merge(), "k"), inventory.addresses(inventory.merge()))`,
			Want: `(0, 0, {}, [])`},
	}, nil)

	// the denial happens before the read: an unreadable file would fail
	// differently
	if err := os.Chmod(path, 0); err == nil && os.Getuid() != 0 {
		rt := kit.Runtime(t, &libkite.Config{Permissions: libkite.DenyAllPermissions()})
		if _, msg, err := kitetest.Eval(rt, "", expr); !libkite.IsPermissionError(err) {
			t.Fatalf("unreadable file: %s", msg)
		}
	}
}

// TestDryRun: reading an inventory is not a side effect; dry-run reads.
func TestDryRun(t *testing.T) {
	path, _ := fixture(t, "fleet.yaml", fleetYAML)
	got, msg, _ := kit.Eval(t, &libkite.Config{DryRun: true}, "", `inventory.file(`+kitetest.Lit(path)+`).count`)
	if msg != "" || got != "4" {
		t.Fatalf("%s (%s)", got, msg)
	}
}

// TestConcurrentUse: one inventory shared by many threads (concur
// workers) is read race-free.
func TestConcurrentUse(t *testing.T) {
	_, pre := fixture(t, "fleet.yaml", fleetYAML)
	rt := kitetest.Modules{inventory.New, concur.New}.Runtime(t, nil)
	got, msg, _ := kitetest.Eval(rt, pre,
		`concur.map(range(64), lambda i: (inventory.filter(inv, env="prod").count, len(inv.items), len(inventory.group_by(inv, "env")), inventory.addresses(inv)[0]), workers=8)[63]`)
	if msg != "" || got != `(2, 4, 3, "10.0.0.1")` {
		t.Fatalf("%s (%s)", got, msg)
	}
	inv, err := inventory.Parse([]byte(fleetYAML))
	if err != nil {
		t.Fatal(err)
	}
	filter := mustMember(t, "filter")
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			thread := &starlark.Thread{}
			v, _ := inv.Attr("items")
			if v.(*starlark.List).Len() != 4 {
				t.Error("items")
			}
			got, err := starlark.Call(thread, filter, starlark.Tuple{inv}, []starlark.Tuple{{starlark.String("env"), starlark.String("prod")}})
			if err != nil || got.String() != "<inventory 2 items>" {
				t.Errorf("filter = %v, %v", got, err)
			}
		}()
	}
	wg.Wait()
}

func mustMember(t testing.TB, name string) starlark.Value {
	d, err := inventory.New().Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := d["inventory"].(starlark.HasAttrs).Attr(name)
	if err != nil || v == nil {
		t.Fatalf("inventory.%s: %v", name, err)
	}
	return v
}

func TestNewInventory(t *testing.T) {
	d := starlark.NewDict(1)
	_ = d.SetKey(starlark.String("name"), starlark.String("a"))
	inv, err := inventory.NewInventory([]starlark.Value{d})
	if err != nil || inv.Len() != 1 || inv.String() != "<inventory 1 items>" {
		t.Fatalf("%v %v", inv, err)
	}
	_ = d.SetKey(starlark.String("name"), starlark.String("changed"))
	items, _ := inv.Attr("items")
	if !strings.Contains(items.String(), `"a"`) {
		t.Fatalf("NewInventory kept a reference: %s", items)
	}
	if _, err := inventory.NewInventory([]starlark.Value{starlark.MakeInt(1)}); err == nil || err.Error() != "item 0: got int, want dict" {
		t.Fatalf("err = %v", err)
	}
}

func TestModule(t *testing.T) {
	m := inventory.New()
	if m.Name() != "inventory" || m.Description() == "" || len(m.Aliases()) != 0 {
		t.Fatal("module metadata")
	}
}

// TestConformance runs tests/inventory_test.star, which writes its
// fixtures with fs's write_text and observes errors through concur.try_exec.
func TestConformance(t *testing.T) {
	dir := kitetest.TempDir(t)
	conf := kitetest.Modules{inventory.New, concur.New, fs.New, vars.New}
	kitetest.RunSuite(t, func(t testing.TB, cfg *libkite.Config) *libkite.Runtime {
		cfg.VarStore = libkite.MapVarStore{"inventory_test_dir": dir}
		return conf.Runtime(t, cfg)
	}, filepath.Join("..", "..", "..", "tests", "inventory_test.star"), 10)
}
