package ssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/project-starkite/starkite/libkite"
)

// The test-mode members (ModuleConfig.TestMode only). They need no
// permission: they exist only under the test runner and touch nothing but
// loopback sockets and fresh temporary directories.

// testServerBuiltin: ssh.test_server(user="testuser", password="") →
// ssh.test_server. Keywords only; positionals are ignored. The server is
// shut down when the runtime closes.
func (m *module) testServerBuiltin(thread *starlark.Thread, fn *starlark.Builtin, _ starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	user, password := "testuser", ""
	if err := libkite.UnpackArgs(fn.Name(), nil, kwargs, "user?", &user, "password?", &password); err != nil {
		return nil, bindingError(err, nil, nil)
	}
	srv, err := NewTestServer(user, password)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn.Name(), err)
	}
	m.trackServer(thread, srv)
	return &testServerValue{srv: srv}, nil
}

// testKeyBuiltin: ssh.test_key() → SSHTestKey(path, port=0): a fresh
// ed25519 private key (PKCS#8 PEM, 0600) in a new temporary directory,
// removed when the runtime closes.
func (m *module) testKeyBuiltin(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	p, err := m.writeTestKey(thread)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn.Name(), err)
	}
	return starlarkstruct.FromStringDict(starlark.String("SSHTestKey"), starlark.StringDict{
		"path": starlark.String(p),
		"port": starlark.MakeInt(0),
	}), nil
}

func (m *module) writeTestKey(thread *starlark.Thread) (string, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "kite-ssh-key-")
	if err != nil {
		return "", err
	}
	m.trackDir(thread, dir)
	p := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return "", err
	}
	return p, nil
}

// testServerValue is the script's handle on a TestServer.
type testServerValue struct {
	srv *TestServer
	mu  sync.Mutex // serialises the script's exec handler
}

var _ starlark.HasAttrs = (*testServerValue)(nil)

var testServerMethods = map[string]libkite.BuiltinFunc{
	"start":       tsStart,
	"shutdown":    tsShutdown,
	"port":        tsPort,
	"addr":        tsAddr,
	"add_file":    tsAddFile,
	"uploaded":    tsUploaded,
	"handle_exec": tsHandleExec,
}

func (v *testServerValue) String() string       { return "<ssh.test_server>" }
func (v *testServerValue) Type() string         { return "ssh.test_server" }
func (v *testServerValue) Freeze()              {}
func (v *testServerValue) Truth() starlark.Bool { return true }
func (v *testServerValue) Hash() (uint32, error) {
	return 0, errors.New("unhashable type: ssh.test_server")
}

func (v *testServerValue) AttrNames() []string {
	names := make([]string, 0, len(testServerMethods))
	for k := range testServerMethods {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func (v *testServerValue) Attr(name string) (starlark.Value, error) {
	if fn, ok := testServerMethods[name]; ok {
		return starlark.NewBuiltin("ssh.test_server."+name, fn).BindReceiver(v), nil
	}
	return nil, nil
}

func serverOf(fn *starlark.Builtin) *TestServer { return fn.Receiver().(*testServerValue).srv }

func tsStart(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	if err := serverOf(fn).Start(); err != nil {
		return nil, fmt.Errorf("%s: %v", fn.Name(), err)
	}
	return starlark.None, nil
}

func tsShutdown(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	serverOf(fn).Shutdown()
	return starlark.None, nil
}

func tsPort(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	return starlark.MakeInt(serverOf(fn).Port()), nil
}

func tsAddr(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := libkite.NoArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	return starlark.String(serverOf(fn).Addr()), nil
}

// add_file(path, content="", mode="0644"): content is str or bytes.
func tsAddFile(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p string
	var content starlark.Value = starlark.String("")
	mode := "0644"
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "path?", &p, "content?", &content, "mode?", &mode); err != nil {
		return nil, bindingError(err, args, []string{"path", "content", "mode"})
	}
	if p == "" {
		return nil, fmt.Errorf("%s: path is required", fn.Name())
	}
	text, ok := libkite.StringOrBytes(content)
	if !ok {
		return nil, fmt.Errorf("%s: content must be str or bytes, got %s", fn.Name(), content.Type())
	}
	if err := serverOf(fn).AddFile(p, []byte(text), mode); err != nil {
		return nil, fmt.Errorf("%s: %v", fn.Name(), err)
	}
	return starlark.None, nil
}

// uploaded(path) → SCPFile(content, mode, name) or None.
func tsUploaded(_ *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	a, err := libkite.OnePositional(fn, args, " (path)")
	if err != nil {
		return nil, err
	}
	p, ok := a.(starlark.String)
	if !ok {
		return nil, fmt.Errorf("%s: path must be a string, got %s", fn.Name(), a.Type())
	}
	f, found := serverOf(fn).Uploaded(string(p))
	if !found {
		return starlark.None, nil
	}
	return starlarkstruct.FromStringDict(starlark.String("SCPFile"), starlark.StringDict{
		"content": starlark.String(f.Content),
		"mode":    starlark.String(f.Mode),
		"name":    starlark.String(f.Name),
	}), nil
}

// handle_exec(fn): fn(cmd) → (stdout, stderr, exit_code), called on a
// fresh runtime thread with the permissions of the thread that installed
// it, one call at a time.
func tsHandleExec(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 1 || len(kwargs) != 0 {
		return nil, fmt.Errorf("%s: expected exactly 1 argument (a callable), got %d", fn.Name(), len(args)+len(kwargs))
	}
	handler, ok := args[0].(starlark.Callable)
	if !ok {
		return nil, fmt.Errorf("%s: argument must be callable, got %s", fn.Name(), args[0].Type())
	}
	v := fn.Receiver().(*testServerValue)
	v.srv.HandleExec(func(ctx context.Context, cmd string) (string, string, int) {
		v.mu.Lock()
		defer v.mu.Unlock()
		caller := libkite.NewCaller("ssh.test_server.handler", thread, ctx)
		res, err := caller.Call(handler, starlark.Tuple{starlark.String(cmd)}, nil)
		if err != nil {
			var ee *starlark.EvalError
			msg := err.Error()
			if errors.As(err, &ee) {
				msg = ee.Msg
			}
			return "", "handler error: " + msg, 1
		}
		if t, ok := res.(starlark.Tuple); ok && len(t) == 3 {
			stdout, ok1 := libkite.StringOrBytes(t[0])
			stderr, ok2 := libkite.StringOrBytes(t[1])
			code, ok3 := t[2].(starlark.Int)
			if c, inRange := code.Int64(); ok1 && ok2 && ok3 && inRange && c >= 0 && c <= 1<<31 {
				return stdout, stderr, int(c)
			}
		}
		return "", "handler must return (stdout, stderr, exit_code) tuple", 1
	})
	return starlark.None, nil
}
