"""phase-6-report.html as a file: built from the temp dir's JSON alone, self-contained, escaped.

A synthetic world (``chatmigrate.synth``, 2,000 messages) goes through step 1 and
``plan`` (no database); the report they write is read back with ``html.parser`` and its
figures compared with the JSON documents. Hostile ids are planted in the documents and
must come out as text. ``chatmigrate report`` rebuilds the same page from the folder.
No server is needed here (``planned``: tests/report/conftest.py); tests/report/test_browser.py opens the pages in Chromium.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chatmigrate import planfiles as pf
from chatmigrate.phase6 import records as r
from chatmigrate.report import page, write_report
from headless import Page

HOSTILE = '<script>document.title="pwned"</script><img src=x onerror=alert(1)>'


def copy_of(temp_dir: Path, tmp_path: Path) -> Path:
    dest = tmp_path / "temp"
    shutil.copytree(temp_dir, dest)
    return dest


def report_of(temp_dir: Path) -> tuple[str, Page]:
    html = (temp_dir / pf.REPORT).read_text(encoding="utf-8")
    return html, Page(html)


def urls_in_src_or_href(html: str) -> list[str]:
    return re.findall(r"""(?i)\b(?:src|href|action|srcset|xlink:href)\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]*""", html)


def test_plan_writes_an_owner_only_self_contained_report(planned: Path) -> None:
    path = planned / pf.REPORT
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    html, p = report_of(planned)
    csp = [a["content"] for tag, a in p.elements if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp == [page.CSP] and "default-src 'none'" in page.CSP
    assert "<script" not in html.lower() and urls_in_src_or_href(html) == []
    assert not [a for _, a in p.elements if "src" in a or "href" in a]  # no resource at all, not even local
    assert html.count("<svg") >= 3  # chats, messages, months


def test_the_report_shows_ids_and_counts_never_message_text(planned: Path) -> None:
    html, _ = report_of(planned)
    texts = [m.content for m in pf.read_extracted(planned).messages() if len(m.content) >= 12][:200]
    assert texts and not [t for t in texts if t in html]


def test_flow_figures_equal_step_1_and_the_skip_summary(planned: Path) -> None:
    _, p = report_of(planned)
    meta = pf.read_extracted_metadata(planned)
    summary = pf.read_skipped_summary(planned)
    assert meta is not None and summary is not None
    for kind in ("chats", "messages"):
        assert p.figure(f"{kind}.source") == meta[f"total_mysql_{kind}"]  # type: ignore[literal-required]
        assert p.figure(f"{kind}.migrated") == meta[f"processed_{kind}"]  # type: ignore[literal-required]
        shown = {k.split(".", 2)[2]: p.figure(k) for k in p.figures if k.startswith(f"{kind}.skipped.")}
        assert shown == summary["reasons"][kind] and shown
        assert p.figure(f"{kind}.failed") == 0
    assert p.figures["is_valid"] == "—" and p.figures["rating"] == "not validated"
    assert p.figures["link_mode"] == meta["link_mode"]


def test_months_add_up_to_the_messages_to_migrate(planned: Path) -> None:
    _, p = report_of(planned)
    months = {k[6:]: p.figure(k) for k in p.figures if k.startswith("month.")}
    counted: dict[str, int] = {}
    for m in pf.read_extracted(planned).messages():
        counted[m.created_at[:7]] = counted.get(m.created_at[:7], 0) + 1
    assert months == counted and sum(months.values()) == pf.read_extracted_metadata(planned)["processed_messages"]  # type: ignore[index]


def test_the_link_mode_comparison_and_the_people_equal_the_impact_file(planned: Path) -> None:
    _, p = report_of(planned)
    impact = pf.read_impact(planned)
    for mode, m in impact["modes"].items():
        for key in ("legacy_chats_migrating", "target_chats", "messages_migrating", "conversations_lost",
                    "messages_in_lost_conversations", "customers_losing_history", "stylists_losing_history"):
            assert p.figure(f"mode.{mode}.{key}") == m[key], (mode, key)
        for reason, n in m["chats_skipped"].items():
            assert p.figure(f"mode.{mode}.chats_skipped.{reason}") == n
    strict = impact["modes"]["strict"]
    assert strict["lost_conversations"], "the world should lose some conversations in strict mode"
    assert p.figure("conversations_lost") == strict["conversations_lost"]
    for x in strict["lost_conversations"]:
        assert p.figure(f"lost_chat.{x['legacy_chat_id']}") == x["messages"]
    buyers = {x["buyer_id"] for x in strict["lost_conversations"] if x["buyer_id"]}
    assert {k.split(".", 2)[2] for k in p.figures if k.startswith("lost.customer.")} == buyers
    assert p.figure("customers_losing_history") == len(buyers)


@pytest.mark.parametrize("where", ["lost chat id", "lost reason", "buyer id", "sql check", "alert-like error"])
def test_hostile_values_are_escaped(planned: Path, tmp_path: Path, where: str) -> None:
    temp = copy_of(planned, tmp_path)
    impact: Any = json.loads((temp / pf.IMPACT).read_text(encoding="utf-8"))
    lost = impact["modes"]["strict"]["lost_conversations"][0]
    if where == "lost chat id":
        lost["legacy_chat_id"] = HOSTILE
    elif where == "lost reason":
        lost["reason"] = HOSTILE
    elif where == "buyer id":
        lost["buyer_id"] = HOSTILE
    pf.write_json(temp / pf.IMPACT, impact)
    if where in ("sql check", "alert-like error"):
        pf.write_json(temp / pf.VALIDATION_RESULTS, validation_doc(
            checks=[{"id": "x", "section": "s", "title": HOSTILE, "status": "WARNING", "detail": HOSTILE,
                     "columns": [], "rows": []}] if where == "sql check" else [],
            errors=[HOSTILE] if where == "alert-like error" else []))
    html = (write_report(temp)).read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert "&lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt;" in html
    assert HOSTILE in Page(html).text


def validation_doc(*, checks: list[dict[str, Any]], errors: list[str], valid: bool = True) -> dict[str, Any]:
    """A chat-validation-results.json with every key (no server: the figures are made up)."""
    return {"validated_at": "2026-01-01T00:00:00.000Z", "is_valid": valid, "total_mysql_chats": 3,
            "total_mysql_messages": 9, "total_pg_chats": 2, "total_pg_messages": 8, "expected_chats": 2,
            "expected_messages": 8, "expected_media": 1, "missing_chats": [], "missing_messages": [],
            "orphaned_chats": [], "orphaned_messages": [], "chat_booking_mismatches": 0,
            "message_sender_mismatches": [], "message_content_mismatches": [], "missing_media": [],
            "other_mismatches": {}, "intentionally_skipped": {"chats": 1, "messages": 1, "reasons": {
                "chats": {"Chat is not active": 1}, "messages": {"Chat was not processed": 1}}},
            "sql_checks": checks, "sql_suite_status": "PASSED", "validation_errors": errors}


@pytest.mark.parametrize("valid, status, rating", [
    (True, "PASSED", "pass with warnings"),  # the world's step 1 raised an alert
    (True, "WARNING", "pass with warnings"),
    (True, "FAILED", "fail"),
    (False, "PASSED", "fail"),
])
def test_the_rating_follows_the_verdicts(planned: Path, tmp_path: Path, valid: bool, status: str,
                                         rating: str) -> None:
    temp = copy_of(planned, tmp_path)
    pf.write_json(temp / pf.VALIDATION_RESULTS, validation_doc(
        checks=[{"id": "c1", "section": "s", "title": "t", "status": status, "detail": "d", "columns": [],
                 "rows": []}], errors=[], valid=valid))
    _, p = report_of(Path(write_report(temp)).parent)
    assert (p.figures["is_valid"], p.figures["rating"], p.figures["check.c1"]) == (str(valid).lower(), rating, status)


def test_pass_needs_no_alert_no_warning_no_failed_row(tmp_path: Path) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    pf.write_json(temp / pf.VALIDATION_RESULTS, validation_doc(checks=[], errors=[]))
    _, p = report_of(write_report(temp).parent)
    assert p.figures["rating"] == "pass"
    assert "Not at hand" in p.text  # no step 1 file, no impact file: said, not guessed


def chatmigrate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chatmigrate", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_report_command_rebuilds_the_same_page_from_the_folder_alone(planned: Path, tmp_path: Path) -> None:
    temp = copy_of(planned, tmp_path)
    before = (temp / pf.REPORT).read_bytes().replace(str(planned).encode(), str(temp).encode())  # the page names its folder
    (temp / pf.REPORT).unlink()
    proc = chatmigrate("report", "--temp-dir", str(temp), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (temp / pf.REPORT).read_bytes() == before
    assert stat.S_IMODE((temp / pf.REPORT).stat().st_mode) == 0o600


def test_report_command_on_a_folder_without_results_exit_2(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = chatmigrate("report", "--temp-dir", str(tmp_path / "empty"), cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("error:") and "nothing to report" in proc.stderr
    assert not (tmp_path / "empty" / pf.REPORT).exists()


@pytest.mark.parametrize("content", [
    'x", "is_read": true, "created_at": "1999-01-01T00:00:00.000Z',  # a forged field inside the text
    "ends with a backslash \\",
    '\\", "is_read": false, "created_at": "1998-02',
    "line\nbreak and \u2028 and emoji 🎉",
])
def test_messages_by_month_is_not_fooled_by_message_text(tmp_path: Path, content: str) -> None:
    meta: Any = {"skipped_chats": 0, "skipped_messages": 0, "skip_reasons": {"chats": {}, "messages": {}}}
    with pf.ExtractedWriter(tmp_path, "2026-01-01T00:00:00.000Z") as w:
        w.chats([], [])
        for i, month in enumerate(("2024-03", "2024-03", "2025-12")):
            w.message(r.TargetMessage(f"m{i}", "c", "s", "customer", content, True, f"{month}-01T00:00:00.000Z",
                                      False))
        w.finish([], [], meta)
    assert pf.messages_by_month(tmp_path) == {"2024-03": 2, "2025-12": 1}


def test_messages_by_month_of_a_file_in_another_layout(tmp_path: Path) -> None:
    """A chats-extracted.json another tool wrote on one line is still counted, element by element."""
    doc = {"processedChats": [], "processedMessages": [
        {"id": f"m{i}", "chat_id": "c", "sender_id": "s", "content": "", "is_read": True,
         "created_at": f"{month}-01T00:00:00.000Z", "has_image": False} for i, month in enumerate(("2023-01", "2023-02",
                                                                                                   "2023-01"))],
        "metadata": {}}
    (tmp_path / pf.CHATS_EXTRACTED).write_text(json.dumps(doc), encoding="utf-8")
    assert pf.messages_by_month(tmp_path) == {"2023-01": 2, "2023-02": 1}
