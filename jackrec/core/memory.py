"""Whether this process may lock memory, asked of the core's own allocator."""

from __future__ import annotations

from jackrec._core import ffi, lib


def memory_lock_works(size: int) -> bool:
    """Allocate (and free) a ring of `size` bytes the way the recorder does.

    The limits alone can mislead (root locks past RLIMIT_MEMLOCK), so
    this locks for real.
    """
    locked = ffi.new("int *")
    ring = lib.jr_ring_new(size // 4, 4, locked)
    lib.jr_ring_free(ring)
    return bool(locked[0])
