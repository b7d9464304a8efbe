package template_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/template"
)

func TestRenderLegacy(t *testing.T) {
	runCases(t, nil, []evalCase{
		{expr: `template.render("Hello, {{.Name}}!", {"Name": "World"})`, want: `Hello, World!`},
		{expr: `template.render("{{.a}}-{{.b}}", {"a": 1, "b": "x"})`, want: `1-x`},
		{name: "nested", expr: `template.render("{{.User.Name}}", {"User": {"Name": "ann"}})`, want: `ann`},
		{name: "range", expr: `template.render("{{range .Items}}[{{.}}]{{end}}", {"Items": ["a", "b"]})`, want: `[a][b]`},
		{name: "if on", expr: `template.render("{{if .Enabled}}ON{{else}}OFF{{end}}", {"Enabled": True})`, want: `ON`},
		{name: "if off", expr: `template.render("{{if .Enabled}}ON{{else}}OFF{{end}}", {"Enabled": False})`, want: `OFF`},
		{name: "empty template", expr: `template.render("", {"a": 1})`, want: ``},
		{name: "plain text", expr: `template.render("just text", {})`, want: `just text`},
		{name: "multi-line", expr: `template.render("a: {{.a}}\nb: {{.b}}\n", {"a": 1, "b": 2})`, want: "a: 1\nb: 2\n"},
		{name: "extras ignored", expr: `template.render("{{.}}", "x", "extra")`, want: `x`},
		{name: "missing key", expr: `template.render("{{.Name}}", {})`, want: `<no value>`},
		{expr: `template.render("x")`, err: `render: expected 2 arguments (template, data)`},
		{expr: `template.render(1, {})`, err: `render: first argument must be a string, got int`},
		{name: "parse error raw", expr: `template.render("{{if}}", {})`, err: `template: tmpl:1: missing value for if`},
		{name: "exec error raw", expr: `template.render("{{.x.y}}", {"x": 1})`, err: `template: tmpl:1:4: executing "tmpl" at <.x.y>: can't evaluate field y in type interface {}`},
		{name: "conversion error raw", expr: `template.render("{{.}}", template)`, err: `unsupported type: module`},
		{expr: `template.try_render("{{.}}", 1)`, want: `Result(ok=True, value="1")`},
		{expr: `template.try_render("{{.}}")`, want: `Result(ok=False, error="render: expected 2 arguments (template, data)")`},
	})
}

func TestDataModel(t *testing.T) {
	runCases(t, nil, []evalCase{
		{name: "str", expr: `template.render("{{.}}", "hello")`, want: `hello`},
		{name: "int", expr: `template.render("{{.}}", 42)`, want: `42`},
		{name: "float", expr: `template.render("{{.}}", 1.5)`, want: `1.5`},
		{name: "bool", expr: `template.render("{{.}}", True)`, want: `true`},
		{name: "None", expr: `template.render("{{.}}", None)`, want: `<no value>`},
		{name: "bytes", expr: `template.render("{{.}}", b"hi")`, want: `[104 105]`},
		{name: "list", expr: `template.render("{{.}}", [1, 2])`, want: `[1 2]`},
		{name: "tuple", expr: `template.render("{{index . 1}}", (1, "b"))`, want: `b`},
		{name: "dict", expr: `template.render("{{.}}", {"k": "v"})`, want: `map[k:v]`},
		{name: "range over list", expr: `template.render("{{range .}}{{.}},{{end}}", [1, 2, 3])`, want: `1,2,3,`},
		{name: "range dict sorted", expr: `template.render("{{range $k, $v := .}}{{$k}}={{$v}};{{end}}", {"b": 2, "a": 1, "c": 3})`, want: `a=1;b=2;c=3;`},
		{name: "index and len", expr: `template.render("{{index .l 1}} {{len .l}}", {"l": [10, 20]})`, want: `20 2`},
		{name: "non-string keys", expr: `template.render("{{range $k, $v := .}}{{$k}}={{$v}};{{end}}", {2: "two", 1: "one"})`, want: `1=one;2=two;`},
		{name: "falsy values", expr: `template.render("{{if .s}}s{{end}}{{if .l}}l{{end}}{{if .m}}m{{end}}{{if .z}}z{{end}}{{if .f}}f{{end}}{{if .n}}n{{end}}|{{if .t}}t{{end}}", {"s": "", "l": [], "m": {}, "z": 0, "f": False, "n": None, "t": [0]})`, want: `|t`},
		{name: "builtins", expr: `template.render("{{printf \"%05d\" .n}} {{eq .n 7}} {{and .a .b}} {{html .h}} {{js .j}} {{urlquery .u}} {{slice .s 1 3}}", {"n": 7, "a": 1, "b": 2, "h": "<b>", "j": "'", "u": "a b", "s": "abcd"})`,
			want: `00007 true 2 &lt;b&gt; \' a+b bc`},
		{name: "no HTML escaping", expr: `template.render("{{.}}", "<b>&")`, want: `<b>&`},
		{name: "no extra functions", expr: `template.render("{{upper .}}", "x")`, err: `template: tmpl:1: function "upper" not defined`},
		{name: "big uint", expr: `template.render("{{.}}", 18446744073709551615)`, want: `18446744073709551615`},
	})
}

