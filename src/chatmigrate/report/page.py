"""The report page: :class:`~chatmigrate.report.facts.Facts` → one self-contained HTML document.

Owns: the page's sections and wording, its inline CSS, and the Content-Security-Policy
that forbids every request (``default-src 'none'``; inline styles and ``data:`` images
only), so the file works offline and from ``file://`` and no script can run. Every value
is passed through ``html.escape`` (ids, reasons, notes, paths); no message text is
shown, only ids and counts. Each figure a reader might check carries a ``data-figure``
attribute (tests compare them with the JSON documents). Long lists are cut at
:data:`MAX_ROWS` with the number left out and the file that holds them all.

Does not own: gathering the figures (``report.facts``), the charts' drawing (``report.svg``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from .. import planfiles as pf
from .facts import RATING_MEANING, Facts, Flow
from .svg import FAILED, MIGRATED, SKIP_COLOURS, columns, stacked_bar

MAX_ROWS = 500
FOLD = 15  # rows of a long list shown before "show the other N" (a <details>: no script needed)
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:980px;
padding:24px;color:#212529;background:#fff;line-height:1.4}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;margin:28px 0 8px;border-bottom:1px solid #dee2e6;
padding-bottom:4px}.sub{color:#495057;margin:0 0 16px}
.verdict{display:flex;gap:16px;flex-wrap:wrap;padding:16px;border-radius:8px;border:2px solid #adb5bd}
.verdict div{min-width:150px}.verdict .big{font-size:1.5em;font-weight:700}
.r-pass{border-color:#2f9e44;background:#ebfbee}.r-pass-with-warnings{border-color:#f08c00;background:#fff9db}
.r-fail{border-color:#e03131;background:#fff5f5}.r-not-validated{border-color:#868e96;background:#f8f9fa}
table{border-collapse:collapse;margin:8px 0;font-size:.92em}th,td{border:1px solid #dee2e6;padding:3px 8px;
text-align:left;vertical-align:top}th{background:#f1f3f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.s-PASSED{color:#2b8a3e;font-weight:600}.s-WARNING{color:#e67700;font-weight:600}
.s-FAILED,.s-ERROR{color:#c92a2a;font-weight:700}.s-INFO{color:#868e96}
.note{color:#495057;font-size:.9em}.alert{background:#fff9db;border-left:4px solid #f08c00;padding:6px 10px;
margin:4px 0}.error{background:#fff5f5;border-left:4px solid #e03131;padding:6px 10px;margin:4px 0}
code{font-size:.92em;word-break:break-all}svg{display:block;margin:8px 0;max-width:100%;height:auto}
"""


def e(value: object) -> str:
    return escape(str(value), quote=True)


def num(key: str, value: int | float | None, fmt: str = ",") -> str:
    shown = "—" if value is None else format(value, fmt)
    return f'<td class="num" data-figure="{e(key)}">{e(shown)}</td>'


def table(head: Sequence[str], rows: Iterable[str]) -> str:
    return ("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"
            + "".join(f"<tr>{r}</tr>" for r in rows) + "</table>")


def folded(head: Sequence[str], rows: Sequence[str]) -> str:
    """A long list: its first :data:`FOLD` rows, the others (up to MAX_ROWS) folded below."""
    if len(rows) <= FOLD:
        return table(head, rows)
    return (table(head, rows[:FOLD]) + f"<details><summary>show the other {len(rows) - FOLD:,}</summary>"
            + table(head, rows[FOLD:]) + "</details>")


def cut(total: int, where: str) -> str:
    left = total - MAX_ROWS
    return f'<p class="note">and {left:,} more, all listed in {e(where)}</p>' if left > 0 else ""


def render(f: Facts) -> str:
    body = [_verdict(f), _flows(f), _months(f), _checks(f), _alerts(f), _steps(f), _modes(f), _people(f), _lost(f),
            _sources(f)]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>Phase 6 chat migration report</title>"
            f"<style>{CSS}</style></head><body>"
            "<h1>Phase 6 chat migration report</h1>"
            f'<p class="sub">from the files in <code data-figure="temp_dir">{e(f.temp_dir)}</code>; '
            f"ids and counts only, no message text</p>"
            + "".join(body) + "</body></html>\n")


def _verdict(f: Facts) -> str:
    valid = "—" if f.is_valid is None else str(f.is_valid).lower()
    run = "" if f.run_success is None else (
        f'<div>run<br><span class="big" data-figure="run_success">{"success" if f.run_success else "problems"}'
        "</span></div>")
    return (f'<section class="verdict r-{e(f.rating.replace(" ", "-"))}">'
            f'<div>is_valid<br><span class="big" data-figure="is_valid">{e(valid)}</span></div>'
            f'<div>rating<br><span class="big" data-figure="rating">{e(f.rating)}</span></div>'
            f'<div>link mode<br><span class="big" data-figure="link_mode">{e(f.link_mode or "—")}</span></div>'
            f'{run}<div class="note" style="flex-basis:100%">{e(RATING_MEANING[f.rating])}'
            f'{e(": " + ", ".join(f.rating_why)) if f.rating_why else ""}</div></section>')


