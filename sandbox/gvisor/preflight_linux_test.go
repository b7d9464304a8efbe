//go:build linux

package gvisor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeSysctls points preflight at files in a temp dir for the test. A nil
// value leaves that file missing.
func fakeSysctls(t *testing.T, apparmor, clone *string) {
	t.Helper()
	dir := t.TempDir()
	origA, origC := apparmorUsernsSysctl, usernsCloneSysctl
	t.Cleanup(func() { apparmorUsernsSysctl, usernsCloneSysctl = origA, origC })
	apparmorUsernsSysctl = filepath.Join(dir, "apparmor_restrict_unprivileged_userns")
	usernsCloneSysctl = filepath.Join(dir, "unprivileged_userns_clone")
	for _, f := range []struct {
		path string
		val  *string
	}{{apparmorUsernsSysctl, apparmor}, {usernsCloneSysctl, clone}} {
		if f.val == nil {
			continue
		}
		if err := os.WriteFile(f.path, []byte(*f.val), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func ptr(s string) *string { return &s }

// TestPreflight covers sandbox.md §7.
func TestPreflight(t *testing.T) {
	apparmorHas := []string{
		"kernel.apparmor_restrict_unprivileged_userns",
		"sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0",
		"/etc/sysctl.d/60-userns.conf",
		"/etc/apparmor.d/kite",
		"apparmor_parser -r",
		"userns,",
	}
	cloneHas := []string{
		"kernel.unprivileged_userns_clone",
		"sudo sysctl -w kernel.unprivileged_userns_clone=1",
	}
	const apparmorPrefix = "sandbox: kernel restricts unprivileged user namespaces"
	tests := []struct {
		name            string
		apparmor, clone *string
		prefix          string   // "" = preflight passes
		has             []string // substrings of the error
		hasNot          []string
	}{
		{name: "apparmor restricts", apparmor: ptr("1\n"), prefix: apparmorPrefix, has: apparmorHas},
		{name: "apparmor restricts, clone allowed", apparmor: ptr("1"), clone: ptr("1\n"), prefix: apparmorPrefix, has: apparmorHas},
		{name: "apparmor allows, spaces trimmed", apparmor: ptr(" 0 ")},
		{name: "apparmor allows, clone allowed", apparmor: ptr("0\n"), clone: ptr("1\n")},
		{name: "clone disabled", clone: ptr("0"), prefix: "sandbox: ", has: cloneHas, hasNot: []string{"apparmor"}},
		{name: "clone disabled with newline", apparmor: ptr("0\n"), clone: ptr("0\n"), prefix: "sandbox: ", has: cloneHas},
		{name: "both bad: apparmor first", apparmor: ptr("1\n"), clone: ptr("0\n"), prefix: apparmorPrefix, has: apparmorHas,
			hasNot: []string{"kernel.unprivileged_userns_clone"}},
		{name: "other values pass", apparmor: ptr("2\n"), clone: ptr("yes\n")},
		{name: "empty files pass", apparmor: ptr(""), clone: ptr("")},
		{name: "missing files pass"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fakeSysctls(t, tc.apparmor, tc.clone)
			err := preflight()
			if tc.prefix == "" {
				if err != nil {
					t.Fatalf("preflight() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("preflight() = nil, want an error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tc.prefix) {
				t.Errorf("error does not start with %q:\n%s", tc.prefix, msg)
			}
			for _, s := range tc.has {
				if !strings.Contains(msg, s) {
					t.Errorf("error lacks %q:\n%s", s, msg)
				}
			}
			for _, s := range tc.hasNot {
				if strings.Contains(msg, s) {
					t.Errorf("error has %q:\n%s", s, msg)
				}
			}
		})
	}
}

// TestPreflightAppArmorNamesBinary checks the AppArmor fix is for this
// binary's path.
func TestPreflightAppArmorNamesBinary(t *testing.T) {
	fakeSysctls(t, ptr("1\n"), nil)
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	err = preflight()
	if err == nil || !strings.Contains(err.Error(), "profile kite "+exe+" flags=(unconfined) {") {
		t.Fatalf("error does not carry the profile for %s:\n%v", exe, err)
	}
}

// TestPreflightUnreadable checks that sysctl files that exist but cannot
// be read (here: directories) pass.
func TestPreflightUnreadable(t *testing.T) {
	dir := t.TempDir()
	origA, origC := apparmorUsernsSysctl, usernsCloneSysctl
	t.Cleanup(func() { apparmorUsernsSysctl, usernsCloneSysctl = origA, origC })
	apparmorUsernsSysctl, usernsCloneSysctl = dir, dir
	if err := preflight(); err != nil {
		t.Fatalf("preflight() = %v, want nil", err)
	}
}

func TestAppArmorProfile(t *testing.T) {
	got := AppArmorProfile("/usr/local/bin/kite")
	for _, s := range []string{
		"abi <abi/4.0>,",
		"include <tunables/global>",
		"profile kite /usr/local/bin/kite flags=(unconfined) {",
		"  userns,\n",
		"include if exists <local/kite>",
	} {
		if !strings.Contains(got, s) {
			t.Errorf("profile lacks %q:\n%s", s, got)
		}
	}
	if !strings.HasPrefix(got, "abi <abi/4.0>,\n") || !strings.HasSuffix(got, "}\n") {
		t.Errorf("profile is not one abi line ... closing brace:\n%s", got)
	}
}
