"""phase6.compact.Spool and the streamed reading of indented arrays (jsonstream)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from chatmigrate import jsonstream as s
from chatmigrate.phase6 import compact
from chatmigrate.phase6 import records as r

CHAT = r.TargetChat("c-1", "b-1", "2024-01-01T00:00:00.000000Z", "2024-01-02T00:00:00.000000Z", "p-1", None)


@pytest.mark.parametrize("n", [0, 1, compact._BLOCK - 1, compact._BLOCK, 2 * compact._BLOCK + 3])
def test_a_spool_gives_back_what_was_appended_in_order_as_often_as_asked(n):
    items = [CHAT._replace(id=f"c-{i}", stylist_id=None if i % 2 else f"s-{i}") for i in range(n)]
    spool = compact.Spool(r.TargetChat._make, items)
    assert len(spool) == n
    assert list(spool) == items and list(spool) == items  # twice: the file is read again
    assert all(type(x) is r.TargetChat for x in spool)
    assert spool == items and (spool != [*items, CHAT] if n else spool == [])
    spool.close()
    assert list(spool) == [] and len(spool) == 0


def test_a_spool_can_be_iterated_while_it_grows_and_keeps_nested_tuples():
    link = ("l-1", "chat.booking_id", (("c-1", "b-1"), ("c-2", "b-2")), None)
    spool: compact.Spool[tuple[object, ...]] = compact.Spool()
    for _ in range(compact._BLOCK + 1):
        spool.append(link)
    seen = 0
    for x in spool:
        assert x == link
        seen += 1
        if seen == 1:
            spool.append(link)  # appended after the iteration began
    assert seen >= compact._BLOCK + 1 and len(spool) == compact._BLOCK + 2
    assert spool[-1] == link and spool[:1] == [link]


def test_a_spool_holds_no_named_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    spool = compact.Spool(None, range(compact._BLOCK * 2))
    assert sum(spool) == sum(range(compact._BLOCK * 2))
    assert list(tmp_path.iterdir()) == []  # unnamed: nothing to leave behind


IMAGES = [{"message": {"id": "m-1", "message": "https://x/a b\n.jpg"}, "chat_id": "c", "media": {"id": "1"}},
          {"nested": [[1, 2], {"k": []}], "empty": {}}, {}, [], 3, "text", None]


@pytest.mark.parametrize("items", [[], IMAGES[:1], IMAGES, [IMAGES[3], IMAGES[2]]])
def test_indented_arrays_are_written_streamed_and_read_back_element_by_element(tmp_path: Path, items):
    listed, streamed = io.StringIO(), io.StringIO()
    for fh, put in ((listed, "value"), (streamed, "value_items")):
        doc = s.StreamedDoc(fh)
        doc.value("before", [1, 2])
        getattr(doc, put)("imageMessages", iter(items) if put == "value_items" else items)
        doc.value("metadata", {"n": len(items)})
        doc.close()
    assert streamed.getvalue() == listed.getvalue()  # byte for byte what value() writes
    path = tmp_path / "doc.json"
    path.write_text(listed.getvalue())
    assert list(s.iter_value_items(path, "imageMessages")) == items
    assert s.read_head(path, ("imageMessages",)) == {"before": [1, 2], "metadata": {"n": len(items)}}
    path.write_text(json.dumps({"imageMessages": items}))  # another layout: loaded whole
    assert list(s.iter_value_items(path, "imageMessages")) == items


def test_an_indented_array_cut_off_midway_is_refused(tmp_path: Path):
    path = tmp_path / "doc.json"
    path.write_text('{\n  "imageMessages": [\n    {\n      "a": 1\n  ],\n  "metadata": {}\n}\n')
    with pytest.raises(ValueError, match="not closed"):
        list(s.iter_value_items(path, "imageMessages"))
