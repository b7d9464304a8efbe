module github.com/project-starkite/starkite/aikite

go 1.26.0

require (
	github.com/project-starkite/starkite/libkite v0.0.0
	go.starlark.net v0.0.0-20260908191801-89a6a09411d5
)

require github.com/mark3labs/mcp-go v1.2.1 // indirect

require (
	github.com/sashabaranov/go-openai v1.43.0
	golang.org/x/sys v0.49.0 // indirect
)

replace github.com/project-starkite/starkite/libkite => ../libkite
