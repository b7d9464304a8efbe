// Package ai is kite's LLM module (spec ai.md): OpenAI and every
// OpenAI-compatible endpoint through go-openai, Anthropic through its
// native Messages API.
//
// Layout: module.go (the module value, ai.config, the client cache),
// provider.go (the provider interface and request types, model strings,
// the §2.1 provider table, key/base-URL resolution, HTTP errors),
// openai.go (Chat Completions via go-openai), anthropic.go (Messages over
// net/http), generate.go (ai.generate), values.go (ai.Response, ai.Usage).
package ai
