#!/usr/bin/env bash
# gen-containerfiles.sh — writes editions/<name>/Containerfile, for every
# edition, from the template editions/Containerfile.in and the edition's
# manifest.env:
#
#   @EDITION@, @BINARY@  the manifest's keys
#   @DESCRIPTION@        the manifest's first line, without its "# "
#   @MAKE_TARGET@        build-<EDITION>, build-kite for all (as the Makefile's
#                        BUILD_TARGETS)
#   @NOTE@ (own line)    editions/<name>/Containerfile.note if present (comment
#                        lines only: usage hints, caveats), else nothing
#
# Template lines starting with "##" are template comments and are dropped.
#
# Usage: scripts/gen-containerfiles.sh [--check] [edition...]   (default: every edition)
#   --check  write nothing; exit 1, with a unified diff, when a Containerfile
#            differs from what the template makes (make check-containerfiles,
#            part of make test)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=editions.sh
. "$(dirname "${BASH_SOURCE[0]}")/editions.sh"

check=0
if [[ "${1:-}" == --check ]]; then
	check=1
	shift
fi

template="$root/editions/Containerfile.in"

# render <edition>: the edition's Containerfile on stdout (manifest loaded).
render() {
	local desc note="$root/editions/$1/Containerfile.note" target="build-$EDITION"
	[[ "$EDITION" == all ]] && target=build-kite
	desc="$(sed -n '1s/^# *//p' "$root/editions/$1/manifest.env")"
	[[ -n "$desc" ]] || {
		echo "editions/$1/manifest.env: the first line must be a comment describing the edition" >&2
		return 1
	}
	[[ -f "$note" ]] || note=""
	if [[ -n "$note" ]] && grep -qv '^#' "$note"; then
		echo "editions/$1/Containerfile.note: every line must be a comment (start with #)" >&2
		return 1
	fi
	# index/substr, not gsub: the values are literal text (no & or \ escapes)
	ED="$EDITION" BIN="$BINARY" DESC="$desc" TARGET="$target" NOTE="$note" awk '
	function subst(s, k, v,   i, out) {
		out = ""
		while ((i = index(s, k)) > 0) { out = out substr(s, 1, i - 1) v; s = substr(s, i + length(k)) }
		return out s
	}
	/^##/ { next }
	$0 == "@NOTE@" {
		if (ENVIRON["NOTE"] != "") while ((getline line < ENVIRON["NOTE"]) > 0) print line
		next
	}
	{
		s = subst($0, "@EDITION@", ENVIRON["ED"])
		s = subst(s, "@BINARY@", ENVIRON["BIN"])
		s = subst(s, "@DESCRIPTION@", ENVIRON["DESC"])
		s = subst(s, "@MAKE_TARGET@", ENVIRON["TARGET"])
		if (match(s, /@[A-Z_]+@/)) { print "unknown placeholder " substr(s, RSTART, RLENGTH) > "/dev/stderr"; exit 1 }
		print s
	}' "$template"
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
stale=()

editions="$(edition_names "$@")" # exits on an unknown name
for ed in $editions; do
	load_manifest "$ed"
	out="$root/editions/$ed/Containerfile"
	render "$ed" >"$tmp/$ed"
	if ((check)); then
		if ! diff -u --label "editions/$ed/Containerfile" --label "editions/$ed/Containerfile (generated)" \
			"$out" "$tmp/$ed" 2>/dev/null; then
			[[ -f "$out" ]] || echo "editions/$ed/Containerfile is missing"
			stale+=("$ed")
		fi
	elif ! cmp -s "$tmp/$ed" "$out"; then
		cp "$tmp/$ed" "$out"
		echo "wrote editions/$ed/Containerfile"
	fi
done

if ((${#stale[@]})); then
	for ed in "${stale[@]}"; do
		echo "editions/$ed/Containerfile is stale: run scripts/gen-containerfiles.sh" >&2
	done
	exit 1
fi
((check)) && echo "gen-containerfiles: every Containerfile is up to date"
exit 0
