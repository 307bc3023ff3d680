#!/usr/bin/env bash
# Installs the pinned moto[server] (requirements.txt) into a Python virtual environment in the
# user's cache folder, once per pin set, and prints the path of that environment's python.
# Run the emulator as `<python> -m moto.server`. A second run installs nothing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
key="$(cat "$here/requirements.txt" "$here/install.sh" | sha256sum | cut -c1-16)"
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/gitops-guard/tools"
venv="$cache_root/moto-$key"
python="$venv/bin/python"
if [[ -f "$venv/.complete" ]]; then
  echo "$python"
  exit 0
fi
command -v python3 >/dev/null || { echo "moto: python3 is required for the KMS emulator" >&2; exit 1; }
mkdir -p "$cache_root"
# A venv records its own path, so it is built in place; the lock keeps concurrent callers from
# building it twice, and .complete marks an environment that finished installing.
exec 9>"$venv.lock"
flock 9
if [[ ! -f "$venv/.complete" ]]; then
  start=$SECONDS
  echo "moto: installing $(grep -v '^#' "$here/requirements.txt" | tr '\n' ' ')into $venv (first run only)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
  touch "$venv/.complete"
  echo "moto: installed in $((SECONDS - start))s" >&2
fi
echo "$python"
