//go:build !linux && !darwin

package runtime

// uname has no uname(2) to read here (e.g. Windows): the partial record
// of runtime.md (system = GOOS, node = hostname, machine = GOARCH).
func uname() Uname { return fallbackUname() }
