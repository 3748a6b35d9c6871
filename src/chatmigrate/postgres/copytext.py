"""PostgreSQL COPY's text format, and the UUID check every staged id passes first.

Owns: escaping a value for a COPY text line, formatting the boolean fields, and the
canonical (lowercase) UUID test shared by step 2's staging and step 3's expected rows.
Does not own: which columns are copied, or where (``load``, ``checks``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

is_uuid: Callable[[str], object] = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
).fullmatch
NULL = "\\N"  # COPY text's NULL


def copy_text(value: str) -> str:
    """A value in COPY's text format: backslash, tab, newline and carriage return escaped."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return value


def copy_bool(value: bool) -> str:
    return "t" if value else "f"


def from_copy(field: str) -> str | None:
    """A text field read back by COPY TO (ids and reasons: no escapes), NULL as None."""
    return None if field == NULL else field
