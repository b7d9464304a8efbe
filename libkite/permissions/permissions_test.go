package permissions

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseRule(t *testing.T) {
	tests := []struct {
		text, module, category, funcs, resource, err string
	}{
		{text: "*.*", module: "*", category: "*"},
		{text: "k8s.*", module: "k8s", category: "*"},
		{text: "fs.read(/srv/data/**)", module: "fs", category: "read", resource: "/srv/data/**"},
		{text: "fs.write(write:$CWD/out/**)", module: "fs", category: "write", funcs: "write", resource: "$CWD/out/**"},
		{text: "http.client(GET,DELETE:https://api.test/**)", module: "http", category: "client", funcs: "GET,DELETE", resource: "https://api.test/**"},
		{text: "fs.read(/a,b:c)", module: "fs", category: "read", resource: "/a,b:c"},
		{text: "fs.read()", module: "fs", category: "read"},
		{text: "a.b.c", module: "a", category: "b.c"},
		{text: "fs.read(/x", err: "unclosed parenthesis in pattern (column 8)"},
		{text: "fsread", err: `pattern must be module.category, got "fsread"`},
		{text: ".read", err: "module and category cannot be empty (column 1)"},
		{text: "fs.", err: "module and category cannot be empty (column 4)"},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r, err := ParseRule(tt.text)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Module != tt.module || r.Category != tt.category || strings.Join(r.Functions, ",") != tt.funcs || r.Resource != tt.resource {
				t.Errorf("got %+v", r)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		rule              string
		mod, cat, fn, res string
		want              bool
	}{
		{"*.*", "fs", "read", "read_file", "/x", true},
		{"*.read", "k8s", "read", "read", "", true},
		{"fs.read", "fs", "write", "write", "/x", false},
		{"fs.read(/etc/*)", "fs", "read", "read_file", "/etc/hosts", true},
		{"fs.read(/etc/*)", "fs", "read", "read_file", "/etc/ssl/certs", false},
		{"fs.write(/cwd/**)", "fs", "write", "write", "/cwd/a/b", true},
		{"fs.write(/cwd/**)", "fs", "write", "write", "/cwd", false},
		{"fs.write(/cwd/**)", "fs", "write", "write", "/cwdx/a", false},
		{"fs.write(write:/cwd/**)", "fs", "write", "touch", "/cwd/a", false},
		{"http.server(127.0.0.1:*)", "http", "server", "serve", "", true}, // empty call resource matches
		// DECISION P2: slash-free http.client resources also match the URL host and host:port
		{"http.client(*.internal)", "http", "client", "GET", "https://a.internal/x", true},
		{"http.client(api.example.com)", "http", "client", "GET", "https://api.example.com/v1?q=1", true},
		{"http.client(api.example.com)", "http", "client", "GET", "https://api.example.com.evil.io/", false},
		{"http.client(api.example.com)", "http", "client", "GET", "https://evil.io/api.example.com", false},
		{"http.client(api.example.com:443)", "http", "client", "GET", "https://api.example.com/", true},
		{"http.client(api.example.com:8443)", "http", "client", "GET", "https://api.example.com/", false},
		{"http.client(127.0.0.1:*)", "http", "client", "POST", "http://127.0.0.1:8080/x", true},
		{"http.client(GET:api.example.com)", "http", "client", "POST", "https://api.example.com/", false},
		{"http.client(GET:https://api.example.com/*)", "http", "client", "GET", "https://api.example.com/v1", true},
		{"fs.read(example.com)", "fs", "read", "read_file", "https://example.com/", false}, // host matching is http.client only
		{"fs.read(**)", "fs", "read", "read_file", "/anything", true},
		{"fs.read(/a/**/b.txt)", "fs", "read", "read_file", "/a/x/y/b.txt", true},
	}
	for _, tt := range tests {
		r, err := ParseRule(tt.rule)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Matches(tt.mod, tt.cat, tt.fn, tt.res); got != tt.want {
			t.Errorf("%s matches %s.%s %s(%q) = %v, want %v", tt.rule, tt.mod, tt.cat, tt.fn, tt.res, got, tt.want)
		}
	}
}

func TestCheckerPrecedenceAndMessages(t *testing.T) {
	c, err := NewChecker(&Config{Allow: []string{"fs.*"}, Deny: []string{"fs.delete"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Check("fs", "read", "read_file", "/x"); err != nil {
		t.Errorf("allowed call denied: %v", err)
	}
	err = c.Check("fs", "delete", "remove", "/x")
	var pe *Error
	if !errors.As(err, &pe) || pe.Reason != "blocked by deny rule: fs.delete" || pe.Suggest != "" {
		t.Fatalf("deny: %#v", err)
	}
	if err.Error() != `permission denied: fs.delete remove("/x") - blocked by deny rule: fs.delete` {
		t.Errorf("message %q", err)
	}
	err = c.Check("os", "exec", "exec", "/usr/bin/ls")
	want := "permission denied: os.exec exec(\"/usr/bin/ls\") - no matching allow rule\n" +
		"  grant \"os.exec\" with --permissions=allow-all (or higher), or an allow rule in ~/.starkite/config.yaml"
	if err == nil || err.Error() != want {
		t.Errorf("got %q\nwant %q", err, want)
	}
	var nilChecker *Checker
	if nilChecker.Check("os", "exec", "exec", "x") != nil {
		t.Error("nil checker must allow")
	}
	if c, err := NewChecker(nil); c != nil || err != nil {
		t.Error("nil config must give nil checker")
	}
	if _, err := NewChecker(&Config{Deny: []string{"bad"}}); err == nil || !strings.HasPrefix(err.Error(), `invalid deny rule "bad": `) {
		t.Errorf("bad deny: %v", err)
	}
}

func TestTiersAndSuggest(t *testing.T) {
	cwd, _ := os.Getwd()
	inCwd := filepath.Join(cwd, "f.txt")
	type call struct{ mod, cat, fn, res string }
	calls := map[string]call{
		"read":      {"fs", "read", "read_file", "/etc/hosts"},
		"write-cwd": {"fs", "write", "write", inCwd},
		"write-etc": {"fs", "write", "write", "/etc/x"},
		"env":       {"os", "env", "env", "HOME"},
		"http":      {"http", "client", "GET", "https://x"},
		"serve":     {"http", "server", "serve", ""},
		"exec-cwd":  {"os", "exec", "exec", filepath.Join(cwd, "bin", "tool")},
		"exec-usr":  {"os", "exec", "exec", "/usr/bin/ls"},
		"process":   {"os", "process", "chdir", "/"},
	}
	allowed := map[string][]string{
		"deny-all":    {},
		"allow-fs":    {"read", "write-cwd", "env"},
		"allow-net":   {"read", "write-cwd", "env", "http"},
		"allow-local": {"read", "write-cwd", "env", "http", "serve", "exec-cwd"},
		"allow-all":   {"read", "write-cwd", "write-etc", "env", "http", "serve", "exec-cwd", "exec-usr", "process"},
	}
	for _, tier := range BuiltinNames {
		cfg, ok := Builtin(tier)
		if !ok {
			t.Fatalf("missing tier %s", tier)
		}
		c, err := NewChecker(cfg)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{}
		for _, n := range allowed[tier] {
			want[n] = true
		}
		for name, cl := range calls {
			got := c.Check(cl.mod, cl.cat, cl.fn, cl.res) == nil
			if got != want[name] {
				t.Errorf("%s: %s allowed=%v, want %v", tier, name, got, want[name])
			}
		}
	}
	suggest := map[string]string{"read": "allow-fs", "http": "allow-net", "exec-cwd": "allow-local", "exec-usr": "allow-all", "write-etc": "allow-all"}
	for name, want := range suggest {
		cl := calls[name]
		if got := Suggest(cl.mod, cl.cat, cl.fn, cl.res); got != want {
			t.Errorf("Suggest(%s) = %s, want %s", name, got, want)
		}
	}
	// Each helper returns a fresh config.
	a := AllowFS()
	a.Allow = append(a.Allow, "x.y")
	if strings.Contains(strings.Join(AllowFS().Allow, " "), "x.y") {
		t.Error("tier configs alias each other")
	}
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{"*.*", "fs.read(/a/**)", "fs.write(write,touch:$CWD/**)", "a.b(", "x", "http.client(GET:https://h/**)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			return
		}
		// Formatting and re-parsing is stable.
		r2, err := ParseRule(r.String())
		if err != nil {
			t.Fatalf("reparse of %q (from %q): %v", r.String(), s, err)
		}
		if r2.String() != r.String() {
			t.Fatalf("unstable: %q -> %q -> %q", s, r.String(), r2.String())
		}
		_ = r.Matches("fs", "read", "read_file", s)
		_ = MatchResource(r.Resource, s)
	})
}
