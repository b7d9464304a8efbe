package ai

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/aikite/internal/tool"
)

// schemaInstruction introduces the JSON-encoded schema appended to the
// system prompt for structured output (§6). Every provider gets it: the
// Messages wire has no response_format, and some OpenAI-compatible servers
// ignore it.
const schemaInstruction = "Respond with a single JSON value that conforms to the following JSON Schema. Output only the JSON value: no prose, no Markdown code fences.\nJSON Schema: "

// withSchemaInstruction appends the structured-output instruction to the
// system prompt.
func withSchemaInstruction(system string, schema map[string]any) string {
	instr := schemaInstruction + tool.JSON(schema)
	if system == "" {
		return instr
	}
	return system + "\n\n" + instr
}

// parseStructured decodes a structured-output reply (§6): trim, strip one
// surrounding Markdown code fence, JSON-decode (integral numbers → int).
func parseStructured(text string) (starlark.Value, error) {
	v, err := decodeJSONReply(text)
	if err != nil {
		return nil, fmt.Errorf("parsing structured output: %v", err)
	}
	out, err := tool.ToStarlark(v)
	if err != nil {
		return nil, fmt.Errorf("parsing structured output: %v", err)
	}
	return out, nil
}

func decodeJSONReply(text string) (any, error) {
	s := stripFence(strings.TrimSpace(text))
	if s == "" {
		return nil, errors.New("the reply is empty")
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid character after the JSON value")
	}
	return v, nil
}

// stripFence removes one surrounding ``` fence, with an optional
// language tag such as json after the opening backticks.
func stripFence(s string) string {
	if len(s) < 6 || !strings.HasPrefix(s, "```") || !strings.HasSuffix(s, "```") {
		return s
	}
	body := s[3 : len(s)-3]
	end := strings.IndexAny(body, " \t\r\n")
	if end < 0 {
		end = len(body)
	}
	if isLangTag(body[:end]) {
		body = body[end:]
	}
	return strings.TrimSpace(body)
}

// isLangTag reports whether s is a code-fence language tag (json, JSON,
// jsonc, ...) rather than the start of the JSON value itself.
func isLangTag(s string) bool {
	switch s {
	case "", "true", "false", "null":
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '+') {
			return false
		}
	}
	return !(s[0] >= '0' && s[0] <= '9' || s[0] == '-')
}
