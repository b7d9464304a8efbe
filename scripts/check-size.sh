#!/usr/bin/env bash
# check-size.sh — binary footprint of every edition against its budgets
# (BUDGET_UNSTRIPPED_MB, BUDGET_STRIPPED_MB in editions/<name>/manifest.env).
#
# Each edition is built twice into a temporary directory with the release
# command of scripts/build-edition.sh (CGO_ENABLED=0, -trimpath, release
# tags): unstripped (no -s -w) and stripped (-s -w). Then a table; exit 1
# when any binary exceeds a budget. MB = 1,000,000 bytes.
#
# Also reported, for information only: libkite/cmd/footprint-min (libkite.New(nil)
# running print(1), no modules), stripped, against a 5 MB target.
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

echo "building libkite/cmd/footprint-min (stripped) ..." >&2
(cd "$root" && CGO_ENABLED=0 "$GO" build -trimpath -ldflags "-s -w" -o "$tmp/footprint-min" ./libkite/cmd/footprint-min)
[[ "$("$tmp/footprint-min")" == 1 ]] || { echo "footprint-min does not print 1" >&2; exit 1; }
m="$(wc -c <"$tmp/footprint-min")"
over "$m" "$MIN_TARGET_MB" && mverdict="above target (informational)" || mverdict="ok (informational)"

echo
printf '%-8s %-13s %10s %8s %10s %8s  %s\n' edition binary unstripped budget stripped budget verdict
printf '%s\n' "${rows[@]}"
printf '%-8s %-13s %10s %8s %10s %8s  %s\n' "libkite" "footprint-min" - - "$(mb "$m")" "$MIN_TARGET_MB" "$mverdict"
echo "(sizes and budgets in MB = 1,000,000 bytes; built for $("$GO" env GOOS)/$("$GO" env GOARCH))"

if ((${#failed[@]})); then
	echo "check-size: over budget: ${failed[*]}" >&2
	exit 1
fi
echo "check-size: ok"
