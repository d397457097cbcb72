"""Source maps of built functions: positions in the built file → the source the user edits.

A build that writes a source map (inline as a ``data:`` URL, or a ``.map`` file named by the
``sourceMappingURL`` comment or lying next to the output) lets edgesim report
``src/router.ts:14:9 [dist/router.js:3:100]`` instead of the built file's position alone.

Decoding is Node's: Node is present wherever a build runs, and its built-in ``SourceMap`` class
(``node:module``, maintained with Node itself) reads the map. One Node process per build asks it
where every character of the built file comes from, and edgesim keeps the answer as a table (one
row per mapping segment), so each lookup afterwards is a binary search in Python. Why this and
not the npm ``source-map`` package or a Python library: docs/build.md, "Source maps" (measured).
Tables are kept per process by the content of the built file and its map, so the build step's
decoding serves later reports (coverage); :func:`load_source_maps` decodes several maps in one
Node process.

Lines and columns are 1-based and count characters (code points), as every position edgesim
reports; source maps count UTF-16 code units, converted here on both sides.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import urllib.parse
from bisect import bisect_right
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from edgesim.errors import InputError

# Asks Node's SourceMap where each code point of the generated text comes from; prints one row
# per segment: [line, col, source index or -1, original line, original UTF-16 col, name].
_DECODE_JS = r"""
const { SourceMap } = require("node:module");
function decode(map, generated) {
  const sm = new SourceMap(map);
  const index = new Map((map.sources || []).map((s, i) => [s, i]));
  const rows = [];
  const lines = generated.split("\n");
  for (let line = 0; line < lines.length; line++) {
    let unit = 0, point = 0, last = -1;
    for (const ch of lines[line]) {
      const e = sm.findEntry(line, unit);
      if (e && e.generatedLine === line && e.generatedColumn !== last) {
        last = e.generatedColumn;
        const source = e.originalSource === undefined ? -1 : index.get(e.originalSource);
        rows.push([line + 1, point + 1, source === undefined ? -1 : source,
                   (e.originalLine || 0) + 1, (e.originalColumn || 0), e.name || null]);
      }
      unit += ch.length;
      point += 1;
    }
  }
  return rows;
}
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  // A list of {map, generated}: every map of a run decoded by one process.
  const answers = JSON.parse(input).map(({ map, generated }) => decode(map, generated));
  process.stdout.write(JSON.stringify(answers));
});
"""

_URL_COMMENT = re.compile(r"^[ \t]*//[#@][ \t]*sourceMappingURL=[ \t]*(\S+)[ \t]*$", re.MULTILINE)
_INLINE = re.compile(r"^data:application/json(?:;charset=[\w-]+)?;base64,(?P<data>.*)$", re.I)

NODE_TIMEOUT_S = 30.0


class SourceMapError(InputError):
    """A source map that cannot be read or decoded: said with the map's path."""


@dataclass(frozen=True)
class Origin:
    """Where a position of the built file comes from: ``source`` as edgesim shows it (relative
    to the base directory when it is under it), 1-based ``line`` and ``column`` (characters)."""

    source: str
    line: int
    column: int
    name: str | None = None

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.column}"


def _utf16_to_points(lines: list[str] | None, line: int, unit: int) -> int:
    """A 0-based UTF-16 column of ``lines``' ``line`` (1-based) as a 1-based character column."""
    if lines is None or not 0 < line <= len(lines):
        return unit + 1
    text = lines[line - 1]
    if text.isascii():
        return unit + 1
    encoded = text.encode("utf-16-le", "surrogatepass")[: unit * 2]
    return len(encoded.decode("utf-16-le", "replace")) + 1


