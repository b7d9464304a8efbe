#!/usr/bin/env bash
# check-size.sh — binary footprint of every edition against its budgets
# (BUDGET_UNSTRIPPED_MB, BUDGET_STRIPPED_MB in editions/<name>/manifest.env).
#
# Each edition is built twice into a temporary directory with the release
# command of scripts/build-edition.sh (CGO_ENABLED=0, -trimpath, release
# tags): unstripped (no -s -w) and stripped (-s -w). Then a table; exit 1
# when any binary exceeds a budget. MB = 1,000,000 bytes.
#
# Then the library footprint: what an embedder's binary costs per registry,
# measured with tiny programs that build a runtime on it, check its modules
# are loaded and print exactly 1 (built the same way, stripped and unstripped):
#   libkite/cmd/footprint-min        libkite.New(nil), no registry
#   libkite/cmd/footprint-default    loader.NewDefaultRegistry(nil)
#   cloudkite/cmd/footprint-cloud    cloudloader.NewCloudRegistry(nil)
#   aikite/cmd/footprint-ai          ailoader.NewAIRegistry(nil)
# next to the figures the product docs give ("Dependency footprint"). The
# libkite.New(nil) row is enforced: stripped above MIN_TARGET_MB fails; the
# others are informational.
#
# Usage: scripts/check-size.sh [edition...]    (default: every edition)
# Env:   GO, TAGS (see scripts/editions.sh)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=editions.sh
. "$(dirname "${BASH_SOURCE[0]}")/editions.sh"

MIN_TARGET_MB=5

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/unstripped" "$tmp/stripped"
rows=()
failed=()

editions="$(edition_names "$@")" # exits on an unknown name
for ed in $editions; do
	load_manifest "$ed"
	echo "building $ed ($BINARY) unstripped and stripped ..." >&2
	LDFLAGS="" build_edition "$tmp/unstripped/$BINARY"
	LDFLAGS="-s -w" build_edition "$tmp/stripped/$BINARY"
	u="$(wc -c <"$tmp/unstripped/$BINARY")"
	s="$(wc -c <"$tmp/stripped/$BINARY")"
	verdict=ok
	over "$u" "$BUDGET_UNSTRIPPED_MB" && verdict="OVER unstripped"
	if over "$s" "$BUDGET_STRIPPED_MB"; then
		[[ "$verdict" == ok ]] && verdict="OVER stripped" || verdict="OVER both"
	fi
	[[ "$verdict" == ok ]] || failed+=("$ed")
	rows+=("$(printf '%-8s %-13s %10s %8s %10s %8s  %s' "$ed" "$BINARY" \
		"$(mb "$u")" "$BUDGET_UNSTRIPPED_MB" "$(mb "$s")" "$BUDGET_STRIPPED_MB" "$verdict")")
done

# footprint <package dir> <registry call> <docs MB> [modules]: build the
# program unstripped and stripped (release command), run it (stdout must be
# exactly 1; stderr says "<name>: N modules", else [modules] is the count)
# and add a row to frows; the libkite.New(nil) row is checked against
# MIN_TARGET_MB.
footprint() {
	local name="${1##*/}" out n u s verdict=informational
	echo "building $1 unstripped and stripped ..." >&2
	(cd "$root" && CGO_ENABLED=0 "$GO" build -tags "$TAGS" -trimpath -ldflags "" -o "$tmp/unstripped/$name" "./$1")
	(cd "$root" && CGO_ENABLED=0 "$GO" build -tags "$TAGS" -trimpath -ldflags "-s -w" -o "$tmp/stripped/$name" "./$1")
	out="$("$tmp/stripped/$name" 2>"$tmp/$name.err")" || {
		echo "$name failed: $(cat "$tmp/$name.err")" >&2
		exit 1
	}
	[[ "$out" == 1 ]] || { echo "$name does not print 1 (it printed: $out)" >&2; exit 1; }
	n="$(sed -n "s/^$name: \([0-9][0-9]*\) modules\$/\1/p" "$tmp/$name.err")"
	n="${n:-${4:-}}"
	[[ -n "$n" ]] || { echo "$name does not report its module count on stderr" >&2; exit 1; }
	u="$(wc -c <"$tmp/unstripped/$name")"
	s="$(wc -c <"$tmp/stripped/$name")"
	if [[ "$2" == "libkite.New(nil)" ]]; then
		verdict="ok (target $MIN_TARGET_MB, enforced)"
		over "$s" "$MIN_TARGET_MB" && verdict="OVER target $MIN_TARGET_MB" && failed+=("$name")
	fi
	frows+=("$(printf '%-34s %7s %10s %10s %6s  %s' "$2" "$n" "$(mb "$s")" "$(mb "$u")" "~$3" "$verdict")")
}

frows=()
footprint libkite/cmd/footprint-min "libkite.New(nil)" 5 0
footprint libkite/cmd/footprint-default "loader.NewDefaultRegistry(nil)" 26
footprint cloudkite/cmd/footprint-cloud "cloudloader.NewCloudRegistry(nil)" 63
footprint aikite/cmd/footprint-ai "ailoader.NewAIRegistry(nil)" 92

echo
printf '%-8s %-13s %10s %8s %10s %8s  %s\n' edition binary unstripped budget stripped budget verdict
printf '%s\n' "${rows[@]}"
echo
printf '%-34s %7s %10s %10s %6s  %s\n' "library footprint (registry)" modules stripped unstripped docs verdict
printf '%s\n' "${frows[@]}"
echo "(sizes and budgets in MB = 1,000,000 bytes; docs = the product docs' approximate figure;"
echo " built for $("$GO" env GOOS)/$("$GO" env GOARCH))"

if ((${#failed[@]})); then
	echo "check-size: over budget or target: ${failed[*]}" >&2
	exit 1
fi
echo "check-size: ok"
