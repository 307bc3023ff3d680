#!/usr/bin/env bash
# Builds what makes workloads run in the test control plane, each binary once per its own inputs,
# into the user's cache folder, and prints their paths (kube-scheduler first, then kwok):
#   kube-scheduler  k8s.io/kubernetes/cmd/kube-scheduler at the pins of tools/go.mod (the same
#                   Kubernetes as build.sh's kube-apiserver); keyed on tools/go.mod, go.sum and
#                   its own recipe below, so the control plane binaries of build.sh are untouched.
#   kwok            sigs.k8s.io/kwok/cmd/kwok, fake kubelets for fake Nodes. Its module needs
#                   Kubernetes 0.36 libraries, which cannot share tools/go.mod with 1.35.4, and
#                   has no replace directives, so `go install PKG@VERSION` builds it with the
#                   pins of its own go.mod and go.sum, checked against the Go checksum database.
#                   Keyed on the version and its recipe.
# A second run with the same inputs builds nothing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
k8s_version="v1.35.4"
kwok_version="v0.8.0"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/gitops-guard/envtest"

build_scheduler() { # OUT_DIR
  local minor="${k8s_version#v1.}" ldflags="-s -w" pkg
  minor="${minor%%.*}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$here/tools" && CGO_ENABLED=0 GOFLAGS=-mod=mod \
    go build -trimpath -ldflags "$ldflags" -o "$1/" k8s.io/kubernetes/cmd/kube-scheduler)
}

build_kwok() { # OUT_DIR
  (cd "$1" && CGO_ENABLED=0 GOFLAGS= GOBIN="$1" \
    go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$kwok_version")
}

# ensure NAME KEY_INPUT BUILD_FUNCTION: prints the cached binary's path, building it first if needed.
ensure() {
  local name="$1" key dir tmp start
  key="$(printf '%s\n%s' "$2" "$(declare -f "$3")" | sha256sum | cut -c1-16)"
  dir="$cache_root/$name-$key"
  if [[ ! -x "$dir/$name" ]]; then
    command -v go >/dev/null || { echo "envtest: Go is required to build $name" >&2; exit 1; }
    mkdir -p "$dir"
    tmp="$(mktemp -d "$dir/.tmp.XXXXXX")"
    start=$SECONDS
    echo "envtest: building $name into $dir (first run only)" >&2
    if ! "$3" "$tmp"; then
      rm -rf "$tmp"
      exit 1
    fi
    # Rename is atomic, so a concurrent caller sees either no binary or a whole one.
    mv -f "$tmp/$name" "$dir/$name"
    rm -rf "$tmp"
    echo "envtest: built $name in $((SECONDS - start))s" >&2
  fi
  echo "$dir/$name"
}

ensure kube-scheduler "$k8s_version $(cat "$here/tools/go.mod" "$here/tools/go.sum")" build_scheduler
ensure kwok "$kwok_version" build_kwok
