// Package zip is kite's zip module (spec/zip.md): ZIP archives through
// zip.file(path) → zip.archive. Reads stream the entries they return;
// writes stream every source into its entry and build the archive in a
// temporary sibling that replaces path only when complete (kite fix: a
// failing write leaves any previous archive intact, never a partial one).
//
// Nothing here writes archive entries to the filesystem: entry names are
// only ever returned as strings (namelist) or dict keys (read_all), so no
// entry name is turned into a host path.
package zip

import (
	stdzip "archive/zip"
	"compress/flate"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/internal/builder"
)

// New returns the zip module (try-enabled, no aliases).
func New() libkite.Module {
	return &libkite.StaticModule{
		ID:  "zip",
		Doc: "ZIP archive listing, reading and creation",
		Try: true,
		Build: func() starlark.StringDict {
			return starlark.StringDict{
				"file": builder.PathFactory("zip.file", archiveType),
			}
		},
	}
}

// archiveType is zip.archive (from zip.file(path)): the path of a ZIP
// file, opened per call; str() is zip.file("<path>") and there is no path
// property. Its methods report errors as zip.<method> (spec), so they are
// named without the type.
var archiveType = &builder.PathType{
	Name:     "zip.archive",
	Display:  "zip.file",
	Prefix:   "zip",
	HidePath: true,
	Methods: libkite.Methods{
		"namelist":  namelist,
		"read":      read,
		"read_all":  readAll,
		"write":     write,
		"write_all": writeAll,
	},
}

// Archive is a zip.archive.
type Archive = builder.PathObject

// ---- reading ---------------------------------------------------------------

// openArchive checks fs.read:read_file(path) and opens the archive. The
// caller closes the returned file.
func openArchive(thread *starlark.Thread, p string) (*stdzip.Reader, *os.File, error) {
	f, err := libkite.OpenFile(thread, p)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, libkite.GivenPathError(err, p)
	}
	zr, err := stdzip.NewReader(f, info.Size())
	if errors.Is(err, stdzip.ErrInsecurePath) {
		// names are only reported, never used as paths (see package doc)
		err = nil
	}
	if err != nil {
		f.Close()
		return nil, nil, libkite.GivenPathError(err, p)
	}
	return zr, f, nil
}

// matcher returns the namelist/read_all filter for a glob: a name is kept
// when the pattern matches it whole or its base name. "" keeps all.
func matcher(pattern string) (func(string) bool, error) {
	if pattern == "" {
		return func(string) bool { return true }, nil
	}
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("invalid match pattern: %w", err)
	}
	return func(name string) bool {
		if ok, _ := filepath.Match(pattern, name); ok {
			return true
		}
		ok, _ := filepath.Match(pattern, path.Base(name))
		return ok
	}, nil
}

// namelist(*, match="") → list of entry names in archive order.
func namelist(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	match := ""
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "*", nil, "match?", &match); err != nil {
		return nil, err
	}
	keep, err := matcher(match)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	zr, f, err := openArchive(thread, fn.Receiver().(*Archive).Path())
	if err != nil {
		return nil, libkite.WrapError(fn.Name(), err)
	}
	defer f.Close()
	names := make([]starlark.Value, 0, len(zr.File))
	for _, e := range zr.File {
		if keep(e.Name) {
			names = append(names, starlark.String(e.Name))
		}
	}
	return starlark.NewList(names), nil
}

// read(name) → bytes of the first entry named exactly name.
func read(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "name", &name); err != nil {
		return nil, err
	}
	p := fn.Receiver().(*Archive).Path()
	zr, f, err := openArchive(thread, p)
	if err != nil {
		return nil, libkite.WrapError(fn.Name(), err)
	}
	defer f.Close()
	for _, e := range zr.File {
		if e.Name == name {
			data, err := readEntry(libkite.Context(thread), e, archiveSize(f))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", fn.Name(), libkite.GivenPathError(err, p))
			}
			return starlark.Bytes(data), nil
		}
	}
	return nil, fmt.Errorf("%s: file %q not found in archive", fn.Name(), name)
}

