package hash_test

import (
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/hash"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
)

// kit builds the runtimes of these tests: hash and os loaded.
var kit = kitetest.Modules{hash.New, kiteos.New}

// lit renders s as a Starlark string literal.
var lit = kitetest.Lit
