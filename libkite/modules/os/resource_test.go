//go:build unix

package os_test

import (
	"path/filepath"
	"testing"

	"github.com/project-starkite/starkite/libkite/kitetest"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
)

func TestFirstWord(t *testing.T) {
	cases := []struct {
		name, cmd, want string
		simple          bool
	}{
		{"plain", "ls -l /tmp", "ls", true},
		{"leading blanks", " \t ls", "ls", true},
		{"path", "./bin/tool --x", "./bin/tool", true},
		{"double quotes", `"/opt/my tool/x" a`, "/opt/my tool/x", true},
		{"single quotes", `'/usr/bin/rm' -rf x`, "/usr/bin/rm", true},
		{"backslash", `\rm x`, "rm", true},
		{"adjacent quoting", `/usr/"bin"/'rm'`, "/usr/bin/rm", true},
		{"escapes in double quotes", `"a\"b\\c"`, `a"b\c`, true},
		{"quoted operators in args", `echo "a;b|c" 'd>e'`, "echo", true},
		{"expansion in args", `echo $HOME ${X:-y} *.go`, "echo", true},
		{"comment", "ls # ; rm -rf /", "ls", true},
		{"hash inside a word", "a#b", "a#b", true},
		{"semicolon", "ls; rm x", "", false},
		{"and", "ls && rm x", "", false},
		{"background", "sleep 1 &", "", false},
		{"pipe", "ls | sh", "", false},
		{"redirect", "echo x > /etc/passwd", "", false},
		{"input redirect", "sh < script", "", false},
		{"subshell", "(rm x)", "", false},
		{"newline", "ls\nrm x", "", false},
		{"command substitution", "echo $(rm x)", "", false},
		{"substitution in double quotes", `echo "$(rm x)"`, "", false},
		{"backquote", "echo `rm x`", "", false},
		{"variable as command", "$CMD x", "", false},
		{"variable in quoted command", `"$CMD" x`, "", false},
		{"glob as command", "/usr/bin/r? x", "", false},
		{"tilde", "~/bin/tool", "", false},
		{"braces", "{rm,x}", "", false},
		{"assignment prefix", "A=/x /usr/bin/rm x", "", false},
		{"line continuation", "ls \\\n; rm", "", false},
		{"unterminated quote", `"ls`, "", false},
		{"empty", "", "", false},
		{"blank", "  ", "", false},
		{"empty quoted word", `"" ls`, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, simple := kiteos.FirstWord(tc.cmd)
			if got != tc.want || simple != tc.simple {
				t.Fatalf("FirstWord(%q) = %q, %v; want %q, %v", tc.cmd, got, simple, tc.want, tc.simple)
			}
		})
	}
}

func TestCommandResource(t *testing.T) {
	dir := kitetest.TempDir(t)
	bin := filepath.Join(dir, "bin")
	tool := writeExecutable(t, bin, "tool", "x")
	writeExecutable(t, filepath.Join(dir, "other"), "tool", "y")
	t.Setenv("PATH", filepath.Join(dir, "other"))
	cases := []struct {
		name, cmd, cwd, envPath, want string
	}{
		{"absolute", "/usr/bin/env x", dir, "", "/usr/bin/env"},
		{"absolute cleaned", "/usr/bin/../bin/env", dir, "", "/usr/bin/env"},
		{"relative joined with cwd", "./bin/tool", dir, "", tool},
		{"relative with dot-dot", "../bin/tool", filepath.Join(dir, "x"), "", tool},
		{"env PATH first", "tool", dir, bin, tool},
		{"process PATH next", "tool", dir, "/nonexistent", filepath.Join(dir, "other", "tool")},
		{"relative PATH entry resolved from cwd", "tool", dir, "bin", tool},
		{"unresolvable", "kite-no-such-tool a b", dir, "", "kite-no-such-tool"},
		{"directory is not a program", "bin", dir, dir, "bin"},
		{"shell syntax", "tool; rm x", dir, "", "shell:tool; rm x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := kiteos.CommandResource(tc.cmd, tc.cwd, tc.envPath); got != tc.want {
				t.Fatalf("CommandResource(%q) = %q, want %q", tc.cmd, got, tc.want)
			}
		})
	}
	if got := kiteos.ResolveBinary("tool", dir, "", bin); got != tool {
		t.Fatalf("ResolveBinary searches its lists in order: got %q", got)
	}
}
