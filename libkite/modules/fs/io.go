package fs

import (
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
)

// ---- permission-checked host paths ----------------------------------------

// checkFollow checks fs.<category>:<function> on the canonical path of
// given (every symlink resolved) and returns the path to operate on: that
// same canonical path, so the file touched is the file allowed.
func checkFollow(thread *starlark.Thread, category, function, given string) (string, error) {
	canon, err := libkite.CheckPath(thread, "fs", category, function, given)
	if err != nil {
		return "", err
	}
	return libkite.HostPath(canon, given), nil
}

// checkNoFollow is checkFollow for calls that act on a symlink itself
// (lstat, readlink, remove, rename, creating links): the parent directory
// is canonicalised and the final element kept, so the resource is
// canonical yet names the link rather than its target.
func checkNoFollow(thread *starlark.Thread, category, function, given string) (string, error) {
	canon := linkCanonical(given)
	if err := libkite.Check(thread, "fs", category, function, canon); err != nil {
		return "", err
	}
	return libkite.HostPath(canon, given), nil
}

// linkCanonical is the canonical path of given's parent joined with its
// final element.
func linkCanonical(given string) string {
	abs, err := filepath.Abs(given)
	if err != nil {
		return libkite.CanonicalPath(given)
	}
	dir := filepath.Dir(abs)
	if dir == abs { // the root
		return abs
	}
	return filepath.Join(libkite.CanonicalPath(dir), filepath.Base(abs))
}

// osErr rewrites the host (canonical) paths named by an OS error to the
// paths the script gave: names are host, given pairs. A path error about
// some other path (an intermediate directory) names the first given path.
func osErr(err error, names ...string) error {
	// a link error names (old, new) in the order the pairs are given, so
	// old is looked up first to last and new last to first
	given := func(host string, reverse bool) (string, bool) {
		n := len(names) / 2
		for k := range n {
			i := k
			if reverse {
				i = n - 1 - k
			}
			if names[2*i] == host {
				return names[2*i+1], true
			}
		}
		return host, false
	}
	var pe *iofs.PathError
	if errors.As(err, &pe) {
		p, ok := given(pe.Path, false)
		if !ok && len(names) >= 2 {
			p = names[1]
		}
		return &iofs.PathError{Op: pe.Op, Path: p, Err: pe.Err}
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		oldName, _ := given(le.Old, false)
		newName, _ := given(le.New, true)
		return &os.LinkError{Op: le.Op, Old: oldName, New: newName, Err: le.Err}
	}
	return err
}

// fileMode converts a Unix permission integer (0o7777 at most, setuid,
// setgid and sticky bits included) to a Go file mode.
func fileMode(fnname string, m int64) (iofs.FileMode, error) {
	if m < 0 || m > 0o7777 {
		return 0, fmt.Errorf("%s: invalid mode %d (want 0 to 0o7777)", fnname, m)
	}
	mode := iofs.FileMode(m & 0o777)
	if m&0o4000 != 0 {
		mode |= iofs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= iofs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= iofs.ModeSticky
	}
	return mode, nil
}

// ---- shared by the globals and the Path methods ---------------------------

// exists: stat succeeds (links followed). perm fs.read:exists.
func exists(thread *starlark.Thread, given string) (starlark.Value, error) {
	host, err := checkFollow(thread, "read", "exists", given)
	if err != nil {
		return nil, err
	}
	_, err = os.Stat(host)
	return starlark.Bool(err == nil), nil
}

// readFile reads the whole file after checking fs.read:<function>.
func readFile(thread *starlark.Thread, function, given string) ([]byte, error) {
	host, err := checkFollow(thread, "read", function, given)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(host)
	if err != nil {
		return nil, osErr(err, host, given)
	}
	return data, nil
}

