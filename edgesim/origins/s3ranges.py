"""Byte ranges for the S3 directory origin: the Range header parsed as GetObject/HeadObject
take it, and a range cut into the chunks a body is streamed in.

Each behaviour cites the evidence it follows (AWS documentation first, field reports where the
documentation is silent). docs/s3-origins.md lists what is emulated and what is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

__all__ = ["CHUNK_SIZE", "ByteRange", "RangeNotSatisfiable", "chunks", "parse_range"]

# Bodies are streamed in chunks of this size (os.pread on an open descriptor): a large object
# is never read into memory whole.
CHUNK_SIZE: Final = 256 * 1024
_RANGE_RE: Final = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class RangeNotSatisfiable(Exception):
    """The Range names no byte of the object: S3 answers 416 ``InvalidRange``."""


def parse_range(header: str, size: int) -> ByteRange | None:
    """The single byte range ``header`` asks of an object of ``size`` bytes, ``None`` when the
    whole object is to be sent, or :class:`RangeNotSatisfiable`.

    - One range ``a-b``, ``a-`` or ``-n`` (RFC 9110 §14.1.1, which GetObject's Range refers to);
      an end past the object is cut to its last byte.
    - Several ranges: "Amazon S3 doesn't support retrieving multiple ranges of data per GET
      request" (GetObject, Range) and it answers 200 with the whole object, no Content-Range
      (field captures in awslabs/aws-c-s3#257 and basho/riak_cs#304).
    - A malformed header (another unit, ``b < a``, no digits) is ignored and the whole object
      sent, as RFC 9110 lets a server do (S3 does: scality/cloudserver#2194).
    - A first byte at or past the end, ``-0``, or any range of an empty object is unsatisfiable
      (S3's 416 ``InvalidRange``: scality/cloudserver#400, minio/minio#6557 on empty objects).
    """
    match = _RANGE_RE.match(header)
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if first:
        start = int(first)
        if last:
            end = int(last)
            if end < start:
                return None
        else:
            end = size - 1
        if start >= size:
            raise RangeNotSatisfiable
        return ByteRange(start, min(end, size - 1))
    if not last:
        return None
    suffix = int(last)
    if suffix == 0 or size == 0:
        raise RangeNotSatisfiable
    return ByteRange(max(0, size - suffix), size - 1)


def chunks(byte_range: ByteRange) -> Iterator[tuple[int, int]]:
    offset = byte_range.start
    end = byte_range.end + 1
    while offset < end:
        size = min(CHUNK_SIZE, end - offset)
        yield offset, size
        offset += size
