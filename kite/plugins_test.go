package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite/modules/wasm/wasmtest"
)

// pluginHome runs kite with HOME (and so ~/.starkite/modules) and the
// cache directory in a fresh directory.
type pluginHome struct {
	t    *testing.T
	home string
}

func (h pluginHome) kite(args ...string) (stdout, stderr string, code int) {
	h.t.Helper()
	c := exec.Command(kiteBin, args...)
	c.Dir = h.home
	c.Env = append(os.Environ(), "HOME="+h.home, "XDG_CACHE_HOME="+filepath.Join(h.home, ".cache"))
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		h.t.Fatal(err)
	}
	return out.String(), errb.String(), c.ProcessState.ExitCode()
}

// TestWasmPlugins installs the WASM test plugin with `kite module
// install` and uses it from scripts: the all-in-one kite is the edition
// that links wazero.
func TestWasmPlugins(t *testing.T) {
	h := pluginHome{t: t, home: t.TempDir()}
	src := wasmtest.PluginDir(t)

	out, errOut, code := h.kite("module", "install", src, "--type", "wasm")
	if code != 0 || !strings.Contains(out, "Installed textplug (0.1.0) to "+filepath.Join(h.home, ".starkite", "modules", "textplug")) {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	out, _, _ = h.kite("module", "list")
	if !strings.Contains(out, "textplug  wasm  0.1.0") {
		t.Errorf("module list:\n%s", out)
	}
	out, _, _ = h.kite("module", "info", "textplug")
	for _, want := range []string{"Type:        wasm\n", "Memory:      64 MiB per instance\n", "  textplug.add(a int, b int) -> int\n", "Capabilities: read_file, env, http_request, write_file\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("module info lacks %q:\n%s", want, out)
		}
	}

	// a normal module: calls convert arguments both ways
	out, errOut, code = h.kite("exec", "--allow-all", `print(textplug.add(2, 3), textplug.upper("hi"), textplug.sum([1, 2]))`)
	if code != 0 || out != "5 HI 3.0\n" {
		t.Errorf("calls: exit %d, stdout %q\n%s", code, out, errOut)
	}
	// calling a plugin is permission-checked (module textplug, category wasm)
	_, errOut, code = h.kite("exec", "--allow-fs", `textplug.add(1, 2)`)
	if code != 1 || !strings.Contains(errOut, "permission denied: textplug.wasm") {
		t.Errorf("deny: exit %d\n%s", code, errOut)
	}
	// capabilities need the manifest and the profile
	if err := os.WriteFile(filepath.Join(h.home, "data.txt"), []byte("from the host"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = h.kite("exec", "--allow-all", `print(textplug.read("data.txt"))`)
	if code != 0 || out != "from the host\n" {
		t.Errorf("read_file granted: exit %d, stdout %q\n%s", code, out, errOut)
	}
	// a profile may allow the call and still not the file it asks for
	config := "permissions:\n  reader:\n    allow: [\"textplug.wasm(read,read_file:$CWD/allowed/**)\"]\n"
	if err := os.WriteFile(filepath.Join(h.home, "config.yaml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = h.kite("exec", "--permissions=reader", `textplug.read("data.txt")`)
	if code != 1 || !strings.Contains(errOut, "permission denied: textplug.wasm read_file(\""+filepath.Join(h.home, "data.txt")) {
		t.Errorf("read_file without a grant: exit %d\n%s", code, errOut)
	}
	// traps and the memory cap are script errors, not crashes
	_, errOut, code = h.kite("exec", "--allow-all", `textplug.grow(200)`)
	if code != 1 || !strings.Contains(errOut, "memory limit of 64 MiB exceeded") {
		t.Errorf("grow(200): exit %d\n%s", code, errOut)
	}
	_, errOut, code = h.kite("exec", "--allow-all", `textplug.crash()`)
	if code != 1 || !strings.Contains(errOut, "panic: boom") {
		t.Errorf("crash(): exit %d\n%s", code, errOut)
	}
	// --timeout stops a spinning plugin call
	_, errOut, code = h.kite("exec", "--allow-all", "--timeout", "1", `textplug.spin()`)
	if code != 5 {
		t.Errorf("spin(): exit %d, want 5\n%s", code, errOut)
	}
}

// TestWasmPluginInstallRefusesBadPlugins: a plugin whose code does not
// match its manifest is refused, and nothing is left installed.
func TestWasmPluginInstallRefusesBadPlugins(t *testing.T) {
	h := pluginHome{t: t, home: t.TempDir()}
	for name, edits := range map[string][]string{
		"signature":    {"args: [{name: a, type: int}, {name: b, type: int}]", "args: [{name: a, type: float}, {name: b, type: int}]"},
		"capabilities": {"capabilities: [read_file, env, http_request, write_file]", "capabilities: [env]"},
	} {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := h.kite("module", "install", wasmtest.PluginDir(t, edits...))
			if code == 0 || !strings.Contains(errOut, "is not a valid plugin") {
				t.Fatalf("exit %d\n%s%s", code, out, errOut)
			}
			if entries, _ := os.ReadDir(filepath.Join(h.home, ".starkite", "modules")); len(entries) != 0 {
				t.Errorf("a refused install left %v behind", entries)
			}
		})
	}
	_, errOut, code := h.kite("module", "install", wasmtest.PluginDir(t), "--as", "other")
	if code != 2 || !strings.Contains(errOut, "a WASM plugin is named by its manifest (name: textplug)") {
		t.Errorf("--as: exit %d\n%s", code, errOut)
	}
	_, errOut, code = h.kite("module", "install", wasmtest.PluginDir(t), "--type", "starlark")
	if code != 1 || !strings.Contains(errOut, "is a wasm module, not starlark") {
		t.Errorf("--type starlark: exit %d\n%s", code, errOut)
	}
}
