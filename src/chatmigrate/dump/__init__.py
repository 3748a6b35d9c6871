"""Reading mysqldump / mariadb-dump files. Nothing in this package knows about chats."""

from .reader import DumpReader, Row, TableInfo, read_rows, scan_dump
from .statements import Column

__all__ = ["Column", "DumpReader", "Row", "TableInfo", "read_rows", "scan_dump"]
