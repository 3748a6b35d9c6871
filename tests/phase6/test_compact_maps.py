"""phase6.compact's lookups (uuid_map and its shapes): a dict in behaviour, a few dozen bytes an entry.

The C mapping packs a canonical UUID key whose value has the declared shape and keeps every
other key or value as it is; whatever it does inside, each operation must give what a dict
gives. Each case runs on the packed mapping (where the extension is built) and on the
pure-Python fallback (``CHATMIGRATE_PURE_PYTHON=1``: a plain dict).
"""

from __future__ import annotations

import gc
import sys
import uuid
from collections.abc import Callable, MutableMapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatmigrate.phase6 import compact
from chatmigrate.phase6 import records as r

U = [str(uuid.UUID(int=i * 0x9E3779B97F4A7C15F39CC0605CEDC835 % (1 << 128))) for i in range(1, 9)]


def chat(i: int, customer: str | None = None, stylist: str | None = None) -> r.TargetChat:
    return r.TargetChat(U[i], None, "", "", customer, stylist)


SHAPES: dict[str, tuple[Callable[[], MutableMapping[str, Any]], list[Any], list[Any]]] = {
    # shape: (factory, values it packs, values it keeps as they are)
    "routes": (compact.route_map,
               [None, chat(0, U[1], U[2]), chat(3), chat(4, None, U[1])],
               [r.TargetChat("not-a-uuid", None, "", "", U[1], U[2]), r.TargetChat(U[0], U[1], "", "", None, None),
                r.TargetChat(U[0], None, "x", "", None, None), r.Route(("2024",), (chat(0),)),
                (U[0], None, "", "", None, None), r.TargetChat(U[0].upper(), None, "", "", None, None)]),
    "bookings": (compact.booking_map,
                 [None],  # plus the booking of its own key (below)
                 [r.LegacyBooking(U[7], U[1], U[2], None, None),  # the id is not the key
                  r.LegacyBooking("{key}", U[1], U[2], U[3], None), r.LegacyBooking("{key}", "p-1", None, None, None),
                  r.LegacyBooking("{key}", U[1], U[2], None, "2024-01-01 00:00:00")]),
    "ids": (compact.id_set, [True, None], [False, 1, "yes"]),
    "mapping": (compact.id_map, [U[5], None], ["p-17", U[5].upper(), 17]),
    "pairs": (compact.pair_map, [(U[1], U[2]), (None, None), None], [(U[1],), ("p-1", U[2]), [U[1], U[2]]]),
    "counts": (compact.count_map, [0, 5, 2**32 - 1, None], [-1, 2**32, 10**30, True, 1.0, "5"]),
}
KEYS = [U[0], U[6], U[0].upper(), f" {U[6]}", "c-1", "", U[0][:-1], U[0].replace("-", "")]


def values_for(shape: str, key: str) -> list[Any]:
    _, packs, keeps = SHAPES[shape]
    out = [*packs, *keeps]
    if shape == "bookings":
        out += [r.LegacyBooking(key, U[1], U[2], None, None), r.LegacyBooking(key, None, U[3], None, None)]
    return [v._replace(id=key) if isinstance(v, r.LegacyBooking) and v.id == "{key}" else v for v in out]


@pytest.fixture(params=["packed", "dict"])
def engine(request, monkeypatch):
    if request.param == "packed" and compact._NATIVE is None:
        pytest.skip("the _compact extension is not built here")
    monkeypatch.setenv("CHATMIGRATE_PURE_PYTHON", "1" if request.param == "dict" else "0")
    return request.param


@pytest.fixture
def packed(monkeypatch):
    """The packed mapping, whatever the environment of the test run says."""
    if compact._NATIVE is None:
        pytest.skip("the _compact extension is not built here")
    monkeypatch.setenv("CHATMIGRATE_PURE_PYTHON", "0")


