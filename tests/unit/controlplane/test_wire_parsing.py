"""Pure parsing of the KVS wire format: paths, bodies, query values."""

from __future__ import annotations

import pytest

from edgesim.controlplane.kvs_api import (
    KvsPath,
    WireError,
    check_arn,
    parse_json_object,
    parse_max_results,
    parse_path,
    parse_update_body,
)

ARN = "arn:aws:cloudfront::123456789012:key-value-store/327284aa-bcf8-4fb4-b3a4-d2a9e7e93f26"
RAW_ARN = "arn%3Aaws%3Acloudfront%3A%3A123456789012%3Akey-value-store%2F327284aa-bcf8-4fb4-b3a4-d2a9e7e93f26"


def test_describe_path() -> None:
    assert parse_path(f"/key-value-stores/{RAW_ARN}") == KvsPath(ARN)


def test_keys_path() -> None:
    assert parse_path(f"/key-value-stores/{RAW_ARN}/keys") == KvsPath(ARN, keys=True)


def test_key_is_split_before_decoding() -> None:
    # botocore's encoding of the key 'a/b c:ü?&'
    path = parse_path(f"/key-value-stores/{RAW_ARN}/keys/a%2Fb%20c%3A%C3%BC%3F%26")
    assert path == KvsPath(ARN, keys=True, key="a/b c:ü?&")


def test_percent_sign_in_key_is_decoded_once() -> None:
    assert parse_path(f"/key-value-stores/{RAW_ARN}/keys/100%2525") == KvsPath(ARN, True, "100%25")


def test_endpoint_path_prefix_is_skipped() -> None:
    assert parse_path(f"/custom/key-value-stores/{RAW_ARN}/keys") == KvsPath(ARN, keys=True)


def test_empty_key_label_is_kept_for_the_model_to_refuse() -> None:
    assert parse_path(f"/key-value-stores/{RAW_ARN}/keys/") == KvsPath(ARN, keys=True, key="")


@pytest.mark.parametrize(
    "raw",
    [
        "/",
        "/key-value-stores",
        "/key-value-stores/",
        f"/key-value-stores/{RAW_ARN}/items",
        f"/key-value-stores/{RAW_ARN}/keys/a/b",
    ],
)
def test_paths_outside_the_api(raw: str) -> None:
    assert parse_path(raw) is None


def test_invalid_utf8_in_key_is_a_validation_error() -> None:
    with pytest.raises(WireError, match="Key in the path is not valid") as info:
        parse_path(f"/key-value-stores/{RAW_ARN}/keys/%FF")
    assert (info.value.code, info.value.status) == ("ValidationException", 400)


@pytest.mark.parametrize("arn", ["my-store", "arn:aws:s3:::bucket", ""])
def test_non_store_arns_are_refused(arn: str) -> None:
    with pytest.raises(WireError, match="is not a key value store ARN"):
        check_arn(arn)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "request body is empty"),
        (b"{", "not valid JSON"),
        (b"[1]", "must be a JSON object"),
        (b'"x"', "must be a JSON object"),
    ],
)
def test_malformed_bodies(raw: bytes, message: str) -> None:
    with pytest.raises(WireError, match=message) as info:
        parse_json_object(raw, what='{"Value": "..."}')
    assert info.value.code == "ValidationException"


def test_update_body() -> None:
    doc = {"Puts": [{"Key": "a", "Value": "1"}], "Deletes": [{"Key": "b"}]}
    assert parse_update_body(doc) == ([("a", "1")], ["b"])
    assert parse_update_body({}) == ([], [])


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"Puts": {"Key": "a"}}, "Puts must be a list"),
        ({"Puts": ["a"]}, r"Puts\[0\] must be an object"),
        ({"Puts": [{"Key": "a"}]}, r"Puts\[0\]\.Value is required"),
        ({"Puts": [{"Key": 1, "Value": "v"}]}, r"Puts\[0\]\.Key must be a string, not int"),
        ({"Deletes": [{"Key": "a"}, {}]}, r"Deletes\[1\]\.Key is required"),
    ],
)
def test_update_body_errors_name_the_member(doc: dict[str, object], message: str) -> None:
    with pytest.raises(WireError, match=message):
        parse_update_body(doc)


def test_max_results() -> None:
    assert parse_max_results(None) == 10
    assert parse_max_results("50") == 50
    for bad in ("0", "51", "ten"):
        with pytest.raises(WireError, match="MaxResults"):
            parse_max_results(bad)