func TestTextObject(t *testing.T) {
	runCases(t, nil, []evalCase{
		{expr: `type(template.text("x"))`, want: `template`},
		{expr: `template.text("Hi {{.}}").source`, want: `Hi {{.}}`},
		{name: "reusable", pre: `t = template.text("Hi {{.}}")`, expr: `[t.render("a"), t.render("b")]`, want: `["Hi a", "Hi b"]`},
		{expr: `str(template.text("Hello"))`, want: `template("Hello")`},
		{name: "str truncated", expr: `str(template.text("0123456789012345678901234567890123456789ABC"))`, want: `template("0123456789012345678901234567890123456789...")`},
		{name: "str at 40", expr: `str(template.text("0123456789012345678901234567890123456789"))`, want: `template("0123456789012345678901234567890123456789")`},
		{name: "str quoted", expr: `str(template.text("a\n\"b\""))`, want: `template("a\n\"b\"")`},
		{expr: `dir(template.text("x"))`, want: `["render", "source", "try_render"]`},
		{expr: `bool(template.text(""))`, want: `False`},
		{expr: `bool(template.text("x"))`, want: `True`},
		{expr: `{template.text("x"): 1}`, err: `unhashable type: template`},
		{expr: `template.text("x").try_source`, err: `template has no .try_source field or method (did you mean .source?)`},
		{expr: `template.text()`, err: `template.text: takes exactly 1 argument (template string)`},
		{expr: `template.text("a", "b")`, err: `template.text: takes exactly 1 argument (template string)`},
		{expr: `template.text(1)`, err: `template.text: argument must be a string, got int`},
		{expr: `template.text(b"x")`, err: `template.text: argument must be a string, got bytes`},
		{name: "other keywords ignored", expr: `template.text("{{.}}", name="x", delims=None).render(1)`, want: `1`},
		{name: "parse error", expr: `template.text("{{if}}")`, err: `template: tmpl:1: missing value for if`},
		{name: "parse error line", expr: `template.text("ok\n{{.a}\n")`, err: `template: tmpl:2: bad character U+007D '}'`},
		{name: "unclosed action", expr: `template.text("{{range .}}")`, err: `template: tmpl:1: unexpected EOF`},
		{expr: `template.try_text("{{if}}").ok`, want: `False`},
		{expr: `template.try_text("{{.}}!").value.render("x")`, want: `x!`},

		{expr: `template.bytes(b"Hi {{.}}").render("b")`, want: `Hi b`},
		{expr: `template.bytes("Hi {{.}}").render("s")`, want: `Hi s`},
		{expr: `template.bytes(b"x").source`, want: `x`},
		{expr: `template.bytes(1)`, err: `template.bytes: argument must be bytes or string, got int`},
		{expr: `template.bytes()`, err: `template.bytes: takes exactly 1 argument (template bytes)`},
		{expr: `template.try_bytes(b"{{if}}").ok`, want: `False`},
		{expr: `template.try_bytes(b"<%.%>", delims=("<%", "%>")).value.render(1)`, want: `1`},

		{name: "delims", expr: `template.text("<% .app %>:{{ .tag }}", delims=("<%", "%>")).render({"app": "api"})`, want: `api:{{ .tag }}`},
		{name: "literal braces survive", expr: `template.text("{{ \"value\" }} <% .x %>", delims=("<%", "%>")).render({"x": 1})`, want: `{{ "value" }} 1`},
		{name: "empty delim keeps default", expr: `template.text("{{.}}<%.%>", delims=("", "%>")).render(1)`, want: `1<%.%>`},
		{name: "delims list", expr: `template.text("x", delims=["<%", "%>"])`, err: `template.text: delims must be a tuple of (left, right), e.g. ("<%", "%>")`},
		{name: "delims length", expr: `template.bytes("x", delims=("<%",))`, err: `template.bytes: delims must be a tuple of (left, right), e.g. ("<%", "%>")`},
		{name: "delims str", expr: `template.text("x", delims="<%")`, err: `template.text: delims must be a tuple of (left, right), e.g. ("<%", "%>")`},
		{name: "delims types", expr: `template.text("x", delims=("<%", 1))`, err: `template.text: delims must be a tuple of two strings`},

		{name: "render arity", expr: `template.text("x").render()`, err: `template.render: takes exactly 1 argument (data)`},
		{name: "render arity 2", expr: `template.text("x").render(1, 2)`, err: `template.render: takes exactly 1 argument (data)`},
		{name: "missing default", expr: `template.text("{{.Name}}").render({})`, want: `<no value>`},
		{name: "missing explicit default", expr: `template.text("{{.Name}}").render({}, missing_key="default")`, want: `<no value>`},
		{name: "missing zero", expr: `template.text("{{.Name}}").render({}, missing_key="zero")`, want: `<no value>`},
		{name: "missing error", expr: `template.text("{{.x}}").render({}, missing_key="error")`,
			err: `template.render: template: tmpl:1:2: executing "tmpl" at <.x>: map has no entry for key "x"`},
		{name: "missing error after zero", pre: `t = template.text("{{.x}}")
a = t.render({}, missing_key="zero")
b = t.try_render({}, missing_key="error")`, expr: `[a, b.ok, t.render({})]`, want: `["<no value>", False, "<no value>"]`},
		{name: "missing bogus", expr: `template.text("x").render({}, missing_key="bogus")`, err: `template.render: missing_key must be "error", "zero", or "default", got "bogus"`},
		{name: "missing non-str ignored", expr: `template.text("{{.x}}").render({}, missing_key=1)`, want: `<no value>`},
		{name: "other keywords ignored", expr: `template.text("{{.}}").render(1, strict=True)`, want: `1`},
		{name: "exec error prefixed", expr: `template.text("{{.x.y}}").render({"x": 1})`,
			err: `template.render: template: tmpl:1:4: executing "tmpl" at <.x.y>: can't evaluate field y in type interface {}`},
		{name: "conversion error prefixed", expr: `template.text("x").render({"f": template})`, err: `template.render: unsupported type: module`},
		{name: "try_render error", expr: `template.text("{{.x}}").try_render({}, missing_key="error").ok`, want: `False`},
		{name: "try_render bogus", expr: `template.text("x").try_render({}, missing_key="bogus")`, want: `Result(ok=False, error="template.render: missing_key must be \"error\", \"zero\", or \"default\", got \"bogus\"")`},
		{name: "try_render ok", expr: `template.text("{{.}}").try_render("v")`, want: `Result(ok=True, value="v")`},

		{name: "namespace", expr: `dir(template)`, want: `["bytes", "file", "render", "text", "try_bytes", "try_file", "try_render", "try_text"]`},
		{expr: `type(template)`, want: `module`},
	})
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return quote(p)
	}
	greet := write("greet.tmpl", "Hello, {{.Name}}!\n")
	custom := write("custom.tmpl", "<% .Name %> {{ literal }}")
	missing := filepath.Join(dir, "missing.tmpl")
	runCases(t, nil, []evalCase{
		{expr: `template.file(` + greet + `).render({"Name": "file"})`, want: "Hello, file!\n"},
		{expr: `template.file(` + greet + `).source`, want: "Hello, {{.Name}}!\n"},
		{expr: `template.file(` + custom + `, delims=("<%", "%>")).render({"Name": "x"})`, want: "x {{ literal }}"},
		{expr: `template.file(` + quote(missing) + `)`, err: `open ` + missing + `: no such file or directory`},
		{expr: `template.try_file(` + quote(missing) + `)`, want: `Result(ok=False, error="open ` + missing + `: no such file or directory")`},
		{expr: `template.try_file(` + greet + `).value.render({"Name": "t"})`, want: "Hello, t!\n"},
		{expr: `template.file(` + write("bad.tmpl", "line1\n{{if}}") + `)`, err: `template: tmpl:2: missing value for if`},
		{expr: `template.file(1)`, err: `template.file: argument must be a string, got int`},
		{expr: `template.file()`, err: `template.file: takes exactly 1 argument (path)`},
		{expr: `template.file(` + greet + `, delims=[1])`, err: `template.file: delims must be a tuple of (left, right), e.g. ("<%", "%>")`},
		{expr: `template.file(` + quote(dir) + `)`, err: `read ` + dir + `: is a directory`},
	})
}

