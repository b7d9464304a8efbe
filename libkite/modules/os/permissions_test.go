//go:build unix

package os_test

import (
	stdos "os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
)

// TestSandboxed: under deny-all every gated call is refused before its
// side effect; ungated calls still work.
func TestSandboxed(t *testing.T) {
	start, _ := stdos.Getwd()
	t.Chdir(start)
	dir := kitetest.TempDir(t)
	marker := filepath.Join(dir, "created")
	stdos.Unsetenv("KITE_OS_DENIED")
	var exits []int
	defer kiteos.SetExitForTest(func(c int) { exits = append(exits, c) })()

	cfg := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	runCases(t, cfg, []scriptCase{
		{name: "env", src: `env("HOME")`, wantErr: kitetest.Denied("os.env", "env", "HOME")},
		{name: "setenv", src: `setenv("KITE_OS_DENIED", "x")`, wantErr: kitetest.Denied("os.env", "setenv", "KITE_OS_DENIED")},
		{name: "try_setenv", src: `r = os.try_setenv("KITE_OS_DENIED", "x"); print(r.ok, r.error.startswith(` + lit(kitetest.Denied("os.env", "setenv", "KITE_OS_DENIED")) + `))`,
			want: "False True"},
		{name: "chdir", src: `chdir(` + lit(dir) + `)`, wantErr: kitetest.Denied("os.process", "chdir", dir)},
		{name: "try_chdir", src: `print(os.try_chdir(` + lit(dir) + `).ok)`, want: "False"},
		{name: "exit", src: `os.exit(3)`, wantErr: kitetest.Denied("os.process", "exit", "3")},
		{name: "which", src: `which("sh")`, wantErr: `permission denied: os.exec which("`},
		{name: "exec", src: `exec(` + lit("touch "+marker) + `)`, wantErr: `permission denied: os.exec exec("`},
		{name: "try_exec raises", src: `try_exec(` + lit("touch "+marker) + `)`, wantErr: `permission denied: os.exec exec("`},
		{name: "try_try_exec captures", src: `r = os.try_try_exec(` + lit("touch "+marker) + `); print(r.ok, "permission denied" in r.error)`,
			want: "False True"},
		{name: "exec with shell syntax", src: `exec(` + lit("true; touch "+marker) + `)`,
			wantErr: `permission denied: os.exec exec("shell:true; touch ` + marker + `")`},
		{name: "ungated calls work", src: `print(cwd() != "", pid() > 0, hostname() != "", username() != "", home() != "")`,
			want: "True True True True True"},
	})

	if _, ok := stdos.LookupEnv("KITE_OS_DENIED"); ok {
		t.Error("denied setenv changed the environment")
	}
	if _, err := stdos.Stat(marker); err == nil {
		t.Error("denied exec created its file")
	}
	if got, _ := stdos.Getwd(); got != start {
		t.Errorf("denied chdir changed the cwd to %q", got)
	}
	if len(exits) != 0 {
		t.Errorf("denied os.exit called the process exit with %v", exits)
	}
}

