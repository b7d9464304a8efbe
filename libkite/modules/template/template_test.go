package template_test

import (
	"context"
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
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `template.render("Hello, {{.Name}}!", {"Name": "World"})`, Want: `Hello, World!`},
		{Expr: `template.render("{{.a}}-{{.b}}", {"a": 1, "b": "x"})`, Want: `1-x`},
		{Name: "nested", Expr: `template.render("{{.User.Name}}", {"User": {"Name": "ann"}})`, Want: `ann`},
		{Name: "range", Expr: `template.render("{{range .Items}}[{{.}}]{{end}}", {"Items": ["a", "b"]})`, Want: `[a][b]`},
		{Name: "if on", Expr: `template.render("{{if .Enabled}}ON{{else}}OFF{{end}}", {"Enabled": True})`, Want: `ON`},
		{Name: "if off", Expr: `template.render("{{if .Enabled}}ON{{else}}OFF{{end}}", {"Enabled": False})`, Want: `OFF`},
		{Name: "empty template", Expr: `template.render("", {"a": 1})`, Want: ``},
		{Name: "plain text", Expr: `template.render("just text", {})`, Want: `just text`},
		{Name: "multi-line", Expr: `template.render("a: {{.a}}\nb: {{.b}}\n", {"a": 1, "b": 2})`, Want: "a: 1\nb: 2\n"},
		{Name: "extras ignored", Expr: `template.render("{{.}}", "x", "extra")`, Want: `x`},
		{Name: "missing key", Expr: `template.render("{{.Name}}", {})`, Want: `<no value>`},
		{Expr: `template.render("x")`, Err: `render: expected 2 arguments (template, data)`},
		{Expr: `template.render(1, {})`, Err: `render: first argument must be a string, got int`},
		{Name: "parse error raw", Expr: `template.render("{{if}}", {})`, Err: `template: tmpl:1: missing value for if`},
		{Name: "exec error raw", Expr: `template.render("{{.x.y}}", {"x": 1})`, Err: `template: tmpl:1:4: executing "tmpl" at <.x.y>: can't evaluate field y in type interface {}`},
		{Name: "conversion error raw", Expr: `template.render("{{.}}", template)`, Err: `unsupported type: module`},
		{Expr: `template.try_render("{{.}}", 1)`, Want: `Result(ok=True, value="1")`},
		{Expr: `template.try_render("{{.}}")`, Want: `Result(ok=False, error="render: expected 2 arguments (template, data)")`},
	})
}