// read_all(*, match="", files=[]) → {name: bytes} of the file entries
// (directories skipped) in archive order.
func readAll(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	match := ""
	var files *starlark.List
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "*", nil, "match?", &match, "files?", &files); err != nil {
		return nil, err
	}
	wanted, err := stringList(files)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	if match != "" && len(wanted) > 0 {
		return nil, fmt.Errorf("%s: match and files are mutually exclusive", fn.Name())
	}
	keep, err := matcher(match)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	if len(wanted) > 0 {
		set := make(map[string]bool, len(wanted))
		for _, w := range wanted {
			set[w] = true
		}
		keep = func(name string) bool { return set[name] }
	}
	p := fn.Receiver().(*Archive).Path()
	zr, f, err := openArchive(thread, p)
	if err != nil {
		return nil, libkite.WrapError(fn.Name(), err)
	}
	defer f.Close()
	size := archiveSize(f)
	out := starlark.NewDict(0)
	for _, e := range zr.File {
		if e.FileInfo().IsDir() || !keep(e.Name) {
			continue
		}
		data, err := readEntry(libkite.Context(thread), e, size)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn.Name(), libkite.GivenPathError(err, p))
		}
		if err := out.SetKey(starlark.String(e.Name), starlark.Bytes(data)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func archiveSize(f *os.File) int64 {
	if info, err := f.Stat(); err == nil {
		return info.Size()
	}
	return 0
}

// readEntry streams one entry into memory. The declared size pre-sizes
// the result, bounded by what the archive's bytes can inflate to (deflate
// tops out near 1032:1) so a forged header cannot force a huge
// allocation; archive/zip itself rejects data longer than declared.
func readEntry(ctx context.Context, e *stdzip.File, archive int64) (string, error) {
	rc, err := e.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	hint := e.UncompressedSize64
	if limit := uint64(max(0, min(archive, int64(e.CompressedSize64))))*1032 + 64; hint > limit {
		hint = limit
	}
	var sb strings.Builder
	sb.Grow(int(min(hint, 1<<30)))
	if _, err := io.Copy(&sb, libkite.ContextReader(ctx, rc)); err != nil {
		return "", err
	}
	return sb.String(), nil
}

// stringList converts an optional list of str.
func stringList(l *starlark.List) ([]string, error) {
	if l == nil {
		return nil, nil
	}
	out := make([]string, l.Len())
	for i := range out {
		s, ok := l.Index(i).(starlark.String)
		if !ok {
			return nil, fmt.Errorf("files[%d]: got %s, want string", i, l.Index(i).Type())
		}
		out[i] = string(s)
	}
	return out, nil
}

// ---- writing ---------------------------------------------------------------

// source is one file to archive: the path as the script gave or the
// search found it, its checked canonical form and its entry name.
type source struct {
	given, canon, entry string
}

// write(source, *, name="") → None: a fresh archive holding one Deflate
// entry. perm fs.write:write(path), then fs.read:read_file(source); dry:
// nothing read or written.
func write(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var src, name string
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "source", &src, "*", nil, "name?", &name); err != nil {
		return nil, err
	}
	if name == "" {
		name = filepath.Base(src)
	}
	err := create(thread, fn.Receiver().(*Archive).Path(), -1, func() ([]source, error) {
		return []source{{given: src, entry: name}}, nil
	})
	if err != nil {
		return nil, libkite.WrapError(fn.Name(), err)
	}
	return starlark.None, nil
}

// write_all(*, match="", files=[], base_dir="", level=-1) → None: a fresh
// archive with one Deflate entry per source, in source order. perm
// fs.write:write(path), then fs.read:read_file(f) for every source; dry:
// sources resolved and checked, nothing written.
func writeAll(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	match, baseDir, level := "", "", flate.DefaultCompression
	var files *starlark.List
	if err := libkite.UnpackArgs(fn.Name(), args, kwargs, "*", nil,
		"match?", &match, "files?", &files, "base_dir?", &baseDir, "level?", &level); err != nil {
		return nil, err
	}
	given, err := stringList(files)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn.Name(), err)
	}
	switch {
	case match != "" && len(given) > 0:
		return nil, fmt.Errorf("%s: match and files are mutually exclusive", fn.Name())
	case match == "" && len(given) == 0:
		return nil, fmt.Errorf("%s: must specify match or files", fn.Name())
	}
	if level < flate.HuffmanOnly || level > flate.BestCompression {
		// flate's own wording (spec); checked before anything is touched
		return nil, fmt.Errorf("%s: flate: invalid compression level %d: want value in range [-2, 9]", fn.Name(), level)
	}
	err = create(thread, fn.Receiver().(*Archive).Path(), level, func() ([]source, error) {
		if match != "" {
			var err error
			if given, err = resolve(match); err != nil {
				return nil, err
			}
		}
		srcs := make([]source, len(given))
		for i, g := range given {
			srcs[i] = source{given: g, entry: entryName(g, baseDir)}
		}
		return srcs, nil
	})
	if err != nil {
		return nil, libkite.WrapError(fn.Name(), err)
	}
	return starlark.None, nil
}

