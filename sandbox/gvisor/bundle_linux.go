//go:build linux

package gvisor

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gvisor.dev/gvisor/runsc/specutils"

	"github.com/project-starkite/starkite/libkite/sandbox"
)

// bundle is the OCI bundle of one run: an empty root filesystem holding
// only mount points, and config.json. gVisor's state lives beside it.
type bundle struct {
	id       string // kite-<32 hex>
	dir      string // <TMPDIR>/starkite-sandbox-<id>
	rootfs   string
	stateDir string // <TMPDIR>/starkite-sandbox-state-<id>
}

// newBundle creates the bundle and state directories under tmp. Random
// ids keep parallel sandboxes apart (kite test --parallel).
func newBundle(tmp string) (*bundle, error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, err
	}
	id := "kite-" + hex.EncodeToString(raw[:])
	b := &bundle{
		id:       id,
		dir:      filepath.Join(tmp, "starkite-sandbox-"+id),
		stateDir: filepath.Join(tmp, "starkite-sandbox-state-"+id),
	}
	b.rootfs = filepath.Join(b.dir, "rootfs")
	if err := os.MkdirAll(b.rootfs, 0o755); err != nil {
		return nil, err
	}
	if err := os.Mkdir(b.stateDir, 0o711); err != nil {
		b.remove()
		return nil, err
	}
	return b, nil
}

// remove deletes the bundle and the state directory, after unmounting
// the network namespace gVisor pins there (removal fails with EBUSY
// while it is mounted).
func (b *bundle) remove() {
	specutils.UnmountNullNetNS(b.stateDir)
	os.RemoveAll(b.dir)
	os.RemoveAll(b.stateDir)
}

// mountpoints creates, inside the empty root, the point every mount lands
// on: an empty file for the kite binary and for binds of regular files,
// a directory otherwise.
func (b *bundle) mountpoints(p sandbox.Profile) error {
	if err := b.touch(kitePath, false); err != nil {
		return err
	}
	for _, d := range []string{"/proc", "/dev"} {
		if err := b.touch(d, true); err != nil {
			return err
		}
	}
	for _, m := range p.Mounts {
		dir := true
		if m.Type == sandbox.MountBind {
			if fi, err := os.Stat(m.Source); err == nil && fi.Mode().IsRegular() {
				dir = false
			}
		}
		if err := b.touch(m.Destination, dir); err != nil {
			return err
		}
	}
	return nil
}

func (b *bundle) touch(dest string, dir bool) error {
	p := filepath.Join(b.rootfs, dest)
	if dir {
		return os.MkdirAll(p, 0o755)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// writeSpec writes config.json.
func (b *bundle) writeSpec(s *specs.Spec) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.dir, "config.json"), data, 0o644); err != nil {
		return fmt.Errorf("writing config.json: %w", err)
	}
	return nil
}
