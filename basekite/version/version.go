// Package version holds the build identity of a kite binary. Every
// variable is meant to be set at link time, e.g.
//
//	go build -ldflags "-X github.com/project-starkite/starkite/basekite/version.Version=1.2.3 \
//	  -X github.com/project-starkite/starkite/basekite/version.GitCommit=$(git rev-parse --short HEAD) \
//	  -X github.com/project-starkite/starkite/basekite/version.BuildTime=$(date -u +%Y-%m-%dT%H:%M:%SZ) \
//	  -X github.com/project-starkite/starkite/basekite/version.Edition=cloud"
package version

// Link-time variables.
var (
	// Version is the release version ("dev" for local builds).
	Version = "dev"
	// GitCommit is the source commit the binary was built from.
	GitCommit = "unknown"
	// BuildTime is the build timestamp (RFC 3339 recommended).
	BuildTime = "unknown"
	// Edition names the module set: "" (base), "cloud", "ai" or "all".
	Edition = ""
)

// EditionName returns the edition for display: "base" when Edition is empty.
func EditionName() string {
	if Edition == "" {
		return "base"
	}
	return Edition
}