// entryName is a source's entry name: the path as given/found, or its
// path relative to baseDir when set (the full path if Rel fails).
func entryName(src, baseDir string) string {
	name := src
	if baseDir != "" {
		if rel, err := filepath.Rel(baseDir, src); err == nil {
			name = rel
		}
	}
	return filepath.ToSlash(name)
}

// resolve expands write_all's match: a pattern with "**" walks the text
// before it recursively keeping regular files whose base name matches the
// text after it; any other pattern is a filepath.Glob.
func resolve(pattern string) ([]string, error) {
	i := strings.Index(pattern, "**")
	if i < 0 {
		return filepath.Glob(pattern)
	}
	root := strings.TrimRight(pattern[:i], string(filepath.Separator))
	if root == "" {
		root = "."
	}
	rest := strings.TrimPrefix(pattern[i+2:], string(filepath.Separator))
	var found []string
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil // errors skipped (spec)
		}
		if rest == "" {
			found = append(found, p)
		} else if ok, _ := filepath.Match(rest, filepath.Base(p)); ok {
			found = append(found, p)
		}
		return nil
	})
	return found, nil
}

// create checks fs.write:write(archive), lists the sources and checks
// fs.read:read_file for each, then (unless in a dry run) streams them into
// a new archive built beside the target and renamed over it on success.
func create(thread *starlark.Thread, archive string, level int, sources func() ([]source, error)) error {
	canon, err := libkite.CheckPath(thread, "fs", "write", "write", archive)
	if err != nil {
		return err
	}
	srcs, err := sources()
	if err != nil {
		return err
	}
	for i := range srcs {
		if srcs[i].canon, err = libkite.CheckPath(thread, "fs", "read", "read_file", srcs[i].given); err != nil {
			return err
		}
	}
	if libkite.DryRun(thread) {
		return nil
	}
	out, err := libkite.CreateAtomic(libkite.HostPath(canon, archive), 0o644)
	if err != nil {
		return libkite.GivenPathError(err, archive)
	}
	if err := fill(libkite.Context(thread), out, archive, level, srcs); err != nil {
		out.Abort()
		return err
	}
	return libkite.GivenPathError(out.Commit(), archive)
}

// fill writes the archive's entries into out.
func fill(ctx context.Context, out io.Writer, archive string, level int, srcs []source) error {
	zw := stdzip.NewWriter(out)
	if level != flate.DefaultCompression {
		zw.RegisterCompressor(stdzip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
			return flate.NewWriter(w, level)
		})
	}
	for _, s := range srcs {
		if err := addEntry(ctx, zw, archive, s); err != nil {
			return err
		}
	}
	return libkite.GivenPathError(zw.Close(), archive)
}

// addEntry streams one source file into a Deflate entry.
func addEntry(ctx context.Context, zw *stdzip.Writer, archive string, s source) error {
	f, err := os.Open(libkite.HostPath(s.canon, s.given))
	if err != nil {
		return libkite.GivenPathError(err, s.given)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return libkite.GivenPathError(err, s.given)
	}
	hdr, err := stdzip.FileInfoHeader(info)
	if err != nil {
		return err
	}
	hdr.Name, hdr.Method = s.entry, stdzip.Deflate
	w, err := zw.CreateHeader(hdr)
	if err != nil {
		return libkite.GivenPathError(err, archive)
	}
	if _, readFailed, err := libkite.Copy(ctx, w, f); err != nil {
		if readFailed {
			return libkite.GivenPathError(err, s.given)
		}
		return libkite.GivenPathError(err, archive)
	}
	return nil
}
