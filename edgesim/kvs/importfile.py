"""CloudFront's KVS import format: UTF-8 JSON ``{"data": [{"key": ..., "value": ...}, ...]}``.

Rules from the AWS Developer Guide ("Quotas on key value stores", "Create a key value store from
an S3 import file"): keys up to 512 bytes, values up to 1 KB, no duplicate keys, 5 MB in all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from edgesim import limits
from edgesim.errors import KvsImportError


def parse_import(raw: bytes | str, *, source: str = "<import>") -> dict[str, str]:
    """Validate an import document and return its key → value mapping (in file order)."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise KvsImportError(f"{source}: not valid JSON: {exc}") from None
    return validate_import(doc, source=source)


def validate_import(doc: Any, *, source: str = "<import>") -> dict[str, str]:
    if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
        raise KvsImportError(f'{source}: expected an object {{"data": [{{"key": …, "value": …}}]}}')
    extra = sorted(set(doc) - {"data"})
    if extra:
        raise KvsImportError(
            f"{source}: unknown top-level key {extra[0]!r} (only 'data' is allowed)"
        )
    items: dict[str, str] = {}
    total = 0
    for index, entry in enumerate(doc["data"]):
        where = f"{source}: data[{index}]"
        if not isinstance(entry, dict) or set(entry) != {"key", "value"}:
            raise KvsImportError(f'{where}: expected exactly {{"key": …, "value": …}}')
        key, value = entry["key"], entry["value"]
        if not isinstance(key, str) or not isinstance(value, str):
            raise KvsImportError(f"{where}: key and value must be strings")
        check_key(key, where=where)
        check_value(value, where=where)
        if key in items:
            raise KvsImportError(f"{where}: duplicate key {key!r}")
        items[key] = value
        total += item_size(key, value)
    if total > limits.KVS_MAX_STORE_BYTES:
        raise KvsImportError(
            f"{source}: {total} bytes of keys and values exceed the store limit of "
            f"{limits.KVS_MAX_STORE_BYTES} bytes"
        )
    return items


def item_size(key: str, value: str) -> int:
    return len(key.encode()) + len(value.encode())


def check_key(key: str, *, where: str) -> None:
    size = len(key.encode())
    if size == 0:
        raise KvsImportError(f"{where}: the key is empty")
    if size > limits.KVS_MAX_KEY_BYTES:
        raise KvsImportError(
            f"{where}: key is {size} bytes; CloudFront allows {limits.KVS_MAX_KEY_BYTES}"
        )


def check_value(value: str, *, where: str) -> None:
    size = len(value.encode())
    if size > limits.KVS_MAX_VALUE_BYTES:
        raise KvsImportError(
            f"{where}: value is {size} bytes; CloudFront allows {limits.KVS_MAX_VALUE_BYTES}"
        )


def load_import_file(path: str | Path) -> dict[str, str]:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KvsImportError(f"{path}: cannot read the KVS file: {exc.strerror}") from None
    return parse_import(raw, source=str(path))


def dump_import(items: dict[str, str]) -> bytes:
    data = [{"key": k, "value": v} for k, v in items.items()]
    return orjson.dumps({"data": data}, option=orjson.OPT_INDENT_2)
