//go:build unix

package sql_test

import (
	"path/filepath"
	"testing"

	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/concur"
	kiteos "github.com/project-starkite/starkite/libkite/modules/os"
	kitesql "github.com/project-starkite/starkite/libkite/modules/sql"
)

// suiteKit adds os (the suite makes its scratch directory with exec).
var suiteKit = kitetest.Modules{kitesql.New, concur.New, kiteos.New}

func TestConformance(t *testing.T) {
	kitetest.RunSuite(t, suiteKit.Runtime, filepath.Join("..", "..", "..", "tests", "sql_test.star"), 20)
}