// writeFile creates or replaces given with data (perm applies to a new
// file) after checking fs.write:write; dry: nothing written.
//
// A regular file is replaced atomically (libkite.CreateAtomic) unless it
// has other hard links, which are kept by truncating it in place. A final
// element that is still a symlink after canonicalisation dangles: writing
// through it would create a file the check never saw, so it is refused.
func writeFile(thread *starlark.Thread, given string, data []byte, perm iofs.FileMode) error {
	host, err := checkFollow(thread, "write", "write", given)
	if err != nil || libkite.DryRun(thread) {
		return err
	}
	var w interface {
		io.Writer
		commit() error
		abort()
	}
	if fi, err := os.Lstat(host); err == nil && fi.Mode()&iofs.ModeSymlink != 0 {
		return &iofs.PathError{Op: "open", Path: given, Err: syscall.ELOOP}
	} else if err == nil && fi.Mode().IsRegular() && linkCount(fi) > 1 {
		f, err := os.OpenFile(host, os.O_WRONLY|os.O_TRUNC|oNoFollow, perm)
		if err != nil {
			return osErr(err, host, given)
		}
		w = inPlace{f}
	} else {
		f, err := libkite.CreateAtomic(host, perm)
		if err != nil {
			return osErr(err, host, given)
		}
		w = atomic{f}
	}
	if _, err := w.Write(data); err != nil {
		w.abort()
		return osErr(err, host, given)
	}
	return osErr(w.commit(), host, given)
}

type inPlace struct{ *os.File }

func (f inPlace) commit() error { return f.Close() }
func (f inPlace) abort()        { f.Close() }

type atomic struct{ *libkite.AtomicFile }

func (f atomic) commit() error { return f.Commit() }
func (f atomic) abort()        { f.Abort() }

// appendFile appends data, creating the file (0644) if needed.
func appendFile(thread *starlark.Thread, given string, data []byte) error {
	host, err := checkFollow(thread, "write", "write", given)
	if err != nil || libkite.DryRun(thread) {
		return err
	}
	f, err := os.OpenFile(host, os.O_WRONLY|os.O_APPEND|os.O_CREATE|oNoFollow, 0o644)
	if err != nil {
		return osErr(err, host, given)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return osErr(err, host, given)
}

// glob runs filepath.Glob on the lexically cleaned pattern (the text the
// permission check saw) and sorts the matches.
func glob(pattern string) ([]string, error) {
	if pattern != "" {
		pattern = filepath.Clean(pattern)
	}
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err // "syntax error in pattern"
	}
	sort.Strings(matches)
	return matches, nil
}

// ---- Path I/O methods -----------------------------------------------------

func noArgs(fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) error {
	return libkite.UnpackArgs(fn.Name(), args, kwargs)
}

func none(err error) (starlark.Value, error) {
	if err != nil {
		return nil, err
	}
	return starlark.None, nil
}

// exists() → bool. perm fs.read:exists.
func pathExists(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := noArgs(fn, args, kwargs); err != nil {
		return nil, err
	}
	return exists(thread, recv(fn).path)
}

