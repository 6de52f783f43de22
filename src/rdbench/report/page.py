"""Lay a :class:`~rdbench.report.build.Report` out as one self-contained HTML page.

No scripts, no external stylesheets, fonts or images: figures are inline SVG and the
page uses the reader's system fonts, so it opens offline and prints cleanly.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone

from rdbench import __version__
from rdbench.report.build import Report, Section

__all__ = ["render_page", "CSS"]

CSS = """
:root { --ink:#1d1d1f; --muted:#5f6368; --line:#e2e2e2; --accent:#0b5cad; --bg:#fafafa; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: var(--ink); background: var(--bg); line-height: 1.45; }
body { margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 28px 28px 60px; background: #fff;
       min-height: 100vh; box-shadow: 0 0 0 1px var(--line); }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 19px; margin: 0 0 6px; }
h3 { font-size: 15px; margin: 22px 0 6px; }
.meta { color: var(--muted); font-size: 13px; margin: 0 0 18px; }
nav { font-size: 13px; margin: 0 0 20px; display: flex; gap: 14px; flex-wrap: wrap; }
nav a { color: var(--accent); text-decoration: none; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr));
         gap: 12px; margin: 0 0 22px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase;
               letter-spacing: 0.04em; }
.card .value { font-size: 24px; font-weight: 650; margin: 2px 0; }
.card .detail { color: var(--muted); font-size: 12.5px; }
section { border-top: 1px solid var(--line); padding: 22px 0 8px; }
p.lead { color: var(--muted); font-size: 14px; margin: 0 0 12px; max-width: 820px; }
figure { margin: 0 0 8px; }
figure svg { display: block; max-width: 100%; height: auto; }
.empty { border: 1px dashed #c9c9c9; border-radius: 8px; padding: 18px; color: var(--muted);
         background: #fcfcfc; font-size: 14px; }
.note { font-size: 13px; color: var(--muted); margin: 6px 0; }
.warnings { border-left: 3px solid #e0a800; background: #fffaf0; padding: 8px 14px;
            font-size: 13px; margin: 0 0 20px; }
.warnings ul { margin: 4px 0; padding-left: 18px; }
.scroll { overflow-x: auto; }
table.data { border-collapse: collapse; font-size: 13px; width: 100%; margin: 6px 0 10px; }
table.data th { text-align: left; font-weight: 600; border-bottom: 2px solid #cfcfcf;
                padding: 5px 8px; white-space: nowrap; }
table.data td { border-bottom: 1px solid #eeeeee; padding: 4px 8px; vertical-align: top; }
table.data tbody tr:nth-child(even) td { background: #f8f9fb; }
table.data td:first-child { white-space: nowrap; }
table.data .num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.attempts td { font-size: 12px; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono",
       monospace; font-size: 11.5px; background: #f1f3f5; padding: 1px 4px; border-radius: 3px;
       word-break: break-all; }
footer { color: var(--muted); font-size: 12px; margin-top: 28px; }
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  html { background: #fff; font-size: 11pt; }
  main { max-width: none; padding: 0; box-shadow: none; }
  nav { display: none; }
  section { break-inside: auto; padding-top: 10px; }
  figure, .card, .empty, tr { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  .scroll { overflow: visible; }
  table.data { font-size: 9pt; }
  code { background: none; padding: 0; font-size: 8pt; }
  a { color: inherit; text-decoration: none; }
}
"""


def _section_html(section: Section) -> str:
    parts = [f'<section id="{section.id}">', f"<h2>{html.escape(section.title)}</h2>"]
    parts.append(f'<p class="lead">{html.escape(section.lead)}</p>')
    if section.svg is not None:
        parts.append(
            f'<figure class="figure" data-figure="{section.id}" '
            f'aria-label="{html.escape(section.title)}">{section.svg}</figure>'
        )
    elif section.empty is not None:
        parts.append(
            f'<div class="empty" data-empty="{section.id}">{html.escape(section.empty)}</div>'
        )
    for note in section.notes:
        parts.append(f'<p class="note">{html.escape(note)}</p>')
    for table in section.tables:
        parts.append(f'<div class="scroll">{table}</div>')
    parts.append("</section>")
    return "\n".join(parts)


def render_page(report: Report, generated_at: datetime | None = None) -> str:
    """The whole HTML document for a report.

    Args:
        report: from :func:`rdbench.report.build.build_report`.
        generated_at: the timestamp printed on the page (default: now, UTC).

    Returns:
        The HTML text (UTF-8, no external resources, no scripts).
    """
    when = (generated_at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M UTC")
    cards = "".join(
        f'<div class="card"><div class="label">{html.escape(label)}</div>'
        f'<div class="value">{html.escape(value)}</div>'
        f'<div class="detail">{html.escape(detail)}</div></div>'
        for label, value, detail in report.summary
    )
    nav = "".join(
        f'<a href="#{s.id}">{html.escape(s.title.split("·", 1)[-1].strip())}</a>'
        for s in report.sections
    )
    warnings = ""
    if report.warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in report.warnings)
        warnings = f'<div class="warnings"><strong>Notes on the data</strong><ul>{items}</ul></div>'
    inputs = ", ".join(html.escape(i) for i in report.inputs)
    body = "\n".join(_section_html(s) for s in report.sections)
    credits = " ".join(html.escape(c) for c in report.credits)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="rdbench {html.escape(__version__)}">
<title>{html.escape(report.title)}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<h1>{html.escape(report.title)}</h1>
<p class="meta">Generated {when} by rdbench {html.escape(__version__)} · inputs: {inputs}</p>
<div class="cards">{cards}</div>
{warnings}
<nav>{nav}</nav>
{body}
<footer>Normalized score: (t(raw) − t(start)) ÷ (t(reference) − t(start)), so the starting
solution scores 0 and the reference 1. Time horizon after METR, “Measuring AI Ability to
Complete Long Tasks” (arXiv 2503.14499). {credits}</footer>
</main>
</body>
</html>
"""
