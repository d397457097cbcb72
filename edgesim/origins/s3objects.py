"""An object's file for the S3 directory origin: what is kept of a file opened to serve
it, and the ETag S3 gives its bytes.

Each behaviour cites the evidence it follows (AWS documentation first, field reports where the
documentation is silent). docs/s3-origins.md lists what is emulated and what is not.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Final

__all__ = ["Opened", "md5_etag"]

_HASH_CHUNK: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Opened:
    fd: int
    size: int
    modified: int  # whole seconds: S3's Last-Modified has no sub-second part
    identity: tuple[int, int, int, int, int]  # what the ETag cache is keyed on


def md5_etag(fd: int, size: int) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    offset = 0
    while offset < size:
        chunk = os.pread(fd, min(_HASH_CHUNK, size - offset), offset)
        if not chunk:
            break
        digest.update(chunk)
        offset += len(chunk)
    return f'"{digest.hexdigest()}"'