func TestPermissions(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "t.tmpl")
	if err := os.WriteFile(p, []byte("{{.}}"), 0o644); err != nil {
		t.Fatal(err)
	}
	deny := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	got, msg, err := run(t, deny, "", `template.file(`+quote(p)+`)`)
	if !strings.HasPrefix(msg, `permission denied: fs.read read_file(`+quote(p)+`)`) || !libkite.IsPermissionError(err) {
		t.Fatalf("file under deny-all = %q, %q", got, msg)
	}
	got, msg, _ = run(t, deny, "", `template.try_file(`+quote(p)+`)`)
	if msg != "" || !strings.HasPrefix(got, `Result(ok=False, error="permission denied: fs.read read_file(`) {
		t.Fatalf("try_file under deny-all = %q, %q", got, msg)
	}
	// in-memory rendering is never gated
	got, msg, _ = run(t, deny, "", `template.text("{{.}}").render(1) + template.render("{{.}}", 2) + template.bytes(b"{{.}}").render(3)`)
	if msg != "" || got != "123" {
		t.Fatalf("ungated rendering = %q, %q", got, msg)
	}
	// a dry run still reads templates (reading is not a side effect)
	got, msg, _ = run(t, &libkite.Config{DryRun: true}, "", `template.file(`+quote(p)+`).render("dry")`)
	if msg != "" || got != "dry" {
		t.Fatalf("dry run = %q, %q", got, msg)
	}
}

