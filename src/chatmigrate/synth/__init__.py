"""Synthetic legacy data sets for tests, benchmarks and demos.

Owns: ``generate`` (a mysqldump-format ``legacy.sql`` in either the MySQL 8 or the
MariaDB layout, Phase 1/4 files in ``temp/``, target seed rows in ``seed/`` and
``truth.json``), ``SynthSummary``, ``read_truth`` and the fate reason strings. The
truth is what the generator knows by construction, an oracle independent of the
migration code. Deterministic for a seed; memory stays flat in the number of messages.

Does not own: reading dumps (``chatmigrate.dump``), the migration rules (``phase6``),
any CLI. Modules: ``model`` (people, chats, bookings, fates), ``texts`` (what people
write), ``sqlfile`` (the dump format), ``generate`` (the passes that write the files).
"""

from .generate import SynthSummary, generate, read_truth
from .model import (
    CHAT_FATES,
    CHAT_INACTIVE,
    CHAT_NO_BOOKING,
    CHAT_NOT_MIGRATED,
    MSG_CHAT_NOT_PROCESSED,
    MSG_NO_CHAT,
    MSG_UNKNOWN_SENDER,
    MSG_ZERO_DATE,
    PROCESSED,
)
from .sqlfile import LAYOUTS

__all__ = [
    "CHAT_FATES", "CHAT_INACTIVE", "CHAT_NOT_MIGRATED", "CHAT_NO_BOOKING", "LAYOUTS",
    "MSG_CHAT_NOT_PROCESSED", "MSG_NO_CHAT", "MSG_UNKNOWN_SENDER", "MSG_ZERO_DATE", "PROCESSED",
    "SynthSummary", "generate", "read_truth",
]
