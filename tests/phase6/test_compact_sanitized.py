"""phase6's compact lookups (``phase6/_compact.c``, UuidMap) under AddressSanitizer and UBSan.

The test builds ``_compact.c`` with ``-fsanitize=address,undefined`` (``tests/sanitizers.py``)
and runs this file as a script under the sanitizer runtimes. As a script it loads that build
as ``chatmigrate.phase6._compact`` before ``chatmigrate.phase6`` is imported (so compact.py's
``_Packed`` is built on it, which it checks), then, for each shape compact.py declares
(``route_map``, ``booking_map``, ``id_set``, ``id_map``, ``pair_map``, ``count_map``), runs
random operations on the mapping and on a dict side by side: keys that are canonical UUIDs
(many, so the tables grow and move), upper case, cut short, padded, not ASCII, not str or not
hashable; values of the shape and not; set, del, get, ``in``, ``[]``, pop, setdefault, len,
iteration while the map grows and shrinks. Every result (or exception type) must be the
dict's, and so must the contents at the end. Then some cases of test_compact_maps.py, among
them those where Python code runs in the middle of an operation and changes the map (a
constant field's ``__eq__`` while a value is stored, a garbage collection while a value is
built), which only a sanitizer reliably sees go wrong.

Any read or write outside a block, use after free or undefined behaviour aborts the script
with a report; the test fails on a non-zero exit or a report on stderr. Skipped where gcc or
its sanitizer runtimes are missing.
"""

from __future__ import annotations

import gc
import random
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sanitizers

MODULE = "chatmigrate.phase6._compact"
OPS = 40_000  # per shape


def test_the_compact_maps_are_memory_safe_under_asan_and_ubsan(tmp_path: Path) -> None:
    built = sanitizers.build("src/chatmigrate/phase6/_compact.c", MODULE, tmp_path)
    done = sanitizers.run(Path(__file__), str(built))
    sanitizers.assert_clean(done)
    assert "sanitized compact maps ok" in done.stdout, done.stdout


# ------------------------------------------------------------------ the driver (run as a script)

MISSING = object()


def result(f: Callable[..., Any], *args: Any) -> Any:
    """What ``f(*args)`` returns, or the type of what it raises (compared across map and dict)."""
    try:
        return f(*args)
    except Exception as exc:  # the exception is the result being compared
        return type(exc)


class Str(str):
    """A str subclass: parsed as UUID text like a str, kept as it is in a dict."""

    __slots__ = ()


def stress(name: str, m: Any, value: Callable[[random.Random, Any], Any], rnd: random.Random) -> None:
    ids = [str(uuid.UUID(int=rnd.getrandbits(128))) for _ in range(3000)]

    def key() -> Any:
        k = rnd.choice(ids)
        x = rnd.random()
        if x < 0.80:
            return k
        return rnd.choice([
            k.upper(), k[:-1], k[1:], k + " ", " " + k[:-1], k.replace("-", ""), k[:35] + "g", k[:35] + "é",
            k[:8] + "_" + k[9:], Str(k), "", "c-17", 17, 17.0, None, k.encode(), (k,), [k], frozenset(),
        ])

    d: dict[Any, Any] = {}
    for i in range(OPS):
        op, k = rnd.random(), key()
        if op < 0.45:
            v = value(rnd, k)
            assert result(m.__setitem__, k, v) == result(d.__setitem__, k, v), (name, k, v)
        elif op < 0.55:
            assert result(m.__delitem__, k) == result(d.__delitem__, k), (name, k)
        elif op < 0.65:
            assert result(m.__getitem__, k) == result(d.__getitem__, k), (name, k)
        elif op < 0.75:
            assert result(m.get, k, MISSING) == result(d.get, k, MISSING), (name, k)
        elif op < 0.85:
            assert result(m.__contains__, k) == result(d.__contains__, k), (name, k)
        elif op < 0.90:
            assert result(m.pop, k, MISSING) == result(d.pop, k, MISSING), (name, k)
        elif op < 0.94:
            v = value(rnd, k)
            assert result(m.setdefault, k, v) == result(d.setdefault, k, v), (name, k)
        else:
            assert len(m) == len(d), name
        if i % 4000 == 0:
            iterate_while_changing(m, d, ids, rnd)
            assert len(m) == len(d) and sorted(map(repr, m)) == sorted(map(repr, d)), name
    assert len(m) == len(d) and dict(m.items()) == d and m == d, name
    for k in list(d)[::3]:
        del m[k], d[k]
    assert {k: m[k] for k in m} == d, name


