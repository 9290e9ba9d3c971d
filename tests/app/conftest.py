"""Fixtures shared by the window and panel tests."""
import ctypes
import sys

import pytest

_PINNED = []


def _pyside_drops_refs() -> bool:
    """PySide6 6.12's abi3 wheels on Python < 3.12 lose a reference to None on every void Qt
    call and abort the interpreter after a few hundred thousand: an environment bug, not ours."""
    from PySide6.QtCore import QObject
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(100):
        probe.setObjectName("probe")
    return before - sys.getrefcount(None) >= 100


@pytest.fixture(scope="session")
def _drops_refs() -> bool:
    return _pyside_drops_refs()


@pytest.fixture
def refcount_headroom(_drops_refs):
    """Keep None, True and False alive where PySide drops their references, so that panel tests
    with many Qt calls test the panel instead of crashing the interpreter."""
    if _drops_refs:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(_PINNED))
        for obj in (None, True, False):
            _PINNED.extend([obj] * max(0, 200_000 - sys.getrefcount(obj)))
    yield
