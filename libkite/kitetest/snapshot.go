package kitetest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// Entry is what Snapshot records of one file-system entry (not following
// symlinks).
type Entry struct {
	Mode    fs.FileMode
	Size    int64
	ModTime int64  // modification time, Unix nanoseconds
	SHA256  string // hex digest of a regular file's content
	Target  string // a symlink's target
}

func (e Entry) String() string {
	s := fmt.Sprintf("%v %d %d", e.Mode, e.Size, e.ModTime)
	switch {
	case e.Mode&fs.ModeSymlink != 0:
		s += " -> " + e.Target
	case e.Mode.IsRegular():
		s += " " + e.SHA256
	}
	return s
}

// Entries is a directory tree as Snapshot records it, keyed by path
// relative to the root ("." is the root itself).
type Entries map[string]Entry

// Snapshot records every entry under dir, dir included. Two equal
// snapshots mean nothing under dir was created, removed, or changed in
// type, permissions, size, content, link target or modification time.
func Snapshot(t testing.TB, dir string) Entries {
	t.Helper()
	entries := Entries{}
	err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		e := Entry{Mode: info.Mode(), Size: info.Size(), ModTime: info.ModTime().UnixNano()}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			if e.Target, err = os.Readlink(p); err != nil {
				return err
			}
		case info.Mode().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			e.SHA256 = hex.EncodeToString(sum[:])
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		entries[rel] = e
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// IgnoringDirTimes is a copy of s with the directories' modification
// times cleared: for comparing across a call that may create and remove
// a temporary file (which changes only its directory's time).
func (s Entries) IgnoringDirTimes() Entries {
	c := make(Entries, len(s))
	for p, e := range s {
		if e.Mode.IsDir() {
			e.ModTime = 0
		}
		c[p] = e
	}
	return c
}

// Diff lists, sorted by path, how after differs from s: "<path>
// appeared", "<path> disappeared" and "<path> changed: <before> =>
// <after>". It is empty when the two are the same.
func (s Entries) Diff(after Entries) []string {
	var diffs []string
	for p, e := range after {
		if was, ok := s[p]; !ok {
			diffs = append(diffs, p+" appeared")
		} else if was != e {
			diffs = append(diffs, fmt.Sprintf("%s changed: %v => %v", p, was, e))
		}
	}
	for p := range s {
		if _, ok := after[p]; !ok {
			diffs = append(diffs, p+" disappeared")
		}
	}
	sort.Strings(diffs)
	return diffs
}

// SameSnapshot reports each difference between before and after as an
// error of t.
func SameSnapshot(t testing.TB, before, after Entries) {
	t.Helper()
	for _, d := range before.Diff(after) {
		t.Error(d)
	}
}