def _flow_parts(fl: Flow) -> list[tuple[str, int, str]]:
    parts = [(fl.migrated_label, fl.migrated, MIGRATED)]
    for i, (reason, n) in enumerate(sorted(fl.skipped.items(), key=lambda kv: -kv[1])):
        parts.append((f"skipped: {reason}", n, SKIP_COLOURS[i % len(SKIP_COLOURS)]))
    return [*parts, ("failed", fl.failed, FAILED)]


def _flows(f: Facts) -> str:
    if not f.flows:
        return f"<h2>From the dump to the target</h2><p>Not at hand: no {e(pf.CHATS_EXTRACTED)} here.</p>"
    out = ["<h2>From the dump to the target</h2>"]
    for fl in f.flows:
        k = fl.kind
        rows = [f"<td>in the dump</td>{num(k + '.source', fl.source)}",
                f"<td>{e(fl.migrated_label)}</td>{num(k + '.migrated', fl.migrated)}"]
        rows += [f"<td>skipped: {e(reason)}</td>{num(f'{k}.skipped.{reason}', n)}"
                 for reason, n in sorted(fl.skipped.items(), key=lambda kv: -kv[1])]
        rows += [f"<td>failed</td>{num(k + '.failed', fl.failed)}"]
        if fl.unaccounted:
            rows.append(f"<td>difference (legacy chats merged or divided by linking)</td>"
                        f"{num(k + '.unaccounted', fl.unaccounted)}")
        out.append(f"<h3>{e(k)}</h3>" + stacked_bar(f"{k}: from the dump to the target", _flow_parts(fl))
                   + table(("", "count"), rows) + f'<p class="note">{e(fl.migrated_label)}: from {e(fl.migrated_from)}</p>')
    return "".join(out)


def _months(f: Facts) -> str:
    head = "<h2>Messages per month</h2>"
    if f.months is None:
        return head + f"<p>Not at hand: no {e(pf.CHATS_EXTRACTED)} here.</p>"
    series = sorted(f.months.items())
    rows = [f"<td>{e(m)}</td>{num('month.' + m, n)}" for m, n in series]
    return (head + columns("messages to migrate per month", series)
            + '<p class="note">Messages step 1 chose to migrate, by month of <code>created_at</code> '
            f"(from {e(pf.CHATS_EXTRACTED)}). The messages left behind are not shown by month: "
            f"{e(pf.SKIPPED_CHATS)} records their ids and reasons but not their dates (counting them by month "
            "would need another read of the dump).</p>"
            f"<details><summary>the figures ({len(series)} months)</summary>{table(('month', 'messages'), rows)}"
            "</details>")


def _checks(f: Facts) -> str:
    head = "<h2>The plan's SQL checks</h2>"
    if f.is_valid is None:
        return head + f"<p>Not at hand: no {e(pf.VALIDATION_RESULTS)} here.</p>"
    verdicts = [x for x in f.sql_checks if x.get("status") != "INFO"]
    reports = len(f.sql_checks) - len(verdicts)
    rows = [f"<td>{e(x.get('section', ''))}</td><td>{e(x.get('title', ''))}</td>"
            f'<td class="s-{e(x.get("status", ""))}" data-figure="check.{e(x.get("id", ""))}">'
            f"{e(x.get('status', ''))}</td><td class=\"note\">{e(x.get('detail', ''))}</td>" for x in verdicts]
    counts = Counter(str(x.get("status")) for x in verdicts)
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    return (head + f"<p>{e(summary or 'no checks')}; and {reports} figure-only reports of the plan "
            f"(<code>sql_checks</code> in {e(pf.VALIDATION_RESULTS)}).</p>"
            + table(("section", "check", "verdict", "figures and notes"), rows))


def _alerts(f: Facts) -> str:
    items = [f'<div class="error">{e(x)}</div>' for x in f.validation_errors]
    items += [f'<div class="alert">{e(x)}</div>' for x in f.alerts]
    return "<h2>Alerts</h2>" + ("".join(items) if items else "<p>None: no alert and no validation error.</p>")


def _mode_impact(f: Facts) -> tuple[str, Any] | None:
    if not f.impact:
        return None
    modes = f.impact.get("modes", {})
    mode = f.link_mode if f.link_mode in modes else "strict"
    return (mode, modes[mode]) if mode in modes else None


