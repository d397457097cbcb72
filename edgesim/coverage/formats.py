"""Coverage reports as text: the terminal table, lcov tracefiles and Cobertura XML.

lcov's tracefile format is the one ``geninfo(1)`` documents (``SF``, ``FN``/``FNDA``, ``BRDA``,
``DA``, their totals, ``end_of_record``); Cobertura's follows its ``coverage-04.dtd`` (the
elements and attributes it declares, nothing else), which CI services and editors read.
"""

from __future__ import annotations

import time
from fractions import Fraction
from pathlib import Path
from xml.etree import ElementTree as ET

from edgesim.coverage.summary import FileSummary, percent_text, total

COBERTURA_DOCTYPE = (
    '<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">'
)


def term(summaries: list[FileSummary], *, missing: bool = True) -> str:
    """A table per function file: executable lines, missed lines, branch arms, untaken arms,
    the covered percentage and (``missing``) what was missed."""
    header = ["Name", "Stmts", "Miss", "Branch", "BrMiss", "Cover"] + (["Missing"] * missing)
    rows = [header]
    for s in summaries:
        row = [
            s.path,
            str(s.statements),
            str(len(s.missed_lines)),
            str(s.arms),
            str(len(s.missed_arms)),
            percent_text(s.covered),
        ]
        rows.append(row + ([s.missing()] * missing))
    rows.append(
        [
            "TOTAL",
            str(sum(s.statements for s in summaries)),
            str(sum(len(s.missed_lines) for s in summaries)),
            str(sum(s.arms for s in summaries)),
            str(sum(len(s.missed_arms) for s in summaries)),
            percent_text(total(summaries)),
        ]
        + ([""] * missing)
    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:6], widths[1:6], strict=True)
        ]
        cells += row[6:]
        lines.append("   ".join(cells).rstrip())
        if index == 0 or index == len(rows) - 2:
            lines.append("-" * len(lines[0]))
    if not summaries:
        return "No function file was measured.\n"
    return "\n".join(lines) + "\n"


def lcov(summaries: list[FileSummary]) -> str:
    out: list[str] = []
    for s in summaries:
        out += ["TN:", f"SF:{s.path}"]
        for f in s.functions:
            out.append(f"FN:{f.line},{f.name}")
        for f in s.functions:
            out.append(f"FNDA:{f.count},{f.name}")
        out += [
            f"FNF:{len(s.functions)}",
            f"FNH:{sum(1 for f in s.functions if f.count)}",
        ]
        for block, branch in enumerate(s.branches):
            reached = branch.reached > 0
            for number, arm in enumerate(branch.arms):
                taken = str(arm.count) if reached else "-"
                out.append(f"BRDA:{branch.line},{block},{number},{taken}")
        out += [f"BRF:{s.arms}", f"BRH:{s.arms - len(s.missed_arms)}"]
        for line, count in s.lines.items():
            out.append(f"DA:{line},{count}")
        out += [f"LF:{s.statements}", f"LH:{s.statements - len(s.missed_lines)}"]
        out.append("end_of_record")
    return "\n".join(out) + "\n"


def _rate(done: int, valid: int) -> str:
    return "1" if valid == 0 else f"{done / valid:.4g}"


def _counts(summaries: list[FileSummary]) -> tuple[int, int, int, int]:
    lines = sum(s.statements for s in summaries)
    lines_hit = lines - sum(len(s.missed_lines) for s in summaries)
    arms = sum(s.arms for s in summaries)
    return lines_hit, lines, arms - sum(len(s.missed_arms) for s in summaries), arms


def cobertura(summaries: list[FileSummary], *, source_root: str = ".") -> str:
    lines_hit, lines, arms_hit, arms = _counts(summaries)
    root = ET.Element(
        "coverage",
        {
            "line-rate": _rate(lines_hit, lines),
            "branch-rate": _rate(arms_hit, arms),
            "lines-covered": str(lines_hit),
            "lines-valid": str(lines),
            "branches-covered": str(arms_hit),
            "branches-valid": str(arms),
            "complexity": "0",
            "version": _version(),
            "timestamp": str(int(time.time() * 1000)),
        },
    )
    sources = ET.SubElement(root, "sources")
    ET.SubElement(sources, "source").text = source_root
    packages = ET.SubElement(root, "packages")
    by_package: dict[str, list[FileSummary]] = {}
    for s in summaries:
        by_package.setdefault(str(Path(s.path).parent).replace("\\", "/"), []).append(s)
    for name, members in sorted(by_package.items()):
        hit, valid, taken, arm_total = _counts(members)
        package = ET.SubElement(
            packages,
            "package",
            {
                "name": name,
                "line-rate": _rate(hit, valid),
                "branch-rate": _rate(taken, arm_total),
                "complexity": "0",
            },
        )
        classes = ET.SubElement(package, "classes")
        for s in members:
            _class(classes, s)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" ?>\n{COBERTURA_DOCTYPE}\n{body}\n'


def _class(parent: ET.Element, s: FileSummary) -> None:
    hit, valid, taken, arms = _counts([s])
    element = ET.SubElement(
        parent,
        "class",
        {
            "name": Path(s.path).name,
            "filename": s.path,
            "line-rate": _rate(hit, valid),
            "branch-rate": _rate(taken, arms),
            "complexity": "0",
        },
    )
    methods = ET.SubElement(element, "methods")
    for f in s.functions:
        method = ET.SubElement(
            methods,
            "method",
            {
                "name": f.name,
                "signature": "",
                "line-rate": "1" if f.count else "0",
                "branch-rate": "1",
                "complexity": "0",
            },
        )
        ET.SubElement(
            ET.SubElement(method, "lines"), "line", {"number": str(f.line), "hits": str(f.count)}
        )
    lines = ET.SubElement(element, "lines")
    arms_by_line: dict[int, list[int]] = {}
    for branch in s.branches:
        arms_by_line.setdefault(branch.line, []).extend(arm.count for arm in branch.arms)
    for number, count in s.lines.items():
        attributes = {"number": str(number), "hits": str(count)}
        arm_counts = arms_by_line.get(number)
        if arm_counts:
            done = sum(1 for c in arm_counts if c)
            share = Fraction(done, len(arm_counts))
            attributes["branch"] = "true"
            attributes["condition-coverage"] = f"{int(share * 100)}% ({done}/{len(arm_counts)})"
        ET.SubElement(lines, "line", attributes)


def _version() -> str:
    try:
        from importlib.metadata import version

        return f"edgesim {version('edgesim')}"
    except Exception:  # not installed as a distribution
        return "edgesim"
