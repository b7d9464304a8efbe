package ssh_test

import (
	"testing"

	"github.com/project-starkite/starkite/libkite/kitetest"
)

// TestConformance runs tests/ssh_test.star (as `kitecmd test` does: test
// mode, trusted and allow-all).
func TestConformance(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "") // the suite clears it; restore it after
	kitetest.RunSuite(t, newRuntime, "../../../tests/ssh_test.star", 27)
}
