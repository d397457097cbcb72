"""What CloudFront's JavaScript runtimes would reject, found statically with tree-sitter.

QuickJS accepts far more JavaScript than CloudFront's njs-like engine, so code that runs here can
fail at the edge. Each rule names its evidence (see the runtime facts reference, sections 2.1–2.4):
syntax CloudFront is documented or reported to reject is an error; what rests on the njs source
alone, on a missing documentation entry or on a name-based guess is a warning.

Most rules are tree-sitter query captures named after the rule; the few that need context
(imports, ``await`` inside arguments, shadowed globals) are filtered in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from tree_sitter import Node

from edgesim import limits
from edgesim.runtime import jsparse

JS1 = limits.RUNTIME_JS_1
JS2 = limits.RUNTIME_JS_2
BOTH = frozenset({JS1, JS2})
ONLY_JS1 = frozenset({JS1})
ONLY_JS2 = frozenset({JS2})

LEVELS = {"strict": "error", "warn": "warning", "lenient": None}


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str  # "error" | "warning"
    runtimes: frozenset[str]
    message: str
    evidence: str


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    line: int
    column: int
    message: str
    evidence: str

    def format(self, filename: str) -> str:
        return f"{filename}:{self.line}:{self.column}: {self.severity} [{self.rule}] {self.message}"


_RT20 = "AWS docs: JavaScript runtime 2.0 features"
_RT10 = "AWS docs: JavaScript runtime 1.0 features"
_NJS = "njs 0.8.3 parser (CloudFront's engine is njs-like; unverified)"
_ADR = "field report: nzyme ADR, measured with test-function"
_ASYNC = "AWS docs: Use async and await ('async arguments and closures are not supported')"

_RULE_LIST = (
    Rule("syntax", "error", BOTH, "the source does not compile (the engine's SyntaxError)",
         "QuickJS compiling the function in strict mode, as it runs it, then "
         "tree-sitter-javascript; CloudFront refuses functions that do not compile"),
    Rule("destructuring", "error", BOTH,
         "destructuring is not supported; read the properties one by one",
         "field report: 'CloudFront Function Limitations' (SyntaxError: Token \"[\" not "
         "supported in this version); " + _NJS),
    Rule("optional-chaining", "error", BOTH,
         "optional chaining (?.) is not supported; test each step (a && a.b)",
         "field report: borso.fr postmortem; absent from the njs 0.8.3 lexer"),
    Rule("spread", "error", BOTH,
         "spread (...x) in arrays, calls and object literals is not supported (rest parameters "
         "are)", _NJS + "; not in " + _RT20),
    Rule("class", "error", BOTH, "classes are not supported; use functions and object literals",
         _NJS + "; eslint-plugin-cloudfront-functions no-class"),
    Rule("generator", "error", BOTH, "generator functions (function*) are not supported",
         _NJS + "; not in " + _RT20),
    Rule("for-of", "error", BOTH, "for…of loops are not supported; use an index loop or forEach",
         _NJS + "; eslint-plugin-cloudfront-functions no-for-of"),
    Rule("await-in-arguments", "error", ONLY_JS2,
         "await inside call arguments is not supported (SyntaxError: await in arguments not "
         "supported); await into a variable first",
         _ASYNC + "; field reports (KVS workshop notes, cdk router notes); " + _NJS),
    Rule("optional-catch-binding", "error", BOTH,
         "catch without a binding is not supported; write catch (e)", _NJS),
    Rule("super", "error", BOTH, "super is not supported", _NJS),
    Rule("new-target", "error", BOTH, "new.target is not supported", _NJS),
    Rule("default-parameters", "warning", BOTH,
         "default parameter values may not be supported (unverified); set defaults in the body",
         "unverified: not in " + _RT20 + "; eslint-plugin-cloudfront-functions forbids them"),
    Rule("nullish-coalescing", "warning", BOTH,
         "?? is not in AWS's operator list (njs 0.8.3 parses it; CloudFront unverified)",
         _RT20 + " (operators: ES5.1 plus **); njs 0.8.3 lexer"),
    Rule("logical-assignment", "warning", BOTH,
         "logical assignment (&&=, ||=, ??=) is not in AWS's operator list (unverified)",
         _RT20 + " (operators: ES5.1 plus **)"),
    Rule("absent-global", "error", BOTH, "this global does not exist in CloudFront Functions",
         _ADR + " (Map, Set, Proxy, Reflect, BigInt, Intl, URL, URLSearchParams, "
         "structuredClone); AWS docs: function restrictions (no timers, process, network); "
         "field report: navapbc JWT write-up (no global crypto)"),
    Rule("absent-method", "warning", BOTH,
         "this method is reported absent in CloudFront Functions (a guess from its name)",
         _ADR + " (flat, flatMap, at, findLast, toSorted, matchAll, normalize, "
         "Object.fromEntries/hasOwn/groupBy); field report: localeCompare"),
    Rule("named-import", "error", BOTH,
         "only default imports are supported: import name from 'module'",
         "njs: 'Non-default import is not supported'; AWS docs and samples show only default "
         "imports"),
    Rule("import-unknown-module", "error", BOTH,
         "this module does not exist in CloudFront Functions",
         _RT20 + " and " + _RT10 + " (modules: crypto, querystring; cloudfront in 2.0); no "
         "user modules or npm packages"),
    Rule("import-position", "warning", ONLY_JS2, "imports must come before other statements",
         "AWS docs: KeyValueStore helper methods (import cf from 'cloudfront' at the top)"),
    Rule("console-multiple-args", "warning", BOTH,
         "console.log takes one argument in CloudFront; concatenate the values",
         _RT20 + " (console: log() only, several arguments unsupported)"),
    Rule("console-method", "error", BOTH, "console has only log() in CloudFront Functions",
         _RT20 + " (console: log() only)"),
    # An error rather than a warning: both throw at the edge while QuickJS runs them happily, so a
    # warning would let strict mode pass code that can only fail in production.
    Rule("eval", "error", BOTH, "eval() and the Function constructor throw in CloudFront Functions",
         _RT20 + " (restricted: eval, Function constructor)"),
    # No rule for async arrow functions / function expressions: AWS's own deployed samples use
    # `const handler = async (event) => …`, so there is no evidence CloudFront rejects them.
    Rule("async-method", "warning", ONLY_JS2,
         "async methods in object literals are reported not to run; use an async function",
         "field report: 'URL Rewrite Lambda' README (unverified)"),
    Rule("let-const", "error", ONLY_JS1, "const and let are not supported in runtime 1.0; use var",
         _RT10),
    Rule("async-await", "error", ONLY_JS1, "async and await need runtime 2.0", _RT10),
    Rule("cloudfront-module", "error", ONLY_JS1,
         "the cloudfront module (KeyValueStore, origin helpers) needs runtime 2.0",
         _RT10 + "; AWS docs: runtime features comparison"),
    Rule("numeric-separator", "warning", ONLY_JS1,
         "numeric separators (1_000) are listed for runtime 2.0 only", _RT10),
    Rule("runtime-1-api", "warning", ONLY_JS1,
         "this API is listed for runtime 2.0 only, not in runtime 1.0", _RT10),
)  # fmt: skip

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULE_LIST}

_ABSENT_GLOBALS = {
    "Map": "use a plain object",
    "Set": "use a plain object",
    "WeakMap": "",
    "WeakSet": "",
    "WeakRef": "",
    "FinalizationRegistry": "",
    "Proxy": "",
    "Reflect": "",
    "BigInt": "",
    "Intl": "",
    "URL": "parse the string yourself",
    "URLSearchParams": "use require('querystring')",
    "structuredClone": "",
    "setTimeout": "functions run synchronously apart from await",
    "setInterval": "functions run synchronously apart from await",
    "setImmediate": "functions run synchronously apart from await",
    "clearTimeout": "",
    "clearInterval": "",
    "queueMicrotask": "",
    "fetch": "functions have no network access",
    "XMLHttpRequest": "functions have no network access",
    "process": "there is no process or environment",
    "crypto": "use require('crypto'), which has no WebCrypto",
}
_ABSENT_METHODS = ("flat", "flatMap", "at", "findLast", "findLastIndex", "toSorted", "toReversed",
                   "toSpliced", "with", "matchAll", "normalize", "localeCompare")  # fmt: skip
_OBJECT_STATICS = ("fromEntries", "hasOwn", "groupBy")
_JS1_GLOBALS = ("Buffer", "TextEncoder", "TextDecoder", "atob", "btoa", "DataView", "Symbol")
_TYPED_ARRAYS = ("Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
                 "Int32Array", "Uint32Array", "Float32Array", "Float64Array")  # fmt: skip
_MODULES = {
    JS2: frozenset({"crypto", "querystring", "cloudfront"}),
    JS1: frozenset({"crypto", "querystring"}),
}


def _any_of(capture: str, names: Iterable[str]) -> str:
    return f"(#any-of? @{capture} " + " ".join(f'"{name}"' for name in names) + ")"


# Capture names are rule ids; names starting with "_" feed the Python checks below.
_QUERY = f"""
[(object_pattern) (array_pattern)] @destructuring
(optional_chain) @optional-chaining
(spread_element) @spread
[(class_declaration) (class)] @class
[(generator_function_declaration) (generator_function)] @generator
(method_definition "*" @generator)
(for_in_statement operator: "of") @for-of
(await_expression) @await-in-arguments
(catch_clause !parameter) @optional-catch-binding
(super) @super
((meta_property) @new-target (#match? @new-target "^new"))
(formal_parameters (assignment_pattern) @default-parameters)
(binary_expression operator: "??" @nullish-coalescing)
(augmented_assignment_expression operator: ["&&=" "||=" "??="] @logical-assignment)
([(identifier) (shorthand_property_identifier)] @absent-global
 {_any_of("absent-global", _ABSENT_GLOBALS)})
((number) @absent-global (#match? @absent-global "n$"))
(call_expression function: (member_expression property: (property_identifier) @absent-method)
 {_any_of("absent-method", _ABSENT_METHODS)})
((member_expression object: (identifier) @_object property: (property_identifier) @absent-method)
 (#eq? @_object "Object") {_any_of("absent-method", _OBJECT_STATICS)})
(import_clause [(named_imports) (namespace_import)] @named-import)
(import_statement source: (string) @_module)
((call_expression function: (identifier) @_require arguments: (arguments . (string) @_module))
 (#eq? @_require "require"))
((call_expression function: (member_expression object: (identifier) @_console
   property: (property_identifier) @_log) arguments: (arguments) @console-multiple-args)
 (#eq? @_console "console") (#eq? @_log "log"))
((member_expression object: (identifier) @_console property: (property_identifier) @console-method)
 (#eq? @_console "console") (#not-eq? @console-method "log"))
((call_expression function: (identifier) @eval) {_any_of("eval", ("eval", "Function"))})
((new_expression constructor: (identifier) @eval) (#eq? @eval "Function"))
(object (method_definition "async") @async-method)
(lexical_declaration kind: _ @let-const)
(for_in_statement kind: ["let" "const"] @let-const)
"async" @async-await
((number) @numeric-separator (#match? @numeric-separator "_"))
([(identifier) (shorthand_property_identifier)] @runtime-1-api
 {_any_of("runtime-1-api", _JS1_GLOBALS)})
(call_expression function: (member_expression property: (property_identifier) @runtime-1-api)
 (#eq? @runtime-1-api "replaceAll"))
((member_expression object: (identifier) @_promise property: (property_identifier) @runtime-1-api)
 (#eq? @_promise "Promise") {_any_of("runtime-1-api", ("all", "allSettled", "any", "race"))})
((member_expression object: (identifier) @_object property: (property_identifier) @runtime-1-api)
 (#eq? @_object "Object") (#eq? @runtime-1-api "getOwnPropertyDescriptors"))
((member_expression object: (identifier) @_typed property: (property_identifier) @runtime-1-api)
 {_any_of("_typed", _TYPED_ARRAYS)} {_any_of("runtime-1-api", ("from", "of"))})
[(jsx_element) (jsx_self_closing_element)] @_jsx
(variable_declarator name: (identifier) @_declared)
(function_declaration name: (identifier) @_declared)
(function_expression name: (identifier) @_declared)
(class_declaration name: (identifier) @_declared)
(formal_parameters (identifier) @_declared)
(formal_parameters (assignment_pattern left: (identifier) @_declared))
(formal_parameters (rest_pattern (identifier) @_declared))
(arrow_function parameter: (identifier) @_declared)
(catch_clause parameter: (identifier) @_declared)
(for_in_statement left: (identifier) @_declared)
(import_clause (identifier) @_declared)
(namespace_import (identifier) @_declared)
(import_specifier alias: (identifier) @_declared)
(import_specifier !alias name: (identifier) @_declared)
(shorthand_property_identifier_pattern) @_declared
"""

_FUNCTION_TYPES = frozenset(
    {
        "function_declaration",
        "function_expression",
        "generator_function_declaration",
        "generator_function",
        "arrow_function",
        "method_definition",
    }
)
_PATTERN_GLUE = frozenset({"pair_pattern", "assignment_pattern", "rest_pattern"})


@dataclass
class _Context:
    """What the filters need besides the node: the runtime and the file's declarations."""

    runtime: str
    declarations: dict[str, list[Node]]
    hits: list[tuple[str, Node, str]] = field(default_factory=list)

    def add(self, rule: str, node: Node, message: str = "") -> None:
        self.hits.append((rule, node, message or RULES[rule].message))

    def shadowed(self, reference: Node) -> bool:
        """True when a user declaration of this name is visible from ``reference``.

        Scopes are approximated by functions (and the program): ``let`` in a block counts for the
        whole function, which errs towards silence.
        """
        scopes = {_scope(decl).id for decl in self.declarations.get(_text(reference), ())}
        node: Node | None = reference
        while node is not None:
            if node.id in scopes:
                return True
            node = node.parent
        return False


def _text(node: Node) -> str:
    return (node.text or b"").decode("utf-8", "replace")


def _nested_pattern(node: Node) -> bool:
    """True for a pattern inside another pattern: only the outermost one is reported."""
    parent = node.parent
    while parent is not None and parent.type in _PATTERN_GLUE:
        parent = parent.parent
    return parent is not None and parent.type in ("object_pattern", "array_pattern")


def _in_arguments(node: Node) -> bool:
    parent = node.parent
    while parent is not None and parent.type not in _FUNCTION_TYPES:
        if parent.type == "arguments":
            return True
        parent = parent.parent
    return False


def _scope(declared: Node) -> Node:
    """The function (or program) whose body sees a declared name."""
    parent = declared.parent
    if parent is not None and parent.type in ("function_declaration", "class_declaration"):
        parent = parent.parent  # the declaration's own name belongs to the enclosing scope
    while parent is not None and parent.parent is not None and parent.type not in _FUNCTION_TYPES:
        parent = parent.parent
    assert parent is not None
    return parent


def _typeof_operand(node: Node) -> bool:
    parent = node.parent
    return (
        parent is not None
        and parent.type == "unary_expression"
        and _text(parent).startswith("typeof")
    )


def _on_destructuring(node: Node, ctx: _Context) -> str | None:
    return None if _nested_pattern(node) else ""


def _on_for_of(node: Node, ctx: _Context) -> str | None:
    if any(child.type == "await" for child in node.children):
        return "for await…of loops are not supported"
    return ""


def _on_await(node: Node, ctx: _Context) -> str | None:
    return "" if _in_arguments(node) else None


def _on_absent_global(node: Node, ctx: _Context) -> str | None:
    if node.type == "number":
        return "BigInt literals are not supported (BigInt does not exist)"
    name = _text(node)
    if _typeof_operand(node) or ctx.shadowed(node):
        return None
    hint = _ABSENT_GLOBALS.get(name, "")
    return f"{name} is not defined in CloudFront Functions" + (f"; {hint}" if hint else "")


def _member_name(prop: Node) -> str:
    """``Object.hasOwn`` for a static method of a built-in, ``.flat`` for any other member."""
    owner = prop.prev_named_sibling
    name = _text(owner) if owner is not None and owner.type == "identifier" else ""
    static = name == "Object" or name == "Promise" or name in _TYPED_ARRAYS
    return f"{name if static else ''}.{_text(prop)}"


def _on_absent_method(node: Node, ctx: _Context) -> str | None:
    return (
        f"{_member_name(node)}() is reported absent in CloudFront Functions (guessed from its name)"
    )


def _on_console_args(node: Node, ctx: _Context) -> str | None:
    count = sum(1 for child in node.named_children if child.type != "comment")
    return "" if count > 1 else None


def _on_console_method(node: Node, ctx: _Context) -> str | None:
    return f"console.{_text(node)} does not exist; CloudFront has only console.log"


def _on_eval(node: Node, ctx: _Context) -> str | None:
    return "eval() throws in CloudFront Functions" if _text(node) == "eval" else ""


def _on_runtime1_api(node: Node, ctx: _Context) -> str | None:
    name = _text(node)
    if node.type in ("identifier", "shorthand_property_identifier"):
        if _typeof_operand(node) or ctx.shadowed(node):
            return None
        return f"{name} is listed for runtime 2.0 only"
    return f"{_member_name(node)} is listed for runtime 2.0 only"


_Filter = Callable[[Node, _Context], str | None]
_FILTERS: dict[str, _Filter] = {
    "destructuring": _on_destructuring,
    "for-of": _on_for_of,
    "await-in-arguments": _on_await,
    "absent-global": _on_absent_global,
    "absent-method": _on_absent_method,
    "console-multiple-args": _on_console_args,
    "console-method": _on_console_method,
    "eval": _on_eval,
    "runtime-1-api": _on_runtime1_api,
}


def _query_hits(captured: dict[str, list[Node]], ctx: _Context) -> None:
    for rule, nodes in captured.items():
        if rule.startswith("_") or ctx.runtime not in RULES[rule].runtimes:
            continue
        check = _FILTERS.get(rule)
        for node in nodes:
            message = "" if check is None else check(node, ctx)
            if message is not None:
                ctx.add(rule, node, message)


def _module_name(string: Node) -> str:
    return _text(string)[1:-1]


def _module_hits(modules: list[Node], ctx: _Context) -> None:
    known = _MODULES[ctx.runtime]
    for string in modules:
        name = _module_name(string)
        if name == "cloudfront" and ctx.runtime == JS1:
            ctx.add("cloudfront-module", string)
        elif name not in known:
            available = ", ".join(sorted(known))
            message = f"module '{name}' does not exist in {ctx.runtime}; available: {available}"
            ctx.add("import-unknown-module", string, message)


def _import_position_hits(root: Node, ctx: _Context) -> None:
    seen_code = False
    for statement in root.named_children:
        if statement.type == "comment":
            continue
        if statement.type != "import_statement":
            seen_code = True
        elif seen_code:
            ctx.add("import-position", statement)


def _syntax_problem(
    text: str, root: Node, captured: dict[str, list[Node]]
) -> tuple[int, int, str] | None:
    """(line, column, message) of the first syntax error, worded as the engine words it.

    The engine compiles the module body exactly as it would run it (in strict mode, as njs
    runs every function), so its error is the one ``edgesim test`` and ``serve`` report. When
    only tree-sitter objects (the engine compiles code it cannot parse), its guess is reported
    in the same shape.
    """
    from edgesim.runtime.engine import compile_error
    from edgesim.runtime.source import load_body

    body, positions = load_body(text)
    error = compile_error(body, positions)
    if error is not None:
        return error.line, error.column, error.error
    node = jsparse.first_error(root)
    if node is not None:
        if node.is_missing:
            message = f"SyntaxError: missing {node.type}"
        else:
            # tree-sitter's ERROR node spans what it could not fit; the trouble is inside.
            snippet = _text(node).split("\n", 1)[0].strip()
            snippet = snippet if len(snippet) <= 40 else snippet[:39] + "…"
            message = f"SyntaxError: cannot parse {snippet!r}"
    elif captured.get("_jsx"):
        node, message = captured["_jsx"][0], "SyntaxError: JSX is not JavaScript"
    else:
        return None
    return node.start_point.row + 1, jsparse.column(text.encode("utf-8"), node), message


def _levels(overrides: dict[str, str] | None) -> dict[str, str | None]:
    """Rule id → severity (None drops the rule), validated against the rule table."""
    levels: dict[str, str | None] = {rule.id: rule.severity for rule in _RULE_LIST}
    for rule, level in (overrides or {}).items():
        if rule not in RULES:
            raise ValueError(
                f"unknown compatibility rule {rule!r}; valid rules: {', '.join(RULES)}"
            )
        if level not in LEVELS:
            raise ValueError(
                f"rule {rule!r}: unknown level {level!r}; expected one of {', '.join(LEVELS)}"
            )
        levels[rule] = LEVELS[level]
    return levels


def _findings(
    hits: list[tuple[str, Node, str]], source: bytes, levels: dict[str, str | None]
) -> Iterator[Finding]:
    for rule, node, message in hits:
        severity = levels[rule]
        if severity is not None:
            line, column = node.start_point.row + 1, jsparse.column(source, node)
            yield Finding(rule, severity, line, column, message, RULES[rule].evidence)


def check_source(
    text: str, *, runtime: str, overrides: dict[str, str] | None = None
) -> list[Finding]:
    """Findings for ``text`` on ``runtime``, sorted by position.

    ``overrides`` maps a rule id to "strict" (error), "warn" (warning) or "lenient" (dropped).
    """
    levels = _levels(overrides)
    if runtime not in _MODULES:
        raise ValueError(f"unknown runtime {runtime!r}; expected one of {', '.join(_MODULES)}")
    source = text.encode("utf-8")
    root = jsparse.parse(source).root_node
    captured = jsparse.captures(jsparse.query(_QUERY), root)
    declarations: dict[str, list[Node]] = {}
    for node in captured.get("_declared", ()):
        declarations.setdefault(_text(node), []).append(node)
    ctx = _Context(runtime, declarations)
    syntax = _syntax_problem(text, root, captured)
    if syntax is not None:
        # A broken tree yields spurious matches; the parse error is the one thing worth saying.
        severity = levels["syntax"]
        if severity is None:
            return []
        line, column, message = syntax
        return [Finding("syntax", severity, line, column, message, RULES["syntax"].evidence)]
    _query_hits(captured, ctx)
    _module_hits(captured.get("_module", []), ctx)
    if runtime == JS2:
        _import_position_hits(root, ctx)
    unique = set(_findings(ctx.hits, source, levels))
    return sorted(unique, key=lambda f: (f.line, f.column, f.rule))


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(finding.severity == "error" for finding in findings)
