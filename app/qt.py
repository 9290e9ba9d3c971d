"""One place that picks the Qt binding (PySide6) for pyqtgraph and vispy."""
import os

os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
