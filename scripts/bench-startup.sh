#!/usr/bin/env bash
# bench-startup.sh — start-up time of every edition: wall-clock time of
# `<binary> exec 'print(1)'`, the smallest complete run (flags parsed,
# runtime built, script run, process exited).
#
# Usage: scripts/bench-startup.sh [runs] [edition...]
#        runs defaults to 50; editions default to every editions/*/manifest.env.
#        Missing binaries are built into bin/ with scripts/build-edition.sh.
# Env:   KITECMD=/path/to/binary  time only that binary (any edition)
#
# The binaries are run in turn (one run of each, repeated), so machine noise
# hits them alike. Times come from bash's $EPOCHREALTIME (no fork around
# the measured command). The table shows the median, the mean and, when
# the base edition is measured, each median relative to kitecmd's.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=editions.sh
. "$(dirname "${BASH_SOURCE[0]}")/editions.sh"

runs=50
if (($# > 0)) && [[ "$1" =~ ^[0-9]+$ ]]; then
	runs="$1"
	shift
fi
if ((runs < 1)); then
	echo "usage: $0 [runs] [edition...]  (runs must be a positive integer)" >&2
	exit 2
fi

names=() bins=()
if [[ -n "${KITECMD:-}" ]]; then
	names=("$(basename "$KITECMD")")
	bins=("$KITECMD")
else
	editions="$(edition_names "$@")" # exits on an unknown name
	for ed in $editions; do
		load_manifest "$ed"
		if [[ ! -x "$root/bin/$BINARY" ]]; then
			echo "building bin/$BINARY ..." >&2
			"$root/scripts/build-edition.sh" "$ed" "$root/bin" >&2
		fi
		names+=("$BINARY")
		bins+=("$root/bin/$BINARY")
	done
fi

# Warm the page cache, and fail early on a broken binary.
for b in "${bins[@]}"; do
	out="$("$b" exec 'print(1)')" || { echo "$b exec 'print(1)' failed" >&2; exit 1; }
	[[ "$out" == 1 ]] || { echo "$b exec 'print(1)' printed \"$out\", want 1" >&2; exit 1; }
done

samples="$(mktemp)"
trap 'rm -f "$samples"' EXIT
for ((r = 0; r < runs; r++)); do
	for i in "${!bins[@]}"; do
		start=$EPOCHREALTIME
		"${bins[$i]}" exec 'print(1)' >/dev/null
		end=$EPOCHREALTIME
		echo "${names[$i]} $start $end" >>"$samples"
	done
done

printf '%-12s %10s %10s %10s\n' binary median_ms mean_ms vs_kitecmd
for n in "${names[@]}"; do
	awk -v n="$n" '$1 == n { print ($3 - $2) * 1000 }' "$samples" | sort -n |
		awk '{ v[NR] = $1; s += $1 } END { printf "%s %.2f %.2f\n", "", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), s / NR }' |
		{ read -r med mean; echo "$n $med $mean"; }
done | awk '{ row[NR] = $0; if ($1 == "kitecmd") base = $2 }
	END { for (i = 1; i <= NR; i++) { split(row[i], f, " ");
		printf "%-12s %10.2f %10.2f %10s\n", f[1], f[2], f[3], (base ? sprintf("%.2fx", f[2] / base) : "-") } }'
echo "($runs runs each, interleaved; $(uname -sm))"
