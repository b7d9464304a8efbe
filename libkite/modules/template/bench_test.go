package template_test

import (
	"context"
	"fmt"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite/modules/template"
)

func BenchmarkRender(b *testing.B) {
	tmpl, err := template.Parse("{{range .items}}- {{.name}}: {{.price}} ({{len .tags}} tags){{if .ok}} ok{{end}}\n{{end}}", "", "")
	if err != nil {
		b.Fatal(err)
	}
	items := make([]starlark.Value, 100)
	for i := range items {
		d := starlark.NewDict(4)
		_ = d.SetKey(starlark.String("name"), starlark.String(fmt.Sprintf("item-%d", i)))
		_ = d.SetKey(starlark.String("price"), starlark.Float(float64(i)+0.25))
		_ = d.SetKey(starlark.String("tags"), starlark.NewList([]starlark.Value{starlark.String("a"), starlark.String("b")}))
		_ = d.SetKey(starlark.String("ok"), starlark.Bool(i%2 == 0))
		items[i] = d
	}
	data := starlark.NewDict(1)
	_ = data.SetKey(starlark.String("items"), starlark.NewList(items))
	ctx := context.Background()
	for b.Loop() {
		if _, err := tmpl.Render(ctx, data, ""); err != nil {
			b.Fatal(err)
		}
	}
}
