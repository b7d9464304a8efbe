package os

import (
	stdos "os"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// shellResourcePrefix marks the os.exec resource of a command that is not
// one plain simple command. No path rule can match it (it is not a path),
// so path-scoped grants fail closed; rules without a resource, "*" and
// "**" still admit it.
const shellResourcePrefix = "shell:"

// commandResource is the os.exec resource of a shell command line
// (permissions.md §5.1): its program, resolved. A first word containing a
// separator is made absolute against dir and cleaned; a bare name is
// looked up in envPath (the call's env override, "" if none), then the
// process PATH; an unresolvable name is returned as is.
//
// Stricter than §5.1 on purpose: the command runs through a shell, so a
// command line that could start a program other than its first word
// (operators, substitutions, redirections, an expanded or assignment-
// prefixed command name) yields "shell:<cmd>" instead, and the first word
// is taken with shell quoting removed ("/usr/bin/rm", not `"/usr/bin/rm"`).
func commandResource(cmd, dir, envPath string) string {
	word, ok := firstWord(cmd)
	if !ok {
		return shellResourcePrefix + cmd
	}
	return resolveBinary(word, dir, envPath, stdos.Getenv("PATH"))
}

// checkProgram checks os.exec:<function> on a resolved program and, when
// symlinks (of the program or of a directory on its path) lead elsewhere,
// on the file they lead to as well: that file is what runs, so a link
// placed in a granted directory (`$CWD/sh -> /bin/sh` under allow-local)
// must not run a program the policy does not grant. The given path is
// checked first, so a program denied as written is reported as written.
func checkProgram(thread *starlark.Thread, function, resolved string) error {
	if err := libkite.Check(thread, "os", "exec", function, resolved); err != nil {
		return err
	}
	if !filepath.IsAbs(resolved) {
		return nil // unresolvable bare name or shell syntax: nothing to follow
	}
	if canon := libkite.CanonicalPath(resolved); canon != resolved {
		return libkite.Check(thread, "os", "exec", function, canon)
	}
	return nil
}

// resolveBinary resolves a program name as described at commandResource,
// searching each PATH list in turn.
func resolveBinary(name, dir string, pathLists ...string) string {
	if strings.ContainsRune(name, '/') || strings.ContainsRune(name, filepath.Separator) {
		if filepath.IsAbs(name) {
			return filepath.Clean(name)
		}
		return filepath.Join(dir, name)
	}
	for _, list := range pathLists {
		for _, d := range filepath.SplitList(list) {
			if d == "" {
				d = "."
			}
			p := filepath.Join(d, name)
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p) // the child resolves relative PATH entries from its cwd
			}
			if fi, err := stdos.Stat(p); err == nil && isExecutable(fi) {
				return p
			}
		}
	}
	return name
}

// firstWord returns the first word of cmd with shell quoting removed, and
// whether cmd is a single simple command whose program is that literal
// word. It reports false for: unquoted ; & | < > ( ) or newline, command
// substitution ($( or a backquote, also inside double quotes), a line
// continuation, unterminated quotes, an empty command, and a first word
// that would be expanded or is an assignment ($, * ? [ { } ~ =).
// A "#" starting a word begins a comment.
func firstWord(cmd string) (string, bool) {
	var w strings.Builder
	words := 0 // completed words
	inWord := false
	first := func() bool { return words == 0 }
	for i := 0; i < len(cmd); {
		c := cmd[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words++
				inWord = false
			}
			i++
		case c == '\n' || strings.IndexByte(";&|<>()`", c) >= 0:
			return "", false
		case c == '#' && !inWord:
			i = len(cmd) // comment to end of line; a newline was already refused
		case c == '\\':
			if i+1 >= len(cmd) || cmd[i+1] == '\n' {
				return "", false
			}
			if first() {
				w.WriteByte(cmd[i+1])
			}
			inWord = true
			i += 2
		case c == '\'':
			j := strings.IndexByte(cmd[i+1:], '\'')
			if j < 0 {
				return "", false
			}
			if first() {
				w.WriteString(cmd[i+1 : i+1+j])
			}
			inWord = true
			i += j + 2
		case c == '"':
			inWord = true
			i++
			for {
				if i >= len(cmd) {
					return "", false
				}
				c := cmd[i]
				if c == '"' {
					i++
					break
				}
				switch {
				case c == '`':
					return "", false
				case c == '$':
					if first() || (i+1 < len(cmd) && cmd[i+1] == '(') {
						return "", false
					}
				case c == '\\' && i+1 < len(cmd) && strings.IndexByte("$`\"\\\n", cmd[i+1]) >= 0:
					if cmd[i+1] == '\n' {
						return "", false
					}
					i++
					c = cmd[i]
				}
				if first() {
					w.WriteByte(c)
				}
				i++
			}
		case c == '$':
			if first() || (i+1 < len(cmd) && cmd[i+1] == '(') {
				return "", false
			}
			inWord = true
			i++
		default:
			if first() {
				if strings.IndexByte("*?[]{}~=", c) >= 0 {
					return "", false
				}
				w.WriteByte(c)
			}
			inWord = true
			i++
		}
	}
	if w.Len() == 0 {
		return "", false
	}
	return w.String(), true
}
