#!/usr/bin/env bash
# Builds one main package of a pinned Go module (a folder with go.mod, go.sum and a tools.go)
# from the Go module proxy, once per pin set, into the user's cache folder, and prints the
# binary's path. A second run with the same go.mod, go.sum and script builds nothing.
#   usage: build-go-tool.sh MODULE_DIR PACKAGE NAME
set -euo pipefail
if [[ $# -ne 3 ]]; then
  echo "usage: $0 MODULE_DIR PACKAGE NAME" >&2
  exit 2
fi
module_dir="$(cd "$1" && pwd)"
package="$2"
name="$3"
script="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
# The key covers the pins, the module's own Go sources (a local main package such as
# ./gotemplate) and this script; the package path keeps two tools of one module apart.
sources="$(cd "$module_dir" && find . -name '*.go' -type f | LC_ALL=C sort)"
key="$( (cd "$module_dir" && cat go.mod go.sum $sources; cat "$script"; echo "$package") | sha256sum | cut -c1-16)"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/gitops-guard/tools"
out="$cache_root/$key/$name"
if [[ -x "$out" ]]; then
  echo "$out"
  exit 0
fi
command -v go >/dev/null || { echo "build-go-tool: Go is required to build $name" >&2; exit 1; }
mkdir -p "$cache_root/$key"
tmp="$(mktemp "$cache_root/$key/.$name.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
start=$SECONDS
echo "build-go-tool: building $package into $out (first run only)" >&2
cd "$module_dir"
# -mod=readonly: the pins in go.mod/go.sum are the truth; a build never edits them.
CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" -o "$tmp" "$package"
chmod +x "$tmp"
# Rename is atomic, so a concurrent caller sees either no binary or a whole one.
mv -f "$tmp" "$out"
echo "build-go-tool: built $name in $((SECONDS - start))s" >&2
echo "$out"
