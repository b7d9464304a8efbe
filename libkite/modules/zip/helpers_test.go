package zip_test

import (
	"github.com/project-starkite/starkite/libkite/kitetest"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
	"github.com/project-starkite/starkite/libkite/modules/zip"
)

// kit builds the runtimes of these tests: zip and os loaded.
var kit = kitetest.Modules{zip.New, kiteos.New}

// lit renders s as a Starlark string literal.
var lit = kitetest.Lit
