"""The `cloudfront` module: KVS handle, origin helpers, edge location, custom log data."""

from __future__ import annotations

import json

from edgesim.runtime.function import OriginModification
from tests.unit.runtime.helpers import response_event, run

KVS = {"plain": "hello", "config": '{"on": true, "n": 3}', "bad-json": "{nope", "utf": "caf\u00e9"}


def header(result, name: str) -> str:  # type: ignore[no-untyped-def]
    assert result.error is None, result.error
    return result.request["headers"][name]["value"]


def kvs_probe(expression: str, **kwargs):  # type: ignore[no-untyped-def]
    code = (
        "import cf from 'cloudfront';\nconst kvs = cf.kvs();\n"
        "async function handler(e) { let out;"
        f" try {{ out = JSON.stringify(await ({expression})); }} catch (err) {{ out = 'ERR ' + err.message; }}"
        " e.request.headers.out = {value: String(out)}; return e.request; }"
    )
    return run(code, kvs=kwargs.pop("kvs", KVS), **kwargs)


def test_get_defaults_to_string() -> None:
    assert header(kvs_probe("kvs.get('plain')"), "out") == '"hello"'


def test_get_json_parses_the_value() -> None:
    assert json.loads(header(kvs_probe("kvs.get('config', {format: 'json'})"), "out")) == {
        "on": True,
        "n": 3,
    }


def test_get_bytes_gives_a_buffer_of_utf8() -> None:
    out = header(
        kvs_probe(
            "kvs.get('utf', {format: 'bytes'}).then(b => [Buffer.isBuffer(b), b.toString('hex')])"
        ),
        "out",
    )
    assert json.loads(out) == [True, "636166c3a9"]


def test_missing_key_rejects() -> None:
    out = header(kvs_probe("kvs.get('absent')"), "out")
    assert out.startswith("ERR KeyNotFound")
    assert "absent" in out


def test_malformed_json_rejects_with_syntax_error() -> None:
    assert header(kvs_probe("kvs.get('bad-json', {format: 'json'})"), "out").startswith("ERR ")


def test_exists_and_meta() -> None:
    assert (
        header(kvs_probe("Promise.all([kvs.exists('plain'), kvs.exists('absent')])"), "out")
        == "[true,false]"
    )
    meta = json.loads(header(kvs_probe("kvs.meta()"), "out"))
    assert meta["keyCount"] == len(KVS)
    assert set(meta) == {"creationDateTime", "lastUpdatedDateTime", "keyCount"}


def test_any_store_id_selects_the_associated_store() -> None:
    code = (
        "import cf from 'cloudfront';\nconst kvs = cf.kvs('a1b2c3d4-5678-90ab-cdef-EXAMPLE1');\n"
        "async function handler(e) { e.request.headers.v = {value: await kvs.get('plain')}; return e.request; }"
    )
    assert header(run(code, kvs=KVS), "v") == "hello"


def test_kvs_without_an_associated_store_throws() -> None:
    code = "import cf from 'cloudfront';\nconst kvs = cf.kvs();\nfunction handler(e) { return e.request; }"
    result = run(code, kvs=None)
    assert result.error.kind == "execution"
    assert "KVSNamespaceNotFound" in result.error.message


def test_empty_store_is_associated_but_has_no_keys() -> None:
    assert header(kvs_probe("kvs.exists('plain')", kvs={}), "out") == "false"


def test_sequential_reads_settle_in_order() -> None:
    expr = (
        "(async () => [await kvs.get('plain'), await kvs.exists('utf'), await kvs.get('plain')])()"
    )
    assert json.loads(header(kvs_probe(expr), "out")) == ["hello", True, "hello"]


