#!/usr/bin/env bash
# Builds the oldest Kubernetes the chart supports (1.30): kube-apiserver, kube-controller-manager,
# kube-scheduler and kubectl, with the etcd of that release line, from the Go module proxy at the
# pins of tools-v1.30/go.mod, once per pin set, into the user's cache folder. Prints the bin
# directory. `ENVTEST_KUBERNETES=1.30` makes test/envtest use it (see binaries.ts).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
k8s_version="v1.30.14"
tools="$here/tools-v1.30"
key="$(cat "$tools/go.mod" "$tools/go.sum" "$here/build-v1.30.sh" | sha256sum | cut -c1-16)"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/gitops-guard/envtest"
bin="$cache_root/v1.30-$key/bin"
names=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd)
complete=1
for name in "${names[@]}"; do [[ -x "$bin/$name" ]] || complete=0; done
if ((complete)); then
  echo "$bin"
  exit 0
fi
command -v go >/dev/null || { echo "envtest: Go is required to build Kubernetes $k8s_version" >&2; exit 1; }
tmp="$cache_root/v1.30-$key/tmp.$$"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=30"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
start=$SECONDS
cd "$tools"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
echo "envtest: building Kubernetes $k8s_version and etcd into $bin (first run only, several minutes)" >&2
go build -trimpath -ldflags "$ldflags" -o "$tmp/" k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubectl
go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3
mkdir -p "$bin"
mv "$tmp"/* "$bin/"
echo "envtest: built in $((SECONDS - start))s" >&2
echo "$bin"
