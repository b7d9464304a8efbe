package varstore

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestSnapshotRoundTrip(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("config:\n  region: eu\n  replicas: 3\n  ratio: 0.5\n  providers:\n    aws: {profile: dev}\npermissions:\n  ci: {allow: [\"fs.read(*)\"]}\nsandbox:\n  default: net-access\n"), 0o644)
	v := New()
	v.LoadFromEnviron([]string{"STARKITE_VAR_DB_HOST=db1"})
	if err := v.LoadConfigFile(cfg); err != nil {
		t.Fatal(err)
	}
	if err := v.LoadFromCLI([]string{"replicas=5", "debug=true", "tags=[a, b]"}); err != nil {
		t.Fatal(err)
	}
	data, err := v.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	got, err := FromSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.All(), v.All()) {
		t.Errorf("All():\n got %#v\nwant %#v", got.All(), v.All())
	}
	for _, k := range v.Keys() {
		if got.Source(k) != v.Source(k) {
			t.Errorf("Source(%q) = %v, want %v", k, got.Source(k), v.Source(k))
		}
	}
	if n, _ := got.Get("replicas"); n != v.GetWithDefault("replicas", nil) {
		t.Errorf("replicas = %#v (%T)", n, n)
	}
	if !reflect.DeepEqual(got.GetAllProviderDefaults(), v.GetAllProviderDefaults()) {
		t.Errorf("providers: got %v want %v", got.GetAllProviderDefaults(), v.GetAllProviderDefaults())
	}
	gp, gf := got.GetPermissions()
	wp, wf := v.GetPermissions()
	if !reflect.DeepEqual(gp, wp) || gf != wf {
		t.Errorf("permissions: got %v %q want %v %q", gp, gf, wp, wf)
	}
	if !reflect.DeepEqual(got.GetSandbox(), v.GetSandbox()) || !reflect.DeepEqual(got.GetConfigFiles(), v.GetConfigFiles()) {
		t.Errorf("sandbox/config files differ")
	}
	if _, err := FromSnapshot([]byte("cli: [")); err == nil {
		t.Error("corrupt snapshot accepted")
	}
}
