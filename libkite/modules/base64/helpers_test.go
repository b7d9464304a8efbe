package base64_test

import (
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/base64"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
)

// kit builds the runtimes of these tests: base64 and os loaded.
var kit = kitetest.Modules{base64.New, kiteos.New}

// lit renders s as a Starlark string literal.
var lit = kitetest.Lit
