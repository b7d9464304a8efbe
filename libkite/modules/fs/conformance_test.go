//go:build unix

package fs_test

import (
	"path/filepath"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// conformanceFile is the repository's .star conformance suite for fs.
var conformanceFile = filepath.Join("..", "..", "..", "tests", "fs_test.star")

func TestConformance(t *testing.T) {
	rt, _ := kit.New(t, &libkite.Config{ScriptPath: conformanceFile})
	kitetest.RunConformance(t, rt, conformanceFile, 30)
}
