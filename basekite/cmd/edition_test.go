package cmd

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// fakeEdition writes an executable standing in for an edition binary: it
// prints its name and arguments.
func fakeEdition(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kite"+name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho \""+name+" edition: $*\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEditionUseStatusRemove(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake edition binaries are shell scripts")
	}
	home := t.TempDir()
	run := func(args ...string) result {
		t.Helper()
		return runBin(t, invocation{args: args, home: home})
	}
	cfgPath := filepath.Join(home, ".starkite", "config.yaml")
	writeFile(t, home, ".starkite/config.yaml", "# my settings\nconfig:\n  region: eu\npermissions:\n  default: allow-fs\n")

	if res := run("edition", "status"); res.code != 0 || !strings.HasPrefix(res.stdout, "Current edition: base\nVersion:         "+testVersion+"\nBinary edition:  base\n\nInstalled editions:\n  * base\n") {
		t.Fatalf("status: %s", res)
	}
	cloud := fakeEdition(t, "cloud")
	res := run("edition", "use", "cloud", "--from", cloud)
	if res.code != 0 || res.stdout != "Installing cloud edition...\nSwitched to cloud edition.\n" {
		t.Fatalf("use cloud: %s", res)
	}
	cfg, _ := os.ReadFile(cfgPath)
	for _, want := range []string{"# my settings", "region: eu", "active_edition: cloud", "default: allow-fs"} {
		if !strings.Contains(string(cfg), want) {
			t.Errorf("config.yaml lacks %q:\n%s", want, cfg)
		}
	}
	// the base binary now hands every command but edition/update to cloud
	if res := run("exec", "print(1)"); res.code != 0 || res.stdout != "cloud edition: exec print(1)\n" {
		t.Fatalf("hand-off: %s", res)
	}
	if res := run("edition", "status"); !strings.Contains(res.stdout, "Current edition: cloud\n") || !strings.Contains(res.stdout, "  * cloud (") ||
		!strings.Contains(res.stdout, "\n    base\n") {
		t.Fatalf("status after use: %s", res)
	}
	if res := run("edition", "use", "cloud", "--from", cloud); res.code != 1 || !strings.Contains(res.stderr, `edition "cloud" already installed at `) {
		t.Fatalf("reinstall without --force: %s", res)
	}
	if res := run("edition", "use", "cloud", "--from", fakeEdition(t, "cloud2"), "--force"); res.code != 0 {
		t.Fatalf("--force: %s", res)
	}
	if res := run("exec", "x"); res.stdout != "cloud2 edition: exec x\n" {
		t.Fatalf("forced reinstall not used: %s", res)
	}
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"edition", "use", "gpu"}, `unknown edition: "gpu" (known editions: cloud, ai)`},
		{[]string{"edition", "remove", "base"}, "cannot remove the base edition"},
		{[]string{"edition", "remove", "ai"}, `edition "ai" is not installed`},
	} {
		if res := run(tc.args...); res.code != 1 || !strings.Contains(res.stderr, tc.err) {
			t.Errorf("%v: %s", tc.args, res)
		}
	}
	if res := run("edition", "remove", "cloud"); res.code != 0 || res.stdout != "Removed cloud edition.\n" {
		t.Fatalf("remove: %s", res)
	}
	cfg, _ = os.ReadFile(cfgPath)
	if strings.Contains(string(cfg), "active_edition") || !strings.Contains(string(cfg), "region: eu") || !strings.Contains(string(cfg), "# my settings") {
		t.Errorf("config.yaml after remove:\n%s", cfg)
	}
	if res := run("exec", "print(2)"); res.stdout != "2\n" {
		t.Fatalf("base after remove: %s", res)
	}
	if res := run("edition", "use", "base"); res.code != 0 || res.stdout != "Switched to base edition.\n" {
		t.Fatalf("use base: %s", res)
	}
}

// TestEditionDownload: `edition use` downloads the release asset named as
// the release pipeline publishes it, verifies checksums.txt and refuses a
// mismatch or a missing entry, leaving nothing installed.
func TestEditionDownload(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake edition binaries are shell scripts")
	}
	asset := "kiteai-" + runtime.GOOS + "-" + runtime.GOARCH
	body := []byte("#!/bin/sh\necho \"downloaded ai: $*\"\n")
	sum := sha256.Sum256(body)
	sums := map[string]string{
		"good":    hex.EncodeToString(sum[:]) + "  " + asset + "\n",
		"bad":     strings.Repeat("0", 64) + "  " + asset + "\n",
		"missing": hex.EncodeToString(sum[:]) + "  kitecloud-plan9-mips\n",
	}
	var hits []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, r.URL.Path)
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/") // <case>/v<version>/<file>
		if len(parts) != 3 || parts[1] != "v"+strings.TrimPrefix(testVersion, "v") {
			http.NotFound(w, r)
			return
		}
		switch parts[2] {
		case "checksums.txt":
			fmt.Fprint(w, sums[parts[0]])
		case asset:
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct{ name, err string }{
		{"bad", "checksum mismatch for " + asset},
		{"missing", "checksums.txt has no entry for " + asset},
		{"good", ""},
	} {
		home := t.TempDir()
		res := runBin(t, invocation{args: []string{"edition", "use", "ai"}, home: home,
			env: map[string]string{releaseBaseEnv: srv.URL + "/" + tc.name}})
		bin := filepath.Join(home, ".starkite", "editions", "ai", "kite")
		if tc.err != "" {
			if res.code != 1 || !strings.Contains(res.stderr, tc.err) {
				t.Errorf("%s: %s", tc.name, res)
			}
			if _, err := os.Stat(bin); err == nil {
				t.Errorf("%s: a refused download was installed", tc.name)
			}
			if entries, _ := os.ReadDir(filepath.Dir(bin)); len(entries) != 0 {
				t.Errorf("%s: left %v behind", tc.name, entries)
			}
			continue
		}
		if res.code != 0 || !strings.Contains(res.stdout, "Switched to ai edition.") || !strings.Contains(res.stderr, "downloading "+asset) {
			t.Fatalf("download: %s", res)
		}
		if fi, err := os.Stat(bin); err != nil || fi.Mode().Perm()&0o111 == 0 {
			t.Fatalf("installed binary: %v %v", fi, err)
		}
		if res := runBin(t, invocation{args: []string{"version"}, home: home}); res.stdout != "downloaded ai: version\n" {
			t.Fatalf("hand-off to the downloaded edition: %s", res)
		}
	}
}
