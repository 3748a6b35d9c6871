"""The dump reader's C tuple loop (``dump/_native.c``) under AddressSanitizer and UBSan.

The test builds ``_native.c`` with ``-fsanitize=address,undefined`` (``tests/sanitizers.py``)
and runs this file as a script under the sanitizer runtimes. As a script it loads that build
as ``chatmigrate.dump._native`` before ``chatmigrate.dump`` is imported (and checks the reader
took it), then reads, with the native and the pure-Python engine, each comparing what a
caller observes (``differential.outcome``):

- every input of the fuzz corpus (``tests/dump/corpus``), at its own chunk size and at 1 and 7;
- a small dump in the layouts mysqldump and mariadb-dump write (escapes, ``''``, NULL and
  ``null``, hex, ``X''``, ``b''``, ``_binary``, invalid UTF-8, numbers too long for the fast
  path, a DELIMITER block, comments, LOCK TABLES) cut at every byte and read through buffers
  of 1 to 17 bytes and of 4096;
- direct calls of ``parse_tuples`` / ``skip_body`` / ``count_newlines`` at every position of
  each cut buffer, and with positions and limits outside the buffer.

Any read outside a buffer, use after free or undefined behaviour aborts the script with a
report; the test fails on a non-zero exit or a report on stderr. Skipped where gcc or its
sanitizer runtimes are missing.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

import sanitizers

MODULE = "chatmigrate.dump._native"
CORPUS = Path(__file__).resolve().parent / "corpus"
CHUNKS = (*range(1, 18), 4096)
TYPES = ["varchar(36)", "text", "int", "bigint unsigned", "blob", "decimal(10,2)", "double", "datetime(6)"]
INSERTS = (
    b"LOCK TABLES `t` WRITE;\n/*!40000 ALTER TABLE `t` DISABLE KEYS */;\n"
    # mysqldump: one line
    b"INSERT INTO `t` VALUES ('9b2d6c1e-5f3a-4e7b-8c9d-0a1b2c3d4e5f','it''s \\'q\\' \\\"d\\\" \\\\ \\0\\n\\r\\t\\Z\\%\\_',"
    b"-12,18446744073709551615,_binary '\\0\\'\xff\xfe',-12.50,1.5e-3,'2024-02-03 04:05:06.123456'),"
    b"('a;b),(c',NULL,0,0,0x00FF275C0A,NULL,-.5,NULL),(null,'\xc3\xa6\xc3\xb8 \xf0\x9f\x98\x80','007',"
    b"123456789012345678901,X'C3A6',99999999.99,2E+10,'0000-00-00 00:00:00');\n"
    b"/*!40000 ALTER TABLE `t` ENABLE KEYS */;\nUNLOCK TABLES;\n"
    b"-- a comment; with 'a quote\n/* and ; this */\n"
    b"DELIMITER ;;\n/*!50003 CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW SET NEW.c1 = 'a;b' */;;\n"
    b"DELIMITER ;\n"
    # mariadb-dump: a row a line
    b"INSERT INTO `t` VALUES\n(\"dq \\\" ' ;\",'',1,2,b'101','1.00',1,'2024-01-01 00:00:00'),\n"
    b"( 'x' , 'line\nbreak' , -9223372036854775808 , 3 , '' , 0.00 , 0 , NULL ),\n"
    b"('\xc3\xa5','\\\\',2,4,_binary '',NULL,NULL,NULL);\n"
)


@pytest.fixture(autouse=True)
def engine() -> None:
    """Runs both engines itself: not once per engine (see tests/dump/conftest.py)."""


def test_the_native_reader_is_memory_safe_under_asan_and_ubsan(tmp_path: Path) -> None:
    built = sanitizers.build("src/chatmigrate/dump/_native.c", MODULE, tmp_path)
    done = sanitizers.run(Path(__file__), str(built))
    sanitizers.assert_clean(done)
    assert "sanitized reader ok" in done.stdout, done.stdout


# ------------------------------------------------------------------ the driver (run as a script)


def drive(path: str) -> None:
    native = sanitizers.load_as(MODULE, path)
    from chatmigrate.dump import engine, inserts, tokens  # only after the sanitized build is in place
    from differential import case_of, dump_of, outcome

    assert engine.native_available() and engine._NATIVE is native and native.__file__ == path, engine._NATIVE
    started = time.monotonic()

    def same(data: bytes, *chunk_sizes: int) -> None:
        # the Python engine's outcome does not depend on the chunk size (tests/dump/test_reader.py):
        # read it once, and again at a chunk size only where the native one differs from it
        reference = outcome(data, "python", chunk_size=4096)
        for size in chunk_sizes:
            native = outcome(data, "native", chunk_size=size)
            if native != reference:
                assert native == outcome(data, "python", chunk_size=size), (data, size)

    seeds = sorted(CORPUS.iterdir())
    for seed in seeds:
        dump, chunk_size = case_of(seed.read_bytes())
        same(dump, *{chunk_size, 1, 7})

    dump = dump_of(TYPES, INSERTS)
    assert "None, {'t': (6, 2)}, True" in outcome(dump, "python"), "the sweep's dump should read in full"
    for cut in range(len(dump) + 1):
        same(dump[:cut], *CHUNKS)

    # the extension's entry points on their own, at every position of a buffer that ends
    # anywhere in the INSERTs (each cut is a fresh bytes object: its own malloc block)
    t, i, b = tokens.to_text, tokens.to_int, tokens.to_bytes
    spec = ("t", tuple(f"c{n}" for n in range(len(TYPES))), b"ttiibooo", (t, t, i, i, b, t, t, t), inserts.Row)
    one = ("t", ("c0",), b"b", (b,), inserts.Row)
    for cut in range(0, len(INSERTS) + 1, 3):
        buf = bytes(INSERTS[:cut])
        for pos in range(-1, len(buf) + 2):
            for s in (spec, one):
                native.parse_tuples(buf, pos, 0, 512, s)
            if 0 <= pos <= len(buf):
                native.skip_body(buf, pos, b";")
                native.skip_body(buf, pos, b";;")
            native.count_newlines(buf, pos, len(buf) + 5)
    for limit in (-1, 0, 1):
        native.parse_tuples(INSERTS, INSERTS.index(b"('9b"), 0, limit, spec)
    print(f"sanitized reader ok: {len(seeds)} corpus inputs, {len(dump) + 1} cuts x {len(CHUNKS)} chunk sizes,"
          f" {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    drive(sys.argv[1])
