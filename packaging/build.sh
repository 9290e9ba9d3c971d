#!/usr/bin/env bash
# Build the standalone app bundle into dist/isinglab/ and check it with --self-test.
# Usage: bash packaging/build.sh [--no-check]     (ISINGLAB_BUNDLE_TORCH=1 to include torch)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m PyInstaller --version >/dev/null 2>&1 || "$PY" -m pip install "pyinstaller>=6.3"
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "${DIST:-dist}" --workpath "${WORK:-build/pyinstaller}" packaging/isinglab.spec
if [[ "${1:-}" != "--no-check" ]]; then
    QT_QPA_PLATFORM=offscreen "${DIST:-dist}/isinglab/isinglab" --self-test
fi
echo "bundle: ${DIST:-dist}/isinglab/ ($(du -sh "${DIST:-dist}/isinglab" | cut -f1))"
