//go:build linux

package runtime

import "syscall"

// uname reads uname(2).
func uname() Uname {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return fallbackUname()
	}
	return Uname{
		System:  cstr(u.Sysname[:]),
		Node:    cstr(u.Nodename[:]),
		Release: cstr(u.Release[:]),
		Version: cstr(u.Version[:]),
		Machine: cstr(u.Machine[:]),
	}
}

// cstr converts a NUL-terminated utsname field (int8 or uint8 by arch).
func cstr[T int8 | uint8](field []T) string {
	b := make([]byte, 0, len(field))
	for _, c := range field {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}
