"""A function's deployment package: zip archives unpacked for the workers, and the compressed
size that the "Maximum compressed size of a Lambda function and any included libraries" quota
(1 MB for viewer events, 50 MB for origin events; Quotas on Lambda@Edge) applies to.

A directory or a single file is measured as a zip of it would be: each file deflated (zlib,
level 6, as zip tools do by default) plus the archive's per-file headers. That is an estimate
within a few percent of a real archive, not its exact size.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
import zlib
from pathlib import Path

from edgesim.errors import InputError
from edgesim.lambda_edge import limits

# Local file header (30) + central directory entry (46) + end record share, per file and name.
_ZIP_ENTRY_OVERHEAD = 30 + 46
_SKIP_DIRS = {".git", "__pycache__"}
_CHUNK = 1 << 20


def unpack(archive: Path, *, cache_root: Path | None = None) -> Path:
    """Unpack ``archive`` into a directory named after its content (reused while the archive
    does not change) and answer that directory. Refuses entries that would land outside it."""
    data = archive.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    root = cache_root or Path(tempfile.gettempdir()) / "edgesim-lambda"
    target = root / f"{archive.stem}-{digest}"
    if (target / ".edgesim-complete").exists():
        return target
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                dest = (target / info.filename).resolve()
                if not dest.is_relative_to(target.resolve()):
                    raise InputError(
                        f"{archive}: entry {info.filename!r} would be unpacked outside the package"
                    )
            target.mkdir(parents=True, exist_ok=True)
            zf.extractall(target)
    except zipfile.BadZipFile as exc:
        raise InputError(f"{archive}: not a zip archive ({exc})") from None
    (target / ".edgesim-complete").touch()
    return target


def compressed_size(path: Path, *, stop_over: int | None = None) -> int:
    """Bytes of the package as deployed: a zip's own size, else the estimate described above.

    With ``stop_over``, counting stops as soon as the total is over it (the answer is then a
    lower bound): a quota check need not deflate the rest of a large ``node_modules``.
    """
    if path.is_file() and path.suffix == ".zip":
        return path.stat().st_size
    files = [path] if path.is_file() else _files(path)
    total = 22  # end of central directory record
    for file in files:
        if not file.exists():
            continue  # a dangling symlink: zip tools skip it with a warning
        name = file.name if path.is_file() else str(file.relative_to(path))
        total += _ZIP_ENTRY_OVERHEAD + 2 * len(name.encode())
        total += _deflated_size(file)
        if stop_over is not None and total > stop_over:
            break
    return total


def _deflated_size(file: Path) -> int:
    # In chunks, so a large file is never held in memory whole.
    deflate = zlib.compressobj(6)
    size = 0
    with file.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            size += len(deflate.compress(chunk))
    return size + len(deflate.flush())


def check_package(path: Path, event_type: str) -> str | None:
    """The quota a package breaks for ``event_type``, or None."""
    cls = limits.event_class(event_type)
    cap = limits.MAX_PACKAGE_BYTES[cls]
    if path.suffix != ".zip" and _upper_bound(path) <= cap:
        return None  # fits even if nothing compresses: no need to deflate it at every start-up
    size = compressed_size(path, stop_over=cap)
    if size <= cap:
        return None
    # A zip is measured exactly; a directory's estimate stops once it is over the quota.
    amount = f"{size:,}" if path.suffix == ".zip" else f"at least {size:,}"
    return (
        f"{path}: the package is {amount} bytes compressed; the quota for {cls} events is "
        f"{cap:,} (Quotas on Lambda@Edge: maximum compressed size of a function and its "
        "libraries)"
    )


def _upper_bound(path: Path) -> int:
    """What :func:`compressed_size` can answer at most, from the files' sizes alone: deflate
    grows incompressible data by at most about 0.03% plus a few bytes (zlib's deflateBound)."""
    files = [path] if path.is_file() else _files(path)
    total = 22
    for file in files:
        if not file.exists():
            continue
        name = file.name if path.is_file() else str(file.relative_to(path))
        size = file.stat().st_size
        total += _ZIP_ENTRY_OVERHEAD + 2 * len(name.encode()) + size + size // 1_000 + 64
    return total


def _files(root: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        found += [Path(dirpath) / f for f in sorted(filenames)]
    return found
