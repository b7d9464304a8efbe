package mcp

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/aikite/internal/tool"
)

// contentDict builds a dict from alternating string keys and values, in
// that order.
func contentDict(kv ...any) *starlark.Dict {
	d := starlark.NewDict(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		_ = d.SetKey(starlark.String(kv[i].(string)), kv[i+1].(starlark.Value))
	}
	return d
}

// contentBytes decodes the base64 payload of image/audio/blob content
// (mcp-go carries it as text). Payloads that are not valid base64 in any
// common alphabet are returned as they are.
func contentBytes(s string) starlark.Bytes {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return starlark.Bytes(b)
		}
	}
	return starlark.Bytes(s)
}

// contentResourceFields are the fields of resource contents (embedded or
// read): uri, mime_type and text or a decoded blob. isText reports a text
// item and text its text.
func contentResourceFields(rc mcpgo.ResourceContents) (kv []any, text string, isText bool) {
	switch r := rc.(type) {
	case *mcpgo.TextResourceContents:
		return contentResourceFields(*r)
	case *mcpgo.BlobResourceContents:
		return contentResourceFields(*r)
	case mcpgo.TextResourceContents:
		return []any{"uri", starlark.String(r.URI), "mime_type", starlark.String(r.MIMEType), "text", starlark.String(r.Text)}, r.Text, true
	case mcpgo.BlobResourceContents:
		return []any{"uri", starlark.String(r.URI), "mime_type", starlark.String(r.MIMEType), "blob", contentBytes(r.Blob)}, "", false
	}
	return []any{"uri", starlark.String(""), "mime_type", starlark.String("")}, "", false
}

// contentItem maps one content item to its spec §2.4 dict (unfrozen);
// isText reports a text item and text its text.
func contentItem(c mcpgo.Content) (d *starlark.Dict, text string, isText bool) {
	switch x := c.(type) {
	case *mcpgo.TextContent:
		return contentItem(*x)
	case *mcpgo.ImageContent:
		return contentItem(*x)
	case *mcpgo.AudioContent:
		return contentItem(*x)
	case *mcpgo.ResourceLink:
		return contentItem(*x)
	case *mcpgo.EmbeddedResource:
		return contentItem(*x)
	case mcpgo.TextContent:
		return contentDict("type", starlark.String("text"), "text", starlark.String(x.Text)), x.Text, true
	case mcpgo.ImageContent:
		return contentDict("type", starlark.String("image"), "data", contentBytes(x.Data), "mime_type", starlark.String(x.MIMEType)), "", false
	case mcpgo.AudioContent:
		return contentDict("type", starlark.String("audio"), "data", contentBytes(x.Data), "mime_type", starlark.String(x.MIMEType)), "", false
	case mcpgo.ResourceLink:
		return contentDict("type", starlark.String("resource_link"),
			"uri", starlark.String(x.URI),
			"name", starlark.String(x.Name),
			"mime_type", starlark.String(x.MIMEType),
			"description", starlark.String(x.Description)), "", false
	case mcpgo.EmbeddedResource:
		kv, _, _ := contentResourceFields(x.Resource)
		return contentDict(append([]any{"type", starlark.String("resource")}, kv...)...), "", false
	}
	return contentDict("type", starlark.String(contentTypeName(c))), "", false
}

// contentTypeName is the protocol's type string of a content item of a
// kind kite does not map.
func contentTypeName(c mcpgo.Content) string {
	var probe struct {
		Type string `json:"type"`
	}
	if b, err := json.Marshal(c); err == nil && json.Unmarshal(b, &probe) == nil && probe.Type != "" {
		return probe.Type
	}
	return "unknown"
}

