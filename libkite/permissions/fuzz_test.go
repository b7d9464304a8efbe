package permissions

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

var columnRE = regexp.MustCompile(`\(column (\d+)\)$`)

// sameRule compares everything but Raw; a nil and an empty function list differ.
func sameRule(a, b *Rule) bool {
	return a.Module == b.Module && a.Category == b.Category && a.Resource == b.Resource &&
		reflect.DeepEqual(a.Functions, b.Functions)
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{
		"*.*", "k8s.*", "*.read", "fs.read", "fs.read()", "a.b.c", "fs.read(/a/**)",
		"fs.write(write,touch:$CWD/**)", "fs.write(write:)", "fs.read(/a,b:c)", "fs.read(:x)",
		"fs.read(write, touch:/x)", "http.client(GET,DELETE:https://api.test/**)", "sql.open(sqlite:**)",
		"fs.read(/a(b)c)", "fs.read(/x)y)", "fs.read((x))", "fs.read(a:b:c)", "fs.read(_a1,B_:c)",
		"a.b(", "x", "", ".", ".x", "x.", "(", ")", "()", "a.b)", "a.b(x)y", " a.b", "a. b", "a.b\t",
		"é.ü(ß)", "fs.read(\x00)", "\xff.\xfe(\xfd)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			m := columnRE.FindStringSubmatch(err.Error())
			if m == nil {
				t.Fatalf("ParseRule(%q) error without a column: %v", s, err)
			}
			if col, _ := strconv.Atoi(m[1]); col < 1 || col > utf8.RuneCountInString(s)+1 {
				t.Fatalf("ParseRule(%q): column %d out of range: %v", s, col, err)
			}
			return
		}
		if r.Raw != s || r.Module == "" || r.Category == "" || strings.ContainsAny(r.Module, ".()") ||
			strings.ContainsAny(r.Module+r.Category, " \t\n()") {
			t.Fatalf("ParseRule(%q) = %+v", s, r)
		}
		// Formatting and re-parsing is stable.
		text := r.String()
		r2, err := ParseRule(text)
		if err != nil {
			t.Fatalf("reparse of %q (from %q): %v", text, s, err)
		}
		if !sameRule(r, r2) || r2.String() != text {
			t.Fatalf("unstable: %q -> %+v -> %q -> %+v", s, r, text, r2)
		}
		_ = r.Matches("fs", "read", "read_file", s)
		_ = r.Matches("http", "client", "GET", s)
		_ = MatchResource(r.Resource, s)
	})
}

func FuzzMatch(f *testing.F) {
	for _, s := range [][5]string{
		{"/etc/*", "fs", "read", "read_file", "/etc/hosts"},
		{"/etc/*", "fs", "read", "read_file", "/etc/ssl/certs"},
		{"$CWD/**", "fs", "write", "write", "/work/x"},
		{"/data/[**", "fs", "read", "read_file", "/data/[x"},
		{"/data/[", "fs", "read", "read_file", "/data/["},
		{"/a/**/b/**", "fs", "read", "read_file", "/a/x/b/y"},
		{"a**a", "fs", "read", "read_file", "a"},
		{"***", "x", "y", "z", "***"},
		{"*", "os", "exec", "exec", ""},
		{"**", "os", "exec", "exec", "x"},
		{`\`, "fs", "read", "read_file", `\`},
		{"api.example.com", "http", "client", "GET", "https://api.example.com/v1"},
		{"*.internal:*", "http", "client", "GET", "http://[::1]:80/"},
		{"h", "http", "client", "GET", "%zz://h"},
		{"[::1]:443", "http", "client", "GET", "https://[::1]/"},
		{"", "", "", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	star, err := ParseRule("*.*")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, pattern, module, category, function, resource string) {
		got := MatchResource(pattern, resource)
		if (pattern == "*" || pattern == "**") && got != (resource != "") {
			t.Fatalf("MatchResource(%q, %q) = %v", pattern, resource, got)
		}
		if !star.Matches(module, category, function, resource) {
			t.Fatalf("*.* does not match %q.%q %q(%q)", module, category, function, resource)
		}
		any := &Rule{Module: module, Category: category}
		if !any.Matches(module, category, function, resource) {
			t.Fatalf("empty-resource rule does not match resource %q", resource)
		}
		withFn := &Rule{Module: module, Category: category, Functions: []string{function}, Resource: pattern}
		if !withFn.Matches(module, category, function, "") {
			t.Fatalf("rule %q does not match an empty call resource", pattern)
		}
		if got && !withFn.Matches(module, category, function, resource) {
			t.Fatalf("rule resource %q matched by MatchResource but not by Matches", pattern)
		}
		http := &Rule{Module: "http", Category: "client", Resource: pattern}
		_ = http.Matches("http", "client", function, resource)

		// A compiled policy agrees: *.* admits everything, a deny of *.* beats it.
		c, err := NewChecker(&Config{Allow: []string{"*.*"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Check(module, category, function, resource); err != nil {
			t.Fatalf("*.* checker denied: %v", err)
		}
		c, _ = NewChecker(&Config{Allow: []string{"*.*"}, Deny: []string{"*.*"}, Default: DefaultAllow})
		if c.Check(module, category, function, resource) == nil || c.Allows(module, category, function, resource) {
			t.Fatal("deny *.* did not beat allow *.*")
		}
	})
}
