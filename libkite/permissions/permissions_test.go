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
		{text: "fs.read(  spaced  )", module: "fs", category: "read", resource: "  spaced  "},
		{text: "fs.write(write, touch:/x)", module: "fs", category: "write", resource: "write, touch:/x"}, // not an ident list
		{text: "fs.read(:x)", module: "fs", category: "read", resource: ":x"},
		{text: "fs.write(write:)", module: "fs", category: "write", funcs: "write"},
		{text: "fs.read(/a(b)c)", module: "fs", category: "read", resource: "/a(b)c"},
		{text: "fs.read(/x)y)", module: "fs", category: "read", resource: "/x)y"},
		{text: "f*.read", err: `partial wildcard in module name (use "*" alone or an exact name) (column 2)`},
		{text: "fs.del*", err: `partial wildcard in category name (use "*" alone or an exact name) (column 7)`},
		{text: "*.*(**)", module: "*", category: "*", resource: "**"},
		{text: "fs.read(/x", err: "unclosed parenthesis in pattern (column 8)"},
		{text: "fs.read(", err: "unclosed parenthesis in pattern (column 8)"},
		{text: "(", err: "unclosed parenthesis in pattern (column 1)"},
		{text: "fs.read(/x)y", err: "text after closing parenthesis in pattern (column 12)"},
		{text: "fs.read(/x) ", err: "text after closing parenthesis in pattern (column 12)"},
		{text: "fsread", err: `pattern must be module.category, got "fsread" (column 1)`},
		{text: "fs", err: `pattern must be module.category, got "fs" (column 1)`},
		{text: "fs(x)", err: `pattern must be module.category, got "fs" (column 1)`},
		{text: "", err: `pattern must be module.category, got "" (column 1)`},
		{text: ".read", err: "module and category cannot be empty (column 1)"},
		{text: ".", err: "module and category cannot be empty (column 1)"},
		{text: "fs.", err: "module and category cannot be empty (column 4)"},
		{text: "fs.(/x)", err: "module and category cannot be empty (column 4)"},
		{text: " fs.read", err: "whitespace in module name (column 1)"},
		{text: "fs .read", err: "whitespace in module name (column 3)"},
		{text: "fs.re ad(/x)", err: "whitespace in category name (column 6)"},
		{text: "fs.read ", err: "whitespace in category name (column 8)"},
		{text: "fs.read\t(/x)", err: "whitespace in category name (column 8)"},
		{text: "fs.read)", err: `unexpected ")" in category name (column 8)`},
		{text: "f)s.read(/x)", err: `unexpected ")" in module name (column 2)`},
		{text: "é.r ead", err: "whitespace in category name (column 4)"}, // columns count characters
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			r, err := ParseRule(tt.text)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
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
		"  grant \"os.exec\" with --permissions=allow-all, or an allow rule in ~/.starkite/config.yaml"
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