class SourceMap:
    """The decoded map of one built file: :meth:`original` answers where a position comes from.

    ``rows`` are the table Node produced (see the module's note); ``sources`` the map's sources
    as shown, ``contents`` their texts when the map embeds them (``sourcesContent``).
    """

    def __init__(
        self,
        generated: Path,
        map_path: Path | None,
        sources: list[str],
        contents: list[str | None],
        rows: list[list[object]],
        *,
        base_dir: Path | None = None,
    ) -> None:
        self.generated = generated
        self.map_path = map_path
        self.sources = sources
        self.contents = contents
        self.base_dir = base_dir or Path.cwd()  # what ``sources`` are relative to
        self._lines: dict[int, tuple[list[int], list[Origin | None]]] = {}
        split: dict[int, list[str] | None] = {}
        for row in rows:
            line, col, source, orig_line, orig_unit = (int(str(v)) for v in row[:5])
            name = row[5]
            origin = None
            if 0 <= source < len(sources):
                if source not in split:
                    content = contents[source]
                    split[source] = None if content is None else content.split("\n")
                column = _utf16_to_points(split[source], orig_line, orig_unit)
                origin = Origin(
                    sources[source], orig_line, column, name if isinstance(name, str) else None
                )
            cols, origins = self._lines.setdefault(line, ([], []))
            cols.append(col)
            origins.append(origin)

    @property
    def segments(self) -> int:
        return sum(len(cols) for cols, _ in self._lines.values())

    def original(self, line: int, col: int) -> Origin | None:
        """Where (``line``, ``col``) of the built file comes from; None where the build mapped
        nothing (its own helpers, a wrapper). A column before the line's first mapping takes
        that first mapping (a frame often points at the indentation)."""
        entry = self._lines.get(line)
        if entry is None:
            return None
        cols, origins = entry
        index = max(bisect_right(cols, col) - 1, 0)
        return origins[index]

    def describe(self, label: str, line: int, col: int) -> str:
        """``src/router.ts:14:9 [dist/router.js:3:100]``, or ``label:line:col`` when the
        position maps to nothing."""
        origin = self.original(line, col)
        generated = f"{label}:{line}:{col}"
        return generated if origin is None else f"{origin} [{generated}]"

    def source_text(self, source: str) -> str | None:
        """A source's text: embedded in the map (``sourcesContent``), else read from disk
        where the map's ``sourceRoot`` and location put it (None: neither)."""
        for name, content in zip(self.sources, self.contents, strict=True):
            if name == source:
                if content is not None:
                    return content
                try:
                    return (self.base_dir / source).read_text("utf-8")
                except (OSError, UnicodeDecodeError):
                    return None
        return None


def _map_text(built: Path, text: str) -> tuple[str, Path | None] | None:
    """The map's JSON text and its path (None for an inline map); None when there is no map."""
    urls = _URL_COMMENT.findall(text)
    if urls:
        url = urls[-1]
        inline = _INLINE.match(url)
        if inline:
            try:
                return base64.b64decode(inline["data"]).decode("utf-8"), None
            except ValueError as exc:
                raise SourceMapError(
                    f"{built}: the inline source map is not valid: {exc}"
                ) from None
        if "://" in url or url.startswith("data:"):
            return None  # a remote or unknown kind of map: nothing edgesim can read
        path = built.parent / urllib.parse.unquote(url)
    else:
        path = built.with_name(built.name + ".map")
        if not path.is_file():
            return None
    try:
        return path.read_text("utf-8"), path
    except OSError as exc:
        raise SourceMapError(
            f"{built}: its source map {path} cannot be read: {exc.strerror}"
        ) from None
    except UnicodeDecodeError as exc:
        raise SourceMapError(
            f"{built}: its source map {path} is not UTF-8 (byte {exc.start})"
        ) from None


def has_source_map(built: Path, text: str | None = None) -> bool:
    """Whether ``built`` (its ``text``, read when not given) names or has a source map,
    readable or not, without decoding it."""
    try:
        return _map_text(built, built.read_text("utf-8") if text is None else text) is not None
    except (OSError, UnicodeDecodeError):
        return False
    except SourceMapError:
        return True


def source_files(built: Path, text: str | None = None) -> list[Path]:
    """The files ``built``'s source map names as its sources (absolute; URLs left out), read
    from the map without decoding it; none when there is no map or it cannot be read."""
    try:
        found = _map_text(built, built.read_text("utf-8") if text is None else text)
        payload = json.loads(found[0]) if found is not None else None
    except (OSError, UnicodeDecodeError, SourceMapError, ValueError, RecursionError):
        return []
    if found is None or not isinstance(payload, dict):
        return []
    map_dir = (found[1] or built).resolve().parent
    root = str(payload.get("sourceRoot") or "")
    paths = (_source_path(str(s), map_dir, root) for s in payload.get("sources") or [])
    return [path for path in paths if path is not None]


def _source_path(source: str, map_dir: Path, root: str) -> Path | None:
    """Where a map's source is on disk (None: a URL such as ``webpack://``)."""
    if "://" in source and not source.startswith("file://"):
        return None
    if source.startswith("file://"):
        source = urllib.parse.unquote(urllib.parse.urlparse(source).path)
    return Path(os.path.normpath(map_dir / root / source))


def _shown(source: str, map_dir: Path, root: str, base_dir: Path) -> str:
    """A map's source as edgesim shows it: relative to ``base_dir`` when under it."""
    path = _source_path(source, map_dir, root)
    if path is None:
        return source
    try:
        return path.relative_to(base_dir.resolve()).as_posix()
    except ValueError:
        return str(path)


def node_executable() -> str | None:
    return shutil.which("node")


