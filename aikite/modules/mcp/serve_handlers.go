package mcp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	mcpgo "github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"go.starlark.net/starlark"

	"github.com/project-starkite/starkite/aikite/internal/tool"
	"github.com/project-starkite/starkite/libkite"
)

// serverState is one mcp.serve run: the mcp-go server built from the
// configuration and what its handlers need to run script code.
type serverState struct {
	cfg *ServeConfig
	mcp *server.MCPServer
	// runCtx bounds every script call of the run; cancelRun ends them
	// (after a graceful HTTP drain, or at once for stdio).
	runCtx    context.Context
	cancelRun context.CancelFunc
	// caller runs script functions on fresh threads of the serving
	// runtime with the serving thread's permissions.
	caller *libkite.Caller
	// sem serialises calls into the script (spec §6 Threads): its globals
	// stay mutable while serve blocks and requests may arrive concurrently.
	sem chan struct{}
}

// newServerState builds the mcp-go server: capabilities for what was
// registered, then the tools, resources and prompts.
func newServerState(thread *starlark.Thread, cfg *ServeConfig) (*serverState, error) {
	var opts []server.ServerOption
	if len(cfg.Tools) > 0 {
		opts = append(opts, server.WithToolCapabilities(false))
	}
	if len(cfg.Resources) > 0 {
		opts = append(opts, server.WithResourceCapabilities(false, false))
	}
	if len(cfg.Prompts) > 0 {
		opts = append(opts, server.WithPromptCapabilities(false))
	}
	// handler calls outlive a cancelled run only to drain; they keep the
	// run's values, so its execution limits (libkite.Limits) apply
	runCtx, cancel := context.WithCancel(context.WithoutCancel(libkite.Context(thread)))
	s := &serverState{
		cfg:       cfg,
		mcp:       server.NewMCPServer(cfg.Name, cfg.Version, opts...),
		runCtx:    runCtx,
		cancelRun: cancel,
		caller:    libkite.NewCaller("mcp.serve", thread, runCtx),
		sem:       make(chan struct{}, 1),
	}
	for _, t := range cfg.Tools {
		schema, err := json.Marshal(t.SchemaOrEmpty())
		if err != nil {
			cancel()
			return nil, fmt.Errorf("mcp.serve: tool %q: schema: %v", t.Name, err)
		}
		s.mcp.AddTool(mcpgo.NewToolWithRawSchema(t.Name, t.Description, schema), s.toolHandler(t))
	}
	uris := map[string]string{}
	for _, r := range cfg.Resources {
		uri := serverResourceURI(r.Name)
		if other, dup := uris[uri]; dup {
			cancel()
			return nil, fmt.Errorf("mcp.serve: resources %q and %q both have the URI %s", other, r.Name, uri)
		}
		uris[uri] = r.Name
		if err := s.addResource(r, uri); err != nil {
			cancel()
			return nil, err
		}
	}
	for _, p := range cfg.Prompts {
		s.addPrompt(p)
	}
	return s, nil
}

// serverDenied marks a per-request permission denial: its text goes to
// the client as is, without the "resource/prompt <name>:" prefix.
type serverDenied struct{ err error }

func (d *serverDenied) Error() string { return d.err.Error() }
func (d *serverDenied) Unwrap() error { return d.err }

// call runs body on a fresh thread of the serving runtime after the
// permission check ("mcp", "client", function, name), one call at a time.
// A denial comes back as *serverDenied; a cancelled request (ctx) cancels
// the thread. body converts its results while the script is still
// locked, so no other call mutates them meanwhile.
func (s *serverState) call(ctx context.Context, function, name string, body func(t *starlark.Thread) error) error {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-s.runCtx.Done():
		return errors.New("server is shutting down")
	}
	defer func() { <-s.sem }()
	var denied error
	step := starlark.NewBuiltin("mcp."+function, func(t *starlark.Thread, _ *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		if err := libkite.Check(t, "mcp", "client", function, name); err != nil {
			denied = err
			return nil, err
		}
		if ctx.Done() != nil {
			stop := context.AfterFunc(ctx, func() { t.Cancel("request cancelled") })
			defer stop()
		}
		if err := body(t); err != nil {
			return nil, err
		}
		return starlark.None, nil
	})
	_, err := s.caller.Call(step, nil, nil)
	if denied != nil {
		return &serverDenied{denied}
	}
	return err
}

