"""Choosing the torch device: CUDA when there is one, the CPU otherwise, and clear messages when a
request cannot be met (no CUDA, not enough GPU memory)."""
from __future__ import annotations

import torch

from ..errors import IsingLabError

DEVICES = ("auto", "cpu", "cuda")

# Peak device bytes per spin: the int8 lattice (1), the interleaved copy for snapshots (1), the
# eager path's float32 numbers for a sweep (4) and its temporaries for one quarter (int64 table
# indices 2, gathered thresholds 1, int8 sums and masks ~0.5), rounded up. The fused path needs
# less, but may fall back to eager.
BYTES_PER_SPIN = 10


def cuda_status() -> tuple[bool, str]:
    """(available, text): the GPU's name, or why there is none."""
    if not torch.cuda.is_available():
        if torch.version.cuda is None:
            return False, f"this torch ({torch.__version__}) was built without CUDA"
        return False, "no CUDA GPU was found (driver missing or no device visible)"
    return True, torch.cuda.get_device_name(torch.cuda.current_device())


def resolve_device(device: str | None = "auto", fallback: bool = False) -> tuple[torch.device, str | None]:
    """(device, note): "auto"/None picks CUDA when available; "cuda" (or "cuda:k") without CUDA
    raises IsingLabError, or with fallback=True returns the CPU and the reason as note."""
    name = "auto" if device is None else str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu"), None
    if name == "cpu":
        return torch.device("cpu"), None
    if name == "cuda" or name.startswith("cuda:"):
        ok, why = cuda_status()
        if not ok:
            message = f"CUDA is not available: {why}"
            if fallback:
                return torch.device("cpu"), message + "; running on the CPU"
            raise IsingLabError(message)
        dev = torch.device(name)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise IsingLabError(f"there is no {name}: {torch.cuda.device_count()} CUDA device(s) present")
        return dev, None
    raise IsingLabError(f"unknown device {device!r}; choose one of: {', '.join(DEVICES)}")


def check_fits(size: int, device: torch.device) -> None:
    """Raise IsingLabError, before anything is allocated, when an L x L lattice cannot fit."""
    if device.type != "cuda":
        return
    need = BYTES_PER_SPIN * size * size
    free, total = torch.cuda.mem_get_info(device)
    if need > free:
        name = torch.cuda.get_device_name(device)
        raise IsingLabError(
            f"L = {size} needs about {need / 1e9:.1f} GB of GPU memory, but {name} has "
            f"{free / 1e9:.1f} GB free of {total / 1e9:.1f} GB; choose a smaller lattice or --device cpu")