def test_origin_helpers_are_recorded_verbatim() -> None:
    code = (
        "import cf from 'cloudfront';\nfunction handler(e) {"
        " cf.updateRequestOrigin({domainName: 'api.example.com', originPath: '/v2'});"
        " cf.selectRequestOriginById('blue');"
        " cf.createRequestOriginGroup({originIds: ['a', 'b'], failoverCriteria: {statusCodes: [500, 503]}});"
        " return e.request; }"
    )
    result = run(code)
    assert result.error is None
    assert result.warnings == []
    assert result.origin_problems == []
    assert result.origin_modifications == [
        OriginModification(
            "updateRequestOrigin", {"domainName": "api.example.com", "originPath": "/v2"}, ()
        ),
        OriginModification("selectRequestOriginById", "blue", ()),
        OriginModification(
            "createRequestOriginGroup",
            {"originIds": ["a", "b"], "failoverCriteria": {"statusCodes": [500, 503]}},
            (),
        ),
    ]


def test_select_with_overrides_records_the_id_and_the_overrides() -> None:
    code = (
        "import cf from 'cloudfront';\nfunction handler(e) {"
        " cf.selectRequestOriginById('blue', {hostHeader: 'b.example.com'}); return e.request; }"
    )
    (call,) = run(code).origin_modifications
    assert (call.helper, call.argument) == (
        "selectRequestOriginById",
        ["blue", {"hostHeader": "b.example.com"}],
    )
    assert call.problems == ()


def test_origin_problems_are_kept_per_call_in_call_order() -> None:
    code = (
        "import cf from 'cloudfront';\nfunction handler(e) {"
        " cf.selectRequestOriginById('');"
        " cf.updateRequestOrigin({domainName: 'ok.example.com'});"
        " cf.updateRequestOrigin({connectionAttempts: 9});"
        " return e.request; }"
    )
    result = run(code)
    first, second, third = result.origin_modifications
    assert first.problems == ("selectRequestOriginById needs an origin id",)
    assert second.problems == ()
    assert third.problems == (
        "updateRequestOrigin.connectionAttempts must be an integer from 1 to 3 (got 9)",
    )
    assert result.origin_problems == [*first.problems, *third.problems]
    assert result.warnings == result.origin_problems


def test_origin_helpers_in_viewer_response_are_problems() -> None:
    code = (
        "import cf from 'cloudfront';\nfunction handler(e) {"
        " cf.selectRequestOriginById('blue'); return e.response; }"
    )
    result = run(code, response_event())
    assert result.error is None
    assert result.origin_problems == [
        "selectRequestOriginById can only be used in viewer-request functions"
    ]


def test_invalid_origin_values_are_warnings_in_test_mode() -> None:
    code = (
        "import cf from 'cloudfront';\nfunction handler(e) {"
        " cf.updateRequestOrigin({domainName: '10.0.0.1', originPath: 'v2/', connectionAttempts: 7});"
        " return e.request; }"
    )
    result = run(code)
    assert result.error is None
    joined = " | ".join(result.warnings)
    assert "domainName" in joined
    assert "originPath" in joined
    assert "connectionAttempts" in joined


def test_edge_location_in_viewer_request_and_empty_in_viewer_response() -> None:
    code = (
        "import cf from 'cloudfront';\nfunction handler(e) { var loc = JSON.stringify(cf.edgeLocation);"
        " if (e.response) { e.response.headers.loc = {value: loc}; return e.response; }"
        " e.request.headers.loc = {value: loc}; return e.request; }"
    )
    assert json.loads(header(run(code), "loc"))["name"] == "IAD"
    response = run(code, response_event())
    assert response.response["headers"]["loc"]["value"] == "{}"


def log_custom_data(*arguments: str, event=None) -> str | None:  # type: ignore[no-untyped-def]
    """What custom_log_data holds after calling cf.logCustomData with each JS expression."""
    calls = " ".join(f"cf.logCustomData({a});" for a in arguments)
    code = (
        "import cf from 'cloudfront';\n"
        f"function handler(e) {{ {calls} return e.response || e.request; }}"
    )
    result = run(code, event)
    assert result.error is None, result.error
    return result.custom_log_data  # type: ignore[no-any-return]


def test_log_custom_data_is_none_when_never_called() -> None:
    assert log_custom_data() is None


