"""Terraform's expression language, evaluated from python-hcl2's raw Lark tree.

Computes values the way Terraform does for the constructs distributions are written with:
literals, templates (quoted, heredoc, directives), operators, conditionals, ``for``
expressions, splats, indexing, references and function calls (the built-in functions are in
:mod:`edgesim.importers.terraform.functions`).

Names (``var.x``, ``local.y``, resources, modules) are resolved by the scope's
:class:`~edgesim.importers.terraform.values.Resolver`, which the Terraform front-end supplies.
A value that cannot be known here (a computed attribute, a variable without a value, a function
edgesim does not evaluate) is an :class:`~edgesim.importers.terraform.values.Unknown`: it flows
through expressions like Terraform's unknown values do, and the front-end decides whether it
matters. Errors Terraform itself would report (a missing file, an index out of range, a bad
type) raise :class:`~edgesim.importers.terraform.values.EvalError`, located at the expression
that failed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

from lark import Token, Tree

from edgesim.importers.terraform.syntax import (
    call_args,
    is_bare_identifier,
    line_of,
    name_of,
    trees,
)
from edgesim.importers.terraform.templates import (
    If,
    Interp,
    Lit,
    heredoc_body,
    quoted_pieces,
    strip_and_nest,
    template_pieces,
    unescape,
)
from edgesim.importers.terraform.values import (
    EvalError,
    Scope,
    Source,
    Step,
    Unknown,
    UnknownResult,
    apply_steps,
    iterate,
    num,
    tf_equal,
    to_bool,
    to_number,
    to_string,
    type_name,
)


def evaluate(node: Tree[Any], scope: Scope) -> Any:
    """The value of ``node``; an EvalError is located at the innermost failing expression."""
    try:
        return _eval(node, scope)
    except EvalError as exc:
        if not exc.where:
            exc.where = f"{scope.src.display}:{line_of(node) + scope.src.line_offset}"
        raise


def _eval(node: Tree[Any], scope: Scope) -> Any:
    handler = _HANDLERS.get(node.data)
    if handler is None:
        raise EvalError(f"unsupported expression ({node.data})")
    return handler(node, scope)


def _eval_expr_term(node: Tree[Any], scope: Scope) -> Any:
    children = trees(node.children)
    if len(children) != 1:  # pragma: no cover - grammar guarantees one
        raise EvalError("malformed expression")
    child = children[0]
    if child.data == "identifier":
        return _traversal(child, [], scope)
    return evaluate(child, scope)


def _eval_literal(node: Tree[Any], scope: Scope) -> Any:
    word = str(node.children[0])
    return {"true": True, "false": False, "null": None}[word]


def _eval_int(node: Tree[Any], scope: Scope) -> Any:
    return int(str(node.children[0]))


def _eval_float(node: Tree[Any], scope: Scope) -> Any:
    return num(float(str(node.children[0])))


def _eval_string(node: Tree[Any], scope: Scope) -> Any:
    return render_template(quoted_pieces(node), scope)


def _eval_heredoc(node: Tree[Any], scope: Scope) -> Any:
    body = heredoc_body(str(node.children[0]))
    sub = Scope(
        scope.resolver,
        Source(scope.src.path, scope.src.display, scope.src.line_offset + line_of(node)),
        scope.bindings,
        "",
    )
    return render_template(template_pieces(body), sub)


def _eval_template_string(node: Tree[Any], scope: Scope) -> Any:
    token = str(node.children[0])
    return unescape(token[2:-2])


def render_template(pieces: list[Any], scope: Scope) -> Any:
    nested = strip_and_nest(pieces)
    if len(nested) == 1 and isinstance(nested[0], Interp):
        return evaluate(nested[0].expr, scope)
    out: list[str] = []
    unknown = _render_into(nested, scope, out)
    if unknown is not None:
        return unknown
    return "".join(out)


def _render_into(nodes: list[Any], scope: Scope, out: list[str]) -> Unknown | None:
    for node in nodes:
        if isinstance(node, Lit):
            out.append(node.text)
        elif isinstance(node, Interp):
            value = evaluate(node.expr, scope)
            if isinstance(value, Unknown):
                return value
            if value is None:
                raise EvalError("a template cannot interpolate a null value")
            if isinstance(value, list | dict) or hasattr(value, "tf_attr"):
                raise EvalError(f"a template cannot interpolate a {type_name(value)}")
            out.append(to_string(value))
        elif isinstance(node, If):
            cond = to_bool(evaluate(node.cond, scope), "template condition")
            if isinstance(cond, Unknown):
                return cond
            if cond is None:
                raise EvalError("a template condition is null")
            found = _render_into(node.then if cond else node.otherwise, scope, out)
            if found is not None:
                return found
        else:
            collection = evaluate(node.collection, scope)
            if isinstance(collection, Unknown):
                return collection
            for key, value in iterate(collection, "template for"):
                names = node.names
                bindings = (
                    {names[0]: key, names[1]: value} if len(names) == 2 else {names[0]: value}
                )
                found = _render_into(node.body, scope.child(**bindings), out)
                if found is not None:
                    return found
    return None


def _eval_tuple(node: Tree[Any], scope: Scope) -> Any:
    return [evaluate(child, scope) for child in trees(node.children)]


def _eval_object(node: Tree[Any], scope: Scope) -> Any:
    result: dict[str, Any] = {}
    for elem in trees(node.children):
        key_node, value_node = trees(elem.children)
        key_expr = trees(key_node.children)[0]
        name = is_bare_identifier(key_expr)
        if name is None:
            key = evaluate(key_expr, scope)
            if isinstance(key, Unknown):
                return key
            key_text = to_string(key, "object key")
            if key_text is None:
                raise EvalError("an object key cannot be null")
            name = key_text
        result[name] = evaluate(value_node, scope)
    return result


def _eval_conditional(node: Tree[Any], scope: Scope) -> Any:
    cond_node, then_node, else_node = trees(node.children)
    cond = to_bool(evaluate(cond_node, scope), "condition")
    if isinstance(cond, Unknown):
        return cond
    if cond is None:
        raise EvalError("the condition is null")
    return evaluate(then_node if cond else else_node, scope)


def _eval_unary(node: Tree[Any], scope: Scope) -> Any:
    operator = str(node.children[0])
    value = evaluate(trees(node.children)[0], scope)
    if isinstance(value, Unknown):
        return value
    if operator == "!":
        flag = to_bool(value, "operand of !")
        if flag is None:
            raise EvalError("operand of ! is null")
        return not flag
    number = to_number(value, "operand of -")
    if number is None:
        raise EvalError("operand of - is null")
    return -number


def _eval_binary(node: Tree[Any], scope: Scope) -> Any:
    left_node, term = trees(node.children)[:2]
    op_node, right_node = trees(term.children)
    operator = str(op_node.children[0])
    left = evaluate(left_node, scope)
    if operator in ("&&", "||"):
        flag = to_bool(left, f"left operand of {operator}")
        if isinstance(flag, bool) and flag == (operator == "||"):
            return flag
        right = to_bool(evaluate(right_node, scope), f"right operand of {operator}")
        if isinstance(flag, Unknown):
            return flag
        if isinstance(right, Unknown):
            return right
        if flag is None or right is None:
            raise EvalError(f"an operand of {operator} is null")
        return right
    right = evaluate(right_node, scope)
    if operator == "==":
        return tf_equal(left, right)
    if operator == "!=":
        same = tf_equal(left, right)
        return same if isinstance(same, Unknown) else not same
    for side in (left, right):
        if isinstance(side, Unknown):
            return side
    a = to_number(left, f"left operand of {operator}")
    b = to_number(right, f"right operand of {operator}")
    if a is None or b is None:
        raise EvalError(f"an operand of {operator} is null")
    if operator == "+":
        return num(a + b)
    if operator == "-":
        return num(a - b)
    if operator == "*":
        return num(a * b)
    if operator in ("/", "%"):
        if b == 0:
            raise EvalError("division by zero")
        return num(a / b) if operator == "/" else num(math.fmod(a, b))
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[operator]


def _flatten(node: Tree[Any]) -> tuple[Tree[Any], list[tuple[str, Any]]]:
    steps: list[tuple[str, Any]] = []
    while True:
        if node.data == "expr_term":
            inner = trees(node.children)
            if len(node.children) == 1 and len(inner) == 1:
                node = inner[0]
                continue
            break
        if node.data == "get_attr_expr_term":
            source, accessor = node.children
            steps.append(("attr", name_of(trees(accessor.children)[0])))
            node = source
            continue
        if node.data == "index_expr_term":
            source, accessor = node.children
            steps.append(("index", accessor))
            node = source
            continue
        break
    steps.reverse()
    return node, steps


def _eval_index_key(accessor: Tree[Any], scope: Scope) -> Any:
    if accessor.data == "short_index":
        return int(str(accessor.children[-1]))
    return evaluate(trees(accessor.children)[0], scope)


def _eval_traversal(node: Tree[Any], scope: Scope) -> Any:
    root, raw_steps = _flatten(node)
    if root.data != "identifier":
        value = evaluate(root, scope)
        steps = [(k, a if k == "attr" else _eval_index_key(a, scope)) for k, a in raw_steps]
        return apply_steps(value, steps)
    return _traversal(root, raw_steps, scope)


def _traversal(root: Tree[Any], raw_steps: list[tuple[str, Any]], scope: Scope) -> Any:
    name = str(root.children[0])
    steps: list[Step] = [(k, a if k == "attr" else _eval_index_key(a, scope)) for k, a in raw_steps]
    if name in scope.bindings:
        return apply_steps(scope.bindings[name], steps)
    value, used = scope.resolver.resolve(name, steps, scope)
    return apply_steps(value, steps[used:])


def _eval_splat(node: Tree[Any], scope: Scope) -> Any:
    source, splat = node.children
    value = evaluate(source, scope)
    if isinstance(value, Unknown):
        return value
    accessors = [c for c in splat.children if isinstance(c, Tree)]
    steps: list[Step] = []
    for accessor in accessors:
        if accessor.data == "get_attr":
            steps.append(("attr", name_of(trees(accessor.children)[0])))
        else:
            steps.append(("index", _eval_index_key(accessor, scope)))
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [apply_steps(item, steps) for item in items]


def _for_parts(node: Tree[Any]) -> tuple[tuple[str, ...], Tree[Any], list[Tree[Any]], Any]:
    intro = next(c for c in node.children if isinstance(c, Tree) and c.data == "for_intro")
    names = tuple(name_of(c) for c in trees(intro.children) if c.data == "identifier")
    collection = next(c for c in trees(intro.children) if c.data != "identifier")
    cond_tree = next(
        (c for c in node.children if isinstance(c, Tree) and c.data == "for_cond"), None
    )
    cond = trees(cond_tree.children)[0] if cond_tree is not None else None
    exprs = [c for c in trees(node.children) if c.data not in ("for_intro", "for_cond")]
    return names, collection, exprs, cond


def _for_items(node: Tree[Any], scope: Scope) -> Iterator[tuple[Scope, list[Tree[Any]]]] | Unknown:
    names, collection_node, exprs, cond = _for_parts(node)
    collection = evaluate(collection_node, scope)
    if isinstance(collection, Unknown):
        return collection
    if collection is None:
        raise EvalError("a for expression cannot iterate over null")

    def items() -> Iterator[tuple[Scope, list[Tree[Any]]]]:
        for key, value in iterate(collection, "for expression"):
            bindings = {names[0]: key, names[1]: value} if len(names) == 2 else {names[0]: value}
            inner = scope.child(**bindings)
            if cond is not None:
                keep = to_bool(evaluate(cond, inner), "for condition")
                if isinstance(keep, Unknown):
                    raise UnknownResult(keep)
                if not keep:
                    continue
            yield inner, exprs

    return items()


def _eval_for_tuple(node: Tree[Any], scope: Scope) -> Any:
    items = _for_items(node, scope)
    if isinstance(items, Unknown):
        return items
    try:
        return [evaluate(exprs[0], inner) for inner, exprs in items]
    except UnknownResult as unknown:
        return unknown.value


def _eval_for_object(node: Tree[Any], scope: Scope) -> Any:
    items = _for_items(node, scope)
    if isinstance(items, Unknown):
        return items
    grouping = any(isinstance(c, Token) and str(c) == "..." for c in node.children)
    result: dict[str, Any] = {}
    try:
        for inner, exprs in items:
            key = evaluate(exprs[0], inner)
            if isinstance(key, Unknown):
                return key
            key_text = to_string(key, "for expression key")
            value = evaluate(exprs[1], inner)
            if grouping:
                result.setdefault(key_text, []).append(value)
            elif key_text in result:
                raise EvalError(f'duplicate key "{key_text}" in a for expression (use ...)')
            else:
                result[key_text] = value
    except UnknownResult as unknown:
        return unknown.value
    return result


def _eval_call(node: Tree[Any], scope: Scope) -> Any:
    identifiers = [c for c in node.children if isinstance(c, Tree) and c.data == "identifier"]
    name = "::".join(name_of(i) for i in identifiers)
    arg_nodes, expand = call_args(node)
    if name in ("try", "can"):
        return _try_can(name, arg_nodes, scope)
    if len(identifiers) > 1:
        return Unknown(f"{name}(…)", "provider functions are not evaluated by edgesim")
    args = [evaluate(arg, scope) for arg in arg_nodes]
    if expand:
        last = args.pop() if args else None
        if isinstance(last, Unknown):
            return last
        if not isinstance(last, list):
            raise EvalError(f"{name}: the argument expanded with ... must be a list")
        args.extend(last)
    function = FUNCTIONS.get(name)
    if function is None:
        return Unknown(f"{name}(…)", f"the function {name} is not evaluated by edgesim")
    if name not in UNKNOWN_AWARE:
        for arg in args:
            if isinstance(arg, Unknown):
                return arg
    try:
        return function(scope, *args)
    except TypeError as exc:
        if "positional argument" in str(exc) or "required" in str(exc):
            raise EvalError(f"{name}: wrong number of arguments ({len(args)})") from None
        raise


def _try_can(name: str, arg_nodes: list[Tree[Any]], scope: Scope) -> Any:
    if name == "can":
        if len(arg_nodes) != 1:
            raise EvalError("can: takes exactly one argument")
        try:
            value = evaluate(arg_nodes[0], scope)
        except EvalError:
            return False
        return value if isinstance(value, Unknown) else True
    for arg in arg_nodes:
        try:
            return evaluate(arg, scope)
        except EvalError:
            continue
    raise EvalError("try: no argument could be evaluated without an error")


_HANDLERS: dict[str, Callable[[Tree[Any], Scope], Any]] = {
    "expr_term": _eval_expr_term,
    "literal_value": _eval_literal,
    "int_lit": _eval_int,
    "float_lit": _eval_float,
    "string": _eval_string,
    "heredoc_template": _eval_heredoc,
    "heredoc_template_trim": _eval_heredoc,
    "template_string": _eval_template_string,
    "tuple": _eval_tuple,
    "object": _eval_object,
    "conditional": _eval_conditional,
    "unary_op": _eval_unary,
    "binary_op": _eval_binary,
    "get_attr_expr_term": _eval_traversal,
    "index_expr_term": _eval_traversal,
    "attr_splat_expr_term": _eval_splat,
    "full_splat_expr_term": _eval_splat,
    "for_tuple_expr": _eval_for_tuple,
    "for_object_expr": _eval_for_object,
    "function_call": _eval_call,
    "identifier": lambda node, scope: _traversal(node, [], scope),
}


# Imported last: templatefile() renders with render_template, so the functions package
# imports this module, and finds everything above already defined (the package's front-end
# modules always import this module before the functions package).
from edgesim.importers.terraform.functions import FUNCTIONS, UNKNOWN_AWARE  # noqa: E402
