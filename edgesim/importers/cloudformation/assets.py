"""S3 objects a template names → local files: the ``AssetResolver`` type, and the data file of a
KeyValueStore's ``ImportSource``."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edgesim.importers.bundle import ImportBundle

if TYPE_CHECKING:
    from edgesim.importers.cloudformation.stack import Stack


AssetResolver = Callable[[str, str], Path | None]
"""``(bucket, key)`` of an S3 object the template names (a KeyValueStore's ``ImportSource``) →
the local file that holds it, or ``None`` when it is not a local asset. A returned path that does
not exist is reported as a missing asset. Without a resolver, a plain template's object is looked
for as the key relative to the template's directory."""


def import_source(stack: Stack, bundle: ImportBundle, logical_id: str, source: Any) -> Path | None:
    at = f"Resources.{logical_id}.Properties.ImportSource.SourceArn"
    arn = source.get("SourceArn") if isinstance(source, dict) else None
    match = re.fullmatch(r"arn:[^:]+:s3:::([^/]+)/(.+)", arn) if isinstance(arn, str) else None
    if match is None:
        raise stack.fail(at, None, f"{arn!r} is not an S3 object ARN")
    bucket, key = match.groups()
    if stack.assets is not None:
        found = stack.assets(bucket, key)
    else:
        found = stack.path.parent / key
        if not found.is_file():
            found = None
        else:
            bundle.notes.append(
                f"{stack.where(at)}: KeyValueStore data read from {found} (the S3 key beside "
                f"the template)"
            )
    if found is None:
        name = stack.named(logical_id)
        bundle.notes.append(
            f"{stack.where(at)}: KeyValueStore {name} imports s3://{bucket}/{key}, which is not "
            f"a local file: seed it with --kvs {name}=FILE"
        )
        return None
    if not found.is_file():
        raise stack.fail(at, None, f"s3://{bucket}/{key}: the asset file {found} is missing")
    return found
