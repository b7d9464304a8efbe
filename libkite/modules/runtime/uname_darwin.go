//go:build darwin

package runtime

import "syscall"

// uname reads the sysctl values uname(3) is built from on Darwin.
func uname() Uname {
	get := func(name string) string {
		v, _ := syscall.Sysctl(name)
		return v
	}
	u := Uname{
		System:  get("kern.ostype"),
		Node:    get("kern.hostname"),
		Release: get("kern.osrelease"),
		Version: get("kern.version"),
		Machine: get("hw.machine"),
	}
	if u.System == "" {
		return fallbackUname()
	}
	return u
}
