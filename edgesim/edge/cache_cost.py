"""What one cache entry costs in memory, estimated from its parts.

The cache's memory limit (``[cache] memory_limit_mb``) bounds this estimate, not body bytes
alone: with small objects the key, the stored headers and the bookkeeping outweigh the body
(a 100-byte body with five headers costs about 1 KB), so counting bodies only let a cache of
cache-busting URLs grow to several times its limit (issue 17).

The estimate is the sum of

- ``ENTRY_BYTES`` per entry: the ``CachedObject`` (slots), its slot in the cache's ``OrderedDict``
  (hash table entry and linked-list node), the ``str`` headers of its key and path, the
  ``bytes`` header of its body and the header list;
- the lengths of the key and of the path (ASCII in practice; a non-ASCII character takes 1 to 4
  bytes in CPython, so long non-ASCII keys are slightly undercounted);
- ``HEADER_BYTES`` per stored header: a 2-tuple, its list slot and two ``str`` objects, plus
  the lengths of the name and the value;
- the body, when it is held in memory; a spilled body costs its file, counted against the disk
  limit, and in memory ``SPILLED_BYTES`` plus the length of the file's path (the ``Path``
  object and the entry's place in the cache's LRU list of spilled entries).

The constants were measured with ``tracemalloc`` on CPython 3.11 (64-bit): store N entries with
unique keys, paths, header names and values through ``HttpCache.begin``/``write``/``commit``,
and divide the growth of traced memory (after ``gc.collect()``) by N, for several header counts,
key lengths and body sizes; ``tests/unit/edge/test_cache_memory.py`` repeats that measurement
and checks that the estimate never undercounts it and overcounts it by little. The estimate
rounds up: CPython's small-object allocator rounds each object up to 8 bytes and the dict
behind the ``OrderedDict`` grows by doubling, so the traced cost of an entry varies by some tens
of bytes around the mean. What ``tracemalloc`` does not see (allocator pools not yet returned to
the system, fragmentation) is the baseline the process's RSS carries on top of the limit.
"""

from __future__ import annotations

from edgesim.edge.message import Headers

ENTRY_BYTES = 500
HEADER_BYTES = 170
SPILLED_BYTES = 360


def entry_memory_cost(
    key: str, path: str, headers: Headers, *, body_bytes: int, spill_file: str | None = None
) -> int:
    """Estimated bytes of memory one entry holds: ``body_bytes`` is its in-memory body (0 when
    spilled), ``spill_file`` the path of its spilled body, if any."""
    header_bytes = sum(HEADER_BYTES + len(name) + len(value) for name, value in headers)
    spilled = 0 if spill_file is None else SPILLED_BYTES + len(spill_file)
    return ENTRY_BYTES + len(key) + len(path) + header_bytes + body_bytes + spilled
