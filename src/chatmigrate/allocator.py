"""The process's memory allocator policy, set once by the command line at start.

Owns: fixing glibc malloc's mmap threshold (:func:`settle`). By default glibc raises the
threshold each time a large block is freed (up to 32 MB), after which blocks of that size
come from the heap, and a long run that allocates and frees buffers of a few MB (the dump
reader's window, COPY batches, JSON documents) leaves freed holes there that the process
keeps: measured on the 10M-message world, step 1's lookups built with 175 MB resident
instead of 130 MB, and `run` peaked 40-60 MB higher. A fixed threshold of 1 MiB sends every
larger block to its own mapping, returned to the system when freed.

Does not own: what is allocated (the compact lookups map their own arrays:
``phase6._compact``). Elsewhere than glibc it does nothing. A library user may call
:func:`settle` too; nothing in the library depends on it.
"""

from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>
MMAP_THRESHOLD = 1 << 20


def settle() -> bool:
    """Fix glibc's mmap threshold at 1 MiB; True if it was set (glibc only)."""
    try:
        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
            return False
        return bool(libc.mallopt(ctypes.c_int(M_MMAP_THRESHOLD), ctypes.c_int(MMAP_THRESHOLD)))
    except (OSError, AttributeError):
        return False
