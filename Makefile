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

# Editions: one manifest per edition, editions/<name>/manifest.env (binary,
# module dir, expected modules, forbidden deps, size budgets). Each gets a
# build-<name> target (the all-in-one edition "all": build-kite) that runs
# scripts/build-edition.sh: CGO_ENABLED=0 go build -tags $(TAGS) -trimpath
# -ldflags "$(LDFLAGS) [-X $(VPKG).Edition=<EDITION_LDFLAG>]" -o bin/<BINARY> ./<MODULE_DIR>
EDITIONS      := $(patsubst editions/%/manifest.env,%,$(wildcard editions/*/manifest.env))
BUILD_TARGETS := $(patsubst build-all,build-kite,$(addprefix build-,$(EDITIONS)))

.PHONY: all build $(BUILD_TARGETS) test test-go test-star lint check-containerfiles check-tiers check-size bench ci clean

all: build

## build: every edition's binary into bin/ (bin/kite, bin/kitecmd, bin/kitecloud, bin/kiteai)
build: $(BUILD_TARGETS)

## build-kite, build-base, build-cloud, build-ai: one edition's binary
$(BUILD_TARGETS): build-%:
	@GO='$(GO)' TAGS='$(TAGS)' LDFLAGS='$(LDFLAGS)' scripts/build-edition.sh $(patsubst kite,all,$*) bin

## test: vet + gofmt check, the generated Containerfiles check, the edition
## tier and size checks, every module's tests (libkite with -race), then the
## Starlark conformance suites under tests/ through the CLI's test runner
test: lint check-containerfiles check-tiers check-size test-go test-star

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

## check-containerfiles: every editions/<name>/Containerfile is what
## scripts/gen-containerfiles.sh makes from editions/Containerfile.in and the
## manifest (run that script after editing either)
check-containerfiles:
	@scripts/gen-containerfiles.sh --check

## check-tiers: per edition, no forbidden dependency in `go list -deps` and
## the built binary registers exactly the manifest's modules
check-tiers:
	@GO='$(GO)' TAGS='$(TAGS)' scripts/check-tiers.sh

## check-size: per edition, the release (stripped) and debug (unstripped)
## binary sizes against the manifest's budgets, and the library footprint
## table (libkite.New(nil) must stay within 5 MB)
check-size:
	@GO='$(GO)' TAGS='$(TAGS)' scripts/check-size.sh

## bench: Go benchmarks of the hot paths plus every edition's start-up time
bench: build
	cd libkite && $(GO) test -run='^$$' -bench=. -benchmem ./...
	cd kite && $(GO) test -run='^$$' -bench=Exec -benchtime=20x .
	scripts/bench-startup.sh

ci: test build

clean:
	rm -rf bin