// toolHandler is tools/call for t (spec §3.1): a permission denial, bad
// arguments or a Starlark error is an isError result carrying the error
// text; success is one text item (a string verbatim, else JSON) and, for
// a dict result, structuredContent (ext).
func (s *serverState) toolHandler(t *tool.Tool) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcpgo.CallToolRequest) (*mcpgo.CallToolResult, error) {
		args, err := serverToolArgs(req)
		if err != nil {
			return mcpgo.NewToolResultError(err.Error()), nil
		}
		var (
			text       string
			isError    bool
			structured any
		)
		err = s.call(ctx, "tool_invoke", t.Name, func(th *starlark.Thread) error {
			v, err := t.Call(th, args)
			if err != nil {
				return err
			}
			text, isError = tool.ResultText(v)
			if d, ok := v.(*starlark.Dict); ok && !isError {
				if m, ok := tool.PlainData(d).(map[string]any); ok {
					structured = m
				}
			}
			return nil
		})
		if err != nil {
			return mcpgo.NewToolResultError(err.Error()), nil
		}
		return &mcpgo.CallToolResult{
			Content:           []mcpgo.Content{mcpgo.NewTextContent(text)},
			StructuredContent: structured,
			IsError:           isError,
		}, nil
	}
}

// serverToolArgs decodes a tools/call arguments payload: absent or null →
// no arguments; otherwise it must be a JSON object. The raw JSON is used
// when there is one so integral numbers become ints (and large ones keep
// their precision).
func serverToolArgs(req mcpgo.CallToolRequest) (map[string]any, error) {
	var text string
	if raw := req.Params.RawArguments; len(raw) > 0 {
		text = string(raw)
	} else if req.Params.Arguments != nil {
		b, err := json.Marshal(req.Params.Arguments)
		if err != nil {
			return nil, fmt.Errorf("invalid tool arguments: %v", err)
		}
		text = string(b)
	}
	if strings.TrimSpace(text) == "null" {
		text = ""
	}
	return tool.DecodeArgs(text)
}

// addResource registers r under uri (or as a URI template, ext).
func (s *serverState) addResource(r ServeFunc, uri string) error {
	doc := serverDoc(r.Fn)
	handler := s.resourceHandler(r)
	if serverIsTemplate(r.Name) {
		tmpl, err := serverNewTemplate(uri, r.Name, doc)
		if err != nil {
			return fmt.Errorf("mcp.serve: resources[%q]: %v", r.Name, err)
		}
		s.mcp.AddResourceTemplate(tmpl, server.ResourceTemplateHandlerFunc(handler))
		return nil
	}
	s.mcp.AddResource(mcpgo.NewResource(uri, r.Name,
		mcpgo.WithResourceDescription(doc), mcpgo.WithMIMEType("text/plain")), handler)
	return nil
}

// serverNewTemplate builds a resource template, turning the parser's
// panic on a malformed template into an error.
func serverNewTemplate(uri, name, doc string) (tmpl mcpgo.ResourceTemplate, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("invalid URI template %q: %v", uri, r)
		}
	}()
	return mcpgo.NewResourceTemplate(uri, name,
		mcpgo.WithTemplateDescription(doc), mcpgo.WithTemplateMIMEType("text/plain")), nil
}

// resourceHandler is resources/read for r (spec §3.3): a one-parameter
// function gets the requested URI; the result becomes one contents item.
func (s *serverState) resourceHandler(r ServeFunc) server.ResourceHandlerFunc {
	var param string // the URI parameter's name, "" = none
	if def, ok := r.Fn.(*starlark.Function); ok && def.NumParams() == 1 {
		param, _ = def.Param(0)
	}
	return func(ctx context.Context, req mcpgo.ReadResourceRequest) ([]mcpgo.ResourceContents, error) {
		uri := req.Params.URI
		var contents mcpgo.ResourceContents
		err := s.call(ctx, "resource_read", r.Name, func(th *starlark.Thread) error {
			var kwargs []starlark.Tuple
			if param != "" {
				kwargs = []starlark.Tuple{{starlark.String(param), starlark.String(uri)}}
			}
			v, err := starlark.Call(th, r.Fn, nil, kwargs)
			if err != nil {
				return err
			}
			contents = serverResourceContents(uri, v)
			return nil
		})
		if err != nil {
			var d *serverDenied
			if errors.As(err, &d) {
				return nil, d.err
			}
			return nil, fmt.Errorf("resource %q: %v", r.Name, err)
		}
		return []mcpgo.ResourceContents{contents}, nil
	}
}

