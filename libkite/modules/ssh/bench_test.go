package ssh_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite/kitetest"
)

// benchCall evaluates expr (a client method call) once per iteration on
// one runtime.
func benchCall(b *testing.B, pre, expr string) {
	rt := newRuntime(b, nil)
	if err := rt.Execute(context.Background(), pre+"\ndef op():\n    return "+expr+"\n"); err != nil {
		b.Fatal(err)
	}
	op, _ := rt.GetGlobalVal("op")
	b.ResetTimer()
	for b.Loop() {
		if _, err := rt.CallFn(context.Background(), op.(starlark.Callable), nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExec is one exec round trip (dial, handshake, password auth,
// session, command, close) against the in-process test server.
func BenchmarkExec(b *testing.B) {
	b.Setenv("SSH_AUTH_SOCK", "")
	srv := startServer(b, echo("bench"))
	benchCall(b, "c = "+client([]string{srv.Addr()}), `c.exec("true")`)
}

// BenchmarkUpload is upload throughput of a 4 MiB file (MB/s).
func BenchmarkUpload(b *testing.B) {
	b.Setenv("SSH_AUTH_SOCK", "")
	srv := startServer(b, nil)
	const size = 4 << 20
	src := filepath.Join(kitetest.TempDir(b), "payload")
	if err := os.WriteFile(src, bytes.Repeat([]byte("kite ssh "), size/9+1)[:size], 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	benchCall(b, "c = "+client([]string{srv.Addr()}), `c.upload(`+kitetest.Lit(src)+`, "/payload")`)
}

// BenchmarkDownload is download throughput of a 4 MiB file (MB/s).
func BenchmarkDownload(b *testing.B) {
	b.Setenv("SSH_AUTH_SOCK", "")
	srv := startServer(b, nil)
	const size = 4 << 20
	srv.AddFile("/payload", bytes.Repeat([]byte("k"), size), "0644")
	dst := filepath.Join(kitetest.TempDir(b), "payload")
	b.SetBytes(size)
	benchCall(b, "c = "+client([]string{srv.Addr()}), `c.download("/payload", `+kitetest.Lit(dst)+`)`)
}
