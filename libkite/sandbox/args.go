package sandbox

import "strings"

// selectorFlags are the sandbox selector flags (cli.md §2).
var selectorFlags = []string{"sandbox", "sandbox-opaque", "sandbox-net-access", "sandbox-host"}

// IsSelector reports whether the argument word is a sandbox selector:
// --sandbox, --sandbox=<v>, --sandbox-opaque[=v], --sandbox-net-access[=v]
// or --sandbox-host[=v], with one or two leading dashes.
func IsSelector(word string) bool {
	if !strings.HasPrefix(word, "-") {
		return false
	}
	name, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(word, "-"), "-"), "=")
	for _, f := range selectorFlags {
		if name == f {
			return true
		}
	}
	return false
}

// StripSelectors returns args without its sandbox selectors, for the
// argv of the process that runs inside. It never removes the word after
// a bare --sandbox (the value must be attached with "="), so a script
// path that follows it survives; words after "--" are left alone.
func StripSelectors(args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if IsSelector(a) {
			continue
		}
		out = append(out, a)
	}
	return out
}
