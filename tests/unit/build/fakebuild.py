"""A stand-in build for tests: ``python fakebuild.py SRC OUT [--no-map] [--fail]``.

Copies SRC to OUT under a two-line wrapper, as a bundler would, and writes OUT.map mapping every
character back to SRC (so each position of OUT has an exact original). ``--fail`` prints an
error the way a compiler does and exits 2 without writing anything, as does a source containing
``@fail-build``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from mapkit import write_map

HEADER = "// built by fakebuild\nvar __wrapper = 1;\n"


def main(argv: list[str]) -> int:
    src, out = Path(argv[0]), Path(argv[1])
    if "--fail" in argv or "@fail-build" in src.read_text():
        print(f"{src}(3,5): error TS2304: Cannot find name 'oops'.")
        return 2
    text = src.read_text()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(HEADER + text)
    if "--no-map" not in argv:
        lines = text.split("\n")
        segments = [
            (index + 2, col, 0, index, col)
            for index, line in enumerate(lines)
            for col in range(len(line))
        ]
        write_map(out, segments, [Path(os.path.relpath(src, out.parent)).as_posix()], [text])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