// statIs checks fs.read:<function>, stats (following links) and applies
// test; any stat error is False.
func statIs(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple,
	function string, test func(iofs.FileInfo) bool) (starlark.Value, error) {
	if err := noArgs(fn, args, kwargs); err != nil {
		return nil, err
	}
	host, err := checkFollow(thread, "read", function, recv(fn).path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(host)
	return starlark.Bool(err == nil && test(fi)), nil
}

// is_file() → bool. perm fs.read:is_file.
func pathIsFile(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return statIs(thread, fn, args, kwargs, "is_file", func(fi iofs.FileInfo) bool { return fi.Mode().IsRegular() })
}

// is_dir() → bool. perm fs.read:is_dir.
func pathIsDir(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return statIs(thread, fn, args, kwargs, "is_dir", iofs.FileInfo.IsDir)
}

// is_symlink() → bool: lstat. perm fs.read:is_symlink on the link itself.
func pathIsSymlink(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := noArgs(fn, args, kwargs); err != nil {
		return nil, err
	}
	host, err := checkNoFollow(thread, "read", "is_symlink", recv(fn).path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Lstat(host)
	return starlark.Bool(err == nil && fi.Mode()&iofs.ModeSymlink != 0), nil
}

// statFollow checks fs.read:<function> and stats the file.
func statFollow(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, function string) (iofs.FileInfo, error) {
	if err := noArgs(fn, args, kwargs); err != nil {
		return nil, err
	}
	given := recv(fn).path
	host, err := checkFollow(thread, "read", function, given)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(host)
	if err != nil {
		return nil, osErr(err, host, given)
	}
	return fi, nil
}

// stat() → dict {name, size, mode, is_dir, mod_time}. perm fs.read:file_stat.
func pathStat(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	fi, err := statFollow(thread, fn, args, kwargs, "file_stat")
	if err != nil {
		return nil, err
	}
	d := starlark.NewDict(5)
	_ = d.SetKey(starlark.String("name"), starlark.String(filepath.Base(recv(fn).path)))
	_ = d.SetKey(starlark.String("size"), starlark.MakeInt64(fi.Size()))
	_ = d.SetKey(starlark.String("mode"), starlark.String(fi.Mode().String()))
	_ = d.SetKey(starlark.String("is_dir"), starlark.Bool(fi.IsDir()))
	_ = d.SetKey(starlark.String("mod_time"), starlark.String(fi.ModTime().Local().Format(time.RFC3339)))
	return d, nil
}

// owner() → str. perm fs.read:owner.
func pathOwner(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	fi, err := statFollow(thread, fn, args, kwargs, "owner")
	if err != nil {
		return nil, err
	}
	name, err := ownerName(fi)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return starlark.String(name), nil
}

// group() → str. perm fs.read:group.
func pathGroup(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	fi, err := statFollow(thread, fn, args, kwargs, "group")
	if err != nil {
		return nil, err
	}
	name, err := groupName(fi)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	return starlark.String(name), nil
}

// read_text() → str (ignores arguments). perm fs.read:read_file.
func pathReadText(thread *starlark.Thread, fn *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	data, err := readFile(thread, "read_file", recv(fn).path)
	if err != nil {
		return nil, err
	}
	return starlark.String(data), nil
}

// read_bytes() → bytes (ignores arguments). perm fs.read:read_bytes.
func pathReadBytes(thread *starlark.Thread, fn *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	data, err := readFile(thread, "read_bytes", recv(fn).path)
	if err != nil {
		return nil, err
	}
	return starlark.Bytes(data), nil
}

// write_text(content, *, mode=0o644): content must be str.
func pathWriteText(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var text string
	mode := int64(0o644)
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "content", &text, "*", nil, "mode?", &mode); err != nil {
		return nil, err
	}
	perm, err := fileMode(fn.Name(), mode)
	if err != nil {
		return nil, err
	}
	return none(writeFile(thread, recv(fn).path, []byte(text), perm))
}

// write_bytes(content, *, mode=0o644): content bytes or str.
func pathWriteBytes(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	mode := int64(0o644)
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "content", &v, "*", nil, "mode?", &mode); err != nil {
		return nil, err
	}
	data, err := content(fn.Name(), v)
	if err != nil {
		return nil, err
	}
	perm, err := fileMode(fn.Name(), mode)
	if err != nil {
		return nil, err
	}
	return none(writeFile(thread, recv(fn).path, data, perm))
}

// append_text(content): str only. perm fs.write:write.
func pathAppendText(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var text string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "content", &text); err != nil {
		return nil, err
	}
	return none(appendFile(thread, recv(fn).path, []byte(text)))
}

// append_bytes(content): bytes or str. perm fs.write:write.
func pathAppendBytes(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "content", &v); err != nil {
		return nil, err
	}
	data, err := content(fn.Name(), v)
	if err != nil {
		return nil, err
	}
	return none(appendFile(thread, recv(fn).path, data))
}

