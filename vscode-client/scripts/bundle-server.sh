#!/usr/bin/env bash
# Installs the asyncsense server and its dependencies into bundled/libs, the
# copy of the server that ships in the .vsix (used when asyncsense is not
# importable with the user's interpreter).
#
# The libraries are pure Python. They are resolved for the oldest Python that
# asyncsense supports (3.10), so that back-ports needed there (tomli,
# exceptiongroup...) are included; newer Pythons ignore them.
#
# Usage: PYTHON=python3 scripts/bundle-server.sh   (from vscode-client/)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$here/.." && pwd)"
python="${PYTHON:-python3}"
min_python="${ASYNCSENSE_BUNDLE_PYTHON_VERSION:-3.10}"
target="$here/bundled/libs"

wheels="$(mktemp -d)"
trap 'rm -rf "$wheels"' EXIT

echo "bundle-server: building the asyncsense wheel from $repo with $python"
"$python" -m pip wheel --quiet --no-deps --wheel-dir "$wheels" "$repo"

rm -rf "$target"
mkdir -p "$target"
echo "bundle-server: installing it and its dependencies (for Python >= $min_python) into $target"
"$python" -m pip install --quiet --disable-pip-version-check --no-cache-dir \
    --target "$target" \
    --implementation py --python-version "$min_python" --only-binary=:all: \
    --no-compile \
    "$wheels"/asyncsense-*.whl

# pip evaluates markers against the Python running it: add what the oldest
# supported Python needs on top (tomli, exceptiongroup...), until nothing is missing.
for _ in 1 2 3 4 5; do
    mapfile -t extra < <("$python" "$here/scripts/missing_requirements.py" "$target" "$min_python")
    [ "${#extra[@]}" -eq 0 ] && break
    echo "bundle-server: adding for Python $min_python: ${extra[*]}"
    "$python" -m pip install --quiet --disable-pip-version-check --no-cache-dir \
        --target "$target" \
        --implementation py --python-version "$min_python" --only-binary=:all: \
        --no-compile --no-deps \
        "${extra[@]}"
done

# Console scripts are useless here (and point at the build machine's Python).
rm -rf "$target/bin"
find "$target" -name '__pycache__' -type d -prune -exec rm -rf {} +

"$python" - "$target" <<'PY'
import pathlib, sys
target = pathlib.Path(sys.argv[1])
need = ["asyncsense", "jedi", "parso", "pygls", "lsprotocol", "pathspec", "tomli", "exceptiongroup"]
missing = [n for n in need if not (target / n).is_dir()]
if missing:
    sys.exit(f"bundle-server: missing from {target}: {', '.join(missing)}")
dists = sorted(p.name[: -len(".dist-info")] for p in target.glob("*.dist-info"))
print("bundle-server: bundled", ", ".join(dists))
PY
