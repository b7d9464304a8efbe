package libkite

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"go.starlark.net/starlark"
)

// Shared file access for modules: every file a builtin touches is
// permission-checked on its canonical path, opened by that same canonical
// path (so the file touched is the file allowed), and OS errors name the
// path as the script wrote it (`open data.json: no such file or directory`).

// HostPath is the path to open after CheckPath returned canon for the
// script's path given. "" stays "" so it fails as Go reports a missing
// file instead of silently meaning the working directory.
func HostPath(canon, given string) string {
	if given == "" {
		return ""
	}
	return canon
}

// GivenPathError rewrites an *fs.PathError to name the script's path
// instead of the canonical one that was opened. (For two-path errors,
// *os.LinkError, build the error from both given paths instead.)
func GivenPathError(err error, given string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: pe.Op, Path: given, Err: pe.Err}
	}
	return err
}

// ReadFile checks fs.read:read_file(path) and reads the whole file. It
// does not consult dry-run: readers decide what a dry run returns.
func ReadFile(thread *starlark.Thread, path string) ([]byte, error) {
	canon, err := CheckPath(thread, "fs", "read", "read_file", path)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(HostPath(canon, path))
	if err != nil {
		return nil, GivenPathError(err, path)
	}
	return data, nil
}

// OpenFile checks fs.read:read_file(path) and opens the file for
// streaming reads. The caller closes it.
func OpenFile(thread *starlark.Thread, path string) (*os.File, error) {
	canon, err := CheckPath(thread, "fs", "read", "read_file", path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(HostPath(canon, path))
	if err != nil {
		return nil, GivenPathError(err, path)
	}
	return f, nil
}

// WriteFile checks fs.write:write(path) and, unless the thread is in dry-run
// mode, replaces the file's content with data atomically (see
// CreateAtomic); perm applies when the file is created.
func WriteFile(thread *starlark.Thread, path string, data []byte, perm fs.FileMode) error {
	canon, err := CheckPath(thread, "fs", "write", "write", path)
	if err != nil || DryRun(thread) {
		return err
	}
	f, err := CreateAtomic(HostPath(canon, path), perm)
	if err != nil {
		return GivenPathError(err, path)
	}
	if _, err := f.Write(data); err != nil {
		f.Abort()
		return GivenPathError(err, path)
	}
	return GivenPathError(f.Commit(), path)
}

// AtomicFile is a file being (re)written: bytes go to a temporary sibling
// that replaces the target only on Commit, so an error half-way leaves the
// previous content, or no file, rather than a truncated one. Targets that
// are not regular files (devices, FIFOs) and directories where no sibling
// can be created are written in place.
type AtomicFile struct {
	*os.File
	target string
	temp   bool
	done   bool
}

// CreateAtomic starts writing target. A new file gets perm (less umask);
// an existing regular file keeps its permission bits.
func CreateAtomic(target string, perm fs.FileMode) (*AtomicFile, error) {
	if target == "" {
		return createInPlace(target, perm) // fails as Go reports it
	}
	mode := perm &^ umask
	info, err := os.Stat(target)
	switch {
	case err == nil && (!info.Mode().IsRegular() || hardLinked(info)):
		return createInPlace(target, perm)
	case err == nil:
		mode = info.Mode().Perm()
	case !errors.Is(err, fs.ErrNotExist):
		return createInPlace(target, perm)
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".kite-*")
	if err != nil {
		// no sibling possible (missing parent, read-only directory):
		// opening the target itself gives the error Go users expect
		return createInPlace(target, perm)
	}
	err = tmp.Chmod(mode)
	if err == nil && info != nil {
		err = keepOwner(tmp, info)
	}
	if err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return createInPlace(target, perm)
	}
	return &AtomicFile{File: tmp, target: target, temp: true}, nil
}

func createInPlace(target string, perm fs.FileMode) (*AtomicFile, error) {
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|oNoFollow, perm)
	if err != nil {
		return nil, err
	}
	return &AtomicFile{File: f, target: target}, nil
}

// Commit flushes the data and moves it into place.
func (f *AtomicFile) Commit() error {
	if f.done {
		return nil
	}
	f.done = true
	if !f.temp {
		return f.File.Close()
	}
	name := f.File.Name()
	err := f.File.Sync()
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, f.target)
	}
	if err != nil {
		os.Remove(name)
	}
	return err
}

// Abort discards what was written; the target is left as it was (an
// in-place write cannot be undone and is only closed). Safe after Commit.
func (f *AtomicFile) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	if f.temp {
		os.Remove(f.File.Name())
	}
}

// ContextReader wraps r so reads fail with ctx's error once ctx is done:
// a long stream (hashing, compressing, copying a large file) stops when
// the script is cancelled or times out.
func ContextReader(ctx context.Context, r io.Reader) io.Reader {
	if ctx.Done() == nil {
		return r // never cancelled
	}
	return &ctxReader{ctx: ctx, r: r}
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Copy streams src into dst until EOF or until ctx is done. readFailed
// tells whether a returned error came from reading src rather than from
// writing dst, so the caller can name the right file in it.
func Copy(ctx context.Context, dst io.Writer, src io.Reader) (n int64, readFailed bool, err error) {
	r := NewSourceReader(ctx, src)
	n, err = io.Copy(dst, r)
	return n, r.Failed(err), err
}

// SourceReader is the reading end of a stream a module pipes somewhere
// (through a compressor, an encoder, into an archive): reads stop once
// ctx is done, and Failed tells whether an error came from this side.
type SourceReader struct {
	r   io.Reader
	err error // first read error other than EOF
}

// NewSourceReader wraps r; see SourceReader.
func NewSourceReader(ctx context.Context, r io.Reader) *SourceReader {
	return &SourceReader{r: ContextReader(ctx, r)}
}

func (s *SourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// Failed reports whether err (from a consumer of s) was caused by reading s.
func (s *SourceReader) Failed(err error) bool {
	return err != nil && s.err != nil && errors.Is(err, s.err)
}