// touch(*, exist_ok=True): create an empty file, or set its times to now.
// perm fs.write:touch.
func pathTouch(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	existOK := true
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "*", nil, "exist_ok?", &existOK); err != nil {
		return nil, err
	}
	given := recv(fn).path
	host, err := checkFollow(thread, "write", "touch", given)
	if err != nil || libkite.DryRun(thread) {
		return none(err)
	}
	f, err := os.OpenFile(host, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o666)
	if err == nil {
		return none(osErr(f.Close(), host, given))
	}
	if !errors.Is(err, iofs.ErrExist) {
		return nil, osErr(err, host, given)
	}
	if !existOK {
		return nil, fmt.Errorf("file already exists: %s", given)
	}
	now := time.Now()
	return none(osErr(os.Chtimes(host, now, now), host, given))
}

// mkdir(*, parents=False, mode=0o755). perm fs.write:mkdir.
func pathMkdir(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	parents := false
	mode := int64(0o755)
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "*", nil, "parents?", &parents, "mode?", &mode); err != nil {
		return nil, err
	}
	perm, err := fileMode(fn.Name(), mode)
	if err != nil {
		return nil, err
	}
	given := recv(fn).path
	host, err := checkFollow(thread, "write", "mkdir", given)
	if err != nil || libkite.DryRun(thread) {
		return none(err)
	}
	if parents {
		err = os.MkdirAll(host, perm)
	} else {
		err = os.Mkdir(host, perm)
	}
	return none(osErr(err, host, given))
}

// remove(): a file, a symlink (not its target) or an empty directory.
// perm fs.delete:remove on the entry itself.
func pathRemove(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := noArgs(fn, args, kwargs); err != nil {
		return nil, err
	}
	given := recv(fn).path
	host, err := checkNoFollow(thread, "delete", "remove", given)
	if err != nil || libkite.DryRun(thread) {
		return none(err)
	}
	return none(osErr(os.Remove(host), host, given))
}

// renameTo is rename and move_to: an OS rename of the entry itself (a
// symlink is moved, not its target). Both ends are checked with
// fs.write:<function> (kite: the reference checks only the source of a
// rename, which would let a script move a file anywhere).
func renameTo(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, function string) (starlark.Value, error) {
	var target pathArg
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "target", &target); err != nil {
		return nil, err
	}
	given, to := recv(fn).path, string(target)
	src, err := checkNoFollow(thread, "write", function, given)
	if err != nil {
		return nil, err
	}
	dst, err := checkNoFollow(thread, "write", function, to)
	if err != nil {
		return nil, err
	}
	if !libkite.DryRun(thread) {
		if err := os.Rename(src, dst); err != nil {
			return nil, osErr(err, src, given, dst, to)
		}
	}
	return NewPath(to), nil
}

// rename(target) → Path(target). perm fs.write:rename.
func pathRename(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return renameTo(thread, fn, args, kwargs, "rename")
}

// move_to(target) → Path(target). perm fs.write:move on both ends.
func pathMoveTo(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return renameTo(thread, fn, args, kwargs, "move")
}

