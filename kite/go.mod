module github.com/project-starkite/starkite/kite

go 1.26

require (
	github.com/project-starkite/starkite/basekite v0.0.0
	github.com/project-starkite/starkite/libkite v0.0.0
)

replace (
	github.com/project-starkite/starkite/basekite => ../basekite
	github.com/project-starkite/starkite/libkite => ../libkite
)
