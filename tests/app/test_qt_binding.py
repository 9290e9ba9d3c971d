"""The Qt binding must keep CPython's reference counts: PySide6-Essentials 6.12.0 on Python < 3.12
drops a reference to None on every void Qt call and the app aborts ("none_dealloc") within
seconds. pyproject.toml excludes that release; this test catches any build that regresses."""
import sys

from PySide6.QtCore import QObject


def test_void_qt_calls_keep_the_reference_count_of_none():
    obj = QObject()
    for probe in (None, True, False):
        before = sys.getrefcount(probe)
        for _ in range(1000):
            obj.setObjectName("probe")
            obj.blockSignals(False)
        assert sys.getrefcount(probe) - before > -100, f"Qt calls leak references to {probe!r}"
