"""Coverage-guided differential fuzzing of the dump reader's two engines with atheris.

Owns: the fuzz target (an input becomes a one-table dump and a buffer size, see
``tests/differential.case_of``; it is read by the native and the pure-Python engine
and every observable result -- rows, offsets, error class, message, line, offset -- must be
equal, and no exception but a DumpError may escape), and running it for a bounded time.
The seed corpus is tests/dump/corpus/ (small, committed, replayed by the test suite);
new inputs go to bench/out/fuzz-corpus/ (gitignored). A crash input is written by
libFuzzer as ./crash-*; add it to tests/dump/corpus/ once fixed.

Does not own: the engines. Needs ``pip install atheris`` (the ``fuzz`` extra).

    .venv/bin/python bench/fuzz_reader.py                  # 60 s
    .venv/bin/python bench/fuzz_reader.py --seconds 600
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import atheris

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

with atheris.instrument_imports():
    import chatmigrate.dump  # noqa: F401 - instrumented for coverage
    from differential import case_of, outcome


def one_input(data: bytes) -> None:
    dump, chunk_size = case_of(data)
    python = outcome(dump, "python", chunk_size=chunk_size)
    native = outcome(dump, "native", chunk_size=chunk_size)
    if python != native:
        raise AssertionError(f"the engines disagree on {dump!r}:\npython {python}\nnative {native}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=60)
    opts, rest = ap.parse_known_args()
    out = HERE / "out" / "fuzz-corpus"
    out.mkdir(parents=True, exist_ok=True)
    args = [sys.argv[0], f"-max_total_time={opts.seconds}", "-max_len=512", *rest,
            str(out), str(ROOT / "tests" / "dump" / "corpus")]
    atheris.Setup(args, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
