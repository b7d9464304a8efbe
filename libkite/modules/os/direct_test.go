//go:build unix

package os_test

import (
	stdos "os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
)

func TestDirectArgv(t *testing.T) {
	cases := []struct {
		cmd  string
		want []string // nil: must go through the shell
	}{
		{"ls -la", []string{"ls", "-la"}},
		{"  ls   a\tb  ", []string{"ls", "a", "b"}},
		{`cat 'a  b' "c \"d\" \\e" f\ g`, []string{"cat", "a  b", `c "d" \e`, "f g"}},
		{`printf '$HOME'`, []string{"printf", "$HOME"}},
		{`tool --flag=x ''`, []string{"tool", "--flag=x", ""}},
		{`grep "a\nb"`, []string{"grep", `a\nb`}},
		{"echo $HOME", nil},
		{`echo "$HOME"`, nil},
		{"echo `id`", nil},
		{"A=1 env", nil},
		{"ls *.go", nil},
		{"ls ~", nil},
		{"ls a?", nil},
		{"ls {a,b}", nil},
		{"a | b", nil},
		{"a; b", nil},
		{"a && b", nil},
		{"a > f", nil},
		{"a < f", nil},
		{"(a)", nil},
		{"a # comment", nil},
		{"a\nb", nil},
		{"a \\\nb", nil},
		{"'unterminated", nil},
		{`"unterminated`, nil},
		{"", nil},
		{"   ", nil},
	}
	for _, c := range cases {
		got, ok := kiteos.DirectArgv(c.cmd)
		if c.want == nil {
			if ok {
				t.Errorf("DirectArgv(%q) = %q, want shell", c.cmd, got)
			}
			continue
		}
		if !ok || !reflect.DeepEqual(got, c.want) {
			t.Errorf("DirectArgv(%q) = %q, %v, want %q", c.cmd, got, ok, c.want)
		}
	}
}

func TestDirectProgram(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "tool")
	stdos.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755)
	plain := filepath.Join(dir, "plain")
	stdos.WriteFile(plain, []byte(""), 0o644)

	if prog, argv, ok := kiteos.DirectProgram("tool 'x y'", exe); !ok || prog != exe || !reflect.DeepEqual(argv, []string{"tool", "x y"}) {
		t.Errorf("resolved tool: %q %q %v", prog, argv, ok)
	}
	for _, c := range []struct{ cmd, resolved, why string }{
		{"echo hi", "/bin/echo", "shell builtin"},
		{"tool", "tool", "unresolved name"},
		{"plain", plain, "not executable"},
		{"missing", filepath.Join(dir, "missing"), "missing program"},
		{"tool | x", exe, "shell syntax"},
	} {
		if _, _, ok := kiteos.DirectProgram(c.cmd, c.resolved); ok {
			t.Errorf("%s: %q ran without the shell", c.why, c.cmd)
		}
	}
}

// TestDirectExecMatchesShell runs the same command lines directly and
// through an explicitly named shell (which disables the direct path) and
// requires identical results.
func TestDirectExecMatchesShell(t *testing.T) {
	dir := t.TempDir()
	showargs := filepath.Join(dir, "showargs")
	stdos.WriteFile(showargs, []byte("#!/bin/sh\nfor a in \"$@\"; do printf '[%s]' \"$a\"; done\necho\necho err >&2\nexit ${KITE_CODE:-0}\n"), 0o755)
	t.Setenv("PATH", dir+string(filepath.ListSeparator)+stdos.Getenv("PATH"))
	for _, cmd := range []string{
		`showargs a 'b  c' "d \"e\"" f\ g ''`,
		showargs + ` --x=1`,
		`./showargs rel`,
		`showargs`,
	} {
		src := `r = try_exec(%q%s, cwd=%q, env={"KITE_CODE": "3"})
print(r.code, repr(r.stdout), repr(r.stderr), repr(r.error))`
		direct, err := run(t, nil, strings.NewReplacer("%q%s", quote(cmd), "%q", quote(dir)).Replace(src))
		if err != nil {
			t.Fatal(err)
		}
		viaShell, err := run(t, nil, strings.NewReplacer("%q%s", quote(cmd)+`, shell="sh"`, "%q", quote(dir)).Replace(src))
		if err != nil {
			t.Fatal(err)
		}
		if direct != viaShell || !strings.HasPrefix(direct, "3 ") {
			t.Errorf("%s:\n direct %s\n shell  %s", cmd, direct, viaShell)
		}
	}
}

func quote(s string) string { return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"` }
