// Package ai is kite's LLM module (spec ai.md): OpenAI and every
// OpenAI-compatible endpoint through go-openai, Anthropic through its
// native Messages API.
//
// Layout: module.go (the module value, ai.config, ai.tool, the client
// cache), provider.go (the provider interface and request types, model
// strings, the §2.1 provider table, key/base-URL resolution, HTTP errors),
// openai.go (Chat Completions via go-openai), anthropic.go (Messages over
// net/http), sse.go (server-sent events), generate.go (keyword binding
// shared by generate/chat/send, ai.generate), loop.go (the request path
// shared by generate and chat.send, the §5.5 tool loop), structured.go
// (§6 schema= output), stream.go (ai.Stream, ai.ChatStream,
// ai.StreamChunk), chat.go (ai.chat, send, reset, history), history.go
// (history entries, seeding validation, the history → wire mapping),
// rununtil.go (ai.run_until), values.go (ai.Response, ai.Usage).
package ai
