# editions.sh — shared by build-edition.sh, check-tiers.sh and check-size.sh
# (source it; it defines functions and variables, it runs nothing).
#
# An edition is described by editions/<name>/manifest.env (keys in
# editions/README.md). Environment: GO (default go), TAGS (default
# urfave_cli_no_docs: the release build tags, as in the Makefile).
# shellcheck shell=bash

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GO="${GO:-go}"
TAGS="${TAGS:-urfave_cli_no_docs}"
# the package holding the link-time version variables (Version, Edition, ...)
VPKG=github.com/project-starkite/starkite/basekite/version
MANIFEST_KEYS="EDITION BINARY MODULE_DIR EDITION_LDFLAG MODULES FORBIDDEN_DEPS SANDBOX BUDGET_UNSTRIPPED_MB BUDGET_STRIPPED_MB"

# edition_names [name...]: the given editions (each must have a manifest),
# else every edition under editions/, one per line.
edition_names() {
	local m
	if (($# > 0)); then
		for m in "$@"; do
			[[ -f "$root/editions/$m/manifest.env" ]] || {
				echo "unknown edition \"$m\": no editions/$m/manifest.env" >&2
				return 1
			}
			echo "$m"
		done
		return
	fi
	for m in "$root"/editions/*/manifest.env; do
		[[ -f "$m" ]] && basename "$(dirname "$m")"
	done
}

# load_manifest <name>: set the manifest's keys in the calling shell and
# check them (every key present, EDITION = directory name, MODULE_DIR a
# directory, SANDBOX yes/no, numeric budgets, MODULES sorted and unique).
load_manifest() {
	local f="$root/editions/$1/manifest.env" k
	# shellcheck disable=SC2086 # word splitting of the key list is intended
	unset $MANIFEST_KEYS
	# shellcheck disable=SC1090 # the manifest path is only known at run time
	. "$f" || { echo "$f: cannot be sourced" >&2; return 1; }
	for k in $MANIFEST_KEYS; do
		[[ -n "${!k+set}" ]] || { echo "$f: missing key $k" >&2; return 1; }
	done
	local bad=""
	[[ "$EDITION" == "$1" ]] || bad="EDITION=$EDITION differs from the directory name $1"
	[[ -n "$BINARY" && -d "$root/$MODULE_DIR" ]] || bad="BINARY empty or MODULE_DIR $MODULE_DIR not a directory"
	[[ "$SANDBOX" == yes || "$SANDBOX" == no ]] || bad="SANDBOX must be yes or no"
	[[ "$BUDGET_UNSTRIPPED_MB" =~ ^[0-9]+(\.[0-9]+)?$ && "$BUDGET_STRIPPED_MB" =~ ^[0-9]+(\.[0-9]+)?$ ]] || bad="budgets must be numbers (MB)"
	# shellcheck disable=SC2086 # MODULES is a word list
	[[ "$(printf '%s\n' $MODULES | LC_ALL=C sort -u | xargs)" == "$(xargs <<<"$MODULES")" ]] || bad="MODULES must be sorted and unique"
	if [[ -n "$bad" ]]; then
		echo "$f: $bad" >&2
		return 1
	fi
}

# build_edition <out-file>: build the loaded edition's binary with the
# release command (CGO_ENABLED=0, -tags $TAGS, -trimpath). LDFLAGS, when
# set, replaces the default "-s -w" (set it empty for an unstripped build);
# the edition's -X $VPKG.Edition flag is always appended. VERBOSE=1 echoes
# the command.
build_edition() {
	local ldflags="${LDFLAGS--s -w}"
	[[ -n "$EDITION_LDFLAG" ]] && ldflags="$ldflags -X $VPKG.Edition=$EDITION_LDFLAG"
	[[ "${VERBOSE:-}" == 1 ]] && echo "CGO_ENABLED=0 $GO build -tags $TAGS -trimpath -ldflags \"${ldflags# }\" -o $1 ./$MODULE_DIR" >&2
	(cd "$root" && CGO_ENABLED=0 "$GO" build -tags "$TAGS" -trimpath -ldflags "${ldflags# }" -o "$1" "./$MODULE_DIR")
}

# mb <bytes>: bytes in MB (1 MB = 1,000,000 bytes), two decimals.
mb() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1e6 }'; }

# over <bytes> <budget MB>: true when bytes exceed the budget.
over() { awk -v b="$1" -v m="$2" 'BEGIN { exit !(b > m * 1e6) }'; }