// TestMatchSpec covers each consequence of permissions.md §5, one named case each.
func TestMatchSpec(t *testing.T) {
	tests := []struct {
		name              string
		rule              string
		mod, cat, fn, res string
		want              bool
	}{
		{"empty call resource matched by a resource rule", "k8s.read(prod/*)", "k8s", "read", "read", "", true},
		{"empty call resource matched by a function-list rule of another resource", "http.server(serve:127.0.0.1:*)", "http", "server", "serve", "", true},
		{"empty call resource still needs the function", "http.server(serve:x)", "http", "server", "handle", "", false},
		{"empty call resource still needs the category", "k8s.read(x)", "k8s", "write", "write", "", false},
		{"empty rule resource matches any resource", "fs.read", "fs", "read", "read_file", "/any/thing", true},
		{"empty parens are an empty resource", "fs.read()", "fs", "read", "read_file", "/any/thing", true},
		{"**: strictly below", "fs.write(/cwd/**)", "fs", "write", "write", "/cwd/a", true},
		{"**: deep below", "fs.write(/cwd/**)", "fs", "write", "write", "/cwd/a/b/c", true},
		{"**: not the directory itself", "fs.write(/cwd/**)", "fs", "write", "write", "/cwd", false},
		{"**: not a sibling with the same prefix", "fs.write(/cwd/**)", "fs", "write", "write", "/cwd2/a", false},
		{"/etc/*: direct child", "fs.read(/etc/*)", "fs", "read", "read_file", "/etc/hosts", true},
		{"/etc/*: not a grandchild", "fs.read(/etc/*)", "fs", "read", "read_file", "/etc/ssl/certs", false},
		{"? is one character", "fs.read(/tmp/?.txt)", "fs", "read", "read_file", "/tmp/a.txt", true},
		{"? is not a separator", "fs.read(/tmp/?a.txt)", "fs", "read", "read_file", "/tmp//a.txt", false},
		{"character class", "os.env([A-C]*)", "os", "env", "env", "BAR", true},
		{"character class miss", "os.env([A-C]*)", "os", "env", "env", "HOME", false},
		{"backslash escapes", `fs.read(/x/\*)`, "fs", "read", "read_file", "/x/*", true},
		{"backslash escape is literal", `fs.read(/x/\*)`, "fs", "read", "read_file", "/x/a", false},
		{"* matches any non-empty resource", "os.exec(*)", "os", "exec", "exec", "/usr/bin/ls", true},
		{"** matches any non-empty resource", "ai.generate(**)", "ai", "generate", "generate", "gpt/x y", true},
		{"bad pattern ending in ** is a prefix rule", "fs.read(/data/[**)", "fs", "read", "read_file", "/data/[x/y", true},
		{"bad pattern ending in ** needs its prefix", "fs.read(/data/[**)", "fs", "read", "read_file", "/data/x", false},
		{"other bad patterns match nothing", "fs.read(/data/[)", "fs", "read", "read_file", "/data/[", false},
		{"one ** spans separators at both ends", "fs.read(/a/**/b.txt)", "fs", "read", "read_file", "/a/x/y/b.txt", true},
		{"one ** is separator-agnostic", "ssh.connect(web**:uptime)", "ssh", "connect", "exec", "web1.prod:uptime", true},
		{"one **: left and right may not overlap", "fs.read(/a**a/)", "fs", "read", "read_file", "/a/", false},
		{"two ** only via filepath.Match: one segment each", "fs.read(/a/**/b/**)", "fs", "read", "read_file", "/a/x/b/y", true},
		{"two ** only via filepath.Match: not deep", "fs.read(/a/**/b/**)", "fs", "read", "read_file", "/a/x/y/b/z", false},
		{"function list is case-sensitive", "http.client(GET:**)", "http", "client", "get", "https://h/", false},
		{"function list member", "http.client(GET,DELETE:**)", "http", "client", "DELETE", "https://h/", true},
		{"function list non-member", "http.client(GET,DELETE:**)", "http", "client", "POST", "https://h/", false},
		{"module is exact", "fs.read", "fsx", "read", "read_file", "/x", false},
		{"category is exact", "fs.read", "fs", "readx", "read_file", "/x", false},
		{"*.read: any module's read", "*.read", "k8s", "read", "read", "", true},
		{"k8s.*: any category", "k8s.*", "k8s", "exec", "exec", "", true},
		{"a.b.c: category b.c", "a.b.c", "a", "b", "x", "", false},
		{"a.b.c: matches only category b.c", "a.b.c", "a", "b.c", "x", "", true},
		{"list-looking resource: literal match", "fs.read(/a,b:c)", "fs", "read", "read_file", "/a,b:c", true},
		{"list-looking resource: any function", "fs.read(/a,b:c)", "fs", "read", "b", "c", false},
		{"*.internal never matches a path", "fs.read(*.internal)", "fs", "read", "read_file", "a.internal/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRule(tt.rule)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Matches(tt.mod, tt.cat, tt.fn, tt.res); got != tt.want {
				t.Errorf("%s matches %s.%s %s(%q) = %v, want %v", tt.rule, tt.mod, tt.cat, tt.fn, tt.res, got, tt.want)
			}
		})
	}
	t.Run("* and ** need a non-empty resource", func(t *testing.T) {
		for _, p := range []string{"*", "**"} {
			if MatchResource(p, "") {
				t.Errorf("MatchResource(%q, \"\") = true", p)
			}
		}
	})
}

