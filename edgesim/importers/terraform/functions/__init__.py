"""Terraform's built-in functions that edgesim evaluates, by name (:data:`FUNCTIONS`).

The implementations are in this package's modules (strings, collections, encoding,
filesystem); the one-liners are written here. Every function gets the scope first. A function
returns the first Unknown among its arguments unless it is in :data:`UNKNOWN_AWARE`; one that
finds an Unknown deeper inside raises UnknownResult, which the wrapper turns into its value.
Functions whose result changes on every run (``timestamp``, ``uuid``) are unknown.
"""

from __future__ import annotations

import base64
import math
import re
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from edgesim.importers.terraform.functions.args import guard_known, list_arg, str_arg
from edgesim.importers.terraform.functions.collections import (
    coalesce,
    contains,
    element,
    flatten_fn,
    index_fn,
    keys,
    length,
    lookup,
    merge,
    one,
    range_fn,
    setop,
    slice_fn,
    sort,
    tomap,
    values,
    zipmap,
)
from edgesim.importers.terraform.functions.encoding import hash_fn, jsondecode, jsonencode
from edgesim.importers.terraform.functions.filesystem import (
    file,
    fileexists,
    filehash,
    read_bytes,
    templatefile,
)
from edgesim.importers.terraform.functions.strings import (
    format_fn,
    formatlist,
    join,
    regex,
    regexall,
    replace,
    split,
    substr,
    title,
    trim,
)
from edgesim.importers.terraform.values import (
    Scope,
    Unknown,
    UnknownResult,
    make_set,
    num,
    tf_equal,
    to_bool,
    to_number,
    to_string,
)


def _known(value: Any, fn: Callable[[Any], Any]) -> Any:
    guard_known(value)
    return fn(value)


def _unknown_fn(name: str) -> Callable[..., Unknown]:
    def fn(scope: Scope, *args: Any) -> Unknown:
        return Unknown(f"{name}()", f"{name}() changes on every run")

    return fn


def _wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
    def call(scope: Scope, *args: Any) -> Any:
        try:
            return fn(scope, *args)
        except UnknownResult as unknown:
            return unknown.value

    return call


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "file": file,
    "fileexists": fileexists,
    "filebase64": lambda s, p: base64.b64encode(read_bytes(s, p, "filebase64")).decode(),
    "filemd5": filehash("md5"),
    "filesha1": filehash("sha1"),
    "filesha256": filehash("sha256"),
    "filebase64sha256": filehash("sha256", b64=True),
    "templatefile": templatefile,
    "jsonencode": lambda s, v: _known(v, jsonencode),
    "jsondecode": jsondecode,
    "format": lambda s, spec, *a: _known(list(a), lambda _: format_fn(s, spec, *a)),
    "formatlist": formatlist,
    "join": join,
    "split": split,
    "replace": replace,
    "regex": regex,
    "regexall": regexall,
    "lower": lambda s, t: str_arg(t, "lower").lower(),
    "upper": lambda s, t: str_arg(t, "upper").upper(),
    "title": title,
    "trimspace": lambda s, t: str_arg(t, "trimspace").strip(),
    "trim": trim,
    "trimprefix": lambda s, t, p: str_arg(t, "trimprefix").removeprefix(str_arg(p, "trimprefix")),
    "trimsuffix": lambda s, t, p: str_arg(t, "trimsuffix").removesuffix(str_arg(p, "trimsuffix")),
    "chomp": lambda s, t: re.sub(r"(\r?\n)+\Z", "", str_arg(t, "chomp")),
    "substr": substr,
    "startswith": lambda s, t, p: str_arg(t, "startswith").startswith(str_arg(p, "startswith")),
    "endswith": lambda s, t, p: str_arg(t, "endswith").endswith(str_arg(p, "endswith")),
    "strcontains": lambda s, t, p: str_arg(p, "strcontains") in str_arg(t, "strcontains"),
    "length": length,
    "concat": lambda s, *ls: [v for lst in ls for v in list_arg(lst, "concat")],
    "merge": merge,
    "lookup": lookup,
    "element": element,
    "contains": contains,
    "keys": keys,
    "values": values,
    "flatten": flatten_fn,
    "distinct": lambda s, ls: [
        v
        for i, v in enumerate(list_arg(ls, "distinct"))
        if not any(tf_equal(v, w) is True for w in ls[:i])
    ],
    "compact": lambda s, ls: [v for v in list_arg(ls, "compact") if v is not None and v != ""],
    "coalesce": coalesce,
    "coalescelist": lambda s, *ls: next((v for v in ls if list_arg(v, "coalescelist")), []),
    "toset": lambda s, v: make_set(list_arg(v, "toset")),
    "tolist": lambda s, v: list(list_arg(v, "tolist")),
    "tomap": tomap,
    "tostring": lambda s, v: to_string(v, "tostring"),
    "tonumber": lambda s, v: to_number(v, "tonumber"),
    "tobool": lambda s, v: to_bool(v, "tobool"),
    "max": lambda s, *a: num(max(to_number(v, "max") for v in a)),
    "min": lambda s, *a: num(min(to_number(v, "min") for v in a)),
    "abs": lambda s, v: abs(to_number(v, "abs")),
    "ceil": lambda s, v: math.ceil(to_number(v, "ceil")),
    "floor": lambda s, v: math.floor(to_number(v, "floor")),
    "sum": lambda s, v: num(sum(to_number(x, "sum") for x in list_arg(v, "sum"))),
    "range": range_fn,
    "zipmap": zipmap,
    "one": one,
    "sort": sort,
    "reverse": lambda s, v: list(reversed(list_arg(v, "reverse"))),
    "slice": slice_fn,
    "index": index_fn,
    "alltrue": lambda s, v: all(to_bool(x, "alltrue") for x in list_arg(v, "alltrue")),
    "anytrue": lambda s, v: any(to_bool(x, "anytrue") for x in list_arg(v, "anytrue")),
    "setunion": setop("union"),
    "setintersection": setop("intersection"),
    "setsubtract": setop("subtract"),
    "md5": hash_fn("md5"),
    "sha1": hash_fn("sha1"),
    "sha256": hash_fn("sha256"),
    "sha512": hash_fn("sha512"),
    "base64encode": lambda s, t: base64.b64encode(str_arg(t, "base64encode").encode()).decode(),
    "base64decode": lambda s, t: base64.b64decode(str_arg(t, "base64decode")).decode(),
    "urlencode": lambda s, t: urllib.parse.quote(str_arg(t, "urlencode"), safe=""),
    "basename": lambda s, p: Path(str_arg(p, "basename")).name,
    "dirname": lambda s, p: str(Path(str_arg(p, "dirname")).parent),
    "abspath": lambda s, p: str((s.resolver.root_dir / str_arg(p, "abspath")).resolve()),
    "sensitive": lambda s, v: v,
    "nonsensitive": lambda s, v: v,
    "timestamp": _unknown_fn("timestamp"),
    "uuid": _unknown_fn("uuid"),
    "plantimestamp": _unknown_fn("plantimestamp"),
}


FUNCTIONS: Mapping[str, Callable[..., Any]] = {k: _wrap(v) for k, v in _FUNCTIONS.items()}


# These look at their Unknown arguments themselves (or are guarded deeply inside).
UNKNOWN_AWARE = frozenset({"coalesce"})
