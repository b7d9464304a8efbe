package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/basekite/varstore"
	"github.com/project-starkite/starkite/libkite/permissions"
)

// scaffold is what each template must write besides config.yaml.
var scaffolds = map[string]struct{ script, test string }{
	"basic":      {"hello.star", "hello_test.star"},
	"deployment": {"deploy.star", "deploy_test.star"},
	"kubernetes": {"manifests.star", "manifests_test.star"},
	"backup":     {"backup.star", "backup_test.star"},
}

func TestInitTemplates(t *testing.T) {
	res := runBin(t, invocation{args: []string{"init", "--list-templates"}})
	if res.code != 0 || res.stderr != "" || !strings.HasPrefix(res.stdout, "Available templates:\n") {
		t.Fatalf("%s", res)
	}
	for _, tmpl := range projectTemplates {
		if !strings.Contains(res.stdout, "\n  "+tmpl.name+" ") {
			t.Errorf("--list-templates lacks %s", tmpl.name)
		}
	}
	if len(scaffolds) != len(projectTemplates) {
		t.Fatalf("scaffolds lists %d templates, projectTemplates %d", len(scaffolds), len(projectTemplates))
	}

	for _, tmpl := range projectTemplates {
		t.Run(tmpl.name, func(t *testing.T) {
			t.Parallel()
			want := scaffolds[tmpl.name]
			parent := t.TempDir()
			res := runBin(t, invocation{args: []string{"init", "-t", tmpl.name, "proj/sub"}, dir: parent})
			if res.code != 0 || res.stderr != "" || !strings.HasPrefix(res.stdout, "Created proj/sub/config.yaml\n") {
				t.Fatalf("%s", res)
			}
			dir := filepath.Join(parent, "proj", "sub")
			for _, name := range []string{want.script, want.test} {
				if !strings.Contains(res.stdout, "Created "+filepath.Join("proj/sub", name)+"\n") {
					t.Errorf("stdout lacks Created %s:\n%s", name, res.stdout)
				}
			}
			checkConfig(t, filepath.Join(dir, "config.yaml"))
			script := readFile(t, filepath.Join(dir, want.script))
			if !strings.HasPrefix(script, "#!/usr/bin/env kite\n") {
				t.Errorf("%s lacks the shebang", want.script)
			}
			if fi, err := os.Stat(filepath.Join(dir, want.script)); err != nil || fi.Mode().Perm()&0o100 == 0 {
				t.Errorf("%s is not executable: %v %v", want.script, fi.Mode(), err)
			}

			for _, args := range [][]string{{"run", want.script}, {"test", "."}, {"validate", "."}} {
				res := runBin(t, invocation{args: args, dir: dir})
				if res.code != 0 || res.stdout == "" || strings.Contains(res.stderr, "Error") {
					t.Errorf("kite %s in the scaffold:\n%s", strings.Join(args, " "), res)
				}
				if args[0] == "test" && !strings.Contains(res.stdout, " passed, 0 failed") {
					t.Errorf("kite test: %s", res)
				}
			}
		})
	}
}

// checkConfig checks a generated config.yaml: the Gen B sections parse
// with the CLI's own loaders, and the sandbox profiles follow sandbox.md §4.
func checkConfig(t *testing.T, path string) {
	t.Helper()
	v := varstore.New()
	if err := v.LoadConfigFile(path); err != nil {
		t.Fatalf("config.yaml: %v", err)
	}
	if name, _ := v.GetProjectConfig()["name"].(string); name != "sub" {
		t.Errorf("project name = %q, want the directory name", name)
	}
	section, _ := v.GetPermissions()
	profiles, err := permissions.ParseProfiles(section)
	if err != nil {
		t.Fatalf("permissions: %v", err)
	}
	if _, err := profiles.Resolve(""); err != nil {
		t.Errorf("default permission profile: %v", err)
	}
	if len(section) < 2 {
		t.Errorf("want a default and an example permission profile, got %v", section)
	}
	sandbox := v.GetSandbox()
	if len(sandbox) == 0 {
		t.Fatal("no sandbox profile")
	}
	rungs := map[string]bool{"opaque": true, "net-access": true, "host": true}
	for name, p := range sandbox {
		switch p := p.(type) {
		case string:
			if !rungs[p] {
				t.Errorf("sandbox %s: %q is not a built-in profile", name, p)
			}
		case map[string]any:
			for k := range p {
				if k != "base" && k != "network" && k != "mounts" {
					t.Errorf("sandbox %s: unknown key %q", name, k)
				}
			}
		default:
			t.Errorf("sandbox %s: %T", name, p)
		}
	}
}

func TestInitExistingFiles(t *testing.T) {
	dir := t.TempDir()
	res := runBin(t, invocation{args: []string{"init"}, dir: dir})
	wantCreated := "Created config.yaml\nCreated hello.star\nCreated hello_test.star\n"
	if res.code != 0 || res.stdout != wantCreated || res.stderr != "" {
		t.Fatalf("%s", res)
	}
	edited := filepath.Join(dir, "hello.star")
	if err := os.WriteFile(edited, []byte("print('mine')\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(edited, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "hello_test.star")); err != nil {
		t.Fatal(err)
	}

	// without --force: existing files untouched, missing ones written, exit 1
	res = runBin(t, invocation{args: []string{"init", "."}, dir: dir})
	check(t, cliCase{code: 1,
		stdout: str("Skipped config.yaml (already exists)\nSkipped hello.star (already exists)\nCreated hello_test.star\n"),
		stderr: str("Error: 2 file(s) already exist; use --force to overwrite\n")}, res)
	if got := readFile(t, edited); got != "print('mine')\n" {
		t.Errorf("hello.star overwritten without --force: %q", got)
	}
	res = runBin(t, invocation{args: []string{"init"}, dir: dir})
	if res.code != 1 || strings.Contains(res.stdout, "Created") {
		t.Errorf("re-init:\n%s", res)
	}

	// --force: overwritten in place, the file's mode kept
	res = runBin(t, invocation{args: []string{"init", "--force"}, dir: dir})
	check(t, cliCase{stdout: str("Overwrote config.yaml\nOverwrote hello.star\nOverwrote hello_test.star\n"), stderr: empty}, res)
	if got := readFile(t, edited); !strings.HasPrefix(got, "#!/usr/bin/env kite\n") {
		t.Errorf("hello.star not overwritten: %q", got)
	}
	if fi, _ := os.Stat(edited); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode %v, want the existing 0700", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("want 3 files (no temporaries left), got %d", len(entries))
	}
}

func TestInitUsageErrors(t *testing.T) {
	cases := []cliCase{
		{name: "unknown template", args: []string{"init", "-t", "nope"}, code: 2, stdout: empty,
			stderr: str("Error: unknown template: nope (use --list-templates to see available)\n" + usageHint)},
		{name: "two directories", args: []string{"init", "a", "b"}, code: 2, stdout: empty,
			stderr: str("Error: init: expected at most 1 argument [dir], got 2\n" + usageHint)},
		{name: "directory is a file", files: map[string]string{"f": ""}, args: []string{"init", "f"}, code: 1, stdout: empty, errPrefix: "Error: init: mkdir f: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, content := range tc.files {
				writeFile(t, dir, name, content)
			}
			res := runBin(t, invocation{args: tc.args, dir: dir})
			check(t, tc, res)
			if entries, _ := os.ReadDir(dir); len(entries) != len(tc.files) {
				t.Errorf("files written: %v", entries)
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
