"""The shared-memory slot ring that carries snapshots from the simulation process to the app.

Why a module of its own: both sides use it (the child in engine_child writes, the parent's
ProcessEngine in engine_process reads), and its correctness rules are its own. Each published
snapshot is written to one of `SLOTS` slots (spins, and the cluster mask as bits for cluster
algorithms); a slot carries a sequence number written before and after its data, so a slot that
was overwritten while it was copied is detected and the snapshot skipped (the next one follows
within a frame).

Only the child, which creates the blocks, registers them with the resource tracker (shared with
the parent): the parent maps them without registering, so the two never disagree ('leaked
shared_memory' warnings at exit), and removes a block only for a child that can no longer do it
itself (`unlink_orphan`).
"""
from __future__ import annotations

import mmap
import os
import shutil
import sys
from multiprocessing import shared_memory

import numpy as np

from .errors import IsingLabError

SLOTS = 3  # with <= 120 publishes/s a slot is rewritten after 25 ms at the soonest
_HEADER = 16  # two int64 sequence numbers around each slot's data


def _needed_bytes(size: int) -> int:
    return SLOTS * (_HEADER + size * size + -(-size * size // 8))


def check_room(size: int) -> None:
    """A full /dev/shm would kill the writer with SIGBUS: refuse with a message instead."""
    try:
        free = shutil.disk_usage("/dev/shm").free
    except OSError:
        return  # no /dev/shm (not Linux): the OS allocates the block
    need = _needed_bytes(size)
    if need > free:
        raise IsingLabError(f"not enough shared memory for L = {size}: {need / 2**20:.0f} MB needed "
                            f"in /dev/shm, {free / 2**20:.0f} MB free; choose a smaller L")


class _Mapping:
    """The child's block mapped here without registering it with the resource tracker (which
    SharedMemory(name) does before Python 3.13; the tracker keeps one entry per name, so a
    registration arriving after the child's own unlink was left over as a 'leak' at exit)."""

    def __init__(self, name: str):
        import _posixshmem
        fd = _posixshmem.shm_open("/" + name, os.O_RDWR, mode=0o600)
        try:
            self._mmap = mmap.mmap(fd, os.fstat(fd).st_size)
        finally:
            os.close(fd)
        self.buf = memoryview(self._mmap)

    def close(self) -> None:
        self.buf.release()  # BufferError while a view is still exported, as SharedMemory's
        self._mmap.close()


def _attach(name: str):
    if os.name != "posix":
        return shared_memory.SharedMemory(name)  # no resource tracker: nothing to avoid
    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name, track=False)
    return _Mapping(name)


def unlink_orphan(name: str) -> None:
    """Remove the block of a child that can no longer do it (died, or was terminated), with its
    entry in the resource tracker: what the child's own unlink would have done."""
    if os.name != "posix":
        return  # Windows frees a block with its last handle
    import _posixshmem
    from multiprocessing import resource_tracker
    try:
        _posixshmem.shm_unlink("/" + name)
    except FileNotFoundError:
        return  # the child unlinked it after all (and unregistered it)
    resource_tracker.unregister("/" + name, "shared_memory")


class Slots:
    """SLOTS x (header, spins L*L int8, cluster mask packed to bits) in one shared-memory block."""

    def __init__(self, size: int, name: str | None = None):
        self.size = size
        self.packed = -(-size * size // 8)
        self.stride = _HEADER + size * size + self.packed
        if name is None:  # the child creates (and registers, and unlinks) the block
            check_room(size)
            self.shm = shared_memory.SharedMemory(create=True, size=SLOTS * self.stride)
        else:
            self.shm = _attach(name)
        self.buf = np.ndarray((SLOTS, self.stride), np.uint8, self.shm.buf)

    @property
    def name(self) -> str:
        return self.shm.name

    def _seq(self, k: int) -> np.ndarray:
        return self.buf[k, :_HEADER].view(np.int64)

    def _arrays(self, k: int):
        n = self.size * self.size
        row = self.buf[k, _HEADER:]
        return row[:n].view(np.int8).reshape(self.size, self.size), row[n:]

    def write(self, serial: int, spins: np.ndarray, cluster: np.ndarray | None) -> int:
        k = serial % SLOTS
        seq = self._seq(k)
        seq[0] = -serial  # being written
        s, c = self._arrays(k)
        s[...] = spins
        if cluster is not None:
            c[...] = np.packbits(cluster, axis=None)
        seq[1] = serial
        seq[0] = serial
        return k

    def read(self, k: int, serial: int, with_cluster: bool):
        """Private copies of slot k, or None if it no longer holds `serial`."""
        seq = self._seq(k)
        if seq[0] != serial:
            return None
        s, c = self._arrays(k)
        spins = s.copy()
        bits = c.copy() if with_cluster else None
        if seq[0] != serial or seq[1] != serial:
            return None  # overwritten while copying
        if bits is None:
            return spins, None
        return spins, np.unpackbits(bits, count=self.size * self.size).astype(np.bool_).reshape(spins.shape)

    def close(self, unlink: bool = False) -> None:
        self.buf = None
        try:
            self.shm.close()
        except BufferError:  # a view is still exported: the mapping goes with the process
            pass
        if unlink:  # even so (an unlinked block is freed once its last mapping is)
            try:
                self.shm.unlink()
            except FileNotFoundError:
                pass
