# kite — build, test and benchmark entry points.
GO         ?= go
VERSION    ?= 0.1.0-dev
COMMIT     ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BUILD_TIME ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
VPKG       := github.com/project-starkite/starkite/basekite/version
LDFLAGS    := -s -w -X $(VPKG).Version=$(VERSION) -X $(VPKG).GitCommit=$(COMMIT) -X $(VPKG).BuildTime=$(BUILD_TIME)
# Build tags of release binaries: urfave_cli_no_docs drops urfave/cli's
# man/markdown generators (and blackfriday: ~0.3 MB, ~0.5 ms of init).
TAGS       := urfave_cli_no_docs
# Every Go module of the workspace, in dependency order.
MODULES    := libkite basekite sandbox/gvisor cloudkite aikite kite

.PHONY: all build build-kite build-base build-cloud build-ai test test-go test-star lint bench ci clean

all: build

## build: every binary that exists, into bin/
build: build-kite build-base build-cloud build-ai

## build-kite: the all-in-one kite (static: it will link gVisor)
build-kite:
	CGO_ENABLED=0 $(GO) build -tags $(TAGS) -trimpath -ldflags "$(LDFLAGS) -X $(VPKG).Edition=all" -o bin/kite ./kite

## build-base: the lean base edition kitecmd
build-base:
	CGO_ENABLED=0 $(GO) build -tags $(TAGS) -trimpath -ldflags "$(LDFLAGS)" -o bin/kitecmd ./basekite

## build-cloud: the cloud edition kitecloud (base + k8s)
build-cloud:
	CGO_ENABLED=0 $(GO) build -tags $(TAGS) -trimpath -ldflags "$(LDFLAGS) -X $(VPKG).Edition=cloud" -o bin/kitecloud ./cloudkite

## build-ai: the AI edition kiteai (base + ai + mcp)
build-ai:
	CGO_ENABLED=0 $(GO) build -tags $(TAGS) -trimpath -ldflags "$(LDFLAGS) -X $(VPKG).Edition=ai" -o bin/kiteai ./aikite

## test: vet + gofmt check, every module's tests (libkite with -race), then
## the Starlark conformance suites under tests/ through the CLI's test runner
test: lint test-go test-star

test-go:
	cd libkite && $(GO) test -race -count=1 ./...
	cd basekite && $(GO) test -count=1 ./...
	cd sandbox/gvisor && $(GO) test -count=1 ./...
	# cloudkite's integration tests use a real kube-apiserver + etcd, built
	# from the module proxy into ~/.cache by scripts/k8s-testenv.sh
	cd cloudkite && { $(GO) test -count=1 ./...; rc=$$?; ../scripts/k8s-testenv.sh down; exit $$rc; }
	cd aikite && $(GO) test -race -count=1 ./...
	cd kite && $(GO) test -count=1 ./...    # includes the real-gVisor sandbox tests (Linux)

## test-star: tests/*_test.star run by `kitecmd test` (full permissions:
## the suites exercise files, processes and the environment)
test-star: build-base
	bin/kitecmd test --permissions=allow-all tests/

lint:
	@for m in $(MODULES); do (cd $$m && $(GO) vet ./...) || exit 1; done
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## bench: Go benchmarks of the hot paths plus CLI start-up time
bench: build-base
	cd libkite && $(GO) test -run='^$$' -bench=. -benchmem ./...
	cd kite && $(GO) test -run='^$$' -bench=Exec -benchtime=20x .
	scripts/bench-startup.sh

ci: test build

clean:
	rm -rf bin
