package csv_test

import (
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/csv"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
)

// kit builds the runtimes of these tests: csv and os loaded.
var kit = kitetest.Modules{csv.New, kiteos.New}

// quote renders s as a Starlark string literal.
var quote = kitetest.Lit
