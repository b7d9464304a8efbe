package os

import (
	stdos "os"
	"path/filepath"
	"strings"
)

// Commands run without a shell when they can: a command line that is one
// simple command made only of literal words (quotes and backslashes
// allowed, nothing the shell would expand, redirect or chain) is executed
// directly as argv, with the very program the permission check resolved.
// That closes the gap between the binary checked and the binary the
// shell would find, and saves starting a shell. Everything else — shell
// syntax, shell builtins, a program that cannot be resolved, or an
// explicit shell= — goes through `<shell> -c <cmd>` as os.md specifies;
// the outcome is the same either way.

// shellBuiltins run through the shell even when a binary of the same name
// exists: their builtin versions differ (dash's echo interprets escapes).
var shellBuiltins = map[string]bool{
	"echo": true, "printf": true, "test": true, "[": true, "pwd": true, "kill": true,
	"true": true, "false": true, "time": true, "command": true, "type": true,
	"read": true, "cd": true, "exit": true, "exec": true, "eval": true, ".": true,
	"source": true, "export": true, "set": true, "unset": true, "ulimit": true,
	"umask": true, "wait": true, "trap": true, "alias": true, "hash": true,
	"getopts": true, "shift": true, "times": true, "readonly": true, "return": true,
	"break": true, "continue": true, ":": true,
}

// directArgv splits cmd into argv when it is a single simple command of
// literal words, with shell quoting removed; ok is false otherwise.
func directArgv(cmd string) (argv []string, ok bool) {
	var w strings.Builder
	inWord := false
	end := func() {
		if inWord {
			argv = append(argv, w.String())
			w.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(cmd); {
		c := cmd[i]
		switch {
		case c == ' ' || c == '\t':
			end()
			i++
		case strings.IndexByte("\n;&|<>()`$*?[]{}~#", c) >= 0:
			return nil, false // operators, expansions, globs, comments
		case c == '=' && len(argv) == 0:
			return nil, false // an assignment prefix, not the program
		case c == '\\':
			if i+1 >= len(cmd) || cmd[i+1] == '\n' {
				return nil, false
			}
			w.WriteByte(cmd[i+1])
			inWord = true
			i += 2
		case c == '\'':
			j := strings.IndexByte(cmd[i+1:], '\'')
			if j < 0 {
				return nil, false
			}
			w.WriteString(cmd[i+1 : i+1+j])
			inWord = true
			i += j + 2
		case c == '"':
			inWord = true
			i++
			for {
				if i >= len(cmd) {
					return nil, false
				}
				c := cmd[i]
				if c == '"' {
					i++
					break
				}
				switch {
				case c == '$' || c == '`':
					return nil, false
				case c == '\\' && i+1 < len(cmd) && strings.IndexByte("\"\\", cmd[i+1]) >= 0:
					i++
					c = cmd[i]
				case c == '\\' && i+1 < len(cmd) && cmd[i+1] == '\n':
					return nil, false
				}
				w.WriteByte(c)
				i++
			}
		default:
			w.WriteByte(c)
			inWord = true
			i++
		}
	}
	end()
	return argv, len(argv) > 0
}

// directProgram returns the program and argv to run cmd without a shell,
// or ok=false when it must go through the shell. resolved is the program
// the permission check named.
func directProgram(cmd, resolved string) (program string, argv []string, ok bool) {
	argv, ok = directArgv(cmd)
	if !ok || shellBuiltins[argv[0]] || !filepath.IsAbs(resolved) {
		return "", nil, false
	}
	if fi, err := stdos.Stat(resolved); err != nil || !isExecutable(fi) {
		return "", nil, false // let the shell report it (127 / 126)
	}
	return resolved, argv, true
}