func TestDataModel(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Name: "str", Expr: `template.render("{{.}}", "hello")`, Want: `hello`},
		{Name: "int", Expr: `template.render("{{.}}", 42)`, Want: `42`},
		{Name: "float", Expr: `template.render("{{.}}", 1.5)`, Want: `1.5`},
		{Name: "bool", Expr: `template.render("{{.}}", True)`, Want: `true`},
		{Name: "None", Expr: `template.render("{{.}}", None)`, Want: `<no value>`},
		{Name: "bytes", Expr: `template.render("{{.}}", b"hi")`, Want: `[104 105]`},
		{Name: "list", Expr: `template.render("{{.}}", [1, 2])`, Want: `[1 2]`},
		{Name: "tuple", Expr: `template.render("{{index . 1}}", (1, "b"))`, Want: `b`},
		{Name: "dict", Expr: `template.render("{{.}}", {"k": "v"})`, Want: `map[k:v]`},
		{Name: "range over list", Expr: `template.render("{{range .}}{{.}},{{end}}", [1, 2, 3])`, Want: `1,2,3,`},
		{Name: "range dict sorted", Expr: `template.render("{{range $k, $v := .}}{{$k}}={{$v}};{{end}}", {"b": 2, "a": 1, "c": 3})`, Want: `a=1;b=2;c=3;`},
		{Name: "index and len", Expr: `template.render("{{index .l 1}} {{len .l}}", {"l": [10, 20]})`, Want: `20 2`},
		{Name: "non-string keys", Expr: `template.render("{{range $k, $v := .}}{{$k}}={{$v}};{{end}}", {2: "two", 1: "one"})`, Want: `1=one;2=two;`},
		{Name: "falsy values", Expr: `template.render("{{if .s}}s{{end}}{{if .l}}l{{end}}{{if .m}}m{{end}}{{if .z}}z{{end}}{{if .f}}f{{end}}{{if .n}}n{{end}}|{{if .t}}t{{end}}", {"s": "", "l": [], "m": {}, "z": 0, "f": False, "n": None, "t": [0]})`, Want: `|t`},
		{Name: "builtins", Expr: `template.render("{{printf \"%05d\" .n}} {{eq .n 7}} {{and .a .b}} {{html .h}} {{js .j}} {{urlquery .u}} {{slice .s 1 3}}", {"n": 7, "a": 1, "b": 2, "h": "<b>", "j": "'", "u": "a b", "s": "abcd"})`,
			Want: `00007 true 2 &lt;b&gt; \' a+b bc`},
		{Name: "no HTML escaping", Expr: `template.render("{{.}}", "<b>&")`, Want: `<b>&`},
		{Name: "no extra functions", Expr: `template.render("{{upper .}}", "x")`, Err: `template: tmpl:1: function "upper" not defined`},
		{Name: "big uint", Expr: `template.render("{{.}}", 18446744073709551615)`, Want: `18446744073709551615`},
	})
}

