package uuid_test

import (
	"path/filepath"
	"regexp"
	"testing"

	"github.com/project-starkite/starkite/libkite"
	"github.com/project-starkite/starkite/libkite/kitetest"
	"github.com/project-starkite/starkite/libkite/modules/uuid"
)

var kit = kitetest.Modules{uuid.New}

var shape = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestModule(t *testing.T) {
	kit.RunCases(t, nil, []kitetest.Case{
		{Expr: `str(uuid)`, Want: `<module "uuid">`},
		{Expr: `type(uuid)`, Want: "module"},
		{Expr: `dir(uuid)`, Want: `["v4"]`},
		{Expr: `type(uuid.v4())`, Want: "string"},
		{Expr: `len(uuid.v4())`, Want: "36"},
		{Expr: `uuid.v4().count("-")`, Want: "4"},
		{Expr: `[len(p) for p in uuid.v4().split("-")]`, Want: "[8, 4, 4, 4, 12]"},
		{Expr: `uuid.v4().split("-")[2][0]`, Want: "4"},
		{Expr: `uuid.v4().split("-")[3][0] in "89ab"`, Want: "True"},
		{Pre: `u = uuid.v4()`, Expr: `u == u.lower()`, Want: "True"},
		{Expr: `len({uuid.v4(): 1 for _ in range(100)})`, Want: "100"},
		{Expr: `uuid.v4(1)`, Err: "uuid.v4 takes no arguments"},
		{Expr: `uuid.v4(x=1)`, Err: "uuid.v4 takes no arguments"},
		{Expr: `uuid.try_v4()`, Err: "module has no .try_v4 field or method", ErrContains: true},
	})
}

func TestV4Shape(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		s, err := uuid.V4()
		if err != nil {
			t.Fatal(err)
		}
		if !shape.MatchString(s) {
			t.Fatalf("V4() = %q: not a v4 UUID", s)
		}
		if seen[s] {
			t.Fatalf("duplicate %s", s)
		}
		seen[s] = true
	}
}

func TestFormat(t *testing.T) {
	cases := []struct {
		in   [16]byte
		want string
	}{
		{[16]byte{}, "00000000-0000-4000-8000-000000000000"},
		{[16]byte{0: 0xff, 1: 0xff, 2: 0xff, 3: 0xff, 4: 0xff, 5: 0xff, 6: 0xff, 7: 0xff, 8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff},
			"ffffffff-ffff-4fff-bfff-ffffffffffff"},
		{[16]byte{0x3f, 0x2c, 0x9a, 0x1e, 0x7b, 0x4d, 0x0c, 0x2a, 0x1e, 0x11, 0x0a, 0x6b, 0x5d, 0x4c, 0x3e, 0x2f},
			"3f2c9a1e-7b4d-4c2a-9e11-0a6b5d4c3e2f"},
	}
	for _, c := range cases {
		if got := uuid.Format(c.in); got != c.want {
			t.Errorf("Format(%x) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestConformance(t *testing.T) {
	file := filepath.Join("..", "..", "..", "tests", "uuid_test.star")
	rt := kit.Runtime(t, &libkite.Config{ScriptPath: file})
	kitetest.RunConformance(t, rt, file, 4)
}

func BenchmarkV4(b *testing.B) {
	for b.Loop() {
		if _, err := uuid.V4(); err != nil {
			b.Fatal(err)
		}
	}
}