def iterate_while_changing(m: Any, d: dict[Any, Any], ids: list[str], rnd: random.Random) -> None:
    """Iterate the map while it grows (its arrays move) and while entries are deleted."""
    it = iter(m)
    next(it, None)
    added = [str(uuid.UUID(int=rnd.getrandbits(128))) for _ in range(rnd.choice([1, 50, 400]))]
    seen = []
    try:
        for n, k in enumerate(it):
            seen.append(k)
            if n < len(added):
                m[added[n]] = d[added[n]] = None
            elif n % 7 == 0 and k in d and isinstance(k, str):
                del m[k], d[k]
    except RuntimeError:  # the dict of the kept entries changed size: as a dict iterator says
        pass
    assert all(isinstance(k, (str, int, float, bytes, tuple, frozenset, type(None))) for k in seen)
    for k in added[len(added) // 2:]:
        m.pop(k, None)
        d.pop(k, None)


def drive(path: str) -> None:
    native = sanitizers.load_as(MODULE, path)
    from chatmigrate.phase6 import compact  # only after the sanitized build is in place
    from chatmigrate.phase6 import records as r

    assert compact._NATIVE is native and native.__file__ == path and compact.native_available(), compact._NATIVE
    assert compact._Packed.__mro__[1] is native.UuidMap
    started = time.monotonic()
    people = [str(uuid.UUID(int=random.Random(n).getrandbits(128))) for n in range(40)]

    def u(rnd: random.Random) -> str | None:
        x = rnd.random()
        return None if x < 0.1 else rnd.choice(people) if x < 0.6 else str(uuid.UUID(int=rnd.getrandbits(128)))

    def odd(rnd: random.Random) -> Any:
        return rnd.choice(["p-17", people[0].upper(), people[1][:-1], 17, None, "", b"x", (people[2],)])

    def route(rnd: random.Random, k: Any) -> Any:
        x = rnd.random()
        if x < 0.1:
            return None
        if x < 0.75:
            return r.TargetChat(u(rnd) or people[3], None, "", "", u(rnd), u(rnd))
        return rnd.choice([
            r.TargetChat(odd(rnd), None, "", "", u(rnd), u(rnd)), r.TargetChat(u(rnd), people[4], "", "", None, None),
            r.TargetChat(u(rnd), None, "x", "", u(rnd), None), r.TargetChat(u(rnd), None, "", "", odd(rnd), u(rnd)),
            (u(rnd), None, "", "", None, None), r.Route(("2024",), ()), "route",
        ])

    def booking(rnd: random.Random, k: Any) -> Any:
        x = rnd.random()
        if x < 0.1:
            return None
        if x < 0.75:
            return r.LegacyBooking(k, u(rnd), u(rnd), None, None)
        return rnd.choice([
            r.LegacyBooking(u(rnd), u(rnd), u(rnd), None, None), r.LegacyBooking(k, odd(rnd), u(rnd), None, None),
            r.LegacyBooking(k, u(rnd), u(rnd), "c-1", None), r.LegacyBooking(k, None, None, None, "2024-01-01"),
            (k, u(rnd), u(rnd), None, None), 3,
        ])

    def flag(rnd: random.Random, k: Any) -> Any:
        return rnd.choice([True, True, True, None, False, 1, "yes"])

    def ident(rnd: random.Random, k: Any) -> Any:
        return u(rnd) if rnd.random() < 0.8 else odd(rnd)

    def pair(rnd: random.Random, k: Any) -> Any:
        x = rnd.random()
        if x < 0.7:
            return (u(rnd), u(rnd))
        return rnd.choice([None, (u(rnd),), (u(rnd), u(rnd), None), (odd(rnd), u(rnd)), [u(rnd), u(rnd)]])

    def count(rnd: random.Random, k: Any) -> Any:
        return rnd.choice([0, 1, 2**32 - 1, rnd.getrandbits(20), rnd.getrandbits(32), None,
                           -1, 2**32, 2**64, -(2**70), True, 1.0, "5"])

    shapes = {"route_map": route, "booking_map": booking, "id_set": flag, "id_map": ident, "pair_map": pair,
              "count_map": count}
    for seed, (name, value) in enumerate(shapes.items()):
        m = getattr(compact, name)()
        assert isinstance(m, compact._Packed), type(m)
        stress(name, m, value, random.Random(seed))
        print(name, m.stats())
        del m
        gc.collect()
    # the cases where Python code changes the map in the middle of an operation on it (and
    # the str subclass key): their regression tests, here with a sanitizer to catch a stray access
    import test_compact_maps as cases  # imports compact: only after the sanitized build

    for shape in sorted(cases.SHAPES):
        cases.test_a_str_subclass_is_the_same_key_as_its_text("packed", shape)
        cases.test_every_key_and_value_reads_back_as_a_dict_would_give_it("packed", shape)
    cases.test_a_constant_fields_eq_that_changes_the_map_while_a_value_is_stored(None)
    cases.test_a_collection_that_changes_the_map_while_a_value_is_built(None)
    cases.test_keys_can_be_iterated_while_the_map_grows_and_cycles_through_it_are_collected(None)
    print(f"sanitized compact maps ok: {len(shapes)} shapes x {OPS} operations, {time.monotonic() - started:.1f} s")


if __name__ == "__main__":
    drive(sys.argv[1])
