"""What ``cf.logCustomData(value)`` leaves in the access log.

AWS Developer Guide, "General helper methods" (reference notes §4.5): the method takes one string
(objects must be stringified by the caller), the value is URL-encoded by CloudFront and truncated
to 800 bytes after encoding, it lands in the ``viewer-request-log-data`` or
``viewer-response-log-data`` log field (``-`` when unset), and when a function calls it several
times the last call wins. The field names and the 800-byte cut after encoding are also restated in
hashicorp/terraform-provider-aws issue #49176 ("documented as URL-encoded and truncated to a
maximum of 800 bytes").

Unverified: which URL encoding. Neither source says whether it is encodeURIComponent-like
(space → ``%20``) or form encoding (space → ``+``); edgesim percent-encodes the UTF-8 bytes of
every character except those encodeURIComponent leaves alone (``A-Z a-z 0-9 - _ . ! ~ * ' ( )``).
Also unverified: where exactly the cut falls. edgesim never cuts a ``%XX`` escape in half, nor
the escapes of one character: it keeps the longest run of whole characters whose encoding fits.
The runtime turns a non-string argument into text with ``String(value)`` first, as it always has
(the docs only say the argument is a string).
"""

from __future__ import annotations

from urllib.parse import quote

from edgesim import limits

# Besides these, quote() never escapes ASCII letters, digits and "_.-~": together, exactly the
# characters encodeURIComponent leaves as they are.
_ALSO_SAFE = "!*'()"
_UNESCAPED = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~" + _ALSO_SAFE
)


def _encoded_size(char: str) -> int:
    if char in _UNESCAPED:
        return 1
    return 3 * len(char.encode("utf-8"))


def encode_custom_log_data(value: str, max_bytes: int | None = None) -> str:
    """``value`` URL-encoded and cut to at most ``max_bytes`` bytes at a character boundary.

    ``max_bytes`` defaults to :data:`edgesim.limits.FUNCTION_MAX_CUSTOM_LOG_BYTES`.
    """
    if max_bytes is None:
        max_bytes = limits.FUNCTION_MAX_CUSTOM_LOG_BYTES
    size = 0
    end = 0
    for char in value:
        size += _encoded_size(char)
        if size > max_bytes:
            break
        end += 1
    return quote(value[:end], safe=_ALSO_SAFE)
