package libkite

import "github.com/project-starkite/starkite/libkite/permissions"

// Permission types re-exported from package permissions.
type (
	PermissionConfig  = permissions.Config
	PermissionDefault = permissions.Default
	PermissionChecker = permissions.Checker
	Rule              = permissions.Rule
	// PermissionDecision is one decision, as audit hooks and prompts see it.
	PermissionDecision = permissions.Decision
	// PermissionAnswer is a reply to a permission prompt.
	PermissionAnswer = permissions.Answer
	// PermissionProfiles are the named profiles of a config.yaml permissions: section.
	PermissionProfiles = permissions.Profiles
)

// Prompt answers (Config.PermissionPrompt).
const (
	PermissionDeny        = permissions.AnswerDeny
	PermissionAllowOnce   = permissions.AnswerOnce
	PermissionAllowAlways = permissions.AnswerAlways
)

const (
	DefaultDeny  = permissions.DefaultDeny
	DefaultAllow = permissions.DefaultAllow
)

// NewPermissionChecker compiles cfg; nil cfg → nil checker (trust mode).
func NewPermissionChecker(cfg *PermissionConfig) (*PermissionChecker, error) {
	return permissions.NewChecker(cfg)
}

// ParseRule parses one rule module.category[(funcs:resource)].
func ParseRule(text string) (*Rule, error) { return permissions.ParseRule(text) }

// DenyAllPermissions: compute, print, log and load() only.
func DenyAllPermissions() *PermissionConfig { return permissions.DenyAll() }

// AllowFSPermissions: read any file; write/delete within $CWD; os.env; io.prompt.
func AllowFSPermissions() *PermissionConfig { return permissions.AllowFS() }

// AllowNetPermissions: AllowFS plus http.client and ssh.
func AllowNetPermissions() *PermissionConfig { return permissions.AllowNet() }

// AllowLocalPermissions: AllowNet plus http.server, os.exec under $CWD, ai, k8s (no exec), mcp.
func AllowLocalPermissions() *PermissionConfig { return permissions.AllowLocal() }

// AllowAllPermissions: every operation.
func AllowAllPermissions() *PermissionConfig { return permissions.AllowAll() }

// AllowPermissions is allow-all with the given deny rules layered on top.
func AllowPermissions(deny ...string) *PermissionConfig { return permissions.AllowAllExcept(deny...) }
