"""core/ must stay headless: no Qt, vispy, pyqtgraph or isinglab.app, statically or at run time."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "qtpy", "pyqtgraph", "vispy", "superqt", "isinglab.app")
LINT = pathlib.Path(sys.executable).with_name("lint-imports")


def _lint(config):
    return subprocess.run([str(LINT), "--config", str(config)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_import_contracts_hold():
    """The contracts in pyproject.toml ([tool.importlinter]), checked by import-linter."""
    res = _lint(ROOT / "pyproject.toml")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "BROKEN" not in res.stdout and "KEPT" in res.stdout


def test_import_linter_sees_a_broken_contract(tmp_path):
    """The check can fail: the app does import Qt, so forbidding that must be reported."""
    config = tmp_path / "contracts.ini"
    config.write_text("[importlinter]\nroot_packages =\n    isinglab.core\n    isinglab.app\n"
                      "include_external_packages = True\n\n[importlinter:contract:x]\nname = app without Qt\n"
                      "type = forbidden\nsource_modules =\n    isinglab.app\nforbidden_modules =\n    PySide6\n")
    res = _lint(config)
    assert res.returncode != 0 and "BROKEN" in res.stdout


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
