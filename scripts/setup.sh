#!/usr/bin/env bash
# Create .venv and install isinglab with its test and docs extras (idempotent). The CPU build of
# torch goes in first so pip does not fetch a multi-GB CUDA build; on a GPU machine install a CUDA
# torch instead.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=(.venv/bin/python -m pip install -q --disable-pip-version-check)
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    "${PIP[@]}" "torch==2.13.0" || "${PIP[@]}" "torch>=2.1,<3"
fi
"${PIP[@]}" -e ".[test,docs]"
.venv/bin/python -c "import isinglab.core, torch, numba, PySide6, pyqtgraph, vispy, mkdocs, material"