func TestTextObject(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `type(template.text("x"))`, Want: `template`},
		{Expr: `template.text("Hi {{.}}").source`, Want: `Hi {{.}}`},
		{Name: "reusable", Pre: `t = template.text("Hi {{.}}")`, Expr: `[t.render("a"), t.render("b")]`, Want: `["Hi a", "Hi b"]`},
		{Expr: `str(template.text("Hello"))`, Want: `template("Hello")`},
		{Name: "str truncated", Expr: `str(template.text("0123456789012345678901234567890123456789ABC"))`, Want: `template("0123456789012345678901234567890123456789...")`},
		{Name: "str at 40", Expr: `str(template.text("0123456789012345678901234567890123456789"))`, Want: `template("0123456789012345678901234567890123456789")`},
		{Name: "str quoted", Expr: `str(template.text("a\n\"b\""))`, Want: `template("a\n\"b\"")`},
		{Expr: `dir(template.text("x"))`, Want: `["render", "source", "try_render"]`},
		{Expr: `bool(template.text(""))`, Want: `False`},
		{Expr: `bool(template.text("x"))`, Want: `True`},
		{Expr: `{template.text("x"): 1}`, Err: `unhashable type: template`},
		{Expr: `template.text("x").try_source`, Err: `template has no .try_source field or method (did you mean .source?)`},
		{Expr: `template.text()`, Err: `template.text: takes exactly 1 argument (template string)`},
		{Expr: `template.text("a", "b")`, Err: `template.text: takes exactly 1 argument (template string)`},
		{Expr: `template.text(1)`, Err: `template.text: argument must be a string, got int`},
		{Expr: `template.text(b"x")`, Err: `template.text: argument must be a string, got bytes`},
		{Name: "other keywords ignored", Expr: `template.text("{{.}}", name="x", delims=None).render(1)`, Want: `1`},
		{Name: "parse error", Expr: `template.text("{{if}}")`, Err: `template: tmpl:1: missing value for if`},
		{Name: "parse error line", Expr: `template.text("ok\n{{.a}\n")`, Err: `template: tmpl:2: bad character U+007D '}'`},
		{Name: "unclosed action", Expr: `template.text("{{range .}}")`, Err: `template: tmpl:1: unexpected EOF`},
		{Expr: `template.try_text("{{if}}").ok`, Want: `False`},
		{Expr: `template.try_text("{{.}}!").value.render("x")`, Want: `x!`},

		{Expr: `template.bytes(b"Hi {{.}}").render("b")`, Want: `Hi b`},
		{Expr: `template.bytes("Hi {{.}}").render("s")`, Want: `Hi s`},
		{Expr: `template.bytes(b"x").source`, Want: `x`},
		{Expr: `template.bytes(1)`, Err: `template.bytes: argument must be bytes or string, got int`},
		{Expr: `template.bytes()`, Err: `template.bytes: takes exactly 1 argument (template bytes)`},
		{Expr: `template.try_bytes(b"{{if}}").ok`, Want: `False`},
		{Expr: `template.try_bytes(b"<%.%>", delims=("<%", "%>")).value.render(1)`, Want: `1`},

		{Name: "delims", Expr: `template.text("<% .app %>:{{ .tag }}", delims=("<%", "%>")).render({"app": "api"})`, Want: `api:{{ .tag }}`},
		{Name: "literal braces survive", Expr: `template.text("{{ \"value\" }} <% .x %>", delims=("<%", "%>")).render({"x": 1})`, Want: `{{ "value" }} 1`},
		{Name: "empty delim keeps default", Expr: `template.text("{{.}}<%.%>", delims=("", "%>")).render(1)`, Want: `1<%.%>`},
		{Name: "delims list", Expr: `template.text("x", delims=["<%", "%>"])`, Err: `template.text: delims must be a tuple of (left, right), e.g. ("<%", "%>")`},
		{Name: "delims length", Expr: `template.bytes("x", delims=("<%",))`, Err: `template.bytes: delims must be a tuple of (left, right), e.g. ("<%", "%>")`},
		{Name: "delims str", Expr: `template.text("x", delims="<%")`, Err: `template.text: delims must be a tuple of (left, right), e.g. ("<%", "%>")`},
		{Name: "delims types", Expr: `template.text("x", delims=("<%", 1))`, Err: `template.text: delims must be a tuple of two strings`},

		{Name: "render arity", Expr: `template.text("x").render()`, Err: `template.render: takes exactly 1 argument (data)`},
		{Name: "render arity 2", Expr: `template.text("x").render(1, 2)`, Err: `template.render: takes exactly 1 argument (data)`},
		{Name: "missing default", Expr: `template.text("{{.Name}}").render({})`, Want: `<no value>`},
		{Name: "missing explicit default", Expr: `template.text("{{.Name}}").render({}, missing_key="default")`, Want: `<no value>`},
		{Name: "missing zero", Expr: `template.text("{{.Name}}").render({}, missing_key="zero")`, Want: `<no value>`},
		{Name: "missing error", Expr: `template.text("{{.x}}").render({}, missing_key="error")`,
			Err: `template.render: template: tmpl:1:2: executing "tmpl" at <.x>: map has no entry for key "x"`},
		{Name: "missing error after zero", Pre: `t = template.text("{{.x}}")
a = t.render({}, missing_key="zero")
b = t.try_render({}, missing_key="error")`, Expr: `[a, b.ok, t.render({})]`, Want: `["<no value>", False, "<no value>"]`},
		{Name: "missing bogus", Expr: `template.text("x").render({}, missing_key="bogus")`, Err: `template.render: missing_key must be "error", "zero", or "default", got "bogus"`},
		{Name: "missing non-str ignored", Expr: `template.text("{{.x}}").render({}, missing_key=1)`, Want: `<no value>`},
		{Name: "other keywords ignored", Expr: `template.text("{{.}}").render(1, strict=True)`, Want: `1`},
		{Name: "exec error prefixed", Expr: `template.text("{{.x.y}}").render({"x": 1})`,
			Err: `template.render: template: tmpl:1:4: executing "tmpl" at <.x.y>: can't evaluate field y in type interface {}`},
		{Name: "conversion error prefixed", Expr: `template.text("x").render({"f": template})`, Err: `template.render: unsupported type: module`},
		{Name: "try_render error", Expr: `template.text("{{.x}}").try_render({}, missing_key="error").ok`, Want: `False`},
		{Name: "try_render bogus", Expr: `template.text("x").try_render({}, missing_key="bogus")`, Want: `Result(ok=False, error="template.render: missing_key must be \"error\", \"zero\", or \"default\", got \"bogus\"")`},
		{Name: "try_render ok", Expr: `template.text("{{.}}").try_render("v")`, Want: `Result(ok=True, value="v")`},

		{Name: "namespace", Expr: `dir(template)`, Want: `["bytes", "file", "render", "text", "try_bytes", "try_file", "try_render", "try_text"]`},
		{Expr: `type(template)`, Want: `module`},
	})
}

func TestFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		return quote(kitetest.WriteFile(t, filepath.Join(dir, name), content))
	}
	greet := write("greet.tmpl", "Hello, {{.Name}}!\n")
	custom := write("custom.tmpl", "<% .Name %> {{ literal }}")
	missing := filepath.Join(dir, "missing.tmpl")
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `template.file(` + greet + `).render({"Name": "file"})`, Want: "Hello, file!\n"},
		{Expr: `template.file(` + greet + `).source`, Want: "Hello, {{.Name}}!\n"},
		{Expr: `template.file(` + custom + `, delims=("<%", "%>")).render({"Name": "x"})`, Want: "x {{ literal }}"},
		{Expr: `template.file(` + quote(missing) + `)`, Err: `open ` + missing + `: no such file or directory`},
		{Expr: `template.try_file(` + quote(missing) + `)`, Want: `Result(ok=False, error="open ` + missing + `: no such file or directory")`},
		{Expr: `template.try_file(` + greet + `).value.render({"Name": "t"})`, Want: "Hello, t!\n"},
		{Expr: `template.file(` + write("bad.tmpl", "line1\n{{if}}") + `)`, Err: `template: tmpl:2: missing value for if`},
		{Expr: `template.file(1)`, Err: `template.file: argument must be a string, got int`},
		{Expr: `template.file()`, Err: `template.file: takes exactly 1 argument (path)`},
		{Expr: `template.file(` + greet + `, delims=[1])`, Err: `template.file: delims must be a tuple of (left, right), e.g. ("<%", "%>")`},
		{Expr: `template.file(` + quote(dir) + `)`, Err: `read ` + dir + `: is a directory`},
	})
}

func TestPermissions(t *testing.T) {
	dir := t.TempDir()
	p := kitetest.WriteFile(t, filepath.Join(dir, "t.tmpl"), "{{.}}")
	deny := &libkite.Config{Permissions: libkite.DenyAllPermissions()}
	got, msg, err := kit.Eval(t, deny, "", `template.file(`+quote(p)+`)`)
	if !strings.HasPrefix(msg, `permission denied: fs.read read_file(`+quote(p)+`)`) || !libkite.IsPermissionError(err) {
		t.Fatalf("file under deny-all = %q, %q", got, msg)
	}
	got, msg, _ = kit.Eval(t, deny, "", `template.try_file(`+quote(p)+`)`)
	if msg != "" || !strings.HasPrefix(got, `Result(ok=False, error="permission denied: fs.read read_file(`) {
		t.Fatalf("try_file under deny-all = %q, %q", got, msg)
	}
	// in-memory rendering is never gated
	got, msg, _ = kit.Eval(t, deny, "", `template.text("{{.}}").render(1) + template.render("{{.}}", 2) + template.bytes(b"{{.}}").render(3)`)
	if msg != "" || got != "123" {
		t.Fatalf("ungated rendering = %q, %q", got, msg)
	}
	// a dry run still reads templates (reading is not a side effect)
	got, msg, _ = kit.Eval(t, &libkite.Config{DryRun: true}, "", `template.file(`+quote(p)+`).render("dry")`)
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
	rt := kit.Runtime(t, &libkite.Config{ScriptPath: path})
	kitetest.RunConformance(t, rt, path, 10)
}
