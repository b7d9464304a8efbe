package wasm

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/project-starkite/starkite/libkite"
)

// DefaultRoot is where Discover looks when given "": ~/.starkite/modules.
func DefaultRoot() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".starkite", "modules"), nil
}

// Discover opens every plugin directly under root ("" = DefaultRoot), in
// name order. Subdirectories that are not wasm plugins (no module.yaml, or
// another type) are skipped; a plugin that fails to open is reported in
// the errors and left out. A missing root holds no plugins.
func Discover(root string, opts ...Option) ([]*Plugin, []error) {
	if root == "" {
		var err error
		if root, err = DefaultRoot(); err != nil {
			return nil, []error{err}
		}
	}
	entries, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, []error{err}
	}
	var plugins []*Plugin
	var errs []error
	for _, e := range entries {
		dir := filepath.Join(root, e.Name())
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || !IsPlugin(dir) {
			continue
		}
		p, err := Open(dir, opts...)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		plugins = append(plugins, p)
	}
	return plugins, errs
}

// RegisterPlugins registers every plugin Discover finds under root in r.
// A plugin whose name is already registered is refused (and closed), so a
// plugin never replaces a built-in module; the registry's Close closes the
// plugins it holds.
func RegisterPlugins(r *libkite.Registry, root string, opts ...Option) []error {
	plugins, errs := Discover(root, opts...)
	for _, p := range plugins {
		if _, dup := r.Get(p.Name()); dup {
			errs = append(errs, fmt.Errorf("%s: a module named %q is already registered", p.man.Dir, p.man.Name))
			p.Close()
			continue
		}
		r.Register(p)
	}
	return errs
}
