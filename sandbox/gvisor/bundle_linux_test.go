//go:build linux

package gvisor

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/project-starkite/starkite/libkite/sandbox"
)

var bundleIDRe = regexp.MustCompile(`^kite-[0-9a-f]{32}$`)

// TestNewBundle covers sandbox.md §6.3 steps 4 and 7 (layout, ids, modes).
func TestNewBundle(t *testing.T) {
	tmp := t.TempDir()
	b, err := newBundle(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if !bundleIDRe.MatchString(b.id) {
		t.Errorf("id = %q, want kite-<32 lowercase hex>", b.id)
	}
	if want := filepath.Join(tmp, "starkite-sandbox-"+b.id); b.dir != want {
		t.Errorf("dir = %s, want %s", b.dir, want)
	}
	if want := filepath.Join(b.dir, "rootfs"); b.rootfs != want {
		t.Errorf("rootfs = %s, want %s", b.rootfs, want)
	}
	if want := filepath.Join(tmp, "starkite-sandbox-state-"+b.id); b.stateDir != want {
		t.Errorf("stateDir = %s, want %s", b.stateDir, want)
	}
	if entries, err := os.ReadDir(b.rootfs); err != nil || len(entries) != 0 {
		t.Errorf("rootfs: %v, %d entries; want an empty directory", err, len(entries))
	}
	fi, err := os.Stat(b.stateDir)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.IsDir() || fi.Mode().Perm() != 0o711 {
		t.Errorf("state dir mode = %v, want drwx--x--x", fi.Mode())
	}

	b2, err := newBundle(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if b2.id == b.id || b2.dir == b.dir || b2.stateDir == b.stateDir {
		t.Errorf("two bundles share an id: %s", b.id)
	}

	b.remove()
	for _, p := range []string{b.dir, b.stateDir} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s still exists after remove (%v)", p, err)
		}
	}
	if _, err := os.Stat(b2.dir); err != nil {
		t.Errorf("removing one bundle touched the other: %v", err)
	}
	b2.remove()
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("left behind in TMPDIR: %v", entries)
	}
}

// TestNewBundleFails checks newBundle reports a TMPDIR it cannot use.
func TestNewBundleFails(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := newBundle(file); err == nil {
		b.remove()
		t.Fatal("newBundle under a regular file: no error")
	}
}

// TestMountpoints covers sandbox.md §6.3 step 5.
func TestMountpoints(t *testing.T) {
	host := t.TempDir()
	regular := filepath.Join(host, "resolv.conf")
	if err := os.WriteFile(regular, []byte("nameserver 127.0.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(host, "proj")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := newBundle(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.remove()
	p := sandbox.Profile{Name: "t", Mounts: []sandbox.Mount{
		{Source: dir, Destination: "/w/proj", Type: sandbox.MountBind, Mode: sandbox.ReadWrite},
		{Source: regular, Destination: "/etc/deep/resolv.conf", Type: sandbox.MountBind, Mode: sandbox.ReadOnly},
		{Source: filepath.Join(host, "gone"), Destination: "/gone", Type: sandbox.MountBind, Mode: sandbox.ReadOnly},
		{Destination: "/tmp", Type: sandbox.MountTmpfs, Mode: sandbox.ReadWrite},
	}}
	if err := b.mountpoints(p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		path string
		dir  bool
	}{
		{"/.kite", false},
		{"/proc", true},
		{"/dev", true},
		{"/w/proj", true},
		{"/etc/deep/resolv.conf", false},
		{"/gone", true}, // a source that cannot be stat'ed gets a directory
		{"/tmp", true},
	} {
		fi, err := os.Lstat(filepath.Join(b.rootfs, want.path))
		switch {
		case err != nil:
			t.Errorf("%s: %v", want.path, err)
		case want.dir && !fi.IsDir():
			t.Errorf("%s is %v, want a directory", want.path, fi.Mode())
		case !want.dir && (!fi.Mode().IsRegular() || fi.Size() != 0):
			t.Errorf("%s is %v (%d bytes), want an empty regular file", want.path, fi.Mode(), fi.Size())
		}
	}
	// mountpoints is idempotent: existing points are kept.
	if err := b.mountpoints(p); err != nil {
		t.Errorf("second mountpoints: %v", err)
	}
}

// TestWriteSpec covers sandbox.md §6.3 step 6.
func TestWriteSpec(t *testing.T) {
	b, err := newBundle(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer b.remove()
	s := buildSpec(specInput{
		profile: sandbox.Profile{Name: "opaque", Mounts: []sandbox.Mount{
			{Source: "/w", Destination: "/w", Type: sandbox.MountBind, Mode: sandbox.ReadWrite},
			{Destination: "/tmp", Type: sandbox.MountTmpfs, Mode: sandbox.ReadWrite},
		}},
		args: []string{"/.kite", "__runtime__", "exec", "print(1)"}, env: []string{"A=1"}, cwd: "/w",
		hostBinary: "/bin/kite", rootfs: b.rootfs, uid: 1, gid: 2,
	})
	if err := b.writeSpec(s); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(b.dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\{\n  "ociVersion": "1.0.0",\n`).Match(data) {
		t.Errorf("config.json is not indented JSON:\n%.200s", data)
	}
	var got specs.Spec
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, s) {
		t.Errorf("config.json decodes to\n%+v\nwant\n%+v", got, *s)
	}
}