def decode_many(requests: list[tuple[dict[str, object], str]]) -> list[list[list[object]]]:
    """Node's answers for several (parsed map, generated text) pairs, in one Node process."""
    node = node_executable()
    if node is None:
        raise SourceMapError(
            "decoding a source map needs Node.js (node on PATH): install Node, or build "
            "without --sourcemap"
        )
    request = json.dumps([{"map": payload, "generated": text} for payload, text in requests])
    try:
        done = subprocess.run(
            [node, "-e", _DECODE_JS],
            input=request,
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SourceMapError(f"node could not decode the source map: {exc}") from None
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        raise SourceMapError(
            "node could not decode the source map: " + (detail[-1] if detail else "no output")
        )
    answers = json.loads(done.stdout)
    if not isinstance(answers, list) or len(answers) != len(requests):
        raise SourceMapError("node could not decode the source map: an unexpected answer")
    return answers


def decode_rows(payload: dict[str, object], generated: str) -> list[list[object]]:
    """Node's answer for ``payload`` (a parsed map) over ``generated`` (see the module note)."""
    return decode_many([(payload, generated)])[0]


# Decoded tables by the content of (built file, map): a map is decoded once per process however
# many reports ask (the build step after each build, then coverage at exit), and a rebuild that
# changes either file is decoded again, whatever the clock's granularity says of mtimes.
_DECODED: OrderedDict[str, list[list[object]]] = OrderedDict()
_DECODED_MAX = 64


def _digest(map_json: str, generated: str) -> str:
    h = hashlib.sha256(map_json.encode("utf-8", "surrogatepass"))
    h.update(b"\0")
    h.update(generated.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _remember(key: str, rows: list[list[object]]) -> None:
    _DECODED[key] = rows
    _DECODED.move_to_end(key)
    while len(_DECODED) > _DECODED_MAX:
        _DECODED.popitem(last=False)


@dataclass
class _Pending:
    """A built file's map, read and checked, waiting for its table."""

    built: Path
    map_path: Path | None
    payload: dict[str, object]
    generated: str
    key: str
    sources: list[str]
    contents: list[str | None]
    base: Path

    def finish(self, rows: list[list[object]]) -> SourceMap:
        return SourceMap(
            self.built, self.map_path, self.sources, self.contents, rows, base_dir=self.base
        )


def _pending(built: Path, base_dir: Path | None) -> _Pending | None:
    try:
        text = built.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # the loader reports an unreadable function in its own words
    found = _map_text(built, text)
    if found is None:
        return None
    map_json, map_path = found
    where = map_path or f"{built} (inline map)"
    try:
        payload = json.loads(map_json)
    except (ValueError, RecursionError) as exc:
        raise SourceMapError(f"{where}: not a valid source map (JSON: {exc})") from None
    if not isinstance(payload, dict) or "mappings" not in payload:
        raise SourceMapError(f"{where}: not a source map (no mappings)")
    if "sections" in payload:
        raise SourceMapError(f"{where}: indexed source maps (sections) are not supported")
    base = (base_dir or Path.cwd()).resolve()
    map_dir = (map_path or built).resolve().parent
    raw_sources = payload.get("sources") or []
    root = payload.get("sourceRoot") or ""
    sources = [_shown(str(s), map_dir, str(root), base) for s in raw_sources]
    raw_contents = payload.get("sourcesContent") or []
    contents: list[str | None] = [
        raw_contents[i] if i < len(raw_contents) and isinstance(raw_contents[i], str) else None
        for i in range(len(sources))
    ]
    return _Pending(
        built, map_path, payload, text, _digest(map_json, text), sources, contents, base
    )


def load_source_map(built: Path, *, base_dir: Path | None = None) -> SourceMap | None:
    """The source map of the built file ``built``, decoded (None: the build wrote none).

    ``base_dir`` (default: the current directory) is what sources are shown relative to.
    """
    pending = _pending(built, base_dir)
    if pending is None:
        return None
    rows = _DECODED.get(pending.key)
    if rows is None:
        rows = decode_rows(pending.payload, pending.generated)
        _remember(pending.key, rows)
    return pending.finish(rows)


def load_source_maps(
    builts: list[Path], *, base_dir: Path | None = None
) -> dict[Path, SourceMap | SourceMapError | None]:
    """:func:`load_source_map` for several built files, the ones not decoded yet in one Node
    process; a map that cannot be read or decoded is its :class:`SourceMapError`."""
    found: dict[Path, SourceMap | SourceMapError | None] = {}
    waiting: list[_Pending] = []
    for built in builts:
        try:
            pending = _pending(built, base_dir)
        except SourceMapError as exc:
            found[built] = exc
            continue
        if pending is None:
            found[built] = None
        elif pending.key in _DECODED:
            found[built] = pending.finish(_DECODED[pending.key])
        else:
            waiting.append(pending)
    if not waiting:
        return found
    unique = {p.key: p for p in waiting}
    try:
        answers = decode_many([(p.payload, p.generated) for p in unique.values()])
    except SourceMapError:
        # One bad map must not cost the others theirs: each alone, for its own error.
        for pending in waiting:
            try:
                found[pending.built] = load_source_map(pending.built, base_dir=base_dir)
            except SourceMapError as exc:
                found[pending.built] = exc
        return found
    for key, rows in zip(unique, answers, strict=True):
        _remember(key, rows)
    for pending in waiting:
        found[pending.built] = pending.finish(_DECODED[pending.key])
    return found