def same_as(m: MutableMapping[str, Any], model: dict[str, Any]) -> None:
    assert len(m) == len(model)
    assert sorted(m, key=repr) == sorted(model, key=repr)
    assert dict(m.items()) == model and m == model
    for k, v in model.items():
        got = m[k]
        assert got == v and type(got) is type(v), k
        assert m.get(k, "absent") == v and k in m
    for k in KEYS:
        if k not in model:
            assert k not in m and m.get(k) is None and m.get(k, "absent") == "absent"
            with pytest.raises(KeyError):
                m[k]


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_key_and_value_reads_back_as_a_dict_would_give_it(engine, shape):
    factory = SHAPES[shape][0]
    m, model = factory(), {}
    assert (type(m) is dict) == (engine == "dict")
    for key in KEYS:
        for value in values_for(shape, key):
            m[key] = model[key] = value  # overwrites every earlier value: packed <-> kept, both ways
            same_as(m, model)
    for key in KEYS[::2]:
        del m[key], model[key]
        same_as(m, model)
        with pytest.raises(KeyError):
            del m[key]
    for key in KEYS:  # again after deletion
        m[key] = model[key] = values_for(shape, key)[0]
    same_as(m, model)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_values_of_the_declared_shape_are_packed_and_others_kept_as_they_are(packed, shape):
    factory, packs, keeps = SHAPES[shape]
    m: Any = factory()
    for i, v in enumerate(packs):
        m[U[i]] = v
    assert m.stats()["packed"] == len(packs) and m.stats()["overflow"] == 0
    for i, v in enumerate(keeps):
        m[U[i]] = v.replace("{key}", U[i]) if isinstance(v, str) else v
    assert m.stats()["overflow"] == min(len(keeps), 8) and len(m) == max(len(packs), len(keeps))
    m[U[0].upper()] = packs[0]  # a key that is not canonical is kept as it is
    assert m.stats()["overflow"] == min(len(keeps), 8) + 1


def test_chats_routes_and_bookings_take_a_few_dozen_bytes_each(packed):
    people = [str(uuid.uuid4()) for _ in range(1000)]
    m, own = compact.route_map(), compact.route_map(own_ids=True)
    n = 200_000
    for i in range(n):
        k = str(uuid.uuid4())
        m[k] = None if i % 6 == 0 else r.TargetChat(
            str(uuid.uuid4()), None, "", "", people[i % 1000], people[(i * 7) % 1000])
        own[k] = None if i % 6 == 0 else r.TargetChat(k, None, "", "", people[i % 1000], people[(i * 7) % 1000])
    growing = sys.getsizeof(m)
    compact.trim(m)
    compact.trim(own)
    assert sys.getsizeof(m) < growing
    assert sys.getsizeof(m) / n < 55  # a dict of the same holds ~270 bytes a chat
    assert sys.getsizeof(own) / n < 40 and own.stats()["overflow"] == 0  # type: ignore[attr-defined]
    assert all(own[k] == m[k]._replace(id=k) if m[k] else own[k] is None for k in list(m)[:1000])
    m[str(uuid.uuid4())] = None  # still usable after trim
    assert len(m) == n + 1
    booked = compact.booking_map()
    for i in range(n):
        k = str(uuid.uuid4())
        booked[k] = r.LegacyBooking(k, people[i % 1000], people[(i * 3) % 1000], None, None)
    assert sys.getsizeof(booked) / n < 45  # 27 bytes an entry, its slot, and room to grow (not trimmed: short-lived)


def test_without_the_extension_or_when_switched_off_the_lookups_are_dicts(monkeypatch):
    monkeypatch.setenv("CHATMIGRATE_PURE_PYTHON", "1")
    assert not compact.native_available()
    assert all(type(factory()) is dict for factory, _, _ in SHAPES.values())


def test_keys_can_be_iterated_while_the_map_grows_and_cycles_through_it_are_collected(packed):
    m: Any = compact.uuid_map(compact.UUID)
    for k in U[:4]:
        m[k] = k
    seen = []
    for i, k in enumerate(m):
        seen.append(k)
        if i < 200:
            m[str(uuid.UUID(int=i + 1))] = None  # appended while iterating: no crash, no stale memory
    assert seen[:4] == U[:4]
    holder: list[Any] = []
    cyc: Any = compact.uuid_map(compact.UUID)
    cyc["k"] = holder
    holder.append(cyc)
    del cyc, holder
    assert gc.collect() >= 1


class Str(str):
    __slots__ = ()


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_str_subclass_is_the_same_key_as_its_text(engine, shape):
    """A dict finds ``Str(k)`` and ``k`` as one key; the packed map read only compact str as UUID
    text, so ``m[Str(k)]`` missed a packed ``k`` and ``m[Str(k)] = v`` made a second entry."""
    m, model = SHAPES[shape][0](), {}
    v = values_for(shape, U[0])[0]
    m[U[0]] = model[U[0]] = v
    assert Str(U[0]) in m and m[Str(U[0])] == v and m.get(Str(U[0])) == v
    m[Str(U[0])] = model[Str(U[0])] = v
    m[Str(U[1])] = model[Str(U[1])] = v
    same_as(m, model)
    assert U[1] in m
    del m[Str(U[0])], model[Str(U[0])]
    del m[U[1]], model[U[1]]
    same_as(m, model)


