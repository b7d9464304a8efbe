package main

import (
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/project-starkite/starkite/libkite/kitetest"
)

// jsonschemaPkg is linked through mcp-go's server package; go.mod points it
// at third_party/jsonschema, whose metaschemas compile on first use.
const jsonschemaPkg = "github.com/santhosh-tekuri/jsonschema/v6"

// TestJSONSchemaStartsLazily: `kiteai exec 'print(1)'` must not compile the
// JSON Schema metaschemas at start-up (upstream's init allocates ~1.7 MB
// doing so). Fails when the replace directive or the patch is lost.
func TestJSONSchemaStartsLazily(t *testing.T) {
	inits := kitetest.InitTrace(t, kiteaiBin, "exec", "print(1)").Packages
	if rec, ok := inits[jsonschemaPkg]; ok && rec.Bytes > 100_000 {
		t.Fatalf("%s allocated %d bytes in %d allocations at start-up: metaschemas compiled eagerly (is the replace to third_party/jsonschema in go.mod?)",
			jsonschemaPkg, rec.Bytes, rec.Allocs)
	}
	// the measurement works: something else did initialise
	if _, ok := inits["github.com/mark3labs/mcp-go/mcp"]; !ok && len(inits) < 10 {
		t.Fatalf("implausible inittrace: %v", inits)
	}
}

// TestJSONSchemaMetaschemasStillApply: with lazy metaschemas a compiler still
// validates schemas against their draft and instances against schemas.
func TestJSONSchemaMetaschemasStillApply(t *testing.T) {
	c := jsonschema.NewCompiler()
	bad, err := jsonschema.UnmarshalJSON(strings.NewReader(`{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": 5}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("bad.json", bad); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compile("bad.json"); err == nil || !strings.Contains(err.Error(), "type") {
		t.Fatalf("a schema with \"type\": 5 compiled (err %v): metaschema not applied", err)
	}
	for _, draft := range []string{"http://json-schema.org/draft-04/schema#", "http://json-schema.org/draft-07/schema#", "https://json-schema.org/draft/2019-09/schema"} {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(`{"$schema": "` + draft + `", "type": "object", "required": ["n"], "properties": {"n": {"type": "integer", "minimum": 1}}}`))
		if err != nil {
			t.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("s.json", doc); err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile("s.json")
		if err != nil {
			t.Fatalf("%s: %v", draft, err)
		}
		if err := s.Validate(map[string]any{"n": 2}); err != nil {
			t.Errorf("%s: valid instance rejected: %v", draft, err)
		}
		if err := s.Validate(map[string]any{"n": 0}); err == nil {
			t.Errorf("%s: n=0 accepted despite minimum 1", draft)
		}
	}
}
