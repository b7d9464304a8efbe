package libkite

import (
	"io"
	"log/slog"

	"go.starlark.net/starlark"
)

// Config configures a Runtime. Every field has a matching With* option.
type Config struct {
	Registry          *Registry                      // module registry (nil = empty, built from ModuleConfig)
	Permissions       *PermissionConfig              // permission policy (nil = trust mode: all allowed)
	Globals           map[string]interface{}         // globals injected into every script (override predeclared names)
	Print             func(*starlark.Thread, string) // print hook; nil = stdout, one line per call
	ScriptPath        string                         // script path for error messages and load() resolution
	WorkDir           string                         // extra directory for load() resolution
	Debug             bool
	DryRun            bool          // modules simulate side effects
	Modules           []string      // if non-empty, only these registry modules are visible
	ModuleConfig      *ModuleConfig // used only when Registry is nil
	OutputFormat      string        // text|json|yaml|table (informational)
	TestMode          bool          // enables test-only module features
	VarStore          VarStore      // variables for var_* (nil = registry's ModuleConfig.VarStore)
	EntryPoint        string        // function auto-called after top-level code ("" = none)
	RequireEntryPoint bool          // missing EntryPoint is an error
	Logger            *slog.Logger  // runtime diagnostics (nil = text on stderr)
	NoSignals         bool          // do not install OS signal handlers (host owns signals)
	// AuditLog, if set, receives one JSON line per permission decision
	// ({"time","module","category","function","resource","decision","rule"}).
	// Trust mode (Permissions nil) has no checker and so no decisions.
	AuditLog io.Writer
	// PermissionPrompt, if set, is asked before a call that no rule grants
	// fails (never for calls a deny rule blocks); answers are serialised and
	// "always" is remembered for the runtime's life.
	PermissionPrompt func(PermissionDecision) PermissionAnswer
	// Limits caps what each run may consume (limits.go); zero = none.
	Limits Limits
	// MemoryEnforcer, when set, says the environment enforces
	// Limits.MaxMemoryBytes (the gVisor sandbox: its memory limit) and
	// replaces the heap watchdog; the report shows this text as the method.
	MemoryEnforcer string
}

// ConfigOption sets one Config field.
type ConfigOption func(*Config)

// NewConfig returns a config with OutputFormat "text" and opts applied.
func NewConfig(opts ...ConfigOption) *Config {
	c := &Config{OutputFormat: "text"}
	for _, o := range opts {
		o(c)
	}
	return c
}

func WithRegistry(r *Registry) ConfigOption             { return func(c *Config) { c.Registry = r } }
func WithPermissions(p *PermissionConfig) ConfigOption  { return func(c *Config) { c.Permissions = p } }
func WithTrusted() ConfigOption                         { return func(c *Config) { c.Permissions = AllowAllPermissions() } }
func WithSandboxed() ConfigOption                       { return func(c *Config) { c.Permissions = DenyAllPermissions() } }
func WithGlobals(g map[string]interface{}) ConfigOption { return func(c *Config) { c.Globals = g } }
func WithPrint(fn func(*starlark.Thread, string)) ConfigOption {
	return func(c *Config) { c.Print = fn }
}
func WithScriptPath(p string) ConfigOption     { return func(c *Config) { c.ScriptPath = p } }
func WithWorkDir(d string) ConfigOption        { return func(c *Config) { c.WorkDir = d } }
func WithDebug(b bool) ConfigOption            { return func(c *Config) { c.Debug = b } }
func WithDryRun(b bool) ConfigOption           { return func(c *Config) { c.DryRun = b } }
func WithVarStore(vs VarStore) ConfigOption    { return func(c *Config) { c.VarStore = vs } }
func WithModules(names ...string) ConfigOption { return func(c *Config) { c.Modules = names } }
func WithOutputFormat(f string) ConfigOption   { return func(c *Config) { c.OutputFormat = f } }
func WithTestMode(b bool) ConfigOption         { return func(c *Config) { c.TestMode = b } }
func WithEntryPoint(name string) ConfigOption  { return func(c *Config) { c.EntryPoint = name } }
func WithLogger(l *slog.Logger) ConfigOption   { return func(c *Config) { c.Logger = l } }
func WithAuditLog(w io.Writer) ConfigOption    { return func(c *Config) { c.AuditLog = w } }
func WithPermissionPrompt(fn func(PermissionDecision) PermissionAnswer) ConfigOption {
	return func(c *Config) { c.PermissionPrompt = fn }
}

// WithoutSignalHandlers leaves OS signals to the host: the runtime does
// not subscribe to SIGINT/SIGTERM/SIGHUP.
func WithoutSignalHandlers() ConfigOption { return func(c *Config) { c.NoSignals = true } }
