#!/usr/bin/env bash
# DetScope's two set-up commands (see README):
#   ./dev.sh run [FOLDER]   install what is missing into .venv, then open the GUI (sample set by default)
#   ./dev.sh test [ARGS]    install what is missing into .venv, check the import layers, run the tests
# Re-running is fast: pip only runs when pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "$0")"

find_python() {
    for candidate in python3.11 python3.12 python3.13 python3.10 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    echo "DetScope needs Python 3.10 or newer" >&2; return 1
}

ensure_venv() {
    local stamp=.venv/.detscope-installed want
    want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
    if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    [ -x .venv/bin/python ] || "$(find_python)" -m venv .venv
    echo "Installing DetScope's dependencies into .venv (first run takes a few minutes)..." >&2
    # opencv-contrib-python-headless replaced opencv-python-headless (same cv2 package): in a
    # venv that has the old one, remove it and rewrite cv2 from the contrib wheel
    if .venv/bin/python -m pip show -q opencv-python-headless >/dev/null 2>&1; then
        .venv/bin/python -m pip uninstall -y -q opencv-python-headless
        .venv/bin/python -m pip install -q --force-reinstall --no-deps opencv-contrib-python-headless
    fi
    # torch>=2.5 in pyproject lets pip take a matching torch + torchvision pair from the registry.
    # (the filter drops pip's notes about index folders that this machine's pip config names)
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
    # the TIDE test oracle, without the opencv-python it asks for (see pyproject's dev extra)
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps tidecv==1.0.1
    echo "$want" > "$stamp"
}

command=${1:-run}
shift || true
ensure_venv
case "$command" in
    run)  exec .venv/bin/python main.py "$@" ;;
    test) .venv/bin/lint-imports --no-cache  # the layer rules in pyproject.toml
          QT_QPA_PLATFORM=offscreen exec .venv/bin/python -m pytest -q "$@" ;;
    *)    echo "usage: ./dev.sh run [FOLDER] | ./dev.sh test [PYTEST ARGS]" >&2; exit 2 ;;
esac
