"""pyproject.toml must list every package folder (a normal wheel would silently drop one)."""
import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[2]
MAPPING = {"core": "isinglab.core", "app": "isinglab.app", "resources": "isinglab.resources"}


def test_every_package_folder_is_declared():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert {v: k for k, v in cfg["package-dir"].items()} == MAPPING
    found = set()
    for folder, dotted in MAPPING.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((dotted, *rel)))
    assert found == set(cfg["packages"]), f"undeclared: {found - set(cfg['packages'])}"
