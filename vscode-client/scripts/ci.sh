#!/usr/bin/env bash
# CI for the VS Code extension: install, bundle the server, build, lint, test,
# package, and check what the .vsix holds. Exits non-zero on any failure.
#
#   PYTHON=/path/to/python bash vscode-client/scripts/ci.sh
#
# $PYTHON (default python3) bundles the server and is the interpreter the
# integration tests start the server with (it needs Python >= 3.10, and pip and
# network access to PyPI for the bundling step).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PYTHON="${PYTHON:-python3}"
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

step() {
    printf '\n=== vscode-client: %s ===\n' "$1"
    step_started=$SECONDS
}
done_step() {
    printf -- '--- %s: %ss\n' "$1" "$((SECONDS - step_started))"
}

step "npm ci"
npm ci --no-audit --no-fund
done_step "npm ci"

step "bundle the server into bundled/libs ($PYTHON)"
bash scripts/bundle-server.sh
done_step "bundle"

step "build"
npm run build
done_step "build"

step "lint"
npm run lint
done_step "lint"

step "unit tests"
npm run test:unit
done_step "unit tests"

step "integration tests (real server over LSP, $PYTHON)"
npm run test:integration
done_step "integration tests"

step "package"
version="$(node -p "require('./package.json').version")"
vsix="asyncsense-${version}.vsix"
rm -f ./*.vsix
npm run package
test -f "$vsix" || { echo "ci: $vsix was not produced" >&2; exit 1; }
ls -l "$vsix"
done_step "package"

step "check the .vsix"
listing="$(mktemp)"
trap 'rm -f "$listing"; rm -rf "${unpacked:-}"' EXIT
"$PYTHON" - "$vsix" >"$listing" <<'PY'
import sys, zipfile
for name in zipfile.ZipFile(sys.argv[1]).namelist():
    print(name)
PY
if command -v unzip >/dev/null; then unzip -l "$vsix" | tail -n 1; fi
fail=0
for required in \
    extension/package.json \
    extension/readme.md \
    extension/LICENSE.txt \
    extension/out/extension.js \
    extension/bundled/libs/asyncsense/__init__.py \
    extension/bundled/libs/asyncsense/__main__.py \
    extension/bundled/libs/asyncsense/server/__init__.py \
    extension/bundled/libs/asyncsense/analyzers/__init__.py \
    extension/bundled/libs/pygls/__init__.py \
    extension/bundled/libs/lsprotocol/__init__.py \
    extension/bundled/libs/jedi/__init__.py \
    extension/bundled/libs/parso/__init__.py \
    extension/bundled/libs/pathspec/__init__.py; do
    if ! grep -qx "$required" "$listing"; then
        echo "ci: the .vsix lacks $required" >&2
        fail=1
    fi
done
for forbidden in '^extension/node_modules/' '^extension/src/' '^extension/out/test-build/' '\.vsix$' '__pycache__' '^extension/bundled/libs/bin/'; do
    if grep -E -q "$forbidden" "$listing"; then
        echo "ci: the .vsix holds files it should not ($forbidden):" >&2
        grep -E "$forbidden" "$listing" | head -5 >&2
        fail=1
    fi
done
grep -q '^extension/images/demo.gif$' "$listing" \
    || { echo "ci: the .vsix has no README picture under images/" >&2; fail=1; }
[ "$fail" -eq 0 ] || exit 1

# The bundled server in the .vsix imports on its own (no site-packages: -S).
unpacked="$(mktemp -d)"
"$PYTHON" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$vsix" "$unpacked"
PYTHONPATH="$unpacked/extension/bundled/libs" "$PYTHON" -S -c '
import sys, asyncsense, asyncsense.server, pygls, jedi, lsprotocol
root = sys.argv[1]
for mod in (asyncsense, asyncsense.server, pygls, jedi, lsprotocol):
    assert mod.__file__.startswith(root), f"{mod.__name__} imported from {mod.__file__}, not from the .vsix"
print("ci: the bundled server in the .vsix imports (asyncsense", asyncsense.__version__ + ")")
' "$unpacked/extension/bundled/libs"
echo "ci: $vsix holds the client and the bundled server ($(wc -l <"$listing") files)"
done_step "check the .vsix"
