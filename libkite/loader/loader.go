// Package loader assembles kite's base module set.
package loader

import (
	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/modules/base64"
	"github.com/project-starkite/starkite/libkite/modules/concur"
	"github.com/project-starkite/starkite/libkite/modules/csv"
	"github.com/project-starkite/starkite/libkite/modules/fmt"
	"github.com/project-starkite/starkite/libkite/modules/fs"
	"github.com/project-starkite/starkite/libkite/modules/gzip"
	"github.com/project-starkite/starkite/libkite/modules/hash"
	"github.com/project-starkite/starkite/libkite/modules/http"
	"github.com/project-starkite/starkite/libkite/modules/inventory"
	"github.com/project-starkite/starkite/libkite/modules/io"
	"github.com/project-starkite/starkite/libkite/modules/json"
	"github.com/project-starkite/starkite/libkite/modules/log"
	"github.com/project-starkite/starkite/libkite/modules/os"
	"github.com/project-starkite/starkite/libkite/modules/regexp"
	"github.com/project-starkite/starkite/libkite/modules/retry"
	"github.com/project-starkite/starkite/libkite/modules/runtime"
	"github.com/project-starkite/starkite/libkite/modules/sql"
	"github.com/project-starkite/starkite/libkite/modules/ssh"
	"github.com/project-starkite/starkite/libkite/modules/strings"
	"github.com/project-starkite/starkite/libkite/modules/table"
	"github.com/project-starkite/starkite/libkite/modules/template"
	"github.com/project-starkite/starkite/libkite/modules/test"
	"github.com/project-starkite/starkite/libkite/modules/time"
	"github.com/project-starkite/starkite/libkite/modules/uuid"
	"github.com/project-starkite/starkite/libkite/modules/vars"
	"github.com/project-starkite/starkite/libkite/modules/yaml"
	"github.com/project-starkite/starkite/libkite/modules/zip"
)

// baseModules lists the base modules in registration order: modules with
// global aliases first, then stateless utilities, then stateful providers.
func baseModules() []libkite.Module {
	return []libkite.Module{
		// modules with global aliases
		os.New(),
		fs.New(),
		runtime.New(),
		vars.New(),
		test.New(),
		fmt.New(),
		// stateless utilities
		strings.New(),
		regexp.New(),
		time.New(),
		uuid.New(),
		table.New(),
		json.New(),
		yaml.New(),
		csv.New(),
		template.New(),
		base64.New(),
		hash.New(),
		gzip.New(),
		zip.New(),
		inventory.New(),
		// flow control
		concur.New(),
		retry.New(),
		// interactive and stateful
		io.New(),
		log.New(),
		// network and data stores
		http.New(),
		ssh.New(),
		sql.New(),
	}
}

// RegisterAll registers every base module on r.
func RegisterAll(r *libkite.Registry) {
	for _, m := range baseModules() {
		r.Register(m)
	}
}

// NewDefaultRegistry returns a registry holding the base modules, loaded
// with cfg (nil = zero ModuleConfig).
func NewDefaultRegistry(cfg *libkite.ModuleConfig) *libkite.Registry {
	r := libkite.NewRegistry(cfg)
	RegisterAll(r)
	return r
}
