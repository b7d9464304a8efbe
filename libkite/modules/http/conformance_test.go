package http_test

import (
	"path/filepath"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
)

// TestConformance runs tests/http_test.star (trusted, then allow-all from
// the repository root as `kitecmd test` does).
func TestConformance(t *testing.T) {
	suite := filepath.Join("..", "..", "..", "tests", "http_test.star")
	kitetest.RunSuite(t, func(t testing.TB, cfg *libkite.Config) *libkite.Runtime { return kit.Runtime(t, cfg) }, suite, 25)
}