// copy_to(target) → Path(target): streams the bytes (io.Copy, never the
// whole file in memory) into a created/truncated target. perm
// fs.write:copy on source and target.
func pathCopyTo(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var target pathArg
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "target", &target); err != nil {
		return nil, err
	}
	given, to := recv(fn).path, string(target)
	src, err := checkFollow(thread, "write", "copy", given)
	if err != nil {
		return nil, err
	}
	dst, err := checkFollow(thread, "write", "copy", to)
	if err != nil {
		return nil, err
	}
	if !libkite.DryRun(thread) {
		if err := copyFile(src, dst); err != nil {
			return nil, osErr(err, src, given, dst, to)
		}
	}
	return NewPath(to), nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	si, err := in.Stat()
	if err != nil {
		return err
	}
	if si.IsDir() {
		return &iofs.PathError{Op: "read", Path: src, Err: syscall.EISDIR}
	}
	if di, err := os.Stat(dst); err == nil && os.SameFile(si, di) {
		return &os.LinkError{Op: "copy", Old: src, New: dst, Err: errors.New("source and target are the same file")}
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|oNoFollow, 0o666)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// truncate(size). perm fs.write:truncate.
func pathTruncate(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var size int64
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "size", &size); err != nil {
		return nil, err
	}
	given := recv(fn).path
	host, err := checkFollow(thread, "write", "truncate", given)
	if err != nil || libkite.DryRun(thread) {
		return none(err)
	}
	return none(osErr(os.Truncate(host, size), host, given))
}

// chmod(mode). perm fs.write:chmod.
func pathChmod(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var mode int64
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "mode", &mode); err != nil {
		return nil, err
	}
	perm, err := fileMode(fn.Name(), mode)
	if err != nil {
		return nil, err
	}
	given := recv(fn).path
	host, err := checkFollow(thread, "write", "chmod", given)
	if err != nil || libkite.DryRun(thread) {
		return none(err)
	}
	return none(osErr(os.Chmod(host, perm), host, given))
}

// chown(*, uid=-1, gid=-1); -1 keeps the current value. perm fs.write:chown.
func pathChown(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	uid, gid := -1, -1
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "*", nil, "uid?", &uid, "gid?", &gid); err != nil {
		return nil, err
	}
	given := recv(fn).path
	host, err := checkFollow(thread, "write", "chown", given)
	if err != nil || libkite.DryRun(thread) {
		return none(err)
	}
	return none(osErr(os.Chown(host, uid, gid), host, given))
}

// symlink_to(target): this path becomes a symlink holding target verbatim.
// perm fs.write:symlink on this path (the link's content is not checked:
// every later access through the link is checked on where it leads).
func pathSymlinkTo(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var target pathArg
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "target", &target); err != nil {
		return nil, err
	}
	given := recv(fn).path
	host, err := checkNoFollow(thread, "write", "symlink", given)
	if err != nil || libkite.DryRun(thread) {
		return none(err)
	}
	return none(osErr(os.Symlink(string(target), host), host, given))
}

// readlink() → Path(link content). perm fs.read:readlink on the link.
func pathReadlink(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := noArgs(fn, args, kwargs); err != nil {
		return nil, err
	}
	given := recv(fn).path
	host, err := checkNoFollow(thread, "read", "readlink", given)
	if err != nil {
		return nil, err
	}
	s, err := os.Readlink(host)
	if err != nil {
		return nil, osErr(err, host, given)
	}
	return NewPath(s), nil
}

// hardlink_to(target): this path becomes a hard link to target. perm
// fs.write:hardlink on this path and (kite) on the canonical target: a
// link is a second name for the target's content, so linking a file the
// policy does not grant into an allowed directory must be refused.
func pathHardlinkTo(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var target pathArg
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "target", &target); err != nil {
		return nil, err
	}
	given, old := recv(fn).path, string(target)
	host, err := checkNoFollow(thread, "write", "hardlink", given)
	if err != nil {
		return nil, err
	}
	oldHost, err := checkFollow(thread, "write", "hardlink", old)
	if err != nil || libkite.DryRun(thread) {
		return none(err)
	}
	return none(osErr(os.Link(oldHost, host), oldHost, old, host, given))
}

// listdir() → sorted list of p / name (ignores arguments). perm
// fs.read:listdir. Reads directory entries only, never file contents.
func pathListdir(thread *starlark.Thread, fn *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	given := recv(fn).path
	host, err := checkFollow(thread, "read", "listdir", given)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(host) // sorted by name
	if err != nil {
		return nil, osErr(err, host, given)
	}
	out := make([]starlark.Value, len(entries))
	for i, e := range entries {
		out[i] = NewPath(filepath.Join(given, e.Name()))
	}
	return starlark.NewList(out), nil
}

