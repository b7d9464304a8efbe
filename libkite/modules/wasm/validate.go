package wasm

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// Validate checks a plugin for installation: the manifest parses, the
// wasm compiles within the memory limit, every manifest function is
// exported with exactly the signature its types imply, kite_alloc (and
// kite_free, if present) have the ABI's signatures and kite_alloc exists
// when buffers cross, imports come only from wasi_snapshot_preview1 and
// the kite host functions with matching signatures, and every capability
// callback the code imports is declared in capabilities. All problems are
// reported, joined; the manifest is returned when it parsed. opts are
// Open's (the memory limit and cache directory apply). The compiled code
// lands in the compilation cache, so the first call after installing is
// quick.
func Validate(ctx context.Context, dir string, opts ...Option) (*Manifest, error) {
	man, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	p, err := Open(dir, opts...)
	if err != nil {
		return man, err
	}
	rt, code, hosts, err := compileModule(ctx, man, p.pages, p.cacheDir)
	if err != nil {
		return man, fmt.Errorf("%s: %w", man.Name, err)
	}
	defer rt.Close(ctx)
	defer code.Close(ctx)
	rep := checkModule(man, code, hosts)
	errs := rep.module
	for _, f := range man.Functions {
		if err := rep.functions[f.Name]; err != nil {
			errs = append(errs, fmt.Errorf("function %s: %w", f.Name, err))
		}
	}
	errs = append(errs, rep.undeclared...)
	if err := errors.Join(errs...); err != nil {
		return man, fmt.Errorf("%s: %s is not a valid plugin:\n%w", man.Name, man.WasmPath(), err)
	}
	return man, nil
}

// report is what checkModule found. module problems stop the plugin from
// loading; a function problem makes that function fail; undeclared
// capability imports fail validation but at run time only the callback
// itself is refused.
type report struct {
	module     []error
	functions  map[string]error
	undeclared []error
}

// checkModule compares compiled code with its manifest and the host
// modules it may import from.
func checkModule(man *Manifest, code wazero.CompiledModule, hosts map[string]wazero.CompiledModule) report {
	rep := report{functions: map[string]error{}}
	exports := code.ExportedFunctions()
	var needAlloc []string // imported callbacks that return buffers
	for _, imp := range code.ImportedFunctions() {
		mod, name, _ := imp.Import()
		host, ok := hosts[mod]
		if !ok {
			rep.module = append(rep.module, fmt.Errorf("imports %s.%s: only %s and %s functions may be imported",
				mod, name, wasiName, hostModuleName))
			continue
		}
		def, ok := host.ExportedFunctions()[name]
		if !ok {
			rep.module = append(rep.module, fmt.Errorf("imports %s.%s, which does not exist", mod, name))
			continue
		}
		if !sameSignature(imp, def.ParamTypes(), def.ResultTypes()) {
			rep.module = append(rep.module, fmt.Errorf("imports %s.%s as %s, want %s",
				mod, name, signature(imp.ParamTypes(), imp.ResultTypes()), signature(def.ParamTypes(), def.ResultTypes())))
			continue
		}
		if mod == hostModuleName && len(def.ResultTypes()) > 0 {
			needAlloc = append(needAlloc, name)
		}
		if mod == hostModuleName && isCapability(name) && !man.HasCapability(name) {
			rep.undeclared = append(rep.undeclared, fmt.Errorf("imports capability callback %s.%s but %s does not declare it in capabilities",
				mod, name, ManifestFile))
		}
	}
	alloc, hasAlloc := exports[allocExport]
	if hasAlloc && !sameSignature(alloc, []api.ValueType{i32}, []api.ValueType{i32}) {
		rep.module = append(rep.module, fmt.Errorf("exports %s as %s, want (i32) -> (i32)", allocExport,
			signature(alloc.ParamTypes(), alloc.ResultTypes())))
	}
	if !hasAlloc && len(needAlloc) > 0 {
		rep.module = append(rep.module, fmt.Errorf("imports %s.%s, which returns data through %s, but does not export it",
			hostModuleName, needAlloc[0], allocExport))
	}
	if free, ok := exports[freeExport]; ok && !sameSignature(free, []api.ValueType{i32}, nil) {
		rep.module = append(rep.module, fmt.Errorf("exports %s as %s, want (i32) -> ()", freeExport,
			signature(free.ParamTypes(), free.ResultTypes())))
	}
	for _, f := range man.Functions {
		params, results := f.wasmSignature()
		def, ok := exports[f.Name]
		switch {
		case !ok:
			rep.functions[f.Name] = fmt.Errorf("%s does not export %s", man.Wasm, f.Name)
		case !sameSignature(def, params, results):
			rep.functions[f.Name] = fmt.Errorf("%s exports %s as %s, but its manifest types need %s",
				man.Wasm, f.Name, signature(def.ParamTypes(), def.ResultTypes()), signature(params, results))
		case !hasAlloc && f.needsAlloc():
			rep.functions[f.Name] = fmt.Errorf("%s passes strings, bytes or json but %s does not export %s",
				f.Name, man.Wasm, allocExport)
		}
	}
	return rep
}

const wasiName = wasi_snapshot_preview1.ModuleName

// wasmSignature is the export signature f's types imply.
func (f *Function) wasmSignature() (params, results []api.ValueType) {
	for _, a := range f.Args {
		switch a.Type {
		case Int:
			params = append(params, i64)
		case Float:
			params = append(params, api.ValueTypeF64)
		case Bool:
			params = append(params, i32)
		default:
			params = append(params, i32, i32)
		}
	}
	switch f.Returns {
	case Int:
		results = []api.ValueType{i64}
	case Float:
		results = []api.ValueType{api.ValueTypeF64}
	case Bool:
		results = []api.ValueType{i32}
	case String, Bytes, JSON:
		results = []api.ValueType{i64}
	}
	return params, results
}

func (f *Function) needsAlloc() bool {
	if f.Returns.buffered() {
		return false // the guest allocates its own result
	}
	for _, a := range f.Args {
		if a.Type.buffered() {
			return true
		}
	}
	return false
}

func sameSignature(def api.FunctionDefinition, params, results []api.ValueType) bool {
	return slices.Equal(def.ParamTypes(), params) && slices.Equal(def.ResultTypes(), results)
}

func signature(params, results []api.ValueType) string {
	return apiTypes(params) + " -> " + apiTypes(results)
}
