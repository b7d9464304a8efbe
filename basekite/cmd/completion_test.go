package cmd

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// visibleCommands are the commands `kitecmd --help` lists.
func visibleCommands(t *testing.T) []string {
	t.Helper()
	app := newApp("kitecmd", streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard})
	var names []string
	for _, c := range app.Commands {
		if !c.Hidden {
			names = append(names, c.Name)
		}
	}
	if len(names) < 8 {
		t.Fatalf("only %d visible commands: %v", len(names), names)
	}
	return names
}

func TestCompletionScripts(t *testing.T) {
	commands := visibleCommands(t)
	syntaxCheck := map[string][]string{"bash": {"bash", "-n"}, "zsh": {"zsh", "-n"}, "fish": {"fish", "--no-execute"}}
	for _, shell := range completionShellNames() {
		t.Run(shell, func(t *testing.T) {
			t.Parallel()
			res := runBin(t, invocation{args: []string{"completion", shell}})
			if res.code != 0 || res.stderr != "" || len(res.stdout) < 1000 {
				t.Fatalf("%s", res)
			}
			for _, c := range commands {
				if !strings.Contains(res.stdout, c) {
					t.Errorf("the %s script does not mention %q", shell, c)
				}
			}
			for _, s := range []string{"--permissions", "--template", "allow-fs", "kubernetes", "kitecmd"} {
				if !strings.Contains(res.stdout, s) {
					t.Errorf("the %s script lacks %q", shell, s)
				}
			}
			argv := syntaxCheck[shell]
			if _, err := exec.LookPath(argv[0]); err != nil {
				t.Skipf("%s not installed: syntax not checked", argv[0])
			}
			script := filepath.Join(t.TempDir(), "completion."+shell)
			if err := os.WriteFile(script, []byte(res.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(argv[0], append(argv[1:], script)...).CombinedOutput(); err != nil {
				t.Fatalf("%s rejects the script: %v\n%s", argv[0], err, out)
			}
		})
	}
}

func TestCompletionUsageErrors(t *testing.T) {
	for _, tc := range []cliCase{
		{name: "unknown shell", args: []string{"completion", "tcsh"}, code: 2, stdout: empty,
			stderr: str("Error: completion: unknown shell \"tcsh\" (want one of: bash, zsh, fish)\n" + usageHint)},
		{name: "no shell", args: []string{"completion"}, code: 2, stdout: empty,
			stderr: str("Error: completion: expected exactly 1 argument <shell> (bash, zsh, fish), got 0\n" + usageHint)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			check(t, tc, runBin(t, invocation{args: tc.args}))
		})
	}
}

// TestBashCompletionCompletes sources the bash script and asks it for
// completions the way bash does (COMP_WORDS, COMP_CWORD; '=' is a word
// of its own).
func TestBashCompletionCompletes(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	res := runBin(t, invocation{args: []string{"completion", "bash"}})
	dir := t.TempDir()
	writeFile(t, dir, "completion.bash", res.stdout)
	writeFile(t, dir, "deploy.star", "")
	writeFile(t, dir, "sub/x.star", "")
	cases := []struct{ line, want string }{
		{"kitecmd ru", "run"},
		{"kitecmd va", "validate"},
		{"kitecmd de", "deploy.star"}, // implicit run
		{"kitecmd init -t ", "basic deployment kubernetes backup"},
		{"kitecmd init --template = k", "kubernetes"},
		{"kitecmd init --template =", "basic deployment kubernetes backup"},
		{"kitecmd init ", "sub"},
		{"kitecmd run --permissions al", "allow-fs allow-net allow-local allow-all"},
		{"kitecmd --permissions = allow-f", "allow-fs"},
		{"kitecmd completion ", "bash zsh fish"},
		{"kitecmd help ver", "version"},
		{"kitecmd test --verb", "--verbose"},
		{"kitecmd validate --js", "--json"},
		{"kitecmd run --var a=1 dep", "deploy.star"},
		{"kitecmd deploy.star --allow-l", "--allow-local"},
		{"kitecmd exec ", ""},
	}
	var script strings.Builder
	script.WriteString("source completion.bash\n")
	for _, tc := range cases {
		words := strings.Split(tc.line, " ")
		script.WriteString("COMP_WORDS=(")
		for _, w := range words {
			script.WriteString(bashQuote(w) + " ")
		}
		script.WriteString(")\nCOMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_kitecmd\necho \"${COMPREPLY[*]}\"\n")
	}
	c := exec.Command("bash", "--norc", "--noprofile")
	c.Dir, c.Stdin = dir, strings.NewReader(script.String())
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	got := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(got) != len(cases) {
		t.Fatalf("got %d answers for %d cases:\n%s", len(got), len(cases), stdout.String())
	}
	for i, tc := range cases {
		if got[i] != tc.want {
			t.Errorf("%q completes to %q, want %q", tc.line, got[i], tc.want)
		}
	}
}

// TestCompletionFollowsTheApp: the scripts come from the app definition,
// so commands an edition registers are completed too.
func TestCompletionFollowsTheApp(t *testing.T) {
	app := newApp("kitex", streams{in: strings.NewReader(""), out: io.Discard, err: io.Discard})
	app.Commands = append(app.Commands, &cli.Command{
		Name:  "kube",
		Usage: "Kubernetes helpers",
		Subcommands: []*cli.Command{{
			Name:  "gen-controller-artifacts",
			Usage: "generate manifests",
			Flags: []cli.Flag{&cli.StringFlag{Name: "controller", Usage: "controller script `file`"}},
		}},
	}, &cli.Command{Name: "secret", Hidden: true})
	model := completionModel(app)
	for _, s := range completionShells {
		var b strings.Builder
		s.write(&b, model)
		out := b.String()
		for _, want := range []string{"kube", "gen-controller-artifacts", "controller", "kitex"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s script lacks %q", s.name, want)
			}
		}
		if strings.Contains(out, "secret") {
			t.Errorf("%s script completes a hidden command", s.name)
		}
	}
	kube := model.sub("kube")
	if kube == nil || kube.sub("gen-controller-artifacts") == nil {
		t.Fatal("kube gen-controller-artifacts not modelled")
	}
	gen := kube.sub("gen-controller-artifacts")
	if f := gen.flags[0]; f.names[0] != "--controller" || !f.takesValue || !f.value.files {
		t.Errorf("--controller modelled as %+v", f)
	}
}