// serverResourceContents maps a resource function's result: str → text;
// dict → its "content" (missing → "") and "mime_type"; bytes → a blob
// (ext); anything else → str(value), trimmed.
func serverResourceContents(uri string, v starlark.Value) mcpgo.ResourceContents {
	const textMIME, blobMIME = "text/plain", "application/octet-stream"
	switch x := v.(type) {
	case starlark.String:
		return mcpgo.TextResourceContents{URI: uri, MIMEType: textMIME, Text: string(x)}
	case starlark.Bytes:
		return mcpgo.BlobResourceContents{URI: uri, MIMEType: blobMIME, Blob: base64.StdEncoding.EncodeToString([]byte(x))}
	case *starlark.Dict:
		mime := ""
		if m, found, _ := x.Get(starlark.String("mime_type")); found {
			if s, ok := m.(starlark.String); ok {
				mime = string(s)
			}
		}
		c, found, _ := x.Get(starlark.String("content"))
		if b, ok := c.(starlark.Bytes); ok {
			if mime == "" {
				mime = blobMIME
			}
			return mcpgo.BlobResourceContents{URI: uri, MIMEType: mime, Blob: base64.StdEncoding.EncodeToString([]byte(b))}
		}
		if mime == "" {
			mime = textMIME
		}
		text := ""
		switch c := c.(type) {
		case starlark.String:
			text = string(c)
		case nil, starlark.NoneType:
		default:
			if found {
				text = c.String()
			}
		}
		return mcpgo.TextResourceContents{URI: uri, MIMEType: mime, Text: text}
	}
	return mcpgo.TextResourceContents{URI: uri, MIMEType: textMIME, Text: strings.TrimSpace(v.String())}
}

// addPrompt registers p (spec §3.4): its arguments are a def-function's
// parameters in order, required when they have no default.
func (s *serverState) addPrompt(p ServeFunc) {
	opts := []mcpgo.PromptOption{mcpgo.WithPromptDescription(serverDoc(p.Fn))}
	var params []string
	if def, ok := p.Fn.(*starlark.Function); ok {
		names, required := tool.Params(def)
		params = names
		for i, n := range names {
			var aopts []mcpgo.ArgumentOption
			if required[i] {
				aopts = append(aopts, mcpgo.RequiredArgument())
			}
			opts = append(opts, mcpgo.WithArgument(n, aopts...))
		}
	}
	s.mcp.AddPrompt(mcpgo.NewPrompt(p.Name, opts...), s.promptHandler(p, params))
}

// promptHandler is prompts/get for p: declared parameters present in the
// request are passed as string keywords (others dropped); the function
// returns the user message text or (ext) a list of {"role", "content"}.
func (s *serverState) promptHandler(p ServeFunc, params []string) server.PromptHandlerFunc {
	doc := serverDoc(p.Fn)
	return func(ctx context.Context, req mcpgo.GetPromptRequest) (*mcpgo.GetPromptResult, error) {
		var kwargs []starlark.Tuple
		for _, n := range params {
			if v, ok := req.Params.Arguments[n]; ok {
				kwargs = append(kwargs, starlark.Tuple{starlark.String(n), starlark.String(v)})
			}
		}
		var msgs []mcpgo.PromptMessage
		err := s.call(ctx, "prompt_render", p.Name, func(th *starlark.Thread) error {
			v, err := starlark.Call(th, p.Fn, nil, kwargs)
			if err != nil {
				return err
			}
			msgs, err = serverPromptMessages(v)
			return err
		})
		if err != nil {
			var d *serverDenied
			if errors.As(err, &d) {
				return nil, d.err
			}
			return nil, fmt.Errorf("prompt %q: %v", p.Name, err)
		}
		return mcpgo.NewGetPromptResult(doc, msgs), nil
	}
}

// serverPromptMessages maps a prompt function's result: a string is one
// user message; (ext) a list of {"role": "user"|"assistant", "content":
// str} dicts is one message each.
func serverPromptMessages(v starlark.Value) ([]mcpgo.PromptMessage, error) {
	switch x := v.(type) {
	case starlark.String:
		return []mcpgo.PromptMessage{{Role: mcpgo.RoleUser, Content: mcpgo.NewTextContent(string(x))}}, nil
	case *starlark.List:
		msgs := make([]mcpgo.PromptMessage, 0, x.Len())
		for i := 0; i < x.Len(); i++ {
			d, ok := x.Index(i).(*starlark.Dict)
			if !ok {
				return nil, fmt.Errorf("messages[%d]: expected a dict with \"role\" and \"content\", got %s", i, x.Index(i).Type())
			}
			role, _, _ := d.Get(starlark.String("role"))
			content, _, _ := d.Get(starlark.String("content"))
			r, ok := role.(starlark.String)
			if !ok || (r != "user" && r != "assistant") {
				return nil, fmt.Errorf("messages[%d]: role must be \"user\" or \"assistant\"", i)
			}
			c, ok := content.(starlark.String)
			if !ok {
				return nil, fmt.Errorf("messages[%d]: content must be a string", i)
			}
			msgs = append(msgs, mcpgo.PromptMessage{Role: mcpgo.Role(r), Content: mcpgo.NewTextContent(string(c))})
		}
		return msgs, nil
	}
	return nil, errors.New("function must return a string")
}

// serverDoc is a def-function's docstring ("" for other callables).
func serverDoc(c starlark.Callable) string {
	if def, ok := c.(*starlark.Function); ok {
		return def.Doc()
	}
	return ""
}
