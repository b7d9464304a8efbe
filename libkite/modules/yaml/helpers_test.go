package yaml_test

import (
	"github.com/project-starkite/starkite/libkite/kitetest"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
	"github.com/project-starkite/starkite/libkite/modules/yaml"
)

// kit builds the runtimes of these tests: yaml and os loaded.
var kit = kitetest.Modules{yaml.New, kiteos.New}

// quote renders s as a Starlark string literal.
var quote = kitetest.Lit
