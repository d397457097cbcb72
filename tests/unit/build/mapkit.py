"""Writing small source maps for tests: segments in, a v3 map out (VLQ as the spec says)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

# (generated line, generated col, source index, original line, original col): all 0-based.
Segment = tuple[int, int, int, int, int]


def _vlq(value: int) -> str:
    number = (-value << 1) | 1 if value < 0 else value << 1
    out = ""
    while True:
        digit = number & 31
        number >>= 5
        out += _B64[digit | (32 if number else 0)]
        if not number:
            return out


def encode(segments: Sequence[Segment]) -> str:
    """The ``mappings`` string for segments sorted by generated position."""
    lines: dict[int, list[Segment]] = {}
    for seg in sorted(segments):
        lines.setdefault(seg[0], []).append(seg)
    last = max(lines) if lines else -1
    source = orig_line = orig_col = 0
    out = []
    for line in range(last + 1):
        gen_col = 0
        parts = []
        for _, col, src, oline, ocol in lines.get(line, []):
            parts.append(
                _vlq(col - gen_col) + _vlq(src - source) + _vlq(oline - orig_line)
                + _vlq(ocol - orig_col)
            )  # fmt: skip
            gen_col, source, orig_line, orig_col = col, src, oline, ocol
        out.append(",".join(parts))
    return ";".join(out)


def write_map(
    built: Path,
    segments: Sequence[Segment],
    sources: Sequence[str],
    contents: Sequence[str] | None = None,
    *,
    inline: bool = False,
) -> dict[str, object]:
    """Write ``built``'s map (next to it, or inline) and its sourceMappingURL comment."""
    payload: dict[str, object] = {
        "version": 3,
        "sources": list(sources),
        "names": [],
        "mappings": encode(segments),
    }
    if contents is not None:
        payload["sourcesContent"] = list(contents)
    text = built.read_text() if built.exists() else ""
    if inline:
        import base64

        data = base64.b64encode(json.dumps(payload).encode()).decode()
        built.write_text(text + f"\n//# sourceMappingURL=data:application/json;base64,{data}\n")
    else:
        built.with_name(built.name + ".map").write_text(json.dumps(payload))
        built.write_text(text + f"\n//# sourceMappingURL={built.name}.map\n")
    return payload