// TestHelpShowsExamples: every command's --help shows at least one
// example. help is urfave's own command.
func TestHelpShowsExamples(t *testing.T) {
	for _, name := range visibleCommands(t) {
		if name == "help" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := runBin(t, invocation{args: []string{name, "--help"}})
			if res.code != 0 {
				t.Fatalf("%s", res)
			}
			if !strings.Contains(res.stdout, "Example") {
				t.Errorf("%s --help shows no example:\n%s", name, res.stdout)
			}
		})
	}
}

// TestFishCompletionCompletes asks fish itself (complete -C) when it is
// installed.
func TestFishCompletionCompletes(t *testing.T) {
	if _, err := exec.LookPath("fish"); err != nil {
		t.Skip("fish not installed")
	}
	res := runBin(t, invocation{args: []string{"completion", "fish"}})
	dir := t.TempDir()
	writeFile(t, dir, "completion.fish", res.stdout)
	writeFile(t, dir, "deploy.star", "")
	cases := []struct{ line, want string }{
		{"kitecmd va", "validate"},
		{"kitecmd init -t ", "backup basic deployment kubernetes"},
		{"kitecmd completion ", "bash fish zsh"},
		{"kitecmd run --permissions=allow-f", "--permissions=allow-fs"},
		{"kitecmd deploy.star --allow-l", "--allow-local"},
		{"kitecmd run dep", "deploy.star"},
		{"kitecmd test --verb", "--verbose"},
	}
	var script strings.Builder
	script.WriteString("source completion.fish\n")
	for _, tc := range cases {
		script.WriteString("echo (complete -C " + fishQuote(tc.line) + " | string split -f1 \\t | sort)\n")
	}
	c := exec.Command("fish", "--no-config", "-c", script.String())
	c.Dir = dir
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(got) != len(cases) {
		t.Fatalf("got %d answers for %d cases:\n%s", len(got), len(cases), out)
	}
	for i, tc := range cases {
		if got[i] != tc.want {
			t.Errorf("%q completes to %q, want %q", tc.line, got[i], tc.want)
		}
	}
}
