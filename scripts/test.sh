#!/usr/bin/env bash
# Install (idempotent) and run the whole test suite; GL tests get a virtual display from xvfb-run.
# When pytest passes, build the docs (scripts/build_docs.sh: mkdocs build --strict, warnings are
# errors), so CI checks them too; ISINGLAB_SKIP_DOCS=1 skips that step. Exit status: pytest's when
# it fails, else the docs build's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
status=0
if command -v xvfb-run >/dev/null 2>&1; then
    xvfb-run -a -s "-screen 0 1920x1200x24" .venv/bin/python -m pytest -q "$@" || status=$?
else
    .venv/bin/python -m pytest -q "$@" || status=$?
fi
[ "$status" -eq 0 ] || exit "$status"
[ "${ISINGLAB_SKIP_DOCS:-0}" = 1 ] && exit 0
# the docs build's output goes to a log, shown only if it fails: pytest's summary stays the last
# thing a passing run prints, but for one line
log=$(mktemp)
if bash scripts/build_docs.sh >"$log" 2>&1; then
    echo "docs: built site/ with mkdocs --strict (scripts/build_docs.sh)"
    rm -f "$log"
else
    status=$?
    cat "$log" >&2
    echo "docs: scripts/build_docs.sh failed (exit $status); log above" >&2
    rm -f "$log"
    exit "$status"
fi
