"""isinglab.core: everything that computes. Imports numpy, numba, scipy, torch; never Qt."""
from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("isinglab")
except _metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0+unknown"
