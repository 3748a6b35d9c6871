"""The mysqldump / mariadb-dump file format, for writing.

Owns: the header and trailer each tool writes (conditional comments, ``SET NAMES
utf8mb4``, ``SET TIME_ZONE='+00:00'``, MariaDB's sandbox line), the ``CREATE TABLE``
statements of the legacy tables, and one table's section: ``DROP TABLE`` /
``CREATE TABLE`` / ``LOCK TABLES`` / INSERTs split at about 1 MB / ``UNLOCK TABLES``,
in one of three layouts ("single": one INSERT per row, as --skip-extended-insert writes;
"mysql8": all tuples of a statement on one line; "mariadb":
``VALUES`` then one tuple per line).

Does not own: the rows (callers pass ready-made tuple bytes such as ``b"('a',1)"``),
escaping (``chatmigrate.dump.tokens.escape``), what the data means.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import BinaryIO

LAYOUTS = ("mysql8", "mariadb", "single")  # single: mysqldump --skip-extended-insert
STATEMENT_LIMIT = 1046528  # mysqldump's default net_buffer_length: ~1 MB per INSERT
COLLATE = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
NOW6 = "DEFAULT CURRENT_TIMESTAMP(6)"

DDL: dict[str, str] = {
    "address": f"""CREATE TABLE `address` (
  `id` varchar(36) NOT NULL,
  `street` varchar(255) NOT NULL,
  `postal_code` varchar(10) NOT NULL,
  `city` varchar(255) NOT NULL,
  `location` point NOT NULL,
  `buyer_id` varchar(36) DEFAULT NULL,
  `created_at` datetime(6) NOT NULL {NOW6},
  PRIMARY KEY (`id`),
  KEY `FK_b0bd6b7d4d3c8e3c8b1a2f0e9d8` (`buyer_id`),
  CONSTRAINT `FK_b0bd6b7d4d3c8e3c8b1a2f0e9d8` FOREIGN KEY (`buyer_id`) REFERENCES `buyer` (`id`) ON DELETE SET NULL
) {COLLATE};""",
    "booking": f"""CREATE TABLE `booking` (
  `id` varchar(36) NOT NULL,
  `buyer_id` varchar(36) NOT NULL,
  `stylist_id` varchar(36) NOT NULL,
  `address_id` varchar(36) DEFAULT NULL,
  `date_time` timestamp NOT NULL,
  `duration` int NOT NULL DEFAULT '60',
  `status` varchar(32) NOT NULL DEFAULT 'pending',
  `price` decimal(10,2) NOT NULL,
  `travel_fee` decimal(10,2) NOT NULL DEFAULT '0.00',
  `comment` text,
  `cancellation_reason` varchar(255) DEFAULT NULL,
  `payment_intent_id` varchar(255) DEFAULT NULL,
  `is_paid` tinyint(1) NOT NULL DEFAULT '0',
  `is_reviewed` tinyint(1) NOT NULL DEFAULT '0',
  `chat_id` varchar(255) DEFAULT NULL,
  `deleted_at` datetime(6) DEFAULT NULL,
  `created_at` datetime(6) NOT NULL {NOW6},
  `updated_at` datetime(6) NOT NULL {NOW6} ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (`id`),
  KEY `FK_4d3f1c5e1a9c2a0d6e7b8c9d0e1` (`buyer_id`),
  KEY `FK_6a2b3c4d5e6f7a8b9c0d1e2f3a4` (`stylist_id`),
  KEY `IDX_booking_chat_id` (`chat_id`),
  CONSTRAINT `FK_4d3f1c5e1a9c2a0d6e7b8c9d0e1` FOREIGN KEY (`buyer_id`) REFERENCES `buyer` (`id`),
  CONSTRAINT `FK_6a2b3c4d5e6f7a8b9c0d1e2f3a4` FOREIGN KEY (`stylist_id`) REFERENCES `stylist` (`id`)
) {COLLATE};""",
    "buyer": f"""CREATE TABLE `buyer` (
  `id` varchar(36) NOT NULL,
  `first_name` varchar(255) NOT NULL,
  `last_name` varchar(255) NOT NULL,
  `email` varchar(255) NOT NULL,
  `phone_number` varchar(32) DEFAULT NULL,
  `password` varchar(255) NOT NULL,
  `profile_image` varchar(512) DEFAULT NULL,
  `created_at` datetime(6) NOT NULL {NOW6},
  `updated_at` datetime(6) NOT NULL {NOW6} ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (`id`),
  UNIQUE KEY `IDX_buyer_email` (`email`)
) {COLLATE};""",
    "chat": f"""CREATE TABLE `chat` (
  `id` varchar(36) NOT NULL,
  `buyer_id` varchar(36) NOT NULL,
  `stylist_id` varchar(36) NOT NULL,
  `booking_id` varchar(255) DEFAULT NULL,
  `buyer_has_unread` tinyint(1) NOT NULL DEFAULT '0',
  `stylist_has_unread` tinyint(1) NOT NULL DEFAULT '0',
  `is_active` tinyint(1) NOT NULL DEFAULT '1',
  `created_at` datetime(6) NOT NULL {NOW6},
  `updated_at` datetime(6) NOT NULL {NOW6} ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (`id`),
  UNIQUE KEY `UQ_BUYER_STYLIST_BOOKING` (`buyer_id`,`stylist_id`,`booking_id`),
  KEY `FK_c5ed5e5ba5a0ec9d7c2e0a1b8d4` (`stylist_id`),
  CONSTRAINT `FK_1f3a5e2b7c8d9e0f1a2b3c4d5e6` FOREIGN KEY (`buyer_id`) REFERENCES `buyer` (`id`) ON DELETE CASCADE,
  CONSTRAINT `FK_c5ed5e5ba5a0ec9d7c2e0a1b8d4` FOREIGN KEY (`stylist_id`) REFERENCES `stylist` (`id`) ON DELETE CASCADE
) {COLLATE};""",
    "chat_notes": f"""CREATE TABLE `chat_notes` (
  `id` int NOT NULL AUTO_INCREMENT,
  `chat_id` varchar(36) NOT NULL,
  `note` text NOT NULL,
  `created_at` datetime(6) NOT NULL {NOW6},
  PRIMARY KEY (`id`),
  KEY `IDX_chat_notes_chat` (`chat_id`)
) {COLLATE};""",
    "message": f"""CREATE TABLE `message` (
  `id` varchar(36) NOT NULL,
  `message` text NOT NULL,
  `is_image` tinyint(1) NOT NULL DEFAULT '0',
  `is_from` enum('buyer','stylist') NOT NULL,
  `chat_id` varchar(36) NOT NULL,
  `is_unread` tinyint(1) NOT NULL DEFAULT '1',
  `created_at` datetime(6) NOT NULL {NOW6},
  PRIMARY KEY (`id`),
  KEY `FK_619bc7b78eba833d2044153bacc` (`chat_id`)
) {COLLATE};""",
    "personal_message": f"""CREATE TABLE `personal_message` (
  `id` varchar(36) NOT NULL,
  `personalchat_id` varchar(36) NOT NULL,
  `message` text NOT NULL,
  `is_from` enum('buyer','stylist') NOT NULL,
  `created_at` datetime(6) NOT NULL {NOW6},
  PRIMARY KEY (`id`),
  KEY `IDX_personal_message_chat` (`personalchat_id`)
) {COLLATE};""",
    "personalchat": f"""CREATE TABLE `personalchat` (
  `id` varchar(36) NOT NULL,
  `buyer_id` varchar(36) NOT NULL,
  `stylist_id` varchar(36) NOT NULL,
  `booking_id` varchar(36) DEFAULT NULL,
  `created_at` datetime(6) NOT NULL {NOW6},
  PRIMARY KEY (`id`)
) {COLLATE};""",
    "stylist": f"""CREATE TABLE `stylist` (
  `id` varchar(36) NOT NULL,
  `first_name` varchar(255) NOT NULL,
  `last_name` varchar(255) NOT NULL,
  `email` varchar(255) NOT NULL,
  `phone_number` varchar(32) DEFAULT NULL,
  `bio` text,
  `is_verified` tinyint(1) NOT NULL DEFAULT '0',
  `created_at` datetime(6) NOT NULL {NOW6},
  `updated_at` datetime(6) NOT NULL {NOW6} ON UPDATE CURRENT_TIMESTAMP(6),
  PRIMARY KEY (`id`),
  UNIQUE KEY `IDX_stylist_email` (`email`)
) {COLLATE};""",
}

_SETTINGS = """/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;
/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */;
/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;
/*!{names} SET NAMES utf8mb4 */;
/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;
/*!40103 SET TIME_ZONE='+00:00' */;
/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */;
/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;
/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;
{notes}
"""
HEADER = {
    "mysql8": "-- MySQL dump 10.13  Distrib 8.0.36, for Linux (x86_64)\n--\n"
    "-- Host: 127.0.0.1    Database: nabostylisten\n"
    "-- ------------------------------------------------------\n-- Server version\t8.0.36\n\n"
    + _SETTINGS.format(names="50503", notes="/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;"),
    "mariadb": "/*M!999999\\- enable the sandbox mode */ \n"
    "-- MariaDB dump 10.19-11.4.5-MariaDB, for debian-linux-gnu (x86_64)\n--\n"
    "-- Host: 127.0.0.1    Database: nabostylisten\n"
    "-- ------------------------------------------------------\n-- Server version\t11.4.5-MariaDB-deb12\n\n"
    + _SETTINGS.format(
        names="40101", notes="/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */;"
    ),
}
_RESTORE = """/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;

