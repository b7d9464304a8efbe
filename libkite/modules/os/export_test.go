package os

// SetExitForTest replaces the process exit of os.exit with fn until the
// returned restore is called.
func SetExitForTest(fn func(int)) (restore func()) {
	prev := exitProcess
	exitProcess = fn
	return func() { exitProcess = prev }
}

// Internals exercised by resource_test.go.
var (
	FirstWord       = firstWord
	CommandResource = commandResource
	ResolveBinary   = resolveBinary
)

// Internals exercised by direct_test.go.
var (
	DirectArgv    = directArgv
	DirectProgram = directProgram
)
