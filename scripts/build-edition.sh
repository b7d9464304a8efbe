#!/usr/bin/env bash
# build-edition.sh — build one edition's binary as described by
# editions/<edition>/manifest.env: the release build command every other
# entry point uses (the Makefile's build-* targets, the Containerfiles, CI).
#
# Usage: scripts/build-edition.sh <edition> [out-dir]    (default bin/)
#        writes <out-dir>/<BINARY> and prints the command it runs
# Env:   LDFLAGS  linker flags (default "-s -w"; the Makefile passes its
#                 version flags; empty = unstripped); -X ...Edition=<EDITION_LDFLAG>
#                 is appended
#        GO, TAGS (default go, urfave_cli_no_docs)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=editions.sh
. "$(dirname "${BASH_SOURCE[0]}")/editions.sh"

if (($# < 1 || $# > 2)); then
	echo "usage: $0 <edition> [out-dir]   (editions: $(edition_names | xargs))" >&2
	exit 2
fi
edition_names "$1" >/dev/null
load_manifest "$1"
out="${2:-$root/bin}"
mkdir -p "$out"
VERBOSE=1 build_edition "$(cd "$out" && pwd)/$BINARY"
