#!/usr/bin/env bash
# k8s-testenv.sh — a real kube-apiserver + etcd on 127.0.0.1 for the k8s
# integration tests, built from the Go module proxy (no downloads of
# release binaries, no Docker).
#
#   scripts/k8s-testenv.sh build   build both binaries into the cache (idempotent)
#   scripts/k8s-testenv.sh up      build if needed, start both (idempotent); the
#                                  last line printed is the kubeconfig path
#   scripts/k8s-testenv.sh down    stop both and remove their data
#   scripts/k8s-testenv.sh env     print the binary paths (KUBE_APISERVER=, ETCD=)
#
# Cache: ${XDG_CACHE_HOME:-$HOME/.cache}/kite/k8s-testenv/<versions>/ — the
# cold build takes several minutes; later runs reuse it.
set -euo pipefail

K8S_VERSION=v1.36.3   # k8s.io/kubernetes; staging modules are v0.36.3
ETCD_VERSION=v3.7.3

cache="${XDG_CACHE_HOME:-$HOME/.cache}/kite/k8s-testenv/k8s-${K8S_VERSION}-etcd-${ETCD_VERSION}"
bin="$cache/bin"
run="${KITE_K8S_TESTENV_DIR:-$cache/run}"
apiserver="$bin/kube-apiserver"
etcd="$bin/etcd"

log() { echo "k8s-testenv: $*" >&2; }
die() { log "$*"; exit 1; }

command -v go >/dev/null || die "the go tool is not in PATH"

# build_apiserver builds k8s.io/kubernetes/cmd/kube-apiserver in a
# throwaway module: kubernetes' go.mod points its k8s.io/* staging modules
# at ./staging, which a module download does not contain, so each replace
# is re-pointed at the published module of the matching version.
build_apiserver() {
	[[ -x "$apiserver" ]] && return
	local src="$cache/src/apiserver"
	mkdir -p "$src" "$bin"
	local staging="v0${K8S_VERSION#v1}"
	local gomod
	gomod="$(cd "$src" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
	[[ -f "$gomod" ]] || die "could not download k8s.io/kubernetes@$K8S_VERSION"
	{
		echo "module kite.local/k8s-testenv/apiserver"
		echo
		echo "go $(go env GOVERSION | sed 's/^go//')"
		echo
		echo "require k8s.io/kubernetes $K8S_VERSION"
		echo
		echo "replace ("
		sed -n 's#^[[:space:]]*\(k8s.io/[^[:space:]]*\) => ./staging/.*#\t\1 => \1 '"$staging"'#p' "$gomod"
		echo ")"
	} >"$src/go.mod"
	cat >"$src/tools.go" <<'EOF'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
EOF
	log "building kube-apiserver $K8S_VERSION from the module proxy (several minutes, once)"
	(cd "$src" && GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true)
	(cd "$src" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver)
	mv "$apiserver.tmp" "$apiserver"
}

# build_etcd builds etcd from go.etcd.io/etcd/server/v3 with its sibling
# modules pinned to the same release.
build_etcd() {
	[[ -x "$etcd" ]] && return
	local src="$cache/src/etcd"
	mkdir -p "$src" "$bin"
	cat >"$src/go.mod" <<EOF
module kite.local/k8s-testenv/etcd

go $(go env GOVERSION | sed 's/^go//')

require (
	go.etcd.io/etcd/server/v3 $ETCD_VERSION
	go.etcd.io/etcd/api/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/pkg/v3 $ETCD_VERSION
	go.etcd.io/etcd/client/v3 $ETCD_VERSION
	go.etcd.io/etcd/pkg/v3 $ETCD_VERSION
)
EOF
	cat >"$src/main.go" <<'EOF'
// Command etcd is etcd's own main, built from the server module.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
	log "building etcd $ETCD_VERSION from the module proxy"
	(cd "$src" && GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 || true)
	(cd "$src" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$etcd.tmp" .)
	mv "$etcd.tmp" "$etcd"
}

# free_port prints a TCP port nothing listens on.
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 30000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port found"
}

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

