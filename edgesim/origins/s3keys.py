"""Object keys for the S3 directory origin: the key a request path names, the Content-Type an
object uploaded from a file would carry, and the spelling checks that keep keys case-sensitive
on a case-insensitive file system.

Each behaviour cites the evidence it follows (AWS documentation first, field reports where the
documentation is silent). docs/s3-origins.md lists what is emulated and what is not.
"""

from __future__ import annotations

import mimetypes
import os
from typing import Final
from urllib.parse import unquote_to_bytes

__all__ = [
    "DEFAULT_CONTENT_TYPE",
    "content_type_for",
    "exact_case",
    "fs_is_case_insensitive",
    "key_from_raw_path",
]

# S3's own default when an object was stored without a Content-Type: PutObject's Content-Type
# "Default: binary/octet-stream" (S3 API reference, RESTObjectPUT, as quoted by the AWS SDK for
# Java maintainers in aws/aws-sdk-java#1082 and #1143, and by localstack/localstack#589).
DEFAULT_CONTENT_TYPE: Final = "binary/octet-stream"


def key_from_raw_path(raw_path: str) -> str | None:
    """The object key a request path names: the path without its query and its leading ``/``,
    percent-decoded as UTF-8. ``None`` when the bytes are not UTF-8 (no key can match).

    S3 takes a ``+`` in the path of a REST request as a space (only ``%2B`` is a plus): field
    reports s3tools/s3cmd#554, dnbert/prm#46, imgix/js-core#88. ``%2F`` decodes to ``/`` as in S3,
    where the key is the decoded path.
    """
    path = raw_path.split("?", 1)[0]
    try:
        key = unquote_to_bytes(path.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return key[1:] if key.startswith("/") else key


def content_type_for(key: str) -> str:
    """The Content-Type an object uploaded from this file would carry: the AWS CLI's
    ``aws s3 cp/sync`` sets ``mimetypes.guess_type(filename)[0]`` (aws/aws-cli,
    awscli/customizations/s3/utils.py, ``guess_content_type``) and S3 answers
    ``binary/octet-stream`` for an object stored without one."""
    guessed, _encoding = mimetypes.guess_type(key.rsplit("/", 1)[-1], strict=True)
    return guessed or DEFAULT_CONTENT_TYPE


def fs_is_case_insensitive(root: str) -> bool:
    swapped = root.swapcase()
    if swapped == root:
        return False
    try:
        return os.path.samefile(root, swapped)
    except OSError:
        return False


def exact_case(root: str, segments: list[str]) -> bool:
    """Whether every segment is spelled in the directory exactly as in the key (S3 keys are
    case-sensitive; a case-insensitive file system would otherwise open ``Index.html`` for
    ``index.html``)."""
    current = root
    for segment in segments:
        try:
            names = os.listdir(current)
        except OSError:
            return False
        if segment not in names:
            return False
        current = os.path.join(current, segment)
    return True
