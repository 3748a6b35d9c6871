"""The process's memory allocator policy, set once by the command line at start.

Owns: fixing glibc malloc's mmap threshold (:func:`settle`). By default glibc raises the
threshold each time a large block is freed (up to 32 MB), after which blocks of that size
come from the heap, and a long run that allocates and frees buffers of a few MB (the dump
reader's window, COPY batches, JSON documents) leaves freed holes there that the process
keeps: measured on the 10M-message world, step 1's lookups built with 175 MB resident
(peak 221 MB) instead of 142 MB (peak 189 MB). A fixed threshold of 8 MiB sends every larger
block to its own mapping, returned to the system when freed; smaller than the reader's
4 MB window it would map and unmap that at every refill (1 MiB: peak 182 MB, but ~8% slower).

Does not own: what is allocated (the compact lookups map their own arrays:
``phase6._compact``). Elsewhere than glibc it does nothing. A library user may call
:func:`settle` too; nothing in the library depends on it.
"""

from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>
MMAP_THRESHOLD = 8 << 20


def settle() -> bool:
    """Fix glibc's mmap threshold at 8 MiB; True if it was set (glibc only)."""
    try:
        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
            return False
        return bool(libc.mallopt(ctypes.c_int(M_MMAP_THRESHOLD), ctypes.c_int(MMAP_THRESHOLD)))
    except (OSError, AttributeError):
        return False
