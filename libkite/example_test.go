package libkite_test

// The programs of the embedding guide (seed 000), compiled against the
// public API and checked against their output.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/loader"
	"github.com/project-starkite/starkite/libkite/startype"
)

// seedMinimal is the guide's "Minimal example" main function, verbatim.
func seedMinimal() {
	registry := loader.NewDefaultRegistry(nil)
	rt, err := libkite.NewTrusted(&libkite.Config{
		Registry: registry,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Close()
	err = rt.Execute(context.Background(), `
printf("Hello from %s\n", os.hostname())
data = json.encode({"status": "ok"})
print(data)
`)
	if err != nil {
		log.Fatal(err)
	}
}

func TestSeedMinimalProgram(t *testing.T) {
	got := captureStdout(t, seedMinimal)
	host, _ := os.Hostname()
	if want := "Hello from " + host + "\n" + `{"status":"ok"}` + "\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

// captureStdout runs fn with os.Stdout redirected to a pipe.
func captureStdout(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() { b, _ := io.ReadAll(r); done <- string(b) }()
	defer func() { os.Stdout = old }()
	fn()
	w.Close()
	os.Stdout = old
	return <-done
}

// The three equivalent spellings of a runtime setup.
func ExampleNewTrusted() {
	registry := loader.NewDefaultRegistry(nil)
	cfg := &libkite.Config{Registry: registry}

	rt1, _ := libkite.NewTrusted(&libkite.Config{Registry: registry}) // Config struct only
	rt2, _ := libkite.NewTrusted(nil, libkite.WithRegistry(registry)) // options only
	rt3, _ := libkite.NewTrusted(cfg, libkite.WithDebug(true))        // both
	for _, rt := range []*libkite.Runtime{rt1, rt2, rt3} {
		fmt.Println(rt.Permissions() != nil, rt.Registry() == registry)
		rt.Close()
	}
	// Output:
	// true true
	// true true
	// true true
}

// Calling Starlark functions from Go: define tools with ExecuteRepl, call
// them by name, convert the result with startype.
func ExampleRuntime_Call() {
	rt, _ := libkite.NewTrusted(&libkite.Config{Registry: loader.NewDefaultRegistry(nil)})
	defer rt.Close()

	_ = rt.ExecuteRepl(context.Background(), `
def check_status(code):
    return {"status": code, "ok": code < 400}
`)
	val, err := rt.Call(context.Background(), "check_status",
		nil,                         // positional args
		map[string]any{"code": 404}, // kwargs
	)
	if err != nil {
		log.Fatal(err)
	}
	var out map[string]any
	_ = startype.Starlark(val).ToGoValue(&out)
	fmt.Println(out["status"], out["ok"])
	// Output: 404 false
}

// MyModule is the guide's custom module.
type MyModule struct{}

func (m *MyModule) Name() libkite.ModuleName     { return "mymod" }
func (m *MyModule) Description() string          { return "My custom module" }
func (m *MyModule) Aliases() starlark.StringDict { return nil }
func (m *MyModule) FactoryMethod() string        { return "" }
func (m *MyModule) Load(*libkite.ModuleConfig) (starlark.StringDict, error) {
	return starlark.StringDict{
		"hello": starlark.NewBuiltin("mymod.hello",
			func(thread *starlark.Thread, fn *starlark.Builtin,
				args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
				return starlark.String("hello from mymod"), nil
			}),
	}, nil
}

func ExampleRegistry_Register() {
	registry := loader.NewDefaultRegistry(nil)
	registry.Register(&MyModule{})

	rt, _ := libkite.NewTrusted(&libkite.Config{Registry: registry})
	defer rt.Close()
	if err := rt.Execute(context.Background(), `print(mymod.hello())`); err != nil {
		log.Fatal(err)
	}
	// Output: hello from mymod
}

func ExampleConfig_print() {
	registry := loader.NewDefaultRegistry(nil)
	var out strings.Builder
	rt, _ := libkite.NewTrusted(&libkite.Config{
		Registry: registry,
		Print: func(thread *starlark.Thread, msg string) {
			out.WriteString(msg)
			out.WriteString("\n")
		},
	})
	defer rt.Close()
	_ = rt.Execute(context.Background(), `
print("captured")
printf("%d items\n", 3)
`)
	fmt.Print(strings.ToUpper(out.String()))
	// Output:
	// CAPTURED
	// 3 ITEMS
}

func ExampleRuntime_ExecuteTests() {
	rt, _ := libkite.NewTrusted(&libkite.Config{Registry: loader.NewDefaultRegistry(nil)})
	defer rt.Close()
	code := `
def test_math():
    if 1 + 1 != 2:
        fail("math is broken")

def test_integration_api():
    fail("api unreachable")
`
	results, err := rt.ExecuteTests(context.Background(), code)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range results {
		if !r.Passed {
			fmt.Printf("FAIL: %s — %v\n", r.Name, r.Error)
		}
	}
	cfg := libkite.TestConfig{Filter: "integration", Verbose: true}
	results, _ = rt.ExecuteTestsWithConfig(context.Background(), code, cfg)
	fmt.Println(len(results), results[0].Name)
	// Output:
	// FAIL: test_integration_api — api unreachable
	// 1 test_integration_api
}

func ExampleRuntime_Execute_timeout() {
	rt, _ := libkite.NewTrusted(&libkite.Config{Registry: loader.NewDefaultRegistry(nil)})
	defer rt.Close()
	script := "while True:\n    pass"

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := rt.Execute(ctx, script); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			fmt.Println("script hit timeout")
		}
	}
	// Output: script hit timeout
}

// Custom rules: read-only JSON work, nothing else.
func ExamplePermissionConfig() {
	config := &libkite.Config{Registry: loader.NewDefaultRegistry(nil)}
	config.Permissions = &libkite.PermissionConfig{
		Allow: []string{
			"fs.read($CWD/config/**)",
			"json.*",
			"http.client(api.example.com)",
		},
		Deny:    []string{"os.exec", "fs.write"},
		Default: libkite.DefaultDeny,
	}
	rt, _ := libkite.New(config)
	defer rt.Close()
	err := rt.Execute(context.Background(), `print(json.encode({"a": 1}))
os.exec("id")`)
	fmt.Println(libkite.IsPermissionError(err))
	var pe *libkite.PermissionError
	if errors.As(err, &pe) {
		fmt.Println(pe.Reason)
	}
	// Output:
	// {"a":1}
	// true
	// blocked by deny rule: os.exec
}

func ExampleRuntime_RegisterSignalHandler() {
	rt, _ := libkite.NewTrusted(nil)
	defer rt.Close()
	_ = rt.ExecuteRepl(context.Background(), `def myHandler(sig):
    print("cleaning up after", sig)`)
	myStarlarkHandler, _ := rt.GetGlobalVal("myHandler")

	rt.RegisterSignalHandler("SIGINT", myStarlarkHandler.(starlark.Callable))
	fmt.Println(rt.HasSignalHandler("SIGINT")) // → true
	rt.UnregisterSignalHandler("SIGINT")
	fmt.Println(rt.HasSignalHandler("SIGINT"))
	// Output:
	// true
	// false
}
