"""core/ must stay headless: no Qt, vispy, pyqtgraph or isinglab.app, statically or at run time."""
import ast
import pathlib
import subprocess
import sys

CORE = pathlib.Path(__file__).resolve().parents[1] / "core"
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "qtpy", "pyqtgraph", "vispy", "superqt", "isinglab.app")


def imported_names(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level >= 2 and node.module == "app":  # from ..app import x
                yield "isinglab.app"
            elif node.module:
                yield node.module


def test_core_sources_import_nothing_graphical():
    bad = [(p.relative_to(CORE.parent), name) for p in CORE.rglob("*.py") for name in imported_names(p)
           if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)]
    assert not bad, f"core/ imports GUI modules: {bad}"


def test_importing_every_core_module_loads_no_gui_module():
    code = (
        "import importlib, pkgutil, sys, isinglab.core as c\n"
        "for m in pkgutil.walk_packages(c.__path__, 'isinglab.core.'):\n"
        "    importlib.import_module(m.name)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} or m.startswith('isinglab.app')]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
