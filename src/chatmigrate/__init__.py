"""chatmigrate: migrate chat history from a legacy MySQL dump into Supabase PostgreSQL.

The package is a library with a thin CLI. The data flows one way:
``dump`` (read the mysqldump file) -> ``phase6`` (the plan's rules, pure) ->
``planfiles`` (the plan's JSON files) -> ``postgres`` (load, check, roll back, the
ledger) -> ``steps`` (each command's step as one function) -> ``cli``.

The public API is what ``__all__`` names: reading a dump, each step, their result
types and the root error. Names are imported on first use, so ``import chatmigrate``
stays cheap (the CLI's start-up, ``--help``)::

    from pathlib import Path
    import chatmigrate as cm

    for row in cm.read_rows("legacy.sql", ["message"]):
        ...
    result = cm.run("legacy.sql", Path("scripts/migration/temp"), "postgresql://postgres@127.0.0.1/app")
    print(result.success, result.validation.is_valid)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "DumpReader": "chatmigrate.dump",
    "Row": "chatmigrate.dump",
    "TableInfo": "chatmigrate.dump",
    "read_rows": "chatmigrate.dump",
    "scan_dump": "chatmigrate.dump",
    "extract": "chatmigrate.steps.extract",
    "ExtractResult": "chatmigrate.steps.extract",
    "create": "chatmigrate.steps.create",
    "CreateResult": "chatmigrate.steps.create",
    "validate": "chatmigrate.steps.validate",
    "ValidateResult": "chatmigrate.steps.validate",
    "run": "chatmigrate.steps.run",
    "RunResult": "chatmigrate.steps.run",
    "plan": "chatmigrate.steps.plan",
    "rollback": "chatmigrate.steps.rollback",
    "RollbackCounts": "chatmigrate.postgres.rollback",
    "ChatmigrateError": "chatmigrate.errors",
}

__all__ = [
    "ChatmigrateError", "CreateResult", "DumpReader", "ExtractResult", "RollbackCounts", "Row", "RunResult",
    "TableInfo", "ValidateResult", "__version__", "create", "extract", "plan", "read_rows", "rollback", "run",
    "scan_dump", "validate",
]

if TYPE_CHECKING:
    from .dump import DumpReader, Row, TableInfo, read_rows, scan_dump
    from .errors import ChatmigrateError
    from .postgres.rollback import RollbackCounts
    from .steps.create import CreateResult, create
    from .steps.extract import ExtractResult, extract
    from .steps.plan import plan
    from .steps.rollback import rollback
    from .steps.run import RunResult, run
    from .steps.validate import ValidateResult, validate


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'chatmigrate' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
