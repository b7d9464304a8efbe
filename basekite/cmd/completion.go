package cmd

import (
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"
)

// completionShells are the shells `completion` writes scripts for.
var completionShells = []struct {
	name  string
	write func(io.Writer, *compCmd)
}{
	{"bash", writeBashCompletion},
	{"zsh", writeZshCompletion},
	{"fish", writeFishCompletion},
}

func completionShellNames() []string {
	names := make([]string, len(completionShells))
	for i, s := range completionShells {
		names[i] = s.name
	}
	return names
}

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script (bash, zsh or fish)",
		ArgsUsage: "bash|zsh|fish",
		Description: "The script completes commands, flags, flag values (templates, permission\n" +
			"profiles, shells) and file names. It is generated from this binary's own\n" +
			"commands, so edition commands are included.\n\n" +
			"Example: source <(kite completion bash)          # this shell only\n" +
			"Example: kite completion bash > ~/.local/share/bash-completion/completions/kite\n" +
			"Example: kite completion zsh > \"${fpath[1]}/_kite\"\n" +
			"Example: kite completion fish > ~/.config/fish/completions/kite.fish",
		Action: func(c *cli.Context) error {
			want := strings.Join(completionShellNames(), ", ")
			if c.NArg() != 1 {
				return usageErrorf("completion: expected exactly 1 argument <shell> (%s), got %d", want, c.NArg())
			}
			shell := c.Args().First()
			for _, s := range completionShells {
				if s.name == shell {
					s.write(c.App.Writer, completionModel(c.App))
					return nil
				}
			}
			return usageErrorf("completion: unknown shell %q (want one of: %s)", shell, want)
		},
	}
}

// compCmd is the completion model of the app or one command: what may
// follow its name on the command line.
type compCmd struct {
	path  []string // canonical command names from the app down; empty for the app
	names []string // name and aliases
	usage string
	flags []compFlag // its own flags, then the global flags it does not shadow
	subs  []*compCmd
	args  compArgs // its positional arguments
}

// compFlag is one flag with every spelling ("--name", "-n").
type compFlag struct {
	names       []string
	usage       string
	placeholder string // what its value is called ("file", "seconds")
	takesValue  bool
	repeatable  bool
	value       compArgs // what its value is
}

// compArgs is what a positional argument or flag value completes to:
// a fixed word list, file names, directory names, or nothing.
type compArgs struct {
	words []string
	files bool
	dirs  bool
}

func (c *compCmd) key() string { return strings.Join(c.path, " ") }

// completionValues are the fixed value lists of flags, keyed by
// "<command path> --<flag>"; a key with an empty path is a global flag.
func completionValues() map[string][]string {
	templates := make([]string, len(projectTemplates))
	for i, t := range projectTemplates {
		templates[i] = t.name
	}
	return map[string][]string{
		" --" + flagPermissions: permissionAliases,
		" --" + flagOutput:      {"text", "json", "yaml", "table"},
		"init --template":       templates,
	}
}

