#!/usr/bin/env bash
# check-tiers.sh — every edition keeps to its manifest (editions/<name>/manifest.env):
#
#   deps     `go list -deps` of the edition's main package (MODULE_DIR, with the
#            workspace, release tags, CGO_ENABLED=0, this GOOS/GOARCH) has no
#            package under a FORBIDDEN_DEPS prefix: client-go stays in
#            kitecloud/kite, go-openai and mcp-go in kiteai/kite, gVisor in kite.
#            A violation names the nearest offending package and its import chain.
#   modules  the built binary registers exactly MODULES. The list is what the
#            binary's REPL prints under `.help` (the runtime registry's Names());
#            `exec` then confirms each expected name is a global of type module.
#
# Usage: scripts/check-tiers.sh [edition...]    (default: every edition)
# Env:   GO, TAGS (see scripts/editions.sh)
# Binaries are built into a temporary directory (warm: about 1-5 s each).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=editions.sh
. "$(dirname "${BASH_SOURCE[0]}")/editions.sh"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home"
failed=()

# forbidden <prefixes>: reads `ImportPath Imports...` lines (go list -deps
# order: the main package last) and reports, per prefix, how many packages
# fall under it and the shortest import chain to one of them; exit 1 if any.
forbidden() {
	awk -v prefixes="$1" '
	{ imports[$1] = substr($0, length($1) + 2); main = $1 }
	END {
		# breadth-first from the main package: queue order = distance
		q[1] = main; seen[main] = 1; n = 1
		for (h = 1; h <= n; h++) {
			k = split(imports[q[h]], im, " ")
			for (i = 1; i <= k; i++)
				if (!(im[i] in seen)) { seen[im[i]] = 1; parent[im[i]] = q[h]; q[++n] = im[i] }
		}
		bad = 0
		np = split(prefixes, P, " ")
		for (j = 1; j <= np; j++) {
			p = P[j]; sub(/\/$/, "", p)
			count = 0; first = ""
			for (h = 1; h <= n; h++)
				if (q[h] == p || index(q[h], p "/") == 1) { count++; if (first == "") first = q[h] }
			if (!count) continue
			bad = 1
			printf "    forbidden %s: %d package(s); import chain to the nearest:\n", P[j], count
			chain = "      " first
			for (v = first; v != main; v = parent[v]) chain = "      " parent[v] "\n" chain
			print chain
		}
		exit bad
	}'
}

# modules_of <binary>: the module names the binary registers, sorted, one line.
modules_of() {
	printf '.help\n' | env -i PATH="$PATH" HOME="$tmp/home" TMPDIR="$tmp" "$1" repl 2>&1 |
		awk '/^Modules \(/ { on = 1; next } on && /^  [a-z]/ { gsub(/,/, " "); print }' |
		tr -s ' ' '\n' | sed '/^$/d' | LC_ALL=C sort | xargs
}

editions="$(edition_names "$@")" # exits on an unknown name
for ed in $editions; do
	load_manifest "$ed"
	ok=1
	echo "$ed ($BINARY, ./$MODULE_DIR):"

	graph="$tmp/$ed.deps"
	(cd "$root" && CGO_ENABLED=0 "$GO" list -tags "$TAGS" -deps \
		-f '{{.ImportPath}}{{range .Imports}} {{.}}{{end}}' "./$MODULE_DIR") >"$graph"
	if [[ -z "$FORBIDDEN_DEPS" ]]; then
		echo "  deps:    $(wc -l <"$graph" | xargs) packages (no forbidden prefixes)"
	elif report="$(forbidden "$FORBIDDEN_DEPS" <"$graph")"; then
		echo "  deps:    $(wc -l <"$graph" | xargs) packages, none under $FORBIDDEN_DEPS"
	else
		echo "  deps:    FAIL — the edition pulls in forbidden dependencies:"
		echo "$report"
		ok=0
	fi

	bin="$tmp/$BINARY"
	build_edition "$bin"
	got="$(modules_of "$bin")"
	want="$(xargs <<<"$MODULES")"
	if [[ -z "$got" ]]; then
		echo "  modules: FAIL — no module list in the output of \`$BINARY repl\` .help (did its format change?)"
		ok=0
	elif [[ "$got" != "$want" ]]; then
		echo "  modules: FAIL — the binary's modules differ from MODULES in editions/$ed/manifest.env"
		missing="$(LC_ALL=C comm -23 <(tr ' ' '\n' <<<"$want") <(tr ' ' '\n' <<<"$got") | xargs)"
		extra="$(LC_ALL=C comm -13 <(tr ' ' '\n' <<<"$want") <(tr ' ' '\n' <<<"$got") | xargs)"
		[[ -n "$missing" ]] && echo "    missing: $missing"
		[[ -n "$extra" ]] && echo "    extra:   $extra"
		ok=0
	else
		# every expected name must be a module-typed global in a script
		names="${want// /, }"
		want_types="$(for _ in $want; do printf 'module '; done | xargs)"
		types="$(env -i PATH="$PATH" HOME="$tmp/home" TMPDIR="$tmp" "$bin" exec \
			"print(' '.join([type(m) for m in [$names]]))" 2>&1)" || true
		if [[ "$types" != "$want_types" ]]; then
			echo "  modules: FAIL — \`$BINARY exec\` does not see every module as a global of type module:"
			echo "    $types"
			ok=0
		else
			echo "  modules: $(wc -w <<<"$want" | xargs), as in the manifest"
		fi
	fi
	((ok)) || failed+=("$ed")
done

if ((${#failed[@]})); then
	echo "check-tiers: FAILED for ${failed[*]}" >&2
	exit 1
fi
echo "check-tiers: ok"
