//go:build linux

package gvisor

import (
	"fmt"
	"os"
	"strings"
)

// Sysctl files read by preflight; tests point them elsewhere.
var (
	apparmorUsernsSysctl = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"
	usernsCloneSysctl    = "/proc/sys/kernel/unprivileged_userns_clone"
)

// preflight reports kernel settings that stop rootless gVisor, with the
// fix, before gVisor fails with something cryptic (sandbox.md §7). A
// missing or unreadable sysctl passes: most kernels have neither.
func preflight() error {
	if sysctlIs(apparmorUsernsSysctl, "1") {
		exe, err := os.Executable()
		if err != nil {
			exe = "/usr/local/bin/kite"
		}
		return fmt.Errorf("sandbox: kernel restricts unprivileged user namespaces "+
			"(sysctl kernel.apparmor_restrict_unprivileged_userns=1), which rootless gVisor needs.\n"+
			"Fix it one of two ways:\n"+
			"  a) allow them for everyone:\n"+
			"       sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0\n"+
			"     and keep it after reboots:\n"+
			"       echo 'kernel.apparmor_restrict_unprivileged_userns=0' | sudo tee /etc/sysctl.d/60-userns.conf\n"+
			"  b) allow them for kite only, with an AppArmor profile in /etc/apparmor.d/kite:\n"+
			"%s"+
			"     then load it: sudo apparmor_parser -r /etc/apparmor.d/kite", indent(AppArmorProfile(exe), "       "))
	}
	if sysctlIs(usernsCloneSysctl, "0") {
		return fmt.Errorf("sandbox: kernel disables unprivileged user namespaces " +
			"(sysctl kernel.unprivileged_userns_clone=0), which rootless gVisor needs.\n" +
			"Enable them: sudo sysctl -w kernel.unprivileged_userns_clone=1")
	}
	return nil
}

// AppArmorProfile is the AppArmor profile that lets the kite binary at
// exe create user namespaces.
func AppArmorProfile(exe string) string {
	return "abi <abi/4.0>,\n" +
		"include <tunables/global>\n\n" +
		"profile kite " + exe + " flags=(unconfined) {\n" +
		"  userns,\n" +
		"  include if exists <local/kite>\n" +
		"}\n"
}

func sysctlIs(path, want string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.TrimSpace(string(b)) == want
}

func indent(s, prefix string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if strings.TrimSpace(line) != "" {
			b.WriteString(prefix)
		}
		b.WriteString(line)
	}
	return b.String()
}