func TestVariableExpansion(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	c, err := NewChecker(&Config{
		Allow: []string{"fs.write($CWD/**)", "fs.read($HOME/**)", "fs.read(/x/$CWD/$CWD)"},
		Deny:  []string{"fs.read($HOME/.ssh/**)", "fs.write($CWD/secret)"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, cat, res string
		want           bool
	}{
		{"allow $CWD", "write", filepath.Join(cwd, "out.txt"), true},
		{"$CWD not literal any more", "write", "$CWD/out.txt", false},
		{"deny $CWD", "write", filepath.Join(cwd, "secret"), false},
		{"allow $HOME", "read", filepath.Join(home, "notes"), true},
		{"deny $HOME", "read", filepath.Join(home, ".ssh", "id_ed25519"), false},
		{"every occurrence", "read", "/x/" + cwd + "/" + cwd, true},
	}
	for _, tt := range tests {
		if got := c.Check("fs", tt.cat, "f", tt.res) == nil; got != tt.want {
			t.Errorf("%s: %s allowed = %v, want %v", tt.name, tt.res, got, tt.want)
		}
	}

	t.Run("unavailable $HOME stays literal", func(t *testing.T) {
		t.Setenv("HOME", "")
		c, err := NewChecker(&Config{Allow: []string{"fs.read($HOME/**)"}, Deny: []string{"fs.write($HOME/x)"}})
		if err != nil {
			t.Fatal(err)
		}
		if c.allow[0].Resource != "$HOME/**" || c.deny[0].Resource != "$HOME/x" {
			t.Errorf("resources %q, %q", c.allow[0].Resource, c.deny[0].Resource)
		}
		if c.Check("fs", "read", "read_file", "/root/x") == nil {
			t.Error("literal $HOME rule granted a real path")
		}
	})
	t.Run("unavailable $CWD stays literal", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "gone")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Chdir(dir)
		if err := os.Remove(dir); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Getwd(); err == nil {
			t.Skip("os.Getwd still works in a removed directory here")
		}
		c, err := NewChecker(&Config{Allow: []string{"fs.write($CWD/**)"}})
		if err != nil {
			t.Fatal(err)
		}
		if c.allow[0].Resource != "$CWD/**" {
			t.Errorf("resource %q", c.allow[0].Resource)
		}
	})
}

func TestPrecedenceAndDefault(t *testing.T) {
	call := [4]string{"fs", "delete", "remove", "/x"}
	tests := []struct {
		name       string
		cfg        Config
		want       bool
		wantReason string
	}{
		{"deny beats allow", Config{Allow: []string{"fs.delete"}, Deny: []string{"fs.delete"}}, false, "blocked by deny rule: fs.delete"},
		{"deny beats an earlier broader allow", Config{Allow: []string{"*.*", "fs.delete(/x)"}, Deny: []string{"fs.*"}}, false, "blocked by deny rule: fs.*"},
		{"deny beats default allow", Config{Deny: []string{"fs.delete(/x)"}, Default: DefaultAllow}, false, "blocked by deny rule: fs.delete(/x)"},
		{"first matching deny rule is reported", Config{Deny: []string{"fs.read", "fs.delete(/x)", "fs.*"}}, false, "blocked by deny rule: fs.delete(/x)"},
		{"non-matching deny is no obstacle", Config{Allow: []string{"fs.delete"}, Deny: []string{"fs.delete(/y)"}}, true, ""},
		{"default deny", Config{}, false, "no matching allow rule"},
		{"default deny with other grants", Config{Allow: []string{"fs.read"}}, false, "no matching allow rule"},
		{"default allow", Config{Default: DefaultAllow}, true, ""},
		{"allow rule under default deny", Config{Allow: []string{"fs.delete(/x)"}}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, cfg := range []Config{tt.cfg, reversed(tt.cfg)} {
				c, err := NewChecker(&cfg)
				if err != nil {
					t.Fatal(err)
				}
				err = c.Check(call[0], call[1], call[2], call[3])
				if got := err == nil; got != tt.want {
					t.Fatalf("%+v: allowed = %v, want %v (%v)", cfg, got, tt.want, err)
				}
				if c.Allows(call[0], call[1], call[2], call[3]) != tt.want {
					t.Errorf("%+v: Allows disagrees with Check", cfg)
				}
				if err == nil {
					continue
				}
				var pe *Error
				if !errors.As(err, &pe) {
					t.Fatalf("not a *Error: %T", err)
				}
				// Order may change which deny rule is named, never the kind of denial.
				if kind := strings.SplitN(tt.wantReason, ":", 2)[0]; !strings.HasPrefix(pe.Reason, kind) {
					t.Errorf("%+v: reason %q, want %q", cfg, pe.Reason, tt.wantReason)
				}
			}
			c, _ := NewChecker(&tt.cfg)
			if err := c.Check(call[0], call[1], call[2], call[3]); err != nil && err.(*Error).Reason != tt.wantReason {
				t.Errorf("reason %q, want %q", err.(*Error).Reason, tt.wantReason)
			}
		})
	}
}