class Meddler:
    """A template constant whose ``==`` -- run while a value is checked for its shape -- acts (once)."""

    def __init__(self, act: Callable[[], None] | None = None) -> None:
        self.act = act

    def __eq__(self, other: object) -> bool:
        act, self.act = self.act, None
        if act is not None:
            act()
        return other is self

    __hash__ = object.__hash__


def test_a_constant_fields_eq_that_changes_the_map_while_a_value_is_stored(packed):
    """Storing a value the map does not pack, over a packed one, marked the packed entry found
    *before* checking the value; the check's ``==`` had moved the entries (a write after free)
    or deleted that entry already (counted out twice: ``len`` one short)."""
    keys = [str(uuid.UUID(int=n + 1)) for n in range(600)]
    m: Any = compact.uuid_map(Meddler())
    model: dict[str, Any] = {}
    m[keys[0]] = model[keys[0]] = None

    def grow() -> None:
        for k in keys[2:]:
            m[k] = model[k] = None

    m[keys[0]] = model[keys[0]] = Meddler(grow)
    same_as(m, model)
    m[keys[1]] = model[keys[1]] = None

    def delete() -> None:
        del m[keys[1]], model[keys[1]]

    m[keys[1]] = model[keys[1]] = Meddler(delete)
    same_as(m, model)


def test_a_collection_that_changes_the_map_while_a_value_is_built(packed):
    """Reading a packed route allocates its TargetChat, which can run a collection and so Python
    code (gc.callbacks, a finalizer) that grows the map: the entry was read after it had moved
    (a read after free, which the ASan run in test_compact_sanitized.py catches)."""
    keys = [str(uuid.UUID(int=n + 1)) for n in range(1000)]
    m, model = compact.route_map(), {}
    for k in keys[:10]:
        m[k] = model[k] = r.TargetChat(k, None, "", "", keys[1], keys[2])
    fired = []

    def collecting(phase: str, info: object) -> None:
        if phase == "start" and not fired:
            fired.append(phase)
            for k in keys[10:]:
                m[k] = model[k] = r.TargetChat(k, None, "", "", None, keys[3])

    thresholds = gc.get_threshold()
    gc.callbacks.append(collecting)
    gc.set_threshold(1)
    try:
        got = [m[keys[0]], m.get(keys[5])]
    finally:
        gc.set_threshold(*thresholds)
        gc.callbacks.remove(collecting)
    assert fired, "no collection ran while the value was built"
    assert got == [model[keys[0]], model[keys[5]]]
    same_as(m, model)


OPS = st.lists(st.tuples(st.sampled_from(["set", "del", "get"]), st.sampled_from(KEYS), st.integers(0, 20)),
               max_size=60)


@settings(max_examples=150, deadline=None)
@given(shape=st.sampled_from(sorted(SHAPES)), ops=OPS)
def test_any_sequence_of_operations_gives_what_a_dict_gives(shape, ops):
    if compact._NATIVE is None:
        pytest.skip("compares the packed mapping with a dict")
    m: Any = compact._Packed(*_shape_args(shape))
    model: dict[str, Any] = {}
    for op, key, n in ops:
        values = values_for(shape, key)
        if op == "set":
            m[key] = model[key] = values[n % len(values)]
        elif op == "del":
            if key in model:
                del m[key], model[key]
            else:
                with pytest.raises(KeyError):
                    del m[key]
        else:
            assert m.get(key, "absent") == model.get(key, "absent")
    same_as(m, model)


def _shape_args(shape: str) -> tuple[Any, ...]:
    return {
        "routes": ((compact.UUID, None, "", "", compact.POOLED, compact.POOLED), r.TargetChat),
        "bookings": ((compact.KEY, compact.POOLED, compact.POOLED, None, None), r.LegacyBooking),
        "ids": (True,), "mapping": (compact.UUID,), "pairs": ((compact.POOLED, compact.POOLED), tuple),
        "counts": (compact.COUNT,),
    }[shape]
