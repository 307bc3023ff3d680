#!/usr/bin/env bash
# Builds the real control-plane binaries (kube-apiserver, kube-controller-manager, kubectl, etcd)
# from the Go module proxy at the versions pinned in tools/go.mod, once per pin set, into the
# user's cache folder. Prints the bin directory. A second run with the same pins builds nothing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
k8s_version="v1.35.4"
key="$(cat "$here/tools/go.mod" "$here/tools/go.sum" "$here/build.sh" | sha256sum | cut -c1-16)"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/gitops-guard/envtest"
bin="$cache_root/$key/bin"
if [[ -x "$bin/kube-apiserver" && -x "$bin/kube-controller-manager" && -x "$bin/kubectl" && -x "$bin/etcd" ]]; then
  echo "$bin"
  exit 0
fi
command -v go >/dev/null || { echo "envtest: Go is required to build the control plane" >&2; exit 1; }
tmp="$cache_root/$key/tmp.$$"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
minor="${k8s_version#v1.}"; minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
start=$SECONDS
cd "$here/tools"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
echo "envtest: building Kubernetes $k8s_version and etcd into $bin (first run only, several minutes)" >&2
go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl
go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
mkdir -p "$bin"
mv "$tmp"/* "$bin/"
echo "envtest: built in $((SECONDS - start))s" >&2
echo "$bin"