// TestExecResourcePolicy checks the os.exec resource (the resolved
// program) against a path-scoped allow rule.
func TestExecResourcePolicy(t *testing.T) {
	root := kitetest.TempDir(t)
	allowed := filepath.Join(root, "allowed")
	denied := filepath.Join(root, "denied")
	writeExecutable(t, allowed, "tool", "allowed-tool")
	writeExecutable(t, denied, "tool", "denied-tool")
	marker := filepath.Join(root, "created")
	t.Setenv("PATH", allowed+string(filepath.ListSeparator)+stdos.Getenv("PATH"))

	cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"os.exec(" + allowed + "/*)"}}}
	runCases(t, cfg, []scriptCase{
		{name: "absolute path allowed", src: `print(exec(` + lit(allowed+"/tool arg") + `).strip())`, want: "allowed-tool"},
		{name: "absolute path denied", src: `exec(` + lit(denied+"/tool") + `)`, wantErr: kitetest.Denied("os.exec", "exec", denied+"/tool")},
		{name: "bare name from process PATH", src: `print(exec("tool").strip())`, want: "allowed-tool"},
		{name: "bare name from the env override's PATH", src: `exec("tool", env={"PATH": ` + lit(denied) + `})`,
			wantErr: kitetest.Denied("os.exec", "exec", denied+"/tool")},
		{name: "relative path joined with cwd option", src: `print(exec("./tool", cwd=` + lit(allowed) + `).strip())`, want: "allowed-tool"},
		{name: "relative path resolved out of the allowed dir", src: `exec("./tool", cwd=` + lit(denied) + `)`,
			wantErr: kitetest.Denied("os.exec", "exec", denied+"/tool")},
		{name: "dot-dot is cleaned", src: `print(exec("../allowed/tool", cwd=` + lit(denied) + `).strip())`, want: "allowed-tool"},
		{name: "quotes are removed before resolving", src: `exec(` + lit(`"`+denied+`/tool"`) + `)`, wantErr: kitetest.Denied("os.exec", "exec", denied+"/tool")},
		{name: "unresolvable name is the bare token", src: `exec("kite-no-such-tool --x")`, wantErr: kitetest.Denied("os.exec", "exec", "kite-no-such-tool")},
		{name: "shell operators fail closed", src: `exec(` + lit(allowed+"/tool; touch "+marker) + `)`,
			wantErr: kitetest.Denied("os.exec", "exec", "shell:"+allowed+"/tool; touch "+marker)},
		{name: "redirection fails closed", src: `exec(` + lit(allowed+"/tool > "+marker) + `)`,
			wantErr: kitetest.Denied("os.exec", "exec", "shell:"+allowed+"/tool > "+marker)},
		{name: "custom shell is checked too", src: `exec(` + lit(allowed+"/tool") + `, shell="/bin/bash")`, wantErr: kitetest.Denied("os.exec", "exec", "/bin/bash")},
		{name: "try_exec of an allowed command", src: `r = try_exec("tool"); print(r.ok, r.stdout.strip())`, want: "True allowed-tool"},
		{name: "which resolves like exec", src: `print(which("tool"))`, want: allowed + "/tool"},
		{name: "which of a denied program", src: `which("sh")`, wantErr: `permission denied: os.exec which("`},
	})
	if _, err := stdos.Stat(marker); err == nil {
		t.Error("a denied command line created its file")
	}

	t.Run("deny rule", func(t *testing.T) {
		cfg := &libkite.Config{Permissions: libkite.AllowPermissions("os.exec(" + denied + "/*)")}
		_, err := run(t, cfg, `exec(`+lit(denied+"/tool")+`)`)
		if err == nil || !strings.Contains(err.Error(), `blocked by deny rule: os.exec(`+denied+`/*)`) {
			t.Fatalf("error = %v", err)
		}
		out, err := run(t, cfg, `print(exec("tool").strip())`)
		if err != nil || out != "allowed-tool" {
			t.Fatalf("allowed tool: %q, %v", out, err)
		}
	})

	t.Run("env and process rules", func(t *testing.T) {
		start, _ := stdos.Getwd()
		t.Chdir(start)
		t.Cleanup(func() { stdos.Unsetenv("KITE_OS_OK") })
		cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{
			"os.env(setenv:KITE_OS_OK)", "os.env(env:*)", "os.process(chdir:" + root + ")",
		}}}
		runCases(t, cfg, []scriptCase{
			{name: "allowed setenv", src: `setenv("KITE_OS_OK", "1"); print(env("KITE_OS_OK"))`, want: "1"},
			{name: "other variable", src: `setenv("KITE_OS_NO", "1")`, wantErr: kitetest.Denied("os.env", "setenv", "KITE_OS_NO")},
			{name: "chdir to the allowed dir, canonical", src: `chdir(` + lit(allowed+"/..") + `); print(cwd())`, want: root},
			{name: "chdir elsewhere", src: `chdir(` + lit(allowed) + `)`, wantErr: kitetest.Denied("os.process", "chdir", allowed)},
			{name: "exit not granted", src: `os.exit(0)`, wantErr: kitetest.Denied("os.process", "exit", "0")},
		})
	})
}

