"""allocator.settle: glibc's mmap threshold fixed by the command line at start."""

from __future__ import annotations

import platform
import subprocess
import sys

from chatmigrate import allocator


def test_on_glibc_the_threshold_is_fixed_and_elsewhere_nothing_happens():
    assert allocator.settle() is (platform.libc_ver()[0] == "glibc")


def test_a_freed_large_buffer_goes_back_to_the_system_after_settle():
    # after glibc has raised its threshold (a freed 8 MB block), a 4 MB block comes from the
    # heap and, freed under other live blocks, stays resident; with settle() it is a mapping
    code = """
import ctypes, sys
from chatmigrate import allocator
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes, libc.free.argtypes = ctypes.c_void_p, [ctypes.c_size_t], [ctypes.c_void_p]
if len(sys.argv) > 1:
    allocator.settle()
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096
def block(n):
    p = libc.malloc(n)
    ctypes.memset(p, 1, n)
    return p
libc.free(block(24 << 20))  # glibc now takes blocks up to 24 MB from the heap
before = rss()
big, small = [], []
for _ in range(8):
    big.append(block(12 << 20))
    small.append(block(64 << 10))  # a live block above each (too big for an old hole): the heap cannot shrink
for p in big:
    libc.free(p)
print(rss() - before)
"""
    if platform.libc_ver()[0] != "glibc":
        return
    held = {arg: int(subprocess.run([sys.executable, "-c", code, *arg], capture_output=True, text=True, check=True)
                     .stdout) for arg in ((), ("settle",))}
    assert held[()] > 48 << 20  # default policy: the 96 MB freed stay resident
    assert held[("settle",)] < 4 << 20