func TestRenderHonoursContext(t *testing.T) {
	tmpl, err := template.Parse(`{{define "a"}}x{{template "a" .}}{{template "a" .}}{{end}}{{template "a" .}}`, "", "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = tmpl.Render(ctx, starlark.None, "")
	if err == nil || err.Error() != "context deadline exceeded" {
		t.Fatalf("error = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestConcurrentRender(t *testing.T) {
	tmpl, err := template.Parse(`{{.x}}`, "", "")
	if err != nil {
		t.Fatal(err)
	}
	data := starlark.NewDict(1)
	_ = data.SetKey(starlark.String("y"), starlark.MakeInt(1))
	data.Freeze() // iterating an unfrozen dict is not goroutine-safe
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mode := []string{"", "zero", "error", "default"}[i%4]
			out, err := tmpl.Render(context.Background(), data, mode)
			if mode == "error" {
				if err == nil {
					t.Errorf("mode error: no error")
				}
			} else if err != nil || out != "<no value>" {
				t.Errorf("mode %q: %q, %v", mode, out, err)
			}
		}()
	}
	wg.Wait()
}

func TestModule(t *testing.T) {
	m := template.New()
	if m.Name() != "template" || m.FactoryMethod() != "" || len(m.Aliases()) != 0 || m.Description() == "" {
		t.Fatal("module metadata")
	}
}

func TestConformance(t *testing.T) {
	path := filepath.Join("..", "..", "..", "tests", "template_test.star")
	rt := newRuntime(t, &libkite.Config{ScriptPath: path})
	kitetest.RunConformance(t, rt, path, 10)
}
