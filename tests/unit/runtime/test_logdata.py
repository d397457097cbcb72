"""The access-log text of cf.logCustomData: URL-encoded, then cut to 800 bytes.

(The shim side — last call wins, String() of non-strings — is tested in test_cloudfront_module.)
"""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgesim.runtime.logdata import encode_custom_log_data


def test_short_values_are_only_encoded() -> None:
    assert encode_custom_log_data("plan=pro tier") == "plan%3Dpro%20tier"
    assert encode_custom_log_data("") == ""


def test_encode_uri_component_leaves_these_alone() -> None:
    keep = "ABCXYZabcxyz0189-_.!~*'()"
    assert encode_custom_log_data(keep) == keep


@pytest.mark.parametrize(
    ("char", "encoded"),
    [
        (" ", "%20"),
        ("+", "%2B"),
        ("/", "%2F"),
        ("%", "%25"),
        ('"', "%22"),
        ("\u00e9", "%C3%A9"),
        ("\u20ac", "%E2%82%AC"),
        ("\U0001f600", "%F0%9F%98%80"),
    ],
)
def test_everything_else_is_percent_encoded_utf8(char: str, encoded: str) -> None:
    assert encode_custom_log_data(char) == encoded


def test_long_ascii_is_cut_to_800_bytes() -> None:
    assert encode_custom_log_data("a" * 2000) == "a" * 800


def test_an_escape_is_never_cut_in_half() -> None:
    # 799 bytes of 'a', then a space (3 bytes) that does not fit whole.
    assert encode_custom_log_data("a" * 799 + " ") == "a" * 799
    assert encode_custom_log_data("a" * 797 + " b") == "a" * 797 + "%20"


def test_the_escapes_of_one_character_stay_together() -> None:
    # 'é' is two escapes (6 bytes): after 797 bytes there is room for one escape, not both.
    assert encode_custom_log_data("a" * 797 + "\u00e9") == "a" * 797


def test_the_limit_can_be_given() -> None:
    assert encode_custom_log_data("abc def", max_bytes=5) == "abc"


@given(st.text(max_size=1200))
def test_the_result_fits_decodes_to_a_prefix_and_is_as_long_as_possible(text: str) -> None:
    encoded = encode_custom_log_data(text)
    assert len(encoded.encode("ascii")) <= 800
    kept = unquote(encoded, errors="strict")
    assert text.startswith(kept)
    if kept != text:
        # The next character would not have fitted.
        assert len(encode_custom_log_data(text[: len(kept) + 1], max_bytes=10**6)) > 800