// reversed returns cfg with both rule lists in reverse order.
func reversed(cfg Config) Config {
	out := Config{Default: cfg.Default}
	for i := len(cfg.Allow) - 1; i >= 0; i-- {
		out.Allow = append(out.Allow, cfg.Allow[i])
	}
	for i := len(cfg.Deny) - 1; i >= 0; i-- {
		out.Deny = append(out.Deny, cfg.Deny[i])
	}
	return out
}

func TestDenialMessages(t *testing.T) {
	c, err := NewChecker(&Config{Allow: []string{"fs.read($CWD/**)", "os.env(HOME)"}, Deny: []string{"fs.read(/etc/shadow)"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, mod, cat, fn, res, want string
		allowed                       []string
	}{
		{"deny rule, no suggestion", "fs", "read", "read_file", "/etc/shadow",
			`permission denied: fs.read read_file("/etc/shadow") - blocked by deny rule: fs.read(/etc/shadow)`, nil},
		{"missing grant suggests allow-fs", "fs", "read", "read_file", "/etc/hosts",
			"permission denied: fs.read read_file(\"/etc/hosts\") - no matching allow rule\n" +
				"  grant \"fs.read\" with --permissions=allow-fs (or higher), or an allow rule in ~/.starkite/config.yaml",
			[]string{"fs.read($CWD/**)", "os.env(HOME)"}},
		{"no resource", "http", "server", "serve", "",
			"permission denied: http.server serve - no matching allow rule\n" +
				"  grant \"http.server\" with --permissions=allow-local (or higher), or an allow rule in ~/.starkite/config.yaml",
			[]string{"fs.read($CWD/**)", "os.env(HOME)"}},
		{"allow-all has nothing higher", "k8s", "exec", "exec", "",
			"permission denied: k8s.exec exec - no matching allow rule\n" +
				"  grant \"k8s.exec\" with --permissions=allow-all, or an allow rule in ~/.starkite/config.yaml",
			[]string{"fs.read($CWD/**)", "os.env(HOME)"}},
		{"resource is Go-quoted", "os", "env", "env", "A\"B\n",
			"permission denied: os.env env(\"A\\\"B\\n\") - no matching allow rule\n" +
				"  grant \"os.env\" with --permissions=allow-fs (or higher), or an allow rule in ~/.starkite/config.yaml",
			[]string{"fs.read($CWD/**)", "os.env(HOME)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Check(tt.mod, tt.cat, tt.fn, tt.res)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("got  %q\nwant %q", err, tt.want)
			}
			if got := err.(*Error).Allowed; strings.Join(got, " ") != strings.Join(tt.allowed, " ") {
				t.Errorf("Allowed = %q, want %q", got, tt.allowed)
			}
		})
	}
	e := &Error{Module: "fs", Category: "read", Function: "read_file", Resource: "/x", Reason: "no matching allow rule", Origin: "lib"}
	if want := `permission denied (module "lib"): fs.read read_file("/x") - no matching allow rule`; e.Error() != want {
		t.Errorf("origin: %q", e.Error())
	}
	if _, err := NewChecker(&Config{Allow: []string{"fs.read(/x"}}); err == nil ||
		err.Error() != `invalid allow rule "fs.read(/x": unclosed parenthesis in pattern (column 8)` {
		t.Errorf("bad allow: %v", err)
	}
}
