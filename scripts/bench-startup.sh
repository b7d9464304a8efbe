#!/usr/bin/env bash
# bench-startup.sh — mean wall-clock time of `kitecmd exec 'print(1)'`.
#
# Usage: scripts/bench-startup.sh [runs]        (default 50)
# Env:   KITECMD=/path/to/kitecmd               (default bin/kitecmd, built if missing)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-50}"
bin="${KITECMD:-$root/bin/kitecmd}"

if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
	echo "usage: $0 [runs]  (runs must be a positive integer)" >&2
	exit 2
fi

if [[ ! -x "$bin" ]]; then
	echo "building $bin ..." >&2
	if [[ -f "$root/Makefile" ]] && make -C "$root" -n build-base >/dev/null 2>&1; then
		make -C "$root" build-base >&2
	fi
	if [[ ! -x "$bin" ]]; then
		mkdir -p "$(dirname "$bin")"
		(cd "$root/basekite" && go build -o "$bin" .)
	fi
fi

"$bin" exec 'print(1)' >/dev/null # warm the page cache; fail early if broken

if command -v hyperfine >/dev/null 2>&1; then
	json="$(mktemp)"
	trap 'rm -f "$json"' EXIT
	hyperfine --warmup 3 --runs "$runs" --style none --export-json "$json" "$bin exec 'print(1)'" >/dev/null
	awk -F: -v n="$runs" '/"mean"/ { gsub(/[ ,]/, "", $2); printf "mean: %.2f ms over %d runs (hyperfine)\n", $2 * 1000, n; exit }' "$json"
	exit 0
fi

total=0
for ((i = 0; i < runs; i++)); do
	start=$(date +%s%N)
	"$bin" exec 'print(1)' >/dev/null
	end=$(date +%s%N)
	total=$((total + end - start))
done
awk -v ns="$total" -v n="$runs" 'BEGIN { printf "mean: %.2f ms over %d runs\n", ns / n / 1e6, n }'
