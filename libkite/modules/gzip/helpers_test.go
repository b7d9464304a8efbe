package gzip_test

import (
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/gzip"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
)

// kit builds the runtimes of these tests: gzip and os loaded.
var kit = kitetest.Modules{gzip.New, kiteos.New}

// lit renders s as a Starlark string literal.
var lit = kitetest.Lit
