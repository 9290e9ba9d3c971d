#!/usr/bin/env bash
# Build the documentation site into site/ with warnings as errors (mkdocs build --strict).
# Everything the pages show that the code can produce is produced here, from the code as it is:
#   docs/reference/cli.md   the command-line reference, from the argparse parsers
#   docs/generated/         a screenshot of the window and the panels of every built-in scene,
#                           drawn by isinglab itself
# Both are gitignored, so they cannot go stale. Installs the docs extra only if it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh
PY=.venv/bin/python
ISINGLAB=(timeout 300 .venv/bin/isinglab)  # a picture that hangs fails the build instead
if ! "$PY" -c "import mkdocs, material" 2>/dev/null; then
    "$PY" -m pip install -q --disable-pip-version-check -e ".[docs]"
fi

GEN=docs/generated
rm -rf "$GEN"
mkdir -p "$GEN/figures"
# the pictures use default settings from a throw-away folder: never the user's layout, and the
# build never changes the user's settings
ISINGLAB_CONFIG_DIR=$(mktemp -d)
export ISINGLAB_CONFIG_DIR
trap 'rm -rf "$ISINGLAB_CONFIG_DIR"' EXIT

step() { printf 'build_docs: %s\n' "$*"; }

step "command-line reference"
"$PY" scripts/gen_cli_reference.py

step "window screenshot"
SHOT=(gui --size 256 --temperature 2.27 --run-seconds 5 --screenshot "$GEN/window.png")
if command -v xvfb-run >/dev/null 2>&1 \
    && QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1920x1200x24" "${ISINGLAB[@]}" "${SHOT[@]}"; then
    :  # the OpenGL view on a virtual display
else
    step "no virtual display with OpenGL: the software view, offscreen"
    QT_QPA_PLATFORM=offscreen "${ISINGLAB[@]}" "${SHOT[@]}" --no-gl
fi
[ -s "$GEN/window.png" ] || { echo "build_docs: no screenshot was written" >&2; exit 1; }

for scene_file in resources/scenes/*.json; do
    scene=$(basename "$scene_file" .json)
    step "figures of scene $scene"
    QT_QPA_PLATFORM=offscreen "${ISINGLAB[@]}" figure --scene "$scene" --out "$GEN/figures/$scene" \
        --formats png >/dev/null
done

step "mkdocs build --strict -> site/"
# NO_MKDOCS_2_WARNING: Material's banner about its end of life (May 2027), printed on every build
NO_MKDOCS_2_WARNING=1 "$PY" -m mkdocs build --strict --clean --site-dir site
step "done: open site/index.html"
