package k8s

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// cp (spec §7): files travel as a tar stream over exec.
//
// Which side is in the pod: the one written "<name>:<path>" where <name>
// is non-empty and has no "/" (so "./a:b" and "/x:y" stay local paths).
// The pod used is always the pod argument (the name before ":" is not
// consulted, as in the reference). Exactly one side must be remote.
//
// Download (pod → local) runs `tar cf - -C <dir> <base>` in the pod and
// unpacks the stream:
//   - a directory source copies its contents into dst (created when
//     missing, merged into when it exists): pod:/data → dst/<entries of /data>;
//   - a file (or symlink) source is written to dst, or to dst/<base> when
//     dst is an existing directory or ends with "/"; a symlink already at
//     the target is replaced, not written through.
//
// Upload (local → pod) packs src with archive/tar and streams it to
// `tar xf - -C <remote dir>` on stdin, symmetrically:
//   - a directory source: its contents land in the remote directory dst
//     (created by tar when missing; its parent must exist);
//   - a file source: written to dst, or to dst/<base> when dst ends with
//     "/" or is a directory in the pod (checked with `test -d <dst>`).
//
// "files" counts the non-directory entries (regular files, symlinks, hard
// links) moved.
//
// Local side: every local file is reached through kite's permission
// checks — fs.read:walk on an uploaded directory and fs.read:read_file on
// each file packed (all checked before anything is sent); fs.write:write
// on dst before a download starts, then per entry fs.write:mkdir for each
// directory created, fs.write:write for each file and hard link and
// fs.write:symlink for each symlink, on canonical paths. Under dry-run a
// download writes nothing locally (as libkite.WriteFile).
//
// Safety of downloads: an entry whose name is absolute or has a ".."
// element, whose path (after resolving the symlinks already on disk,
// including ones the archive created) leaves dst, a symlink whose target
// is absolute or leaves dst, and a hard link to anything but a regular
// file inside dst are rejected with an error naming the entry; entries
// are checked before they are written, so nothing is ever written outside
// dst (entries before the bad one stay). Existing files and symlinks are
// replaced, never written through.