def _people(f: Facts) -> str:
    head = "<h2>Customers and stylists who lose history</h2>"
    got = _mode_impact(f)
    if got is None:
        return head + f"<p>Not at hand: no {e(pf.IMPACT)} here (run <code>chatmigrate plan</code>).</p>"
    mode, m = got
    out = [head, f"<p>In <b>{e(mode)}</b> mode: <b data-figure=\"customers_losing_history\">"
                 f"{m['customers_losing_history']:,}</b> customers and <b data-figure=\"stylists_losing_history\">"
                 f"{m['stylists_losing_history']:,}</b> stylists have conversations that are not migrated.</p>"]
    for who, key in (("customer", "buyer_id"), ("stylist", "stylist_id")):
        convs: Counter[str] = Counter()
        msgs: Counter[str] = Counter()
        for x in m.get("lost_conversations", []):
            if x.get(key):
                convs[x[key]] += 1
                msgs[x[key]] += int(x.get("messages", 0))
        ranked = sorted(convs, key=lambda p: (-msgs[p], p))
        rows = [f"<td><code>{e(p)}</code></td>{num(f'lost.{who}.{p}', convs[p])}<td class=\"num\">{msgs[p]:,}</td>"
                for p in ranked[:MAX_ROWS]]
        out.append(f"<h3>{who}s (legacy ids)</h3>"
                   + (folded((f"{who} id", "conversations lost", "messages in them"), rows) if rows else "<p>none</p>")
                   + cut(len(ranked), pf.IMPACT))
    return "".join(out)


def _lost(f: Facts) -> str:
    head = "<h2>Lost conversations</h2>"
    got = _mode_impact(f)
    if got is None:
        return head + f"<p>Not at hand: no {e(pf.IMPACT)} here.</p>"
    mode, m = got
    lost = m.get("lost_conversations", [])
    rows = [f"<td><code>{e(x.get('legacy_chat_id', ''))}</code></td>"
            f"{num('lost_chat.' + str(x.get('legacy_chat_id', '')), x.get('messages'))}<td>{e(x.get('reason', ''))}</td>"
            for x in lost[:MAX_ROWS]]
    return (head + f"<p>In <b>{e(mode)}</b> mode <b data-figure=\"conversations_lost\">{m['conversations_lost']:,}"
            f"</b> legacy conversations with messages are not migrated (<b data-figure=\"messages_in_lost_conversations\">"
            f"{m['messages_in_lost_conversations']:,}</b> messages), largest first.</p>"
            + (folded(("legacy chat id", "messages", "reason"), rows) if rows else "") + cut(len(lost), pf.IMPACT))


def _steps(f: Facts) -> str:
    head = "<h2>Time per step</h2>"
    if not f.steps:
        return head + f"<p>Not at hand: no {e(pf.MIGRATION_STATS)} or {e(pf.CREATION_STATS)} here.</p>"
    rows = [f"<td>{e(s.step)}</td>{num('seconds.' + s.step, s.seconds, ',.2f')}{num('rows.' + s.step, s.rows)}"
            f"<td>{e(s.rows_what)}</td>{num('rate.' + s.step, s.rows_per_second, ',.0f')}" for s in f.steps]
    return head + table(("step", "seconds", "rows", "which rows", "rows/s"), rows) + (
        '<p class="note">validate stages the dump beside create, so its time overlaps create\'s.</p>')


def _modes(f: Facts) -> str:
    head = "<h2>Link modes side by side (chatmigrate plan)</h2>"
    if not f.impact:
        return head + f"<p>Not at hand: no {e(pf.IMPACT)} here (run <code>chatmigrate plan</code>).</p>"
    modes: dict[str, Any] = dict(f.impact.get("modes", {}))
    names = list(modes)
    labels: list[tuple[str, str]] = [
        ("legacy chats migrating", "legacy_chats_migrating"), ("target chats", "target_chats"),
        ("messages migrating", "messages_migrating"), ("conversations lost (with messages)", "conversations_lost"),
        ("messages in lost conversations", "messages_in_lost_conversations"),
        ("customers losing history", "customers_losing_history"),
        ("stylists losing history", "stylists_losing_history"),
    ]
    rows = [f"<td>{e(label)}</td>" + "".join(num(f"mode.{n}.{key}", modes[n].get(key)) for n in names)
            for label, key in labels]
    reasons = sorted({r for n in names for r in modes[n].get("chats_skipped", {})})
    rows += [f"<td>chats skipped: {e(r)}</td>" + "".join(
        num(f"mode.{n}.chats_skipped.{r}", modes[n]["chats_skipped"].get(r, 0)) for n in names) for r in reasons]
    rules = sorted({r for n in names for r in modes[n].get("linked_by_rule", {})})
    rows += [f"<td>linked by {e(r)}</td>" + "".join(
        num(f"mode.{n}.linked_by_rule.{r}", modes[n]["linked_by_rule"].get(r, 0)) for n in names) for r in rules]
    return head + table(("", *names), rows) + (
        f'<p class="note">planned at {e(f.impact.get("planned_at", "?"))}; nothing was written to the target.</p>')


def _sources(f: Facts) -> str:
    rows = [f"<td><code>{e(name)}</code></td><td>{e(f.written.get(name, 'absent'))}</td>"
            for name in (pf.MIGRATION_STATS, pf.VALIDATION_RESULTS, pf.CREATION_STATS, pf.CHATS_EXTRACTED,
                         pf.SKIPPED_CHATS, pf.IMPACT)]
    return ("<h2>Built from</h2>" + table(("file", "written at"), rows)
            + '<p class="note">Rebuild with <code>chatmigrate report --temp-dir DIR</code>.</p>')
