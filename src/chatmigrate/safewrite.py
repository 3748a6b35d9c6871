"""Writing a file so that it appears only complete, owner-only, and never through a link.

Owns: the one way chatmigrate creates an output file. The content goes to a temporary
file created in the same folder with ``O_CREAT | O_EXCL`` and mode ``0600`` from the
start (``tempfile.mkstemp``: a random name, so a planted file or symlink at a
predictable name is never opened), is flushed and ``fsync``-ed, and is renamed over the
final name (``rename`` replaces a symlink planted at the final name instead of writing
through it; a pre-existing file of any mode is replaced by the new ``0600`` one). A
killed write leaves the old file intact; its leftover ``.NAME.*.tmp`` is removed by the
next write of the same name.

Also the one way it makes a private folder and moves files into it (:func:`new_private_dir`,
:func:`move_names`): every path component below the given base is opened with ``O_NOFOLLOW``
through directory descriptors, so a planted symlink is refused, never followed, and the
folder itself is created with ``mkdir`` (mode ``0700``) and refused if it already exists.
Moves are ``rename`` within one folder tree: atomic, the bytes untouched.

Does not own: what goes into a file (``planfiles``, ``synth``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, BinaryIO

BUFFER = 1 << 20


def temp_prefix(path: Path) -> str:
    return f".{path.name}."


def remove_leftovers(path: Path) -> list[Path]:
    """Remove the ``.NAME.*.tmp`` files earlier (killed) writes of ``path`` left behind."""
    removed: list[Path] = []
    prefix = temp_prefix(path)
    try:
        names = os.listdir(path.parent)
    except FileNotFoundError:
        return removed
    for name in names:
        if name.startswith(prefix) and name.endswith(".tmp"):
            p = path.parent / name
            try:
                os.unlink(p)  # a symlink is removed itself, never followed
            except FileNotFoundError:
                continue
            removed.append(p)
    return removed


@contextmanager
def _atomic_fd(path: Path) -> Iterator[tuple[int, str]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(path), suffix=".tmp")  # O_EXCL, 0600
    try:
        yield fd, tmp
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _sync_dir(path.parent)


@contextmanager
def atomic_text(path: Path, newline: str | None = None) -> Iterator[IO[str]]:
    """Open ``path`` for writing UTF-8 text; see the module docstring."""
    with _atomic_fd(path) as (fd, _), os.fdopen(fd, "w", encoding="utf-8", buffering=BUFFER,
                                                          newline=newline) as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())


@contextmanager
def atomic_bytes(path: Path) -> Iterator[BinaryIO]:
    """Open ``path`` for writing bytes; see the module docstring."""
    with _atomic_fd(path) as (fd, _), os.fdopen(fd, "wb", buffering=BUFFER) as fh:
        yield fh
        fh.flush()
        os.fsync(fh.fileno())


def _sync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text(path: Path, text: str) -> None:
    with atomic_text(path) as fh:
        fh.write(text)


_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def _open_below(base: Path, parts: tuple[str, ...]) -> int:
    """A descriptor of base/parts..., each part opened without following a link (ELOOP / ENOTDIR)."""
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts:
            nxt = os.open(part, _DIR, dir_fd=fd)
            os.close(fd)
            fd = nxt
    except BaseException:
        os.close(fd)
        raise
    return fd


def new_private_dir(base: Path, parent: str, name: str) -> Path:
    """Create ``base/parent/name`` mode 0700 (``parent`` too, if missing); raise OSError if it exists or is a link."""
    fd = _open_below(base, ())
    try:
        with suppress(FileExistsError):
            os.mkdir(parent, 0o700, dir_fd=fd)
        pfd = os.open(parent, _DIR, dir_fd=fd)
        try:
            os.mkdir(name, 0o700, dir_fd=pfd)  # FileExistsError for anything there, a dangling link included
            os.fsync(pfd)
        finally:
            os.close(pfd)
    finally:
        os.close(fd)
    return base / parent / name


def move_names(base: Path, names: list[str], parts: tuple[str, ...]) -> None:
    """Rename each ``base/NAME`` to ``base/parts.../NAME`` (links moved as links, never followed)."""
    src = _open_below(base, ())
    try:
        dst = _open_below(base, parts)
        try:
            for name in names:
                os.rename(name, name, src_dir_fd=src, dst_dir_fd=dst)
            os.fsync(dst)
            os.fsync(src)
        finally:
            os.close(dst)
    finally:
        os.close(src)
