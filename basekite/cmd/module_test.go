package cmd

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitRepo makes a real git repository holding a module with a manifest,
// tagged v1.0.0, then a second commit tagged v1.1.0.
func gitRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed: the module command needs it")
	}
	dir := filepath.Join(t.TempDir(), "kite-greeter.git")
	git := func(args ...string) {
		t.Helper()
		c := exec.Command("git", args...)
		c.Dir = dir
		c.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	writeFile(t, dir, "main.star", "def greet(n):\n    return 'hello ' + n\n")
	writeFile(t, dir, "module.yaml", "name: greeter\ndescription: says hello\n")
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "v1")
	git("tag", "v1.0.0")
	writeFile(t, dir, "main.star", "def greet(n):\n    return 'hi ' + n\n")
	git("commit", "-q", "-am", "v1.1")
	git("tag", "v1.1.0")
	return dir
}

func TestModuleCommand(t *testing.T) {
	repo := gitRepo(t)
	emptyDir := func() string { d := filepath.Join(t.TempDir(), "empty"); os.Mkdir(d, 0o755); return d }
	home, work := t.TempDir(), t.TempDir()
	run := func(args ...string) result {
		t.Helper()
		return runBin(t, invocation{args: args, home: home, dir: work})
	}
	use := `load("greeter", "greeter")` + "\nprint(greeter.greet('kite'))"

	if res := run("module", "list"); res.code != 0 || !strings.HasPrefix(res.stdout, "No modules installed.\n") {
		t.Fatalf("empty list: %s", res)
	}
	// install a tag from git; the manifest names it; load() finds it
	res := run("module", "install", repo+"@v1.0.0")
	if res.code != 0 || !strings.Contains(res.stdout, "Installing module from "+repo+"@v1.0.0...") ||
		!strings.Contains(res.stdout, "Installed greeter (v1.0.0) to "+filepath.Join(home, ".starkite", "modules", "greeter")) {
		t.Fatalf("install: %s", res)
	}
	if _, err := os.Stat(filepath.Join(home, ".starkite", "modules", "greeter", ".git")); err == nil {
		t.Error("the .git directory was installed")
	}
	if res := run("exec", use); res.code != 0 || res.stdout != "hello kite\n" {
		t.Fatalf("load installed module: %s", res)
	}
	// installing again needs --force; nothing changes without it
	if res := run("module", "install", repo); res.code != 1 || !strings.Contains(res.stderr, "already installed") || !strings.Contains(res.stderr, "--force") {
		t.Fatalf("reinstall without --force: %s", res)
	}
	if res := run("exec", use); res.stdout != "hello kite\n" {
		t.Fatalf("a refused install changed the module: %s", res)
	}
	// update fetches the latest commit
	if res := run("module", "update", "greeter"); res.code != 0 || !strings.Contains(res.stdout, "Updated greeter to v1.1.0") {
		t.Fatalf("update: %s", res)
	}
	if res := run("exec", use); res.stdout != "hi kite\n" {
		t.Fatalf("after update: %s", res)
	}
	// a local directory, renamed with --as
	local := filepath.Join(t.TempDir(), "tools")
	writeFile(t, local, "main.star", "answer = 42\n")
	if res := run("module", "install", local, "--as", "mytools"); res.code != 0 || !strings.Contains(res.stdout, "Installed mytools (-)") {
		t.Fatalf("local install: %s", res)
	}
	if res := run("exec", `load("mytools", "mytools")`+"\nprint(mytools.answer)"); res.stdout != "42\n" {
		t.Fatalf("load local module: %s", res)
	}
	// the <name>.star entry form; --as cannot rename it away
	named := filepath.Join(t.TempDir(), "util")
	writeFile(t, named, "util.star", "x = 1\n")
	if res := run("module", "install", named, "--as", "other"); res.code != 1 || !strings.Contains(res.stderr, `has no main.star or other.star, so load("other") could not use it`) {
		t.Fatalf("rename of a <name>.star module: %s", res)
	}
	res = run("module", "list")
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if res.code != 0 || len(lines) != 4 || !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[2], "greeter") ||
		!strings.Contains(lines[2], "v1.1.0") || !strings.HasPrefix(lines[3], "mytools") {
		t.Fatalf("list: %s", res)
	}
	if res := run("module", "install", named); res.code != 0 || !strings.Contains(res.stdout, "Installed util (-)") {
		t.Fatalf("<name>.star module: %s", res)
	}
	if res := run("module", "info", "util"); !strings.Contains(res.stdout, "Entry point: util.star") {
		t.Fatalf("info of <name>.star module: %s", res)
	}
	if res := run("module", "rm", "util"); res.code != 0 {
		t.Fatalf("rm util: %s", res)
	}
	if res := run("module", "info", "greeter"); res.code != 0 || !strings.Contains(res.stdout, "Description: says hello") ||
		!strings.Contains(res.stdout, "Entry point: main.star") {
		t.Fatalf("info: %s", res)
	}
	// errors: bad sources and names, missing modules
	for _, tc := range []struct {
		args    []string
		code    int
		errHas  string
		comment string
	}{
		{[]string{"module", "install", repo + "@v9"}, 1, `no revision "v9"`, "unknown tag"},
		{[]string{"module", "install", filepath.Join(t.TempDir(), "nothing-here.git")}, 1, "git clone", "no such repository"},
		{[]string{"module", "install", emptyDir() + "/"}, 1, "has no main.star", "directory without an entry point"},
		{[]string{"module", "install", local, "--as", "bad name"}, 2, "not a valid module name", "bad --as"},
		{[]string{"module", "remove", "nope"}, 1, "module nope is not installed", "remove missing"},
		{[]string{"module", "install"}, 2, "expected exactly 1 argument <source>", "no source"},
	} {
		if res := run(tc.args...); res.code != tc.code || !strings.Contains(res.stderr, tc.errHas) {
			t.Errorf("%s: %s", tc.comment, res)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(home, ".starkite", "modules")); len(entries) != 2 {
		t.Errorf("failed installs left files behind: %v", entries)
	}
	if res := run("module", "rm", "mytools"); res.code != 0 || res.stdout != "Removed module mytools\n" {
		t.Fatalf("remove: %s", res)
	}
	if res := run("exec", `load("mytools", "mytools")`); res.code != 1 || !strings.Contains(res.stderr, `module "mytools" not found`) {
		t.Fatalf("removed module still loads: %s", res)
	}
}

