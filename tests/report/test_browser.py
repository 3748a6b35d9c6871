"""phase-6-report.html in a real browser (headless Chromium, from ``file://``).

What the browser shows equals the JSON documents; the page makes no request and runs
nothing (its CSP forbids both, and no element names a resource); a value holding
``<script>`` is shown as text; a screenshot is not blank (many colours, the chart's
green among them). The run's own report, after a real ``run``, is opened in
tests/report/test_json_output.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from chatmigrate import planfiles as pf
from chatmigrate.report import page, write_report
from chatmigrate.report.svg import MIGRATED
from headless import Page, dump_dom, png_colours, screenshot

HOSTILE = '<script>document.title="pwned";document.body.innerHTML=""</script><img src=x onerror=alert(1)>'


def test_the_browser_shows_the_figures_of_the_json(planned: Path, tmp_path: Path) -> None:
    p = Page(dump_dom(planned / pf.REPORT, tmp_path))
    meta, impact = pf.read_extracted_metadata(planned), pf.read_impact(planned)
    assert meta is not None
    assert p.figure("messages.source") == meta["total_mysql_messages"]
    assert p.figure("messages.migrated") == meta["processed_messages"]
    assert p.figure("chats.source") == meta["total_mysql_chats"]
    for reason, n in meta["skip_reasons"]["messages"].items():
        assert p.figure(f"messages.skipped.{reason}") == n
    assert sum(p.figure(k) for k in p.figures if k.startswith("month.")) == meta["processed_messages"]
    for mode, m in impact["modes"].items():
        assert p.figure(f"mode.{mode}.messages_migrating") == m["messages_migrating"]
        assert p.figure(f"mode.{mode}.conversations_lost") == m["conversations_lost"]
    assert p.title == "Phase 6 chat migration report"


def test_the_page_requests_nothing_and_names_no_resource(planned: Path, tmp_path: Path) -> None:
    p = Page(dump_dom(planned / pf.REPORT, tmp_path))
    csp = [a["content"] for tag, a in p.elements if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp == [page.CSP]
    assert not [(tag, a) for tag, a in p.elements if tag in ("script", "link", "img", "iframe", "object", "embed")]
    assert not [a for _, a in p.elements if {"src", "href", "srcset", "action", "xlink:href"} & set(a)]
    assert "url(" not in (planned / pf.REPORT).read_text(encoding="utf-8")  # no CSS fetch either


def test_a_script_in_an_id_is_shown_as_text_and_runs_nothing(planned: Path, tmp_path: Path) -> None:
    temp = tmp_path / "temp"
    shutil.copytree(planned, temp)
    impact: Any = json.loads((temp / pf.IMPACT).read_text(encoding="utf-8"))
    impact["modes"]["strict"]["lost_conversations"][0]["legacy_chat_id"] = HOSTILE
    impact["modes"]["strict"]["lost_conversations"][0]["buyer_id"] = HOSTILE
    pf.write_json(temp / pf.IMPACT, impact)
    p = Page(dump_dom(write_report(temp), tmp_path))
    assert p.title == "Phase 6 chat migration report"  # the script did not run
    assert not [tag for tag, _ in p.elements if tag in ("script", "img")]
    assert p.text.count(HOSTILE) >= 2  # the chat id and the customer id, literally
    assert p.figures[f"lost_chat.{HOSTILE}"] == str(impact["modes"]["strict"]["lost_conversations"][0]["messages"])


def test_a_screenshot_is_not_blank(planned: Path, tmp_path: Path) -> None:
    colours = png_colours(screenshot(planned / pf.REPORT, tmp_path / "shot.png", tmp_path, size="900,1000"))
    assert len(colours) >= 12, f"only {len(colours)} colours: the page looks blank"
    assert bytes.fromhex(MIGRATED[1:]) in colours  # the charts' green: the SVG was drawn
