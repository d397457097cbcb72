"""Collection functions: lists, maps and sets (coalesce, lookup, element, flatten, merge,
length, one, range, tomap, index, sort, slice, keys, values, contains, zipmap, set operations)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgesim.importers.terraform.functions.args import list_arg, map_arg, str_arg
from edgesim.importers.terraform.values import (
    EvalError,
    Scope,
    TfSet,
    Unknown,
    make_set,
    num,
    tf_equal,
    to_number,
    type_name,
)


def coalesce(scope: Scope, *args: Any) -> Any:
    for arg in args:
        if isinstance(arg, Unknown):
            return arg
        if arg is not None and arg != "":
            return arg
    raise EvalError("coalesce: no non-null, non-empty argument")


def lookup(scope: Scope, mapping: Any, key: Any, *default: Any) -> Any:
    table = map_arg(mapping, "lookup")
    name = str_arg(key, "lookup")
    if name in table:
        return table[name]
    if default:
        return default[0]
    raise EvalError(f'lookup: no key "{name}" and no default')


def element(scope: Scope, items: Any, index: Any) -> Any:
    values = list_arg(items, "element")
    if not values:
        raise EvalError("element: the list is empty")
    return values[int(to_number(index, "element")) % len(values)]


def flatten_fn(scope: Scope, items: Any) -> list[Any]:
    out: list[Any] = []
    for item in list_arg(items, "flatten"):
        if isinstance(item, list):
            out.extend(flatten_fn(scope, item))
        else:
            out.append(item)
    return out


def merge(scope: Scope, *maps: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for mapping in maps:
        if mapping is None:
            continue
        result.update(map_arg(mapping, "merge"))
    return result


def length(scope: Scope, value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | dict):
        return len(value)
    raise EvalError(f"length: cannot take the length of {type_name(value)}")


def one(scope: Scope, value: Any) -> Any:
    items = list_arg(value, "one")
    if len(items) > 1:
        raise EvalError(f"one: the list has {len(items)} elements")
    return items[0] if items else None


def range_fn(scope: Scope, *args: Any) -> list[Any]:
    numbers = [to_number(a, "range") for a in args]
    start, stop, step = 0, 0, 1
    if len(numbers) == 1:
        stop = numbers[0]
    elif len(numbers) >= 2:
        start, stop = numbers[0], numbers[1]
        step = numbers[2] if len(numbers) > 2 else (1 if stop >= start else -1)
    out: list[Any] = []
    value = start
    while (step > 0 and value < stop) or (step < 0 and value > stop):
        out.append(num(value))
        value += step
        if len(out) > 1024:
            raise EvalError("range: more than 1024 elements")
    return out


def tomap(scope: Scope, value: Any) -> Any:
    return dict(map_arg(value, "tomap"))


def index_fn(scope: Scope, items: Any, value: Any) -> int:
    for position, item in enumerate(list_arg(items, "index")):
        if tf_equal(item, value) is True:
            return position
    raise EvalError("index: the value is not in the list")


def sort(scope: Scope, items: Any) -> list[Any]:
    return sorted(str_arg(v, "sort") for v in list_arg(items, "sort"))


def slice_fn(scope: Scope, items: Any, start: Any, end: Any) -> list[Any]:
    return list(list_arg(items, "slice")[int(to_number(start)) : int(to_number(end))])


def keys(scope: Scope, value: Any) -> list[Any]:
    return sorted(map_arg(value, "keys"))


def values(scope: Scope, value: Any) -> list[Any]:
    table = map_arg(value, "values")
    return [table[k] for k in sorted(table)]


def contains(scope: Scope, items: Any, value: Any) -> Any:
    return any(tf_equal(item, value) is True for item in list_arg(items, "contains"))


def zipmap(scope: Scope, keys: Any, values: Any) -> dict[str, Any]:
    names = list_arg(keys, "zipmap")
    items = list_arg(values, "zipmap")
    if len(names) != len(items):
        raise EvalError("zipmap: the lists have different lengths")
    return {str_arg(k, "zipmap"): v for k, v in zip(names, items, strict=True)}


def setop(kind: str) -> Callable[..., TfSet]:
    def op(scope: Scope, *sets: Any) -> TfSet:
        lists = [list_arg(s, f"set{kind}") for s in sets]
        if not lists:
            return TfSet()
        result = list(lists[0])
        for other in lists[1:]:
            if kind == "union":
                result.extend(other)
            elif kind == "intersection":
                result = [v for v in result if any(tf_equal(v, o) is True for o in other)]
            else:
                result = [v for v in result if not any(tf_equal(v, o) is True for o in other)]
        return make_set(result)

    return op