// remotePath splits "<name>:<path>"; ok is false for a local path.
func remotePath(p string) (string, bool) {
	i := strings.IndexByte(p, ':')
	if i <= 0 || strings.ContainsAny(p[:i], `/\`) {
		return "", false
	}
	return p[i+1:], true
}

// archiveError is a download archive that tries to leave dst (or is
// otherwise unusable): reported in preference to the remote tar's own
// failure.
type archiveError struct{ msg string }

func (e *archiveError) Error() string { return e.msg }

func badEntry(name, why string) error {
	return &archiveError{fmt.Sprintf("refusing archive entry %q: %s", name, why)}
}

// cp(pod, src, dst, namespace="", container="", timeout="") -> dict
func opCp(x *call, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pod, src, dst, ns, container, timeout string
	if err := x.bind(args, kwargs, "pod", &pod, "src", &src, "dst", &dst, "namespace?", &ns, "container?", &container,
		"timeout?", &timeout); err != nil {
		return nil, err
	}
	rsrc, srcRemote := remotePath(src)
	rdst, dstRemote := remotePath(dst)
	switch {
	case srcRemote && dstRemote:
		return nil, errors.New(`only one of src and dst may be a pod path ("<pod>:<path>")`)
	case !srcRemote && !dstRemote:
		return nil, errors.New(`one of src and dst must be a pod path ("<pod>:<path>")`)
	case srcRemote && rsrc == "", dstRemote && rdst == "":
		return nil, errors.New("empty path in the pod")
	case srcRemote && dst == "", dstRemote && src == "":
		return nil, errors.New("empty local path")
	}
	if err := x.begin(timeout); err != nil {
		return nil, err
	}
	s, err := x.streamer()
	if err != nil {
		return nil, err
	}
	c := &copier{x: x, s: s, ns: x.podNamespace(ns), pod: pod, container: container}
	if srcRemote {
		return c.download(rsrc, dst)
	}
	return c.upload(src, rdst)
}

// copier is one cp call.
type copier struct {
	x         *call
	s         streamer
	ns, pod   string
	container string
}

// remoteFailure describes a failed remote command.
func remoteFailure(what string, err error, stderr string) error {
	if code, ok := exitCode(err); ok {
		if msg := strings.TrimSpace(stderr); msg != "" {
			return fmt.Errorf("%s failed in the pod (exit code %d): %s", what, code, msg)
		}
		return fmt.Errorf("%s failed in the pod (exit code %d)", what, code)
	}
	return err
}

// splitRemote is the directory and base name of a cleaned pod path (the
// base as tar's argument, "./"-guarded against reading as an option, and
// as tar writes it in the archive).
func splitRemote(p string) (dir, arg, base string, err error) {
	p = path.Clean(p)
	if p == "/" {
		return "", "", "", errors.New("cannot copy the root directory of the pod")
	}
	dir, base = path.Dir(p), path.Base(p)
	arg = base
	if strings.HasPrefix(base, "-") {
		arg = "./" + base
	}
	return dir, arg, base, nil
}

// ---- download ---------------------------------------------------------------

func (c *copier) download(remote, dst string) (starlark.Value, error) {
	dir, arg, base, err := splitRemote(remote)
	if err != nil {
		return nil, err
	}
	if err := libkite.Check(c.x.thread, "fs", "write", "write", linkCanonical(dst)); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(c.x.ctx)
	defer cancel()
	pr, pw := io.Pipe()
	var stderr lockedBuffer
	execDone := make(chan error, 1)
	go func() {
		err := c.s.exec(ctx, c.ns, c.pod, c.container, []string{"tar", "cf", "-", "-C", dir, arg}, nil, pw, &stderr)
		pw.CloseWithError(err) // nil: EOF
		execDone <- err
	}()
	u := &unpacker{thread: c.x.thread, dst: dst, base: base, dry: libkite.DryRun(c.x.thread)}
	xerr := u.unpack(tar.NewReader(pr))
	if xerr != nil {
		cancel()
		pr.CloseWithError(xerr)
	} else {
		_, _ = io.Copy(io.Discard, pr) // the archive's trailing padding
	}
	eerr := <-execDone
	if verr := u.verifyLinks(); verr != nil && xerr == nil {
		xerr = verr
	}
	var ae *archiveError
	switch {
	case errors.As(xerr, &ae), libkite.IsPermissionError(xerr):
		return nil, xerr
	case eerr != nil:
		if err := c.x.endErr(); err != nil {
			return nil, err
		}
		return nil, remoteFailure("tar", eerr, stderr.String())
	case xerr != nil:
		return nil, xerr
	case !u.seen:
		return nil, fmt.Errorf("nothing to copy: the pod sent an empty archive for %q", remote)
	}
	d := starlark.NewDict(2)
	_ = d.SetKey(starlark.String("files"), starlark.MakeInt(u.files))
	_ = d.SetKey(starlark.String("direction"), starlark.String("from_pod"))
	return d, nil
}

// unpacker extracts a download archive under dst.
type unpacker struct {
	thread *starlark.Thread
	dst    string // as the script gave it
	base   string // the archive's root entry name
	dry    bool

	seen   bool   // the root entry has been placed
	dirSrc bool   // the source is a directory: its contents go into root
	root   string // canonical directory every entry must stay in
	file   string // file source: the target path
	files  int
	links  []string // symlinks created (verified again at the end)
}

// relOf is name's path below the archive root ("" for the root itself).
func relOf(name, base string) (string, bool) {
	switch {
	case base == ".":
		if name == "." {
			return "", true
		}
		return name, true
	case name == base:
		return "", true
	case strings.HasPrefix(name, base+"/"):
		return name[len(base)+1:], true
	}
	return "", false
}

// within reports whether p is root or below it (both clean, absolute).
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// cleanName validates an entry name and cleans it.
func cleanName(name string) (string, error) {
	if name == "" {
		return "", badEntry(name, "empty name")
	}
	if strings.HasPrefix(name, "/") || filepath.IsAbs(name) {
		return "", badEntry(name, "absolute path")
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			return "", badEntry(name, `path leaves the destination ("..")`)
		}
	}
	return path.Clean(name), nil
}

// mkdirs creates dir and its missing parents, checking fs.write:mkdir on
// each one created.
func (u *unpacker) mkdirs(dir string) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		if err := libkite.Check(u.thread, "fs", "write", "mkdir", missing[i]); err != nil {
			return err
		}
		if u.dry {
			continue
		}
		if err := os.Mkdir(missing[i], 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return nil
}

// start places the root entry: it decides where everything goes.
func (u *unpacker) start(hdr *tar.Header, rel string) error {
	u.dirSrc = rel != "" || hdr.Typeflag == tar.TypeDir
	if u.dirSrc {
		canon := libkite.CanonicalPath(u.dst) // a link to a directory is followed
		if info, err := os.Stat(canon); err == nil && !info.IsDir() {
			return fmt.Errorf("cannot copy a directory onto file %s", u.dst)
		}
		if err := u.mkdirs(canon); err != nil {
			return err
		}
		u.root = libkite.CanonicalPath(canon)
		return nil
	}
	// A file goes into dst when dst is a directory (or says it is one
	// with a trailing separator), else it replaces dst itself — a
	// symlink there included, which is not written through.
	target := linkCanonical(u.dst)
	if strings.HasSuffix(u.dst, "/") || strings.HasSuffix(u.dst, string(filepath.Separator)) {
		target = filepath.Join(libkite.CanonicalPath(u.dst), u.base)
	} else if info, err := os.Stat(u.dst); err == nil && info.IsDir() {
		target = filepath.Join(libkite.CanonicalPath(u.dst), u.base)
	}
	if err := u.mkdirs(filepath.Dir(target)); err != nil {
		return err
	}
	u.root = libkite.CanonicalPath(filepath.Dir(target))
	u.file = filepath.Join(u.root, filepath.Base(target))
	return nil
}

// linkCanonical is the canonical path of p's parent joined with p's last
// element: canonical, yet naming a symlink at p rather than its target.
func linkCanonical(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return libkite.CanonicalPath(p)
	}
	dir := filepath.Dir(abs)
	if dir == abs {
		return abs
	}
	return filepath.Join(libkite.CanonicalPath(dir), filepath.Base(abs))
}

// target is where entry name (cleaned, below the root as rel) goes: its
// parent resolved through the symlinks on disk, which must stay in root.
func (u *unpacker) target(name, rel string) (string, error) {
	if !u.dirSrc {
		if rel != "" {
			return "", badEntry(name, "unexpected entry after a single file")
		}
		return u.file, nil
	}
	if rel == "" {
		return u.root, nil
	}
	t := filepath.Join(u.root, filepath.FromSlash(rel))
	parent := libkite.CanonicalPath(filepath.Dir(t))
	if !within(u.root, parent) {
		return "", badEntry(name, "path leaves the destination (through a symlink)")
	}
	t = filepath.Join(parent, filepath.Base(t))
	if !within(u.root, t) {
		return "", badEntry(name, "path leaves the destination")
	}
	return t, nil
}

// clear removes a non-directory at t so that an entry replaces it rather
// than writing through it.
func (u *unpacker) clear(t string) error {
	info, err := os.Lstat(t)
	if err != nil || info.IsDir() || u.dry {
		return nil
	}
	return os.Remove(t)
}

func (u *unpacker) unpack(tr *tar.Reader) error {
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the archive from the pod: %w", err)
		}
		name, err := cleanName(hdr.Name)
		if err != nil {
			return err
		}
		rel, ok := relOf(name, u.base)
		if !ok {
			return badEntry(hdr.Name, fmt.Sprintf("not below %q", u.base))
		}
		if !u.seen {
			if err := u.start(hdr, rel); err != nil {
				return err
			}
			u.seen = true
		}
		t, err := u.target(hdr.Name, rel)
		if err != nil {
			return err
		}
		if err := u.entry(tr, hdr, t); err != nil {
			return err
		}
	}
}

// entry writes one entry at t.
func (u *unpacker) entry(tr *tar.Reader, hdr *tar.Header, t string) error {
	switch hdr.Typeflag {
	case tar.TypeDir:
		info, err := os.Lstat(t)
		if err == nil && info.IsDir() {
			return nil
		}
		if err := libkite.Check(u.thread, "fs", "write", "mkdir", t); err != nil {
			return err
		}
		if err := u.clear(t); err != nil || u.dry {
			return err
		}
		return os.Mkdir(t, hdr.FileInfo().Mode().Perm()|0o700)

	case tar.TypeReg, tar.TypeRegA:
		if err := libkite.Check(u.thread, "fs", "write", "write", t); err != nil {
			return err
		}
		u.files++
		if u.dry {
			return nil
		}
		if err := u.clear(t); err != nil {
			return err
		}
		f, err := os.OpenFile(t, os.O_WRONLY|os.O_CREATE|os.O_EXCL, hdr.FileInfo().Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, tr); err != nil {
			f.Close()
			return fmt.Errorf("reading the archive from the pod: %w", err)
		}
		if err := f.Close(); err != nil {
			return err
		}
		_ = os.Chtimes(t, hdr.ModTime, hdr.ModTime)
		return nil

	case tar.TypeSymlink:
		link := hdr.Linkname
		if link == "" || filepath.IsAbs(link) || strings.HasPrefix(link, "/") {
			return badEntry(hdr.Name, fmt.Sprintf("symlink to absolute path %q", link))
		}
		if !within(u.root, filepath.Join(filepath.Dir(t), filepath.FromSlash(link))) {
			return badEntry(hdr.Name, fmt.Sprintf("symlink to %q leaves the destination", link))
		}
		if err := libkite.Check(u.thread, "fs", "write", "symlink", t); err != nil {
			return err
		}
		u.files++
		if u.dry {
			return nil
		}
		if err := u.clear(t); err != nil {
			return err
		}
		if err := os.Symlink(link, t); err != nil {
			return err
		}
		u.links = append(u.links, t)
		return nil

	case tar.TypeLink:
		old, err := cleanName(hdr.Linkname)
		if err != nil {
			return badEntry(hdr.Name, fmt.Sprintf("hard link to %q leaves the destination", hdr.Linkname))
		}
		rel, ok := relOf(old, u.base)
		if !ok || !u.dirSrc {
			return badEntry(hdr.Name, fmt.Sprintf("hard link to %q outside the copied tree", hdr.Linkname))
		}
		ot, err := u.target(hdr.Name, rel)
		if err != nil {
			return err
		}
		if err := libkite.Check(u.thread, "fs", "write", "write", t); err != nil {
			return err
		}
		u.files++
		if u.dry {
			return nil
		}
		if info, err := os.Lstat(ot); err != nil || !info.Mode().IsRegular() {
			return badEntry(hdr.Name, fmt.Sprintf("hard link to %q: not a file copied here", hdr.Linkname))
		}
		if err := u.clear(t); err != nil {
			return err
		}
		return os.Link(ot, t)
	}
	// Devices, FIFOs and other special files are not copied.
	return nil
}

// verifyLinks checks, once everything is in place, that no symlink the
// archive created resolves outside dst (a chain of individually harmless
// links can); offenders are removed.
func (u *unpacker) verifyLinks() error {
	var bad error
	for _, l := range u.links {
		r, err := filepath.EvalSymlinks(l)
		if err != nil || within(u.root, r) {
			continue
		}
		_ = os.Remove(l)
		if bad == nil {
			rel, _ := filepath.Rel(u.root, l)
			bad = badEntry(filepath.ToSlash(rel), "symlink resolves outside the destination")
		}
	}
	return bad
}

// ---- upload -----------------------------------------------------------------

// packEntry is one local file to archive.
type packEntry struct {
	name string // in the archive
	host string // path to open
	info fs.FileInfo
	link string // symlink target
}

func (c *copier) upload(src, remote string) (starlark.Value, error) {
	th := c.x.thread
	canon := libkite.CanonicalPath(src)
	info, err := os.Stat(canon)
	if err != nil {
		if err := libkite.Check(th, "fs", "read", "read_file", canon); err != nil {
			return nil, err
		}
		return nil, libkite.GivenPathError(err, src)
	}
	var entries []packEntry
	var remoteDir string
	if info.IsDir() {
		if err := libkite.Check(th, "fs", "read", "walk", canon); err != nil {
			return nil, err
		}
		dir, _, base, err := splitRemote(remote)
		if err != nil {
			return nil, err
		}
		remoteDir = dir
		err = filepath.WalkDir(canon, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(canon, p)
			name := base
			if rel != "." {
				name = path.Join(base, filepath.ToSlash(rel))
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			e := packEntry{name: name, host: p, info: fi}
			switch {
			case d.IsDir():
				e.name += "/"
			case fi.Mode()&fs.ModeSymlink != 0:
				if e.link, err = os.Readlink(p); err != nil {
					return err
				}
			case fi.Mode().IsRegular():
				if err := libkite.Check(th, "fs", "read", "read_file", p); err != nil {
					return err
				}
			default:
				return nil // sockets, devices, FIFOs: not copied
			}
			entries = append(entries, e)
			return nil
		})
		if err != nil {
			return nil, err
		}
	} else {
		if err := libkite.Check(th, "fs", "read", "read_file", canon); err != nil {
			return nil, err
		}
		toDir := strings.HasSuffix(remote, "/")
		if !toDir {
			if toDir, err = c.remoteIsDir(remote); err != nil {
				return nil, err
			}
		}
		name := ""
		if toDir {
			remoteDir, name = path.Clean(remote), filepath.Base(src)
		} else {
			var err error
			if remoteDir, _, name, err = splitRemote(remote); err != nil {
				return nil, err
			}
		}
		entries = append(entries, packEntry{name: name, host: canon, info: info})
	}

	pr, pw := io.Pipe()
	packed := make(chan error, 1)
	go func() {
		err := writeArchive(pw, entries)
		pw.CloseWithError(err)
		packed <- err
	}()
	var stdout, stderr lockedBuffer
	eerr := c.s.exec(c.x.ctx, c.ns, c.pod, c.container, []string{"tar", "xf", "-", "-C", remoteDir}, pr, &stdout, &stderr)
	pr.Close()
	perr := <-packed
	if perr != nil && !errors.Is(perr, io.ErrClosedPipe) {
		return nil, perr
	}
	if eerr != nil {
		if err := c.x.endErr(); err != nil {
			return nil, err
		}
		return nil, remoteFailure("tar", eerr, stderr.String())
	}
	files := 0
	for _, e := range entries {
		if !e.info.IsDir() {
			files++
		}
	}
	d := starlark.NewDict(3)
	_ = d.SetKey(starlark.String("source"), starlark.String(src))
	_ = d.SetKey(starlark.String("direction"), starlark.String("to_pod"))
	_ = d.SetKey(starlark.String("files"), starlark.MakeInt(files))
	return d, nil
}

// remoteIsDir reports whether p is a directory in the pod (`test -d`).
func (c *copier) remoteIsDir(p string) (bool, error) {
	var stdout, stderr lockedBuffer
	err := c.s.exec(c.x.ctx, c.ns, c.pod, c.container, []string{"test", "-d", p}, nil, &stdout, &stderr)
	if err == nil {
		return true, nil
	}
	if _, ok := exitCode(err); ok {
		return false, nil
	}
	return false, err
}

// writeArchive writes entries as a tar stream.
func writeArchive(w io.Writer, entries []packEntry) error {
	tw := tar.NewWriter(w)
	for _, e := range entries {
		hdr, err := tar.FileInfoHeader(e.info, e.link)
		if err != nil {
			return err
		}
		hdr.Name = e.name
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !e.info.Mode().IsRegular() {
			continue
		}
		if err := copyFile(tw, e.host, hdr.Size); err != nil {
			return err
		}
	}
	return tw.Close()
}

// copyFile copies the first size bytes of the file at p to w.
func copyFile(w io.Writer, p string, size int64) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(w, io.LimitReader(f, size))
	if err == nil && n < size {
		err = fmt.Errorf("%s: file shrank while being copied", p)
	}
	return err
}
