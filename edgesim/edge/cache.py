"""The edge's HTTP object cache: LRU over memory, large bodies spilled to temporary files.

The pipeline streams an origin body into a :class:`CacheWriter` while also streaming it to the
viewer; :meth:`CacheWriter.commit` makes the object visible to :meth:`HttpCache.lookup`. Bodies
up to ``spill_threshold_bytes`` live in memory; a writer that goes past it moves what it has to a
temporary file and appends to that file from then on, so a big object is never held whole.

Two budgets, one cache for every POP (``[cache] memory_limit_mb`` and ``disk_limit_mb``):
memory holds each entry's estimated cost (its key, path, headers and bookkeeping, plus its body
when in memory: ``edgesim.edge.cache_cost``), disk holds spilled bodies. Eviction is
least-recently-used and O(1) per evicted entry: over the memory budget the least recently used
entry goes (the ``OrderedDict`` is kept in LRU order), over the disk budget the least recently
used spilled one (a second ``OrderedDict`` holds just those); an evicted entry disappears with
its file. Expired entries are kept until evicted or replaced: CloudFront serves an expired
object when the origin fails with a 5xx (reference B.8), so only the caller can tell whether a
stale entry is still useful.

Invalidation patterns follow CloudFront's documented rules (Developer Guide, "Invalidating
files" / "Invalidation paths"): case-sensitive, relative to the distribution, starting with "/",
and a ``*`` wildcard matching zero or more characters only as the last character. One pattern
removes every cached variant of a path whatever its headers and cookies ("you can't selectively
invalidate some versions"), and query-string variants need the query in the path or a ``*``.

Single event loop, no locking. Each call does at most one chunk's worth of file I/O.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO

from edgesim.edge.cache_cost import entry_memory_cost
from edgesim.edge.message import Headers
from edgesim.edge.ttl import TtlDecision

MiB = 1024 * 1024
GiB = 1024 * MiB
DEFAULT_CHUNK = 65_536
MAX_INVALIDATION_PATH = 4_000  # "The maximum length of a path is 4,000 characters"

# Characters left as they are when a pattern is percent-encoded: the guide asks for non-ASCII and
# unsafe characters to be URL-encoded and nothing else, so everything printable and ASCII stays.
_PATTERN_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


@dataclass(slots=True)
class CachedObject:
    """One stored response. Times are ``HttpCache`` clock seconds (monotonic by default)."""

    status: int
    headers: Headers
    stored_at: float
    ttl: float
    stale_while_revalidate: float
    stale_if_error: float
    size: int
    path: str  # what invalidation patterns are matched against (path plus keyed query)
    key: str = ""
    body: bytes | None = field(default=None, repr=False)  # in-memory body, or None if spilled
    spill_file: Path | None = field(default=None, repr=False)
    pop: str = ""  # the edge location whose cache holds it (per-POP figures)
    memory_cost: int = 0  # what it counts against the memory budget, set when stored

    def age(self, now: float) -> int:
        """Whole seconds since the object was stored, for the ``Age`` response header."""
        return max(0, int(now - self.stored_at))

    def is_fresh(self, now: float) -> bool:
        return now - self.stored_at < self.ttl

    def within_stale_while_revalidate(self, now: float) -> bool:
        """Expired, but still servable while a background refresh runs."""
        limit = self.ttl + self.stale_while_revalidate
        return not self.is_fresh(now) and now - self.stored_at < limit

    def within_stale_if_error(self, now: float) -> bool:
        """Expired, but servable instead of an origin error per ``stale-if-error``."""
        return not self.is_fresh(now) and now - self.stored_at < self.ttl + self.stale_if_error

    @property
    def spilled(self) -> bool:
        return self.spill_file is not None

    def body_chunks(self, chunk_size: int = DEFAULT_CHUNK) -> Iterator[bytes]:
        """The body in chunks of at most ``chunk_size`` bytes.

        A spilled body's file is opened here, before the first chunk is asked for, so a reader
        keeps its data even if the entry is evicted meanwhile (POSIX unlink semantics). Close the
        iterator (or exhaust it) to release the file.
        """
        if self.spill_file is not None:
            return _FileChunks(self.spill_file, chunk_size)
        return _memory_chunks(self.body or b"", chunk_size)


def _memory_chunks(body: bytes, chunk_size: int) -> Iterator[bytes]:
    view = memoryview(body)
    for start in range(0, len(body), chunk_size):
        yield bytes(view[start : start + chunk_size])


class _FileChunks(Iterator[bytes]):
    """Reads a spill file chunk by chunk; closes itself at the end or when dropped."""

    def __init__(self, path: Path, chunk_size: int, opened: BinaryIO | None = None) -> None:
        self._file: BinaryIO | None = path.open("rb") if opened is None else opened
        self._chunk_size = chunk_size

    def __next__(self) -> bytes:
        if self._file is None:
            raise StopIteration
        chunk = self._file.read(self._chunk_size)
        if not chunk:
            self.close()
            raise StopIteration
        return chunk

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __del__(self) -> None:
        self.close()


def _remove_file(path: Path | None) -> None:
    if path is None:
        return
    # Best effort: a spill file that cannot be removed now goes with the spill directory.
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


class CacheWriter:
    """Collects one response body for the cache; returned by :meth:`HttpCache.begin`."""

    def __init__(
        self, cache: HttpCache, key: str, template: CachedObject, *, spill_threshold: int
    ) -> None:
        self._cache = cache
        self._key = key
        self._template = template
        self._spill_threshold = spill_threshold
        self._chunks: list[bytes] = []
        self._size = 0
        self._file: BinaryIO | None = None
        self._file_path: Path | None = None
        self._state = "open"  # open | committed | aborted

    @property
    def path(self) -> str:
        return self._template.path

    @property
    def size(self) -> int:
        return self._size

    def write(self, chunk: bytes) -> None:
        """Append ``chunk``. Ignored once aborted (the viewer stream goes on regardless)."""
        if self._state == "committed":
            raise RuntimeError("cache writer already committed")
        if self._state == "aborted" or not chunk:
            return
        self._size += len(chunk)
        if self._size > self._cache.max_object_bytes:
            self.abort()
            return
        if self._file is not None:
            self._file.write(chunk)
        else:
            self._chunks.append(bytes(chunk))
            if self._size > self._spill_threshold:
                self._spill()

    def _spill(self) -> None:
        """Move the buffered chunks to a new temporary file; later chunks go straight there."""
        fd, name = tempfile.mkstemp(prefix="obj-", suffix=".body", dir=self._cache.spill_dir())
        self._file = os.fdopen(fd, "wb")
        self._file_path = Path(name)
        for buffered in self._chunks:
            self._file.write(buffered)
        self._chunks = []

    def commit(self) -> CachedObject | None:
        """Store the object; None if the writer was aborted or the cache has no room for it."""
        if self._state != "open":
            return None
        self._state = "committed"
        self._cache._writer_done(self)
        if self._file is not None:
            self._file.close()
            self._file = None
        obj = self._template
        obj.size = self._size
        if self._file_path is not None:
            obj.spill_file = self._file_path
        else:
            obj.body = b"".join(self._chunks)
        self._chunks = []
        return self._cache._store(self._key, obj)

    def abort(self) -> None:
        """Drop what was written (origin error, viewer gone, object too large, invalidated)."""
        if self._state != "open":
            return
        self._state = "aborted"
        self._cache._writer_done(self)
        if self._file is not None:
            self._file.close()
            self._file = None
        _remove_file(self._file_path)
        self._file_path = None
        self._chunks = []


@dataclass
class PopUsage:
    """What one POP's entries hold: counted on every store and removal, never by scanning."""

    entries: int = 0
    memory_bytes: int = 0  # estimated memory cost (what counts against the memory budget)
    disk_bytes: int = 0  # spilled bodies

    def as_dict(self) -> dict[str, int]:
        return {
            "entries": self.entries,
            "memory_bytes": self.memory_bytes,
            "disk_bytes": self.disk_bytes,
        }


