package varstore

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// snapshot is the serialised form of a store: every tier and every
// config-derived field, so a copy answers exactly like the original.
type snapshot struct {
	CLI              map[string]any            `yaml:"cli,omitempty"`
	Files            map[string]any            `yaml:"files,omitempty"`
	Config           map[string]any            `yaml:"config,omitempty"`
	Env              map[string]any            `yaml:"env,omitempty"`
	ProjectConfig    map[string]any            `yaml:"project,omitempty"`
	RuntimeDefaults  map[string]any            `yaml:"defaults,omitempty"`
	ProviderDefaults map[string]map[string]any `yaml:"providers,omitempty"`
	ActiveEdition    string                    `yaml:"active_edition,omitempty"`
	Permissions      map[string]any            `yaml:"permissions,omitempty"`
	PermissionsFile  string                    `yaml:"permissions_file,omitempty"`
	Sandbox          map[string]any            `yaml:"sandbox,omitempty"`
	ConfigFiles      []string                  `yaml:"config_files,omitempty"`
}

// Snapshot serialises the store (YAML keeps ints, floats and bools
// apart). The CLI hands it to the kite process inside a sandbox, which
// cannot see the config and variable files the store was loaded from.
func (v *Vars) Snapshot() ([]byte, error) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return yaml.Marshal(snapshot{
		CLI: v.cli, Files: v.files, Config: v.config, Env: v.env,
		ProjectConfig: v.ProjectConfig, RuntimeDefaults: v.RuntimeDefaults,
		ProviderDefaults: v.ProviderDefaults, ActiveEdition: v.ActiveEdition,
		Permissions: v.Permissions, PermissionsFile: v.PermissionsFile,
		Sandbox: v.Sandbox, ConfigFiles: v.ConfigFiles,
	})
}

// FromSnapshot rebuilds a store from Snapshot's output.
func FromSnapshot(data []byte) (*Vars, error) {
	var s snapshot
	if err := yaml.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("variable snapshot: %w", err)
	}
	v := New()
	for dst, src := range map[*map[string]any]map[string]any{&v.cli: s.CLI, &v.files: s.Files, &v.config: s.Config, &v.env: s.Env} {
		if src != nil {
			*dst = src
		}
	}
	v.ProjectConfig, v.RuntimeDefaults, v.ProviderDefaults = s.ProjectConfig, s.RuntimeDefaults, s.ProviderDefaults
	v.ActiveEdition = s.ActiveEdition
	v.Permissions, v.PermissionsFile = s.Permissions, s.PermissionsFile
	v.Sandbox, v.ConfigFiles = s.Sandbox, s.ConfigFiles
	return v, nil
}
