"""String functions: format and formatlist, replace, regex and regexall, title, trim, substr,
split and join."""

from __future__ import annotations

import json
import re
from typing import Any

from edgesim.importers.terraform.functions.args import guard_known, list_arg, str_arg
from edgesim.importers.terraform.functions.encoding import jsonencode
from edgesim.importers.terraform.values import EvalError, Scope, to_bool, to_number


def format_fn(scope: Scope, spec: Any, *args: Any) -> str:
    template = str_arg(spec, "format")
    out: list[str] = []
    index = 0
    i = 0
    while i < len(template):
        ch = template[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        match = re.compile(r"%([-+ #0]*)(\d*)(?:\.(\d+))?([sdfqvtbxXoeEgG%])").match(template, i)
        if match is None:
            raise EvalError(f"format: invalid verb at {template[i:]!r}")
        flags, width, precision, verb = match.groups()
        i = match.end()
        if verb == "%":
            out.append("%")
            continue
        if index >= len(args):
            raise EvalError("format: not enough arguments")
        arg = args[index]
        index += 1
        if verb in ("s", "v"):
            text = jsonencode(arg) if isinstance(arg, list | dict) else str_arg(arg, "format")
        elif verb == "q":
            text = json.dumps(str_arg(arg, "format"), ensure_ascii=False)
        elif verb == "t":
            text = "true" if to_bool(arg, "format") else "false"
        else:
            number = to_number(arg, "format")
            pyspec = f"{flags}{width}{'.' + precision if precision else ''}{verb}"
            if verb in "dxXob":
                number = int(number)
            text = ("%" + pyspec) % number
            out.append(text)
            continue
        out.append(f"{text:{'<' if '-' in flags else '>'}{width}}" if width else text)
    return "".join(out)


def replace(scope: Scope, text: Any, search: Any, replacement: Any) -> str:
    subject = str_arg(text, "replace")
    pattern = str_arg(search, "replace")
    repl = str_arg(replacement, "replace")
    if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        py_repl = re.sub(r"\$\{?(\w+)\}?", r"\\g<\1>", repl.replace("\\", "\\\\"))
        return re.sub(pattern[1:-1], py_repl, subject)
    return subject.replace(pattern, repl)


def regex(scope: Scope, pattern: Any, text: Any) -> Any:
    compiled = re.compile(str_arg(pattern, "regex"))
    match = compiled.search(str_arg(text, "regex"))
    if match is None:
        raise EvalError("regex: the pattern did not match")
    return _match_value(compiled, match)


def _match_value(compiled: re.Pattern[str], match: re.Match[str]) -> Any:
    if compiled.groupindex:
        return match.groupdict()
    if compiled.groups:
        return list(match.groups())
    return match.group(0)


def regexall(scope: Scope, pattern: Any, text: Any) -> list[Any]:
    compiled = re.compile(str_arg(pattern, "regexall"))
    return [_match_value(compiled, m) for m in compiled.finditer(str_arg(text, "regexall"))]


def substr(scope: Scope, text: Any, offset: Any, length: Any) -> str:
    subject = str_arg(text, "substr")
    start = int(to_number(offset, "substr"))
    count = int(to_number(length, "substr"))
    if start < 0:
        start += len(subject)
    return subject[start:] if count < 0 else subject[start : start + count]


def title(scope: Scope, text: Any) -> str:
    return re.sub(r"\b([a-z])", lambda m: m.group(1).upper(), str_arg(text, "title"))


def trim(scope: Scope, text: Any, chars: Any) -> str:
    return str_arg(text, "trim").strip(str_arg(chars, "trim"))


def split(scope: Scope, separator: Any, text: Any) -> list[str]:
    subject = str_arg(text, "split")
    return subject.split(str_arg(separator, "split")) if subject else [""]


def join(scope: Scope, separator: Any, *lists: Any) -> str:
    items: list[Any] = []
    for value in lists:
        items.extend(list_arg(value, "join"))
    guard_known(items)
    return str_arg(separator, "join").join(str_arg(v, "join") for v in items)


def formatlist(scope: Scope, spec: Any, *args: Any) -> list[str]:
    lengths = {len(a) for a in args if isinstance(a, list)}
    if len(lengths) > 1:
        raise EvalError("formatlist: the lists have different lengths")
    count = lengths.pop() if lengths else 1
    rows = zip(*[a if isinstance(a, list) else [a] * count for a in args], strict=True)
    return [format_fn(scope, spec, *row) for row in rows]
