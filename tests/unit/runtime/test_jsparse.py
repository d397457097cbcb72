"""The shared tree-sitter parser: first syntax error, character columns, queries, threads."""

from __future__ import annotations

import threading

from edgesim.runtime import jsparse


def test_valid_source_has_no_error() -> None:
    tree = jsparse.parse(b"function handler(e) { return e.request; }")
    assert jsparse.first_error(tree.root_node) is None


def test_the_first_error_is_found_in_document_order() -> None:
    source = b"var ok = 1;\nvar a = ;\nvar b = ;\n"
    node = jsparse.first_error(jsparse.parse(source).root_node)
    assert node is not None
    assert node.start_point.row == 1  # the second line, not the third


def test_a_missing_token_is_an_error_too() -> None:
    source = b"function handler(e) { return e.request; "
    assert jsparse.first_error(jsparse.parse(source).root_node) is not None


def test_columns_count_characters_not_bytes() -> None:
    source = "var s = '\u00e9\u00e9\u00e9'; nope nope;".encode()
    captured = jsparse.captures(
        jsparse.query("(expression_statement) @statement"), jsparse.parse(source).root_node
    )
    (statement,) = captured["statement"]
    assert source[statement.start_byte : statement.end_byte] == b"nope nope;"
    assert statement.start_point.column == 18  # bytes, 0-based
    assert jsparse.column(source, statement) == 16  # characters, 1-based


def test_a_query_is_compiled_once() -> None:
    assert jsparse.query("(identifier) @id") is jsparse.query("(identifier) @id")


def test_each_thread_parses_with_its_own_parser() -> None:
    results: dict[str, bool] = {}

    def work(name: str, source: bytes) -> None:
        for _ in range(50):
            ok = jsparse.first_error(jsparse.parse(source).root_node) is None
        results[name] = ok

    threads = [
        threading.Thread(target=work, args=("good", b"var a = 1;")),
        threading.Thread(target=work, args=("bad", b"var a = ;")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {"good": True, "bad": False}
