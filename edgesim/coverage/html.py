"""The HTML report: an index with the terminal table's figures, and a page per function file
showing each line with its count and the branch arms never taken."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from edgesim.coverage.summary import FileSummary, percent_text, total

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; }
th, td { padding: 2px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.src td { text-align: left; font-family: ui-monospace, monospace; white-space: pre; }
.src td.n, .src td.c { text-align: right; color: #777; }
tr.run td.c { color: #1a7f37; }
tr.miss { background: #ffe4e4; }
tr.partial { background: #fff6d5; }
.note { color: #9a6700; font-family: system-ui, sans-serif; white-space: normal; }
"""


def page_name(path: str) -> str:
    """The file name of a function's page (its path with anything unsafe replaced)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", path) + ".html"


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )


def index(summaries: list[FileSummary]) -> str:
    rows = [
        "<tr><th>File</th><th>Stmts</th><th>Miss</th><th>Branch</th><th>BrMiss</th>"
        "<th>Cover</th></tr>"
    ]
    for s in summaries:
        rows.append(
            f'<tr><td><a href="{escape(page_name(s.path))}">{escape(s.path)}</a></td>'
            f"<td>{s.statements}</td><td>{len(s.missed_lines)}</td><td>{s.arms}</td>"
            f"<td>{len(s.missed_arms)}</td><td>{percent_text(s.covered)}</td></tr>"
        )
    rows.append(f'<tr><th>Total</th><td colspan="5">{percent_text(total(summaries))}</td></tr>')
    body = "<h1>Function coverage</h1>\n<table>\n" + "\n".join(rows) + "\n</table>"
    return _document("Function coverage", body)


def file_page(s: FileSummary) -> str:
    untaken: dict[int, list[str]] = {}
    for branch, arm in s.missed_arms:
        untaken.setdefault(branch.line, []).append(f"{branch.kind} {arm.label}")
    hits = {f.line: f for f in s.functions}
    rows = []
    # A source its map neither embeds nor finds on disk (or a map pointing past its end):
    # the counts by line number alone.
    shown_lines = s.text.split("\n") if s.text else []
    shown_lines += [""] * (max([*s.lines, *hits, 1]) - len(shown_lines))
    for number, text in enumerate(shown_lines, start=1):
        count = s.lines.get(number)
        css = ""
        if count is not None:
            css = "miss" if count == 0 else ("partial" if number in untaken else "run")
        note = ""
        if number in untaken:
            note = f' <span class="note">never taken: {escape(", ".join(untaken[number]))}</span>'
        if number in hits:
            f = hits[number]
            note += f' <span class="note">{escape(f.name)}() called {f.count}×</span>'
        shown = "" if count is None else str(count)
        rows.append(
            f'<tr class="{css}"><td class="n">{number}</td><td class="c">{shown}</td>'
            f"<td>{escape(text)}{note}</td></tr>"
        )
    missing = "" if s.text else "<p>The source's text is not available: counts by line only.</p>\n"
    heading = (
        f"<h1>{escape(s.path)}</h1>\n{missing}<p>{percent_text(s.covered)} covered: "
        f"{s.statements - len(s.missed_lines)} of {s.statements} lines, "
        f"{s.arms - len(s.missed_arms)} of {s.arms} branch arms. "
        '<a href="index.html">All files</a></p>\n'
    )
    return _document(s.path, heading + '<table class="src">\n' + "\n".join(rows) + "\n</table>")


def write(summaries: list[FileSummary], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for s in summaries:
        (directory / page_name(s.path)).write_text(file_page(s), encoding="utf-8")
    target = directory / "index.html"
    target.write_text(index(summaries), encoding="utf-8")
    return target