// completionArgs are the positional arguments that are not file names,
// keyed by command path.
func completionArgs(cmds []*cli.Command) map[string]compArgs {
	var names []string
	for _, c := range cmds {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	return map[string]compArgs{
		"completion": {words: completionShellNames()},
		"help":       {words: names},
		"init":       {dirs: true},
		"exec":       {},
		"version":    {},
	}
}

// completionModel builds the model of app: visible commands and flags,
// recursively.
func completionModel(app *cli.App) *compCmd {
	values, args := completionValues(), completionArgs(app.Commands)
	root := &compCmd{names: []string{app.Name}, usage: app.Usage, args: compArgs{files: true}}
	root.flags = modelFlags(app.Flags, "", values, nil)
	// after a command only the global flags are accepted (normalizeArgs)
	global := modelFlags(globalFlags(), "", values, nil)
	var walk func(parent *compCmd, cmds []*cli.Command)
	walk = func(parent *compCmd, cmds []*cli.Command) {
		for _, c := range cmds {
			if c.Hidden {
				continue
			}
			n := &compCmd{
				path:  append(append([]string(nil), parent.path...), c.Name),
				names: c.Names(),
				usage: firstLine(c.Usage),
				args:  compArgs{files: true},
			}
			if a, ok := args[n.key()]; ok {
				n.args = a
			}
			flags := c.Flags
			if !c.HideHelp && !hasFlag(flags, "help") {
				flags = append(append([]cli.Flag(nil), flags...), cli.HelpFlag)
			}
			n.flags = modelFlags(flags, n.key(), values, global)
			subs := c.Subcommands
			if len(subs) == 1 && subs[0].Name == "help" {
				subs = nil // urfave adds help to the running command
			}
			walk(n, subs)
			if len(n.subs) > 0 {
				n.args = compArgs{}
			}
			parent.subs = append(parent.subs, n)
		}
	}
	walk(root, app.Commands)
	return root
}

func hasFlag(flags []cli.Flag, name string) bool {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

// modelFlags models the visible flags of the command at path, then the
// global flags none of them shadows.
func modelFlags(flags []cli.Flag, path string, values map[string][]string, global []compFlag) []compFlag {
	var out []compFlag
	own := map[string]bool{}
	for _, f := range flags {
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		cf := compFlag{}
		for _, n := range f.Names() {
			own[n] = true
			if len(n) == 1 {
				cf.names = append(cf.names, "-"+n)
			} else {
				cf.names = append(cf.names, "--"+n)
			}
		}
		if d, ok := f.(cli.DocGenerationFlag); ok {
			cf.takesValue = d.TakesValue()
			cf.placeholder, cf.usage = splitPlaceholder(d.GetUsage())
		}
		if s, ok := f.(cli.DocGenerationSliceFlag); ok {
			cf.repeatable = s.IsSliceFlag()
		}
		if cf.takesValue {
			if words, ok := values[path+" --"+f.Names()[0]]; ok {
				cf.value.words = words
			} else if strings.Contains(cf.placeholder, "file") || strings.Contains(cf.placeholder, "path") {
				cf.value.files = true
			} else if strings.Contains(cf.placeholder, "dir") {
				cf.value.dirs = true
			}
		}
		out = append(out, cf)
	}
	for _, g := range global {
		shadowed := false
		for _, n := range g.names {
			shadowed = shadowed || own[strings.TrimLeft(n, "-")]
		}
		if !shadowed {
			out = append(out, g)
		}
	}
	return out
}

var backquoted = regexp.MustCompile("`([^`]*)`")

// splitPlaceholder returns the `placeholder` of a flag usage (urfave's
// convention) and the usage without back quotes, first line only.
func splitPlaceholder(usage string) (placeholder, text string) {
	if m := backquoted.FindStringSubmatch(usage); m != nil {
		placeholder = m[1]
	}
	return placeholder, firstLine(strings.ReplaceAll(usage, "`", ""))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// sub returns the subcommand of c named name, or nil.
func (c *compCmd) sub(name string) *compCmd {
	for _, s := range c.subs {
		for _, n := range s.names {
			if n == name {
				return s
			}
		}
	}
	return nil
}

// allCmds lists c and every command below it, depth first.
func (c *compCmd) allCmds() []*compCmd {
	out := []*compCmd{c}
	for _, s := range c.subs {
		out = append(out, s.allCmds()...)
	}
	return out
}

func (c *compCmd) flagNames(valueOnly bool) []string {
	var out []string
	for _, f := range c.flags {
		if !valueOnly || f.takesValue {
			out = append(out, f.names...)
		}
	}
	return out
}

func (c *compCmd) subNames() []string {
	var out []string
	for _, s := range c.subs {
		out = append(out, s.names...)
	}
	return out
}

var notIdentifier = regexp.MustCompile(`[^A-Za-z0-9_]`)

// shellFuncName turns a binary or command name into a shell identifier part.
func shellFuncName(name string) string { return notIdentifier.ReplaceAllString(name, "_") }

// --- bash ---

func writeBashCompletion(w io.Writer, root *compCmd) {
	bin := root.names[0]
	implicitRun := bashQuote("run") // a word that names no command when run is absent
	if root.sub("run") == nil {
		implicitRun = "-"
	}
	fn := "_" + shellFuncName(bin)
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# bash completion for %s, generated by `%s completion bash`.\n", bin, bin)
	p("#   this shell:  source <(%s completion bash)\n", bin)
	p("#   permanently: %s completion bash > ~/.local/share/bash-completion/completions/%s\n\n", bin, bin)

	// _spec <path>: the subcommands, flags, value flags and argument kind of a command
	p("%s_spec() {\n    case \"$1\" in\n", fn)
	for _, c := range root.allCmds() {
		p("    %s)\n", bashQuote(c.key()))
		p("        subs=%s\n", bashQuote(strings.Join(c.subNames(), " ")))
		p("        flags=%s\n", bashQuote(strings.Join(c.flagNames(false), " ")))
		p("        valflags=%s\n", bashQuote(strings.Join(c.flagNames(true), " ")))
		p("        args=%s ;;\n", bashQuote(bashArgs(c.args)))
	}
	p("    esac\n}\n\n")

	// _next <path> <word>: the path of subcommand word of path
	p("%s_next() {\n    case \"$1/$2\" in\n", fn)
	for _, c := range root.allCmds() {
		for _, s := range c.subs {
			var pats []string
			for _, n := range s.names {
				pats = append(pats, bashQuote(c.key()+"/"+n))
			}
			p("    %s) next=%s ;;\n", strings.Join(pats, " | "), bashQuote(s.key()))
		}
	}
	p("    *) return 1 ;;\n    esac\n}\n\n")

	// _values <path> <flag>: what the flag's value completes to
	p("%s_values() {\n    case \"$1 $2\" in\n", fn)
	for _, c := range root.allCmds() {
		for _, f := range c.flags {
			if !f.takesValue {
				continue
			}
			var pats []string
			for _, n := range f.names {
				pats = append(pats, bashQuote(c.key()+" "+n))
			}
			p("    %s) args=%s ;;\n", strings.Join(pats, " | "), bashQuote(bashArgs(f.value)))
		}
	}
	p("    *) args=none ;;\n    esac\n}\n\n")

	p("%s_reply() { # <args kind> <current word>\n", fn)
	io.WriteString(w, `    local IFS=$'\n'
    case "$1" in
    files) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -f -- "$2")) ;;
    dirs) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -d -- "$2")) ;;
    words:*) COMPREPLY+=($(IFS=' '; compgen -W "${1#words:}" -- "$2")) ;;
    esac
}

`)
	p("%s() {\n", fn)
	io.WriteString(w, strings.NewReplacer("FN", fn, "IMPLICIT", implicitRun).Replace(`    local cur="${COMP_WORDS[COMP_CWORD]}" prev="" path="" next subs flags valflags args
    local i w skip=0 positional=0 dashdash=0 flag=""
    COMPREPLY=()
    ((COMP_CWORD > 0)) && prev="${COMP_WORDS[COMP_CWORD-1]}"
    # the command path: the words naming a subcommand of the path so far,
    # skipping flags and flag values ('=' is a word of its own in bash)
    for ((i = 1; i < COMP_CWORD; i++)); do
        w="${COMP_WORDS[i]}"
        if [[ $w == "=" ]]; then skip=1; continue; fi
        if ((skip)); then skip=0; continue; fi
        if [[ $w == "--" ]]; then positional=1 dashdash=1; continue; fi
        if [[ $w == -* ]] && ((dashdash == 0)); then
            FN_spec "$path"
            if [[ " $valflags " == *" $w "* && "${COMP_WORDS[i+1]}" != "=" ]]; then skip=1; fi
            continue
        fi
        if ((positional == 0)) && FN_next "$path" "$w"; then
            path="$next"
        elif [[ -z $path && $positional == 0 ]] && FN_next "" IMPLICIT; then
            path="$next" positional=1 # a script: implicit run
        else
            positional=1
        fi
    done
    FN_spec "$path"
    # a flag value: --flag <TAB>, --flag=<TAB>, --flag=x<TAB>
    if [[ $cur == "=" && $prev == -* ]]; then
        flag="$prev" cur=""
    elif [[ $prev == "=" ]] && ((COMP_CWORD > 1)); then
        flag="${COMP_WORDS[COMP_CWORD-2]}"
    elif ((skip)); then
        flag="$prev"
    fi
    if [[ -n $flag ]]; then
        FN_values "$path" "$flag"
        FN_reply "$args" "$cur"
        return 0
    fi
    if [[ $cur == -* ]] && ((dashdash == 0)); then
        FN_reply "words:$flags" "$cur"
        return 0
    fi
    if ((positional == 0)) && [[ -n $subs ]]; then
        FN_reply "words:$subs" "$cur"
    fi
    FN_reply "$args" "$cur"
}
`))
	p("complete -F %s %s\n", fn, bin)
}

func bashArgs(a compArgs) string {
	switch {
	case len(a.words) > 0:
		return "words:" + strings.Join(a.words, " ")
	case a.files:
		return "files"
	case a.dirs:
		return "dirs"
	}
	return "none"
}

// bashQuote single-quotes s for bash.
func bashQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// --- zsh ---

func writeZshCompletion(w io.Writer, root *compCmd) {
	bin := root.names[0]
	fn := "_" + shellFuncName(bin)
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("#compdef %s\n", bin)
	p("# zsh completion for %s, generated by `%s completion zsh`.\n", bin, bin)
	p("#   this shell:  source <(%s completion zsh)\n", bin)
	p("#   permanently: %s completion zsh > \"${fpath[1]}/_%s\"\n\n", bin, bin)
	for _, c := range root.allCmds() {
		name := fn
		for _, part := range c.path {
			name += "_" + shellFuncName(part)
		}
		p("%s() {\n", name)
		specs := zshFlagSpecs(c.flags)
		if len(c.subs) > 0 {
			p("    local curcontext=\"$curcontext\" state state_descr line ret=1\n")
			p("    typeset -A opt_args\n")
			p("    local -a subcmds=(\n")
			for _, s := range c.subs {
				for _, n := range s.names {
					p("        %s\n", zshQuote(strings.ReplaceAll(n, ":", `\:`)+":"+s.usage))
				}
			}
			p("    )\n")
			p("    _arguments -C -s -S \\\n")
			for _, s := range specs {
				p("        %s \\\n", s)
			}
			p("        '1: :->first' \\\n")
			p("        '*:: :->rest' && ret=0\n")
			p("    case $state in\n")
			p("    first)\n")
			if c.args.files {
				p("        _alternative 'commands:command:{_describe -t commands command subcmds}' 'files:script:_files' && ret=0 ;;\n")
			} else {
				p("        _describe -t commands command subcmds && ret=0 ;;\n")
			}
			p("    rest)\n        case $words[1] in\n")
			for _, s := range c.subs {
				sub := name + "_" + shellFuncName(s.path[len(s.path)-1])
				pats := make([]string, len(s.names))
				for i, n := range s.names {
					pats[i] = zshQuote(n)
				}
				p("        %s) %s && ret=0 ;;\n", strings.Join(pats, "|"), sub)
			}
			if c.args.files { // the app: a script to run, implicitly
				fallback := "_files"
				if c.sub("run") != nil {
					fallback = name + "_run"
				}
				p("        *) %s && ret=0 ;;\n", fallback)
			}
			p("        esac ;;\n    esac\n    return ret\n}\n\n")
			continue
		}
		p("    _arguments -s -S")
		for _, s := range specs {
			p(" \\\n        %s", s)
		}
		if a := zshAction(c.args); a != "" {
			p(" \\\n        %s", zshQuote("*:argument:"+a))
		}
		p("\n}\n\n")
	}
	p("if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n")
	p("    %s \"$@\"\nelse\n    compdef %s %s\nfi\n", fn, fn, bin)
}

func zshFlagSpecs(flags []compFlag) []string {
	var out []string
	for _, f := range flags {
		desc := "[" + zshEscapeDesc(f.usage) + "]"
		for _, n := range f.names {
			spec := n
			if f.repeatable {
				spec = "*" + spec
			}
			if f.takesValue {
				if strings.HasPrefix(n, "--") {
					spec += "="
				}
				msg := f.placeholder
				if msg == "" {
					msg = "value"
				}
				spec += desc + ":" + strings.ReplaceAll(msg, ":", `\:`) + ":" + zshAction(f.value)
			} else {
				spec += desc
			}
			out = append(out, zshQuote(spec))
		}
	}
	return out
}

func zshAction(a compArgs) string {
	switch {
	case len(a.words) > 0:
		return "(" + strings.Join(a.words, " ") + ")"
	case a.files:
		return "_files"
	case a.dirs:
		return "_files -/"
	}
	return ""
}

func zshEscapeDesc(s string) string {
	return strings.NewReplacer(`\`, `\\`, "[", `\[`, "]", `\]`).Replace(s)
}

// zshQuote single-quotes s for zsh.
func zshQuote(s string) string { return bashQuote(s) }

// --- fish ---

func writeFishCompletion(w io.Writer, root *compCmd) {
	bin := root.names[0]
	fn := "__" + shellFuncName(bin)
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("# fish completion for %s, generated by `%s completion fish`.\n", bin, bin)
	p("#   this shell:  %s completion fish | source\n", bin)
	p("#   permanently: %s completion fish > ~/.config/fish/completions/%s.fish\n\n", bin, bin)

	p("function %s_valflags --description 'value-taking flags of a command path'\n    switch $argv[1]\n", fn)
	for _, c := range root.allCmds() {
		p("        case %s\n            echo %s\n", fishQuote(c.key()), fishQuote(strings.Join(c.flagNames(true), " ")))
	}
	p("    end\nend\n\n")
	p("function %s_next --description 'path of a subcommand'\n    switch \"$argv[1]/$argv[2]\"\n", fn)
	for _, c := range root.allCmds() {
		for _, s := range c.subs {
			var pats []string
			for _, n := range s.names {
				pats = append(pats, fishQuote(c.key()+"/"+n))
			}
			p("        case %s\n            echo %s\n", strings.Join(pats, " "), fishQuote(s.key()))
		}
	}
	p("        case '*'\n            return 1\n    end\nend\n\n")
	p("function %s_path --description 'the command path of the command line'\n", fn)
	implicitRun := "run"
	if root.sub("run") == nil {
		implicitRun = "-"
	}
	io.WriteString(w, strings.NewReplacer("FN", fn, "IMPLICIT", implicitRun).Replace(`    set -l words (commandline -opc)
    set -e words[1]
    set -l path ''
    set -l skip 0
    for w in $words
        if test $skip = 1
            set skip 0
            continue
        end
        if test "$w" = --
            break
        end
        if string match -q -- '-*' $w
            if not string match -q -- '*=*' $w; and contains -- $w (string split ' ' -- (FN_valflags "$path"))
                set skip 1
            end
            continue
        end
        set -l next (FN_next "$path" $w)
        if test $status -ne 0
            if test -z "$path"; and set next (FN_next '' IMPLICIT)
                set path "$next" # a script: implicit run
            end
            break
        end
        set path "$next"
    end
    echo $path
end

function FN_at --description 'whether the command line is at command path $argv[1]'
    set -l path (FN_path)
    test "$path" = "$argv[1]"
end

`))
	p("complete -c %s -f\n", bin)
	for _, c := range root.allCmds() {
		cond := fmt.Sprintf("-n %s", fishQuote(fn+"_at "+fishQuote(c.key())))
		for _, s := range c.subs {
			p("complete -c %s %s -a %s -d %s\n", bin, cond, fishQuote(s.names[0]), fishQuote(s.usage))
		}
		switch {
		case len(c.args.words) > 0:
			p("complete -c %s %s -a %s\n", bin, cond, fishQuote(strings.Join(c.args.words, " ")))
		case c.args.files:
			p("complete -c %s %s -F\n", bin, cond)
		case c.args.dirs:
			p("complete -c %s %s -a '(__fish_complete_directories)'\n", bin, cond)
		}
		for _, f := range c.flags {
			line := fmt.Sprintf("complete -c %s %s", bin, cond)
			for _, n := range f.names {
				if strings.HasPrefix(n, "--") {
					line += " -l " + fishQuote(n[2:])
				} else {
					line += " -s " + fishQuote(n[1:])
				}
			}
			if f.takesValue {
				switch {
				case len(f.value.words) > 0:
					line += " -x -a " + fishQuote(strings.Join(f.value.words, " "))
				case f.value.files:
					line += " -r -F"
				case f.value.dirs:
					line += " -x -a '(__fish_complete_directories)'"
				default:
					line += " -x"
				}
			}
			p("%s -d %s\n", line, fishQuote(f.usage))
		}
	}
}

// fishQuote single-quotes s for fish (\ and ' escaped).
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}