ready() {
	local port token
	port="$(cat "$run/apiserver.port" 2>/dev/null)" || return 1
	token="$(cat "$run/token" 2>/dev/null)" || return 1
	[[ "$(curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "https://127.0.0.1:$port/readyz")" == 200 ]]
}

up() {
	build_etcd
	build_apiserver
	if alive "$run/etcd.pid" && alive "$run/apiserver.pid" && ready; then
		echo "$run/kubeconfig"
		return
	fi
	down_quiet
	mkdir -p "$run/etcd-data" "$run/certs"
	chmod 700 "$run"
	command -v openssl >/dev/null || die "openssl is needed to make the service-account key"
	openssl genrsa -out "$run/sa.key" 2048 2>/dev/null
	openssl rsa -in "$run/sa.key" -pubout -out "$run/sa.pub" 2>/dev/null
	local token
	token="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	echo "$token" >"$run/token"
	echo "$token,kite-admin,kite-admin,system:masters" >"$run/tokens.csv"
	# a second user with no rights, for Forbidden tests
	echo "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'),kite-nobody,kite-nobody" >>"$run/tokens.csv"

	local etcd_client etcd_peer port
	etcd_client="$(free_port)"
	etcd_peer="$(free_port)"
	"$etcd" --data-dir "$run/etcd-data" --name kite-testenv \
		--listen-client-urls "http://127.0.0.1:$etcd_client" --advertise-client-urls "http://127.0.0.1:$etcd_client" \
		--listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
		--initial-cluster "kite-testenv=http://127.0.0.1:$etcd_peer" \
		--unsafe-no-fsync --log-level error >"$run/etcd.log" 2>&1 &
	echo $! >"$run/etcd.pid"

	port="$(free_port)"
	echo "$port" >"$run/apiserver.port"
	"$apiserver" --etcd-servers "http://127.0.0.1:$etcd_client" \
		--bind-address 127.0.0.1 --secure-port "$port" --cert-dir "$run/certs" \
		--token-auth-file "$run/tokens.csv" --authorization-mode RBAC \
		--service-account-issuer https://kite-testenv.local --service-account-key-file "$run/sa.pub" \
		--service-account-signing-key-file "$run/sa.key" --service-cluster-ip-range 10.0.0.0/24 \
		--disable-admission-plugins ServiceAccount --allow-privileged=true \
		--v 0 >"$run/apiserver.log" 2>&1 &
	echo $! >"$run/apiserver.pid"

	for _ in $(seq 1 240); do
		if ready; then
			write_kubeconfig "$port" "$token"
			echo "$run/kubeconfig"
			return
		fi
		alive "$run/apiserver.pid" || { tail -20 "$run/apiserver.log" >&2; die "kube-apiserver exited"; }
		alive "$run/etcd.pid" || { tail -20 "$run/etcd.log" >&2; die "etcd exited"; }
		sleep 0.25
	done
	tail -20 "$run/apiserver.log" >&2
	die "kube-apiserver not ready after 60s"
}

write_kubeconfig() {
	local port=$1 token=$2 ca
	ca="$(base64 -w0 <"$run/certs/apiserver.crt")"
	cat >"$run/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kite-testenv
  cluster:
    server: https://127.0.0.1:$port
    certificate-authority-data: $ca
users:
- name: kite-admin
  user:
    token: $token
- name: kite-nobody
  user:
    token: $(sed -n 's/,kite-nobody,.*//p' "$run/tokens.csv")
contexts:
- name: kite-testenv
  context: {cluster: kite-testenv, user: kite-admin, namespace: default}
- name: kite-nobody
  context: {cluster: kite-testenv, user: kite-nobody, namespace: default}
current-context: kite-testenv
EOF
	chmod 600 "$run/kubeconfig"
}

down_quiet() {
	local f
	for f in "$run/apiserver.pid" "$run/etcd.pid"; do
		if alive "$f"; then
			kill "$(cat "$f")" 2>/dev/null || true
			for _ in $(seq 1 40); do alive "$f" || break; sleep 0.25; done
			alive "$f" && kill -9 "$(cat "$f")" 2>/dev/null || true
		fi
	done
	rm -rf "$run"
}

case "${1:-}" in
build) build_etcd; build_apiserver; echo "$bin" ;;
up) up ;;
down) down_quiet ;;
env) echo "KUBE_APISERVER=$apiserver"; echo "ETCD=$etcd" ;;
*) echo "usage: $0 build|up|down|env" >&2; exit 2 ;;
esac