class HttpCache:
    """Cache entries by cache key (see :func:`edgesim.edge.policy_rules.cache_key`).

    ``count_entry_overhead`` charges each entry's key, headers and bookkeeping to the memory
    budget besides its in-memory body (``edgesim.edge.cache_cost``); serve always turns it on
    (``edgesim.app``). Off, the budget counts in-memory body bytes only, as before issue 17:
    a small budget then holds exactly so many bodies, which some unit tests rely on.
    """

    writer_class: type[CacheWriter] = CacheWriter

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        memory_limit_bytes: int = 256 * MiB,
        spill_threshold_bytes: int = 1 * MiB,
        spill_dir: Path | None = None,
        max_object_bytes: int = 2 * GiB,
        disk_limit_bytes: int = 8 * GiB,
        count_entry_overhead: bool = False,
    ) -> None:
        self.clock = clock
        self.memory_limit_bytes = memory_limit_bytes
        self.spill_threshold_bytes = spill_threshold_bytes
        self.max_object_bytes = max_object_bytes
        self.disk_limit_bytes = disk_limit_bytes
        self.count_entry_overhead = count_entry_overhead
        self._spill_dir = spill_dir
        self._own_spill_dir: Path | None = None  # created (and removed) by us
        # Every entry, least recently used first; the spilled ones again, in the same order, so
        # that the disk budget finds its victim without walking past in-memory entries.
        self._entries: OrderedDict[str, CachedObject] = OrderedDict()
        self._spilled: OrderedDict[str, None] = OrderedDict()
        self._writers: set[CacheWriter] = set()
        self._memory_bytes = 0  # in-memory bodies
        self._memory_used = 0  # what counts against memory_limit_bytes
        self._disk_bytes = 0
        self._pops: dict[str, PopUsage] = {}
        self._counters = {"hits": 0, "misses": 0, "evictions": 0, "invalidated": 0}

    # --- reading ---------------------------------------------------------------------------

    def objects(self) -> list[CachedObject]:
        """The stored objects, least recently used first (for the inspector); no LRU effect."""
        return list(self._entries.values())

    def lookup(self, key: str) -> CachedObject | None:
        """The stored object, fresh or stale (check ``is_fresh``); marks it recently used."""
        obj = self._entries.get(key)
        if obj is not None:
            self._touch(key, obj)
        return obj

    def record_hit(self) -> None:
        self._counters["hits"] += 1

    def record_miss(self) -> None:
        self._counters["misses"] += 1

    def stats(self, pops: Iterable[str] = ()) -> dict[str, Any]:
        """Totals (``memory_used_bytes`` is what the memory budget counts), the budgets, the
        counters and, under ``pops``, entries and bytes per POP: those that stored something,
        and ``pops`` (the configured ones) even if empty. O(POPs), no scan of entries."""
        usage = self.pop_usage(pops)
        return {
            "entries": len(self._entries),
            "bytes": self._memory_bytes + self._disk_bytes,
            "memory_bytes": self._memory_bytes,
            "memory_used_bytes": self._memory_used,
            "memory_limit_bytes": self.memory_limit_bytes,
            "disk_bytes": self._disk_bytes,
            "disk_limit_bytes": self.disk_limit_bytes,
            "spilled_entries": len(self._spilled),
            "writers": len(self._writers),
            **self._counters,
            "pops": {pop: row.as_dict() for pop, row in usage.items()},
        }

    def pop_usage(self, pops: Iterable[str] = ()) -> dict[str, PopUsage]:
        """Entries and bytes per POP (copies, sorted by POP), ``pops`` included even if empty."""
        rows = {pop: PopUsage() for pop in pops}
        rows.update((pop, replace(usage)) for pop, usage in self._pops.items())
        return dict(sorted(rows.items()))

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    # --- writing ---------------------------------------------------------------------------

    def begin(
        self,
        key: str,
        *,
        status: int,
        headers: Headers,
        decision: TtlDecision,
        path: str,
        pop: str = "",
    ) -> CacheWriter:
        """Start storing a response. Its age counts from now: when the response headers arrived
        (RFC 9111 section 4.2.3 ``response_time``), not when the body finished. ``pop``: the
        edge location whose cache this is, for the per-POP figures."""
        stripped = set(decision.strip_headers)
        template = CachedObject(
            status=status,
            headers=[(name, value) for name, value in headers if name not in stripped],
            stored_at=self.clock(),
            ttl=decision.ttl,
            stale_while_revalidate=decision.stale_while_revalidate,
            stale_if_error=decision.stale_if_error,
            size=0,
            path=path,
            key=key,
            pop=pop,
        )
        writer = self.writer_class(self, key, template, spill_threshold=self.spill_threshold_bytes)
        self._writers.add(writer)
        return writer

    def refresh(
        self, key: str, decision: TtlDecision, headers: Headers | None = None
    ) -> CachedObject | None:
        """Restart an entry's lifetime after a revalidation (304) or to keep serving it stale
        during an origin error; optionally replace its stored headers."""
        obj = self._entries.get(key)
        if obj is None:
            return None
        obj.stored_at = self.clock()
        obj.ttl = decision.ttl
        obj.stale_while_revalidate = decision.stale_while_revalidate
        obj.stale_if_error = decision.stale_if_error
        self._touch(key, obj)
        if headers is not None:
            stripped = set(decision.strip_headers)
            obj.headers = [(name, value) for name, value in headers if name not in stripped]
            # New headers, new cost: charge the difference, and make room if it grew.
            self._charge(obj, -1)
            obj.memory_cost = self._memory_cost(obj)
            self._charge(obj, +1)
            self._evict()
        return obj

    def set_limits(self, *, memory_limit_bytes: int, disk_limit_bytes: int) -> None:
        """New budgets (a config reload); entries over a smaller one are evicted now."""
        self.memory_limit_bytes = memory_limit_bytes
        self.disk_limit_bytes = disk_limit_bytes
        self._evict()

    def discard(self, key: str) -> bool:
        obj = self._entries.pop(key, None)
        if obj is None:
            return False
        self._release(key, obj)
        return True

    def spill_dir(self) -> Path:
        """Where spill files go; a private temporary directory unless one was given."""
        if self._spill_dir is not None:
            self._spill_dir.mkdir(parents=True, exist_ok=True)
            return self._spill_dir
        if self._own_spill_dir is None:
            self._own_spill_dir = Path(tempfile.mkdtemp(prefix="edgesim-cache-"))
        return self._own_spill_dir

    def _writer_done(self, writer: CacheWriter) -> None:
        self._writers.discard(writer)

    def _touch(self, key: str, obj: CachedObject) -> None:
        self._entries.move_to_end(key)
        if obj.spill_file is not None:
            self._spilled.move_to_end(key)

    def _memory_cost(self, obj: CachedObject) -> int:
        body = 0 if obj.spilled else obj.size
        if not self.count_entry_overhead:
            return body
        spill_file = None if obj.spill_file is None else str(obj.spill_file)
        return entry_memory_cost(
            obj.key, obj.path, obj.headers, body_bytes=body, spill_file=spill_file
        )

    def _charge(self, obj: CachedObject, sign: int) -> None:
        """Add (+1) or remove (-1) an entry's share of the totals and of its POP's."""
        disk = obj.size if obj.spilled else 0
        memory_body = 0 if obj.spilled else obj.size
        self._memory_used += sign * obj.memory_cost
        self._memory_bytes += sign * memory_body
        self._disk_bytes += sign * disk
        usage = self._pops.get(obj.pop)
        if usage is None:
            usage = self._pops[obj.pop] = PopUsage()
        usage.entries += sign
        usage.memory_bytes += sign * obj.memory_cost
        usage.disk_bytes += sign * disk

    def _store(self, key: str, obj: CachedObject) -> CachedObject | None:
        obj.memory_cost = self._memory_cost(obj)
        too_big = obj.memory_cost > self.memory_limit_bytes or (
            obj.spilled and obj.size > self.disk_limit_bytes
        )
        if too_big:
            _remove_file(obj.spill_file)
            return None
        self.discard(key)
        self._entries[key] = obj
        if obj.spilled:
            self._spilled[key] = None
        self._charge(obj, +1)
        self._evict()
        return obj

    def _release(self, key: str, obj: CachedObject) -> None:
        """Forget a removed entry: its costs leave the accounting, its file is deleted."""
        self._charge(obj, -1)
        if obj.spill_file is not None:
            self._spilled.pop(key, None)
            _remove_file(obj.spill_file)

    def _evict(self) -> None:
        """Drop least-recently-used entries until both budgets hold; O(1) per victim."""
        while self._memory_used > self.memory_limit_bytes:
            victim = self._oldest_holding_memory()
            if victim is None:
                break
            self._evict_key(victim)
        while self._disk_bytes > self.disk_limit_bytes and self._spilled:
            self._evict_key(next(iter(self._spilled)))

    def _oldest_holding_memory(self) -> str | None:
        # Counting entry overhead, every entry holds memory and the first one is the victim.
        # Without it, spilled entries hold none and are skipped (only there can this walk).
        for key, obj in self._entries.items():
            if obj.memory_cost > 0:
                return key
        return None

    def _evict_key(self, key: str) -> None:
        self.discard(key)
        self._counters["evictions"] += 1

    # --- invalidation ----------------------------------------------------------------------

    def invalidate(self, pattern: str) -> int:
        """Remove every entry whose path matches a CloudFront invalidation path; returns the count.

        ``/images/logo.jpg`` matches that path exactly; ``/images/*`` or ``/images/logo*``
        match by prefix (``*`` is zero or more characters, last character only). A missing
        leading "/" is added, as the console does. Bodies being written for a matching path are
        abandoned too, so an invalidation cannot be undone by a fill that started before it.
        """
        match = invalidation_matcher(pattern)
        doomed = [key for key, obj in self._entries.items() if match(obj.path)]
        for key in doomed:
            self.discard(key)
        for writer in [w for w in self._writers if match(w.path)]:
            writer.abort()
        self._counters["invalidated"] += len(doomed)
        return len(doomed)

    # --- shutdown --------------------------------------------------------------------------

    def close(self) -> None:
        """Drop every entry and writer and delete the spill files (and our spill directory)."""
        for writer in list(self._writers):
            writer.abort()
        for key in list(self._entries):
            self.discard(key)
        if self._own_spill_dir is not None:
            shutil.rmtree(self._own_spill_dir, ignore_errors=True)
            self._own_spill_dir = None

    def __enter__(self) -> HttpCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def invalidation_matcher(pattern: str) -> Callable[[str], bool]:
    """A predicate for one invalidation path; ValueError for paths CloudFront would reject."""
    text, prefix = invalidation_pattern(pattern)
    if prefix:
        return lambda path: path.startswith(text)
    return lambda path: path == text


def invalidation_pattern(pattern: str) -> tuple[str, bool]:
    """An invalidation path as entries' paths are compared with it: (the encoded text, whether
    it is a prefix, i.e. ended with ``*``); ValueError for paths CloudFront would reject."""
    if not pattern:
        raise ValueError("empty invalidation path")
    if not pattern.startswith("/"):
        pattern = "/" + pattern
    if len(pattern) > MAX_INVALIDATION_PATH:
        raise ValueError("invalidation path longer than 4,000 characters")
    if "*" in pattern[:-1]:
        raise ValueError(f"'*' may only be the last character of an invalidation path: {pattern}")
    pattern = urllib.parse.quote(pattern, safe=_PATTERN_SAFE)
    if pattern.endswith("*"):
        return pattern[:-1], True
    return pattern, False
