package libkite_test

import (
	"testing"

	"github.com/project-starkite/starkite/libkite"
)

func TestCanonicalURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.example.com/v1?q=1":         "https://api.example.com/v1?q=1",
		"HTTPS://API.Example.com:8443/Path":      "https://api.example.com:8443/Path", // path case kept
		"http://allowed.example.com@evil.io/x":   "http://evil.io/x",
		"http://user:secret@db.local/":           "http://db.local/",
		"http://[::1]:8080/x":                    "http://[::1]:8080/x",
		"::bad":                                  "::bad", // unparsable: unchanged, the request fails later
		"example.com/x":                          "example.com/x",
		"http://a.example.com/%2e%2e/admin#frag": "http://a.example.com/%2e%2e/admin#frag",
	} {
		if got := libkite.CanonicalURL(in); got != want {
			t.Errorf("CanonicalURL(%q) = %q, want %q", in, got, want)
		}
	}
}
