// Package wasmtest builds the WASM test plugin of package wasm
// (libkite/modules/wasm/testdata/plugin, a Go program compiled with
// GOOS=wasip1) for tests of any module: the wasm package's own and the
// CLI's `module install` tests. The plugin is built once per content of
// its sources, under os.UserCacheDir()/kite/wasm-testplugin/<hash>, and
// compiled machine code is kept beside it per wazero version, so repeated
// runs skip both builds. A failed build fails the test, never skips it.
package wasmtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
)

const wasmPkg = "github.com/project-starkite/starkite/libkite/modules/wasm"

var (
	buildOnce sync.Once
	builtWasm string
	buildErr  error
)

// CacheRoot is where the built plugin and compiled code are kept.
func CacheRoot() string {
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "kite", "wasm-testplugin")
}

// CompiledCache is the wazero compilation cache directory for tests
// (wasm.WithCacheDir). wazero cannot read its own version in a test
// binary, so the directory is keyed by the version the build info records.
func CompiledCache() string {
	v := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/tetratelabs/wazero" {
				v = d.Version
			}
		}
	}
	return filepath.Join(CacheRoot(), "compiled-"+v+"-"+runtime.GOARCH)
}

// Wasm returns the path of the built test plugin.
func Wasm(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() { builtWasm, buildErr = build() })
	if buildErr != nil {
		tb.Fatalf("building the WASM test plugin: %v", buildErr)
	}
	return builtWasm
}

// Manifest returns the test plugin's module.yaml.
func Manifest(tb testing.TB) string {
	tb.Helper()
	src, err := sourceDir()
	if err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(src, "testdata", "plugin", "module.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// PluginDir makes a plugin directory in a fresh temp dir: module.yaml is
// the test manifest with each old→new pair of edits applied (each must
// occur), beside a copy (a hard link when possible) of the built wasm.
func PluginDir(tb testing.TB, edits ...string) string {
	tb.Helper()
	text := Manifest(tb)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(text, edits[i]) {
			tb.Fatalf("manifest edit: %q not found", edits[i])
		}
		text = strings.Replace(text, edits[i], edits[i+1], 1)
	}
	dir := tb.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "module.yaml"), []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
	dst := filepath.Join(dir, "textplug.wasm")
	if err := os.Link(Wasm(tb), dst); err != nil {
		data, err := os.ReadFile(Wasm(tb))
		if err == nil {
			err = os.WriteFile(dst, data, 0o644)
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

var (
	srcOnce sync.Once
	srcDir  string
	srcErr  error
)

// sourceDir is package wasm's directory, asked of the go command so it
// works from any test's working directory (and with -trimpath).
func sourceDir() (string, error) {
	srcOnce.Do(func() {
		out, err := exec.Command(goBin(), "list", "-f", "{{.Dir}}", wasmPkg).Output()
		if err != nil {
			srcErr = fmt.Errorf("locating %s: %w", wasmPkg, err)
			return
		}
		srcDir = strings.TrimSpace(string(out))
	})
	return srcDir, srcErr
}

func goBin() string { return filepath.Join(runtime.GOROOT(), "bin", "go") }

func build() (string, error) {
	src, err := sourceDir()
	if err != nil {
		return "", err
	}
	var files []string
	for _, pattern := range []string{"testdata/plugin/*", "guest/*.go"} {
		m, err := filepath.Glob(filepath.Join(src, pattern))
		if err != nil {
			return "", err
		}
		files = append(files, m...)
	}
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(src, f)
		fmt.Fprintf(h, "%s %d\n", rel, len(data))
		h.Write(data)
	}
	dir := filepath.Join(CacheRoot(), hex.EncodeToString(h.Sum(nil))[:16])
	out := filepath.Join(dir, "textplug.wasm")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp := fmt.Sprintf("%s.%d.tmp", out, os.Getpid())
	cmd := exec.Command(goBin(), "build", "-buildmode=c-shared", "-trimpath", "-o", tmp, ".")
	cmd.Dir = filepath.Join(src, "testdata", "plugin")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, msg)
	}
	return out, os.Rename(tmp, out)
}