// TestExecThroughSymlink: the program a symlink leads to is checked too,
// so a link placed in a granted directory cannot run a program outside
// it (the allow-local escape `$CWD/sh -> /bin/sh`).
func TestExecThroughSymlink(t *testing.T) {
	root := kitetest.TempDir(t)
	allowed := filepath.Join(root, "allowed")
	denied := filepath.Join(root, "denied")
	writeExecutable(t, allowed, "tool", "allowed-tool")
	deniedTool := writeExecutable(t, denied, "tool", "denied-tool")
	kitetest.Symlink(t, deniedTool, filepath.Join(allowed, "link"))   // file link out
	kitetest.Symlink(t, denied, filepath.Join(allowed, "dir"))        // directory link out
	kitetest.Symlink(t, "tool", filepath.Join(allowed, "inner"))      // link staying inside
	kitetest.Symlink(t, allowed, filepath.Join(denied, "to-allowed")) // a denied path leading in
	t.Setenv("PATH", allowed+string(filepath.ListSeparator)+stdos.Getenv("PATH"))
	cfg := &libkite.Config{Permissions: &libkite.PermissionConfig{Allow: []string{"os.exec(" + allowed + "/*)", "os.exec(" + allowed + "/dir/*)"}}}
	runCases(t, cfg, []scriptCase{
		{name: "file link out", src: `exec(` + lit(allowed+"/link") + `)`, wantErr: kitetest.Denied("os.exec", "exec", deniedTool)},
		{name: "directory link out", src: `exec(` + lit(allowed+"/dir/tool") + `)`, wantErr: kitetest.Denied("os.exec", "exec", deniedTool)},
		{name: "link found in PATH", src: `exec("link")`, wantErr: kitetest.Denied("os.exec", "exec", deniedTool)},
		{name: "relative link", src: `exec("./link", cwd=` + lit(allowed) + `)`, wantErr: kitetest.Denied("os.exec", "exec", deniedTool)},
		{name: "link as the shell", src: `exec("tool", shell=` + lit(allowed+"/link") + `)`, wantErr: kitetest.Denied("os.exec", "exec", deniedTool)},
		{name: "which", src: `which("link")`, wantErr: kitetest.Denied("os.exec", "which", deniedTool)},
		{name: "link staying inside", src: `print(exec(` + lit(allowed+"/inner") + `).strip())`, want: "allowed-tool"},
		{name: "the path as written is checked first", src: `exec(` + lit(denied+"/to-allowed/tool") + `)`,
			wantErr: kitetest.Denied("os.exec", "exec", denied+"/to-allowed/tool")},
	})
}

// TestDryRun: exec simulates after its permission check; nothing runs.
func TestDryRun(t *testing.T) {
	dir := kitetest.TempDir(t)
	marker := filepath.Join(dir, "created")
	touch := lit("touch " + marker)
	runCases(t, &libkite.Config{DryRun: true}, []scriptCase{
		{name: "exec", src: `print(exec(` + touch + `))`, want: "[DRY RUN] Would execute: touch " + marker},
		{name: "try_exec", src: `r = try_exec(` + touch + `); print(r.ok, r.code, r.stdout, repr(r.stderr), repr(r.error))`,
			want: "True 0 [DRY RUN] Would execute: touch " + marker + ` "" ""`},
		{name: "os.try_exec", src: `print(os.try_exec(` + touch + `))`, want: "ExecResult(ok=True, code=0)"},
		{name: "argument errors still raise", src: `exec("true", timeout="abc")`, wantErr: `os.exec: invalid timeout "abc"`},
	})
	runCases(t, &libkite.Config{DryRun: true, Permissions: libkite.DenyAllPermissions()}, []scriptCase{
		{name: "permission checked before simulating", src: `exec(` + touch + `)`, wantErr: "permission denied: os.exec exec("},
	})
	if _, err := stdos.Stat(marker); err == nil {
		t.Error("dry-run exec created its file")
	}
}