// contentStructured converts structuredContent to frozen Starlark data
// (integral numbers → int), None when absent.
func contentStructured(res *mcpgo.CallToolResult) starlark.Value {
	raw := []byte(res.RawStructuredContent)
	if len(raw) == 0 {
		if res.StructuredContent == nil {
			return starlark.None
		}
		b, err := json.Marshal(res.StructuredContent)
		if err != nil {
			return starlark.None
		}
		raw = b
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var data any
	if err := dec.Decode(&data); err != nil || data == nil {
		return starlark.None
	}
	v, err := tool.ToStarlark(data)
	if err != nil {
		return starlark.None
	}
	v.Freeze()
	return v
}

// clientResult is mcp.Result (spec §2.4).
type clientResult struct {
	text       string
	content    *starlark.List // frozen list of frozen dicts
	isError    bool
	structured starlark.Value
}

var (
	_ starlark.HasAttrs = (*clientResult)(nil)
	_ tool.Texter       = (*clientResult)(nil)
)

func newClientResult(res *mcpgo.CallToolResult) *clientResult {
	var text strings.Builder
	items := make([]starlark.Value, 0, len(res.Content))
	for _, c := range res.Content {
		d, t, isText := contentItem(c)
		if isText {
			text.WriteString(t)
		}
		items = append(items, d)
	}
	list := starlark.NewList(items)
	list.Freeze()
	return &clientResult{text: text.String(), content: list, isError: res.IsError, structured: contentStructured(res)}
}

func (r *clientResult) String() string {
	if r.isError {
		return fmt.Sprintf("<mcp.Result error=%q>", r.text)
	}
	return fmt.Sprintf("<mcp.Result text=%q>", r.text)
}
func (*clientResult) Type() string               { return "mcp.Result" }
func (*clientResult) Freeze()                    {}
func (r *clientResult) Truth() starlark.Bool     { return starlark.Bool(!r.isError) }
func (*clientResult) Hash() (uint32, error)      { return 0, fmt.Errorf("unhashable type: mcp.Result") }
func (r *clientResult) ToolText() (string, bool) { return r.text, r.isError }
func (*clientResult) AttrNames() []string {
	return []string{"content", "is_error", "structured", "text"}
}
func (r *clientResult) Attr(name string) (starlark.Value, error) {
	switch name {
	case "text":
		return starlark.String(r.text), nil
	case "content":
		return r.content, nil
	case "is_error":
		return starlark.Bool(r.isError), nil
	case "structured":
		return r.structured, nil
	}
	return nil, nil
}

// clientResourceResult is mcp.ResourceResult (spec §4).
type clientResourceResult struct {
	text     string
	contents *starlark.List // frozen
}

var _ starlark.HasAttrs = (*clientResourceResult)(nil)

func newClientResourceResult(res *mcpgo.ReadResourceResult) *clientResourceResult {
	var text strings.Builder
	items := make([]starlark.Value, 0, len(res.Contents))
	for _, rc := range res.Contents {
		kv, t, isText := contentResourceFields(rc)
		if isText {
			text.WriteString(t)
		}
		items = append(items, contentDict(kv...))
	}
	list := starlark.NewList(items)
	list.Freeze()
	return &clientResourceResult{text: text.String(), contents: list}
}

func (r *clientResourceResult) String() string {
	return fmt.Sprintf("<mcp.ResourceResult text=%q>", r.text)
}
func (*clientResourceResult) Type() string           { return "mcp.ResourceResult" }
func (*clientResourceResult) Freeze()                {}
func (r *clientResourceResult) Truth() starlark.Bool { return r.contents.Len() > 0 }
func (*clientResourceResult) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: mcp.ResourceResult")
}
func (*clientResourceResult) AttrNames() []string { return []string{"contents", "text"} }
func (r *clientResourceResult) Attr(name string) (starlark.Value, error) {
	switch name {
	case "text":
		return starlark.String(r.text), nil
	case "contents":
		return r.contents, nil
	}
	return nil, nil
}

// clientPromptResult is mcp.PromptResult (spec §4).
type clientPromptResult struct {
	description string
	text        string
	messages    *starlark.List // frozen
}

var _ starlark.HasAttrs = (*clientPromptResult)(nil)

func newClientPromptResult(res *mcpgo.GetPromptResult) *clientPromptResult {
	var texts []string
	items := make([]starlark.Value, 0, len(res.Messages))
	for _, m := range res.Messages {
		item, t, isText := contentItem(m.Content)
		if isText {
			texts = append(texts, t)
		}
		d := contentDict("role", starlark.String(string(m.Role)))
		for _, kv := range item.Items() {
			_ = d.SetKey(kv[0], kv[1])
		}
		items = append(items, d)
	}
	list := starlark.NewList(items)
	list.Freeze()
	return &clientPromptResult{description: res.Description, text: strings.Join(texts, "\n"), messages: list}
}

func (r *clientPromptResult) String() string {
	return fmt.Sprintf("<mcp.PromptResult text=%q>", r.text)
}
func (*clientPromptResult) Type() string           { return "mcp.PromptResult" }
func (*clientPromptResult) Freeze()                {}
func (r *clientPromptResult) Truth() starlark.Bool { return r.messages.Len() > 0 }
func (*clientPromptResult) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: mcp.PromptResult")
}
func (*clientPromptResult) AttrNames() []string { return []string{"description", "messages", "text"} }
func (r *clientPromptResult) Attr(name string) (starlark.Value, error) {
	switch name {
	case "description":
		return starlark.String(r.description), nil
	case "text":
		return starlark.String(r.text), nil
	case "messages":
		return r.messages, nil
	}
	return nil, nil
}
