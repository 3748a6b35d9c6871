"""Step 3's storage completeness: the run's chat images checked in Supabase Storage.

Owns: the image fields of chat-validation-results.json and their validation error.
With storage configured, every ``chat_image`` media row of the temp dir's run is checked
through :func:`images.verify_run` (its object exists with the source's size and MD5):
``images_checked``, ``images_missing``, ``images_mismatched``, ``images_unverified``
(capped lists, each with ``*_total`` and ``*_truncated``); a missing or mismatched object
makes the run invalid, an unverified one (never copied) is reported only. Without storage
configured the results say so (``images``: not checked) and ``is_valid`` is unaffected.

Does not own: the verification itself (``images``), the rows (``validate``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..storage.target import StorageConfig
from .images import verify_run

NOT_CHECKED = "not checked (no storage configured)"
IMAGE_LISTS = ("images_missing", "images_mismatched", "images_unverified")


def image_fields(temp_dir: Path, url: str, storage: StorageConfig | None,
                 max_listed: int) -> tuple[dict[str, Any], list[str]]:
    """(the results file's image fields, validation errors) for the temp dir's run."""
    if storage is None:
        return {"images": NOT_CHECKED}, []
    res = verify_run(temp_dir, url, storage)
    fields: dict[str, Any] = {"images": f"checked in {storage.scrub(storage.where)}",
                              "images_checked": res.expected, "images_in_place": res.in_place}
    for key in IMAGE_LISTS:
        found: list[str] = getattr(res, key)
        fields[key] = found[:max_listed]
        fields[f"{key}_total"] = len(found)
        fields[f"{key}_truncated"] = len(found) > max_listed
    errors: list[str] = []
    bad = len(res.images_missing) + len(res.images_mismatched)
    if bad:
        errors.append(f"{bad:,} of {res.expected:,} chat images are not in {storage.scrub(storage.where)} as copied "
                      f"({len(res.images_missing):,} missing, {len(res.images_mismatched):,} with another size or "
                      "MD5; under images_missing and images_mismatched): run `chatmigrate images` to copy them "
                      "again")
    return fields, errors