// TestCloneProgress: git's --progress output (\r-redrawn lines) becomes
// one line per phase when not on a terminal; other lines are kept for
// the error message.
func TestCloneProgress(t *testing.T) {
	raw := "Cloning into 'x'...\nremote: Counting objects:  50% (1/2)\rremote: Counting objects: 100% (2/2), done.\n" +
		"Receiving objects:  10% (1/10)\rReceiving objects:  90% (9/10)\rReceiving objects: 100% (10/10), done.\n" +
		"Resolving deltas: 100% (3/3), done.\n"
	var out strings.Builder
	p := &progress{w: &out}
	var other []string
	sc := bufio.NewScanner(strings.NewReader(raw))
	sc.Split(scanProgressLines)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !p.update(line) {
			other = append(other, line)
		}
	}
	p.done()
	if got := out.String(); got != "  Receiving objects...\n  Resolving deltas...\n" {
		t.Errorf("progress = %q", got)
	}
	if len(other) != 3 || other[0] != "Cloning into 'x'..." {
		t.Errorf("other lines = %q", other)
	}
	var tty strings.Builder
	p = &progress{w: &tty, tty: true}
	p.update("Receiving objects:  45% (9/20)")
	p.done()
	if got := tty.String(); got != "\r  Receiving objects    [#########...........]  45%\n" {
		t.Errorf("terminal bar = %q", got)
	}
}

// TestModuleInstallWasmNeedsKite: the smaller editions do not link WASM
// support; they refuse a plugin with the reason instead of installing
// something no script could use.
func TestModuleInstallWasmNeedsKite(t *testing.T) {
	home, src := t.TempDir(), t.TempDir()
	writeFile(t, src, "module.yaml", "name: textplug\ntype: wasm\nfunctions:\n  - name: add\n")
	writeFile(t, src, "textplug.wasm", "\x00asm\x01\x00\x00\x00")
	res := runBin(t, invocation{args: []string{"module", "install", src}, home: home, dir: home})
	if res.code != 1 || !strings.Contains(res.stderr, "is a WASM plugin; WASM plugins need the all-in-one kite edition (this is the base edition)") {
		t.Fatalf("%s", res)
	}
	if entries, _ := os.ReadDir(filepath.Join(home, ".starkite", "modules")); len(entries) != 0 {
		t.Errorf("a refused install left %v behind", entries)
	}
	res = runBin(t, invocation{args: []string{"module", "install", src, "--type", "lua"}, home: home, dir: home})
	if res.code != 2 || !strings.Contains(res.stderr, "--type must be starlark or wasm") {
		t.Errorf("--type lua: %s", res)
	}
}