/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;
/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;
/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */;
/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;
/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */;
/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;
{notes}

-- Dump completed on 2025-09-18 12:00:00
"""
TRAILER = {
    "mysql8": _RESTORE.format(notes="/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;"),
    "mariadb": _RESTORE.format(notes="/*M!100616 SET NOTE_VERBOSITY=@OLD_NOTE_VERBOSITY */;"),
}


class DumpWriter:
    """Writes one dump file; call :meth:`table` once per table, in alphabetical order."""

    def __init__(self, out: BinaryIO, layout: str) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
        self.out, self.layout = out, layout
        self.rows: dict[str, int] = {}
        out.write(HEADER[self._dialect].encode())

    @property
    def _dialect(self) -> str:
        """Whose header and trailer: a single-row-INSERT dump is mysqldump's."""
        return "mariadb" if self.layout == "mariadb" else "mysql8"

    def table(self, name: str, rows: Iterable[bytes]) -> int:
        """Write the section of table ``name`` with ``rows`` (tuples as bytes); return their number."""
        w = self.out.write
        maria = self.layout == "mariadb"
        cs = "40101" if maria else "50503"
        w(
            f"\n--\n-- Table structure for table `{name}`\n--\n\n"
            f"DROP TABLE IF EXISTS `{name}`;\n"
            "/*!40101 SET @saved_cs_client     = @@character_set_client */;\n"
            f"/*!{cs} SET character_set_client = utf8mb4 */;\n"
            f"{DDL[name]}\n"
            "/*!40101 SET character_set_client = @saved_cs_client */;\n\n"
            f"--\n-- Dumping data for table `{name}`\n--\n\n"
            f"LOCK TABLES `{name}` WRITE;\n"
            f"/*!40000 ALTER TABLE `{name}` DISABLE KEYS */;\n".encode()
        )
        if maria:
            w(b"set autocommit=0;\n")
        head = f"INSERT INTO `{name}` VALUES{chr(10) if maria else ' '}".encode()
        sep = b",\n" if maria else b","
        limit = 1 if self.layout == "single" else STATEMENT_LIMIT  # single: one INSERT per row
        size = 0  # bytes in the open statement; 0 = none open
        count = 0
        for tup in rows:
            if size == 0:
                w(head)
                size = len(head)
            else:
                w(sep)
            w(tup)
            size += len(tup) + 2
            count += 1
            if size >= limit:
                w(b";\n")
                size = 0
        if size:
            w(b";\n")
        w(f"/*!40000 ALTER TABLE `{name}` ENABLE KEYS */;\nUNLOCK TABLES;\n".encode())
        if maria:
            w(b"commit;\n")
        self.rows[name] = count
        return count

    def close(self) -> None:
        self.out.write(TRAILER[self._dialect].encode())
