package cmd

import (
	"os"
	"strings"

	"github.com/urfave/cli/v2"
)

// normalizeArgs rewrites argv before urfave parses it:
//
//  1. Implicit run (cli.md §1): when the first word after any leading
//     global flags is not a command but looks like a run target, "run" is
//     inserted before it (`kite ./s.star` → `kite run ./s.star`).
//  2. Interspersed flags: urfave/cli v2 stops parsing flags at the first
//     positional argument. For the named command (recursively through
//     subcommands) every global flag found after the command name is
//     moved in front of the command (the global flags live on the app),
//     and the command's own flags are moved in front of its positional
//     arguments. A command's own flag shadows a global flag of the same
//     name. "--" ends flag processing; words after it stay positional.
//
// Flag arity (whether a flag consumes the next word as its value) comes
// from the flag definitions, so commands added later need no changes
// here. Unknown flags are kept where the command's parser will report
// them. The only error is a global flag after the command that lacks its
// value (hoisting it would make it swallow the command name).
func normalizeArgs(app *cli.App, args []string) ([]string, error) {
	if len(args) < 2 {
		return args, nil
	}
	appFlags := arityOf(app.Flags)
	rest := args[1:]

	// Leading app-level flags stay as they are.
	i := 0
	for i < len(rest) {
		name, hasValue, isFlag := splitFlag(rest[i])
		if !isFlag {
			break
		}
		i++
		if appFlags[name] && !hasValue && i < len(rest) {
			i++ // its value
		}
	}
	out := append([]string{args[0]}, rest[:i]...)
	rest = rest[i:]
	if len(rest) == 0 || rest[0] == "--" {
		return append(out, rest...), nil
	}

	cmd := findCommand(app.Commands, rest[0])
	if cmd == nil {
		run := findCommand(app.Commands, "run")
		if run == nil || !looksLikeRunTarget(rest[0]) {
			return append(out, rest...), nil // unknown command: the app reports it
		}
		cmd = run
		rest = append([]string{"run"}, rest...)
	}
	hoisted, cmdArgs, err := normalizeCommand(cmd, rest[1:], arityOf(globalFlags()))
	if err != nil {
		return nil, err
	}
	out = append(out, hoisted...)
	out = append(out, rest[0])
	return append(out, cmdArgs...), nil
}

// normalizeCommand reorders the words after cmd's name. It returns the
// global flags to hoist to the app level and cmd's rewritten arguments.
func normalizeCommand(cmd *cli.Command, words []string, global map[string]bool) (hoisted, args []string, err error) {
	if cmd.SkipFlagParsing {
		return nil, words, nil
	}
	local := arityOf(cmd.Flags)
	for _, n := range cli.HelpFlag.Names() {
		local[n] = false
	}
	var flags, positional []string
	dash := false
	for j := 0; j < len(words); j++ {
		w := words[j]
		if w == "--" {
			positional = append(positional, words[j+1:]...)
			dash = true
			break
		}
		name, hasValue, isFlag := splitFlag(w)
		if !isFlag {
			if len(positional) == 0 && len(cmd.Subcommands) > 0 {
				if sub := findCommand(cmd.Subcommands, w); sub != nil {
					h, subArgs, err := normalizeCommand(sub, words[j+1:], global)
					if err != nil {
						return nil, nil, err
					}
					hoisted = append(hoisted, h...)
					return hoisted, append(append(flags, w), subArgs...), nil
				}
			}
			positional = append(positional, w)
			continue
		}
		takesValue, isLocal := local[name]
		dst := &flags
		if !isLocal {
			if tv, isGlobal := global[name]; isGlobal {
				takesValue, dst = tv, &hoisted
			}
		}
		*dst = append(*dst, w)
		if takesValue && !hasValue {
			if j+1 == len(words) || words[j+1] == "--" {
				if dst == &hoisted {
					return nil, nil, usageErrorf("flag needs an argument: %s", dashed(name))
				}
				continue // the command's parser reports it
			}
			j++
			*dst = append(*dst, words[j])
		}
	}
	args = flags
	if dash || needsDash(positional) {
		args = append(args, "--")
	}
	return hoisted, append(args, positional...), nil
}

// needsDash reports whether a positional word would be mistaken for a flag.
func needsDash(words []string) bool {
	for _, w := range words {
		if _, _, isFlag := splitFlag(w); isFlag {
			return true
		}
	}
	return false
}

// splitFlag parses a flag word: "-x", "--name", "--name=value". "-" and
// "--" are not flags.
func splitFlag(w string) (name string, hasValue, isFlag bool) {
	if len(w) < 2 || w[0] != '-' || w == "--" {
		return "", false, false
	}
	s := strings.TrimPrefix(w[1:], "-")
	name, _, hasValue = strings.Cut(s, "=")
	return name, hasValue, true
}

// arityOf maps every name and alias of flags to whether it takes a value.
func arityOf(flags []cli.Flag) map[string]bool {
	m := make(map[string]bool, 2*len(flags))
	for _, f := range flags {
		takesValue := false
		if d, ok := f.(cli.DocGenerationFlag); ok {
			takesValue = d.TakesValue()
		}
		for _, n := range f.Names() {
			m[n] = takesValue
		}
	}
	return m
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// looksLikeRunTarget implements the run-target test of cli.md §1: ends in
// .star, contains a path separator (covers ./, ../ and / prefixes), or
// names an existing non-directory file.
func looksLikeRunTarget(w string) bool {
	if w == "" || strings.HasPrefix(w, "-") {
		return false
	}
	if strings.HasSuffix(w, ".star") || strings.ContainsAny(w, `/\`) {
		return true
	}
	fi, err := os.Stat(w)
	return err == nil && !fi.IsDir()
}
