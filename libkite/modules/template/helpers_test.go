package template_test

import (
	"github.com/project-starkite/starkite/libkite/kitetest"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
	"github.com/project-starkite/starkite/libkite/modules/template"
)

// kit builds the runtimes of these tests: template and os loaded.
var kit = kitetest.Modules{template.New, kiteos.New}

// quote renders s as a Starlark string literal.
var quote = kitetest.Lit