// glob(pattern) → sorted list of Paths matching p / pattern. perm
// fs.read:glob on this directory; when the pattern's fixed part leads
// out of it (through ".." or a symlink) its canonical form is checked too.
func pathGlob(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "pattern", &pattern); err != nil {
		return nil, err
	}
	given := recv(fn).path
	dir := libkite.CanonicalPath(given)
	if err := libkite.Check(thread, "fs", "read", "glob", dir); err != nil {
		return nil, err
	}
	full := filepath.Join(given, pattern)
	if canon := libkite.CanonicalPath(full); canon != dir && !strings.HasPrefix(canon, dir+string(filepath.Separator)) &&
		dir != string(filepath.Separator) {
		if err := libkite.Check(thread, "fs", "read", "glob", canon); err != nil {
			return nil, err
		}
	}
	matches, err := glob(full)
	if err != nil {
		return nil, err
	}
	out := make([]starlark.Value, len(matches))
	for i, m := range matches {
		out[i] = NewPath(m)
	}
	return starlark.NewList(out), nil
}

// walk() → [(Path(dir), [subdir names], [other names]), ...] top-down in
// lexical order (ignores arguments). Symlinks are listed as files and never
// followed, the root included unless written with a trailing slash. perm
// fs.read:walk on the root entry.
// Directories are read one at a time with os.ReadDir (names and types
// only), iteratively, so deep trees cannot exhaust the stack.
func pathWalk(thread *starlark.Thread, fn *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
	root := recv(fn)
	check := checkNoFollow
	if strings.HasSuffix(root.path, string(filepath.Separator)) {
		check = checkFollow // like lstat("link/"), a trailing slash follows the link
	}
	host, err := check(thread, "read", "walk", root.path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Lstat(host)
	if err != nil {
		return nil, osErr(err, host, root.path)
	}
	var out []starlark.Value
	if !fi.IsDir() {
		return starlark.NewList(out), nil
	}
	type dir struct {
		host, given string
		path        *Path
	}
	stack := []dir{{host, root.path, root}}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		entries, err := os.ReadDir(d.host)
		if err != nil {
			return nil, osErr(err, d.host, d.given)
		}
		var dirs, files []starlark.Value
		var sub []dir
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() {
				dirs = append(dirs, starlark.String(name))
				g := filepath.Join(d.given, name)
				sub = append(sub, dir{filepath.Join(d.host, name), g, NewPath(g)})
			} else {
				files = append(files, starlark.String(name))
			}
		}
		out = append(out, starlark.Tuple{d.path, starlark.NewList(dirs), starlark.NewList(files)})
		for i := len(sub) - 1; i >= 0; i-- {
			stack = append(stack, sub[i])
		}
		if err := libkite.Context(thread).Err(); err != nil {
			return nil, err
		}
	}
	return starlark.NewList(out), nil
}

// disk_usage() → {total, used, free} of the file system holding p. perm
// fs.read:disk_usage.
func pathDiskUsage(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := noArgs(fn, args, kwargs); err != nil {
		return nil, err
	}
	given := recv(fn).path
	host, err := checkFollow(thread, "read", "disk_usage", given)
	if err != nil {
		return nil, err
	}
	total, free, err := diskUsage(host)
	if err != nil {
		return nil, osErr(err, host, given)
	}
	d := starlark.NewDict(3)
	_ = d.SetKey(starlark.String("total"), starlark.MakeUint64(total))
	_ = d.SetKey(starlark.String("used"), starlark.MakeUint64(total-free))
	_ = d.SetKey(starlark.String("free"), starlark.MakeUint64(free))
	return d, nil
}

var errNoOwner = errors.New("file ownership is not available on this platform")