def test_log_custom_data_keeps_the_last_call() -> None:
    assert log_custom_data("'a'", "'b'") == "b"
    assert log_custom_data("'x'.repeat(2000)", "'short'") == "short"
    assert log_custom_data("'short'", "''") == ""


def test_log_custom_data_is_url_encoded() -> None:
    assert log_custom_data("'user=alice&plan=pro tier/1'") == "user%3Dalice%26plan%3Dpro%20tier%2F1"
    assert log_custom_data("'caf\\u00e9 \\u20ac \\ud83d\\ude00'") == (
        "caf%C3%A9%20%E2%82%AC%20%F0%9F%98%80"
    )


def test_log_custom_data_encodes_as_encode_uri_component_does() -> None:
    text = "a-z_A.Z~0!9*'()\\\" #$%&+,/:;<=>?@[]^`{|}\\u00e9\\u4e2d\\ud83d\\ude00"
    code = (
        "import cf from 'cloudfront';\n"
        f'function handler(e) {{ var s = "{text}"; cf.logCustomData(s);'
        " e.request.headers.enc = {value: encodeURIComponent(s)}; return e.request; }"
    )
    result = run(code)
    assert result.custom_log_data == result.request["headers"]["enc"]["value"]


def test_a_long_ascii_value_is_cut_to_800_bytes() -> None:
    assert log_custom_data("'a'.repeat(2000)") == "a" * 800


def test_the_cut_never_splits_an_escape_or_a_character() -> None:
    # ' ' is 3 bytes once encoded: 266 fit (798 bytes), the 267th would make 801.
    assert log_custom_data("' '.repeat(400)") == "%20" * 266
    # 'é' is 6 bytes (%C3%A9): 133 fit; '€' is 9 bytes: 88 fit; an emoji is 12 bytes: 66 fit.
    assert log_custom_data("'\\u00e9'.repeat(400)") == "%C3%A9" * 133
    assert log_custom_data("'\\u20ac'.repeat(400)") == "%E2%82%AC" * 88
    assert log_custom_data("'\\ud83d\\ude00'.repeat(400)") == "%F0%9F%98%80" * 66
    assert log_custom_data("'a'.repeat(799) + '\\u00e9'") == "a" * 799


def test_a_non_string_value_is_logged_as_its_string_form() -> None:
    # The docs ask for one string (stringify objects yourself); like String(value) here.
    assert log_custom_data("42") == "42"
    assert log_custom_data("{plan: 'pro'}") == "%5Bobject%20Object%5D"
    assert log_custom_data("JSON.stringify({plan: 'pro'})") == "%7B%22plan%22%3A%22pro%22%7D"
    assert log_custom_data("") == "undefined"


def test_log_custom_data_works_in_viewer_response_functions() -> None:
    assert log_custom_data("'status ok'", event=response_event()) == "status%20ok"


def test_crypto_and_querystring_modules_load() -> None:
    code = (
        "import crypto from 'crypto';\nvar qs = require('querystring');\n"
        "function handler(e) { e.request.headers.h = {value: crypto.createHash('sha256').update('abc').digest('hex')"
        " + ' ' + qs.stringify({a: ['1', '2']})}; return e.request; }"
    )
    assert header(run(code), "h") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad a=1&a=2"
    )


def test_unknown_module_fails() -> None:
    result = run("var fs = require('fs');\nfunction handler(e) { return e.request; }")
    assert result.error.kind == "execution"
    assert "fs" in result.error.message


def test_a_value_reads_the_same_alone_or_with_other_reads() -> None:
    # One read is answered with plain arguments, several at once as JSON: the function sees the
    # same text either way, NUL, astral characters, U+2028, quotes and backslashes included.
    value = 'a\x00b\U0001f600\u00e9\u2028"\\'
    store = {"k": value, "other": "x"}
    alone = header(kvs_probe("kvs.get('k')", kvs=store), "out")
    together = header(
        kvs_probe("Promise.all([kvs.get('k'), kvs.get('other')]).then((v) => v[0])", kvs=store),
        "out",
    )
    assert alone == together
    assert json.loads(alone) == value
