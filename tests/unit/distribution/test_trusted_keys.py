"""``[[public_keys]]``, ``[[key_groups]]``, ``trusted_key_groups`` and ``[private_content]``:
read, cross-checked, and every mistake named by file, table and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import signing
from tests.unit.distribution.helpers import ORIGIN, parse, problems_of

PEM = signing.public_pem("rsa")


def config(keys: str, groups: str = "", behavior: str = "", default: str = "") -> str:
    return f"""{ORIGIN}
{keys}
{groups}
[[behaviors]]
path = "/private/*"
origin = "app"
{behavior}

[default_behavior]
origin = "app"
{default}
"""


KEY = f"[[public_keys]]\nid = \"K1\"\nencoded_key = '''{PEM}'''\n"
GROUP = '[[key_groups]]\nname = "g"\nkeys = ["K1"]\n'


def test_keys_groups_and_behaviours_are_read(tmp_path: Path) -> None:
    (tmp_path / "ec.pem").write_text(signing.public_pem("ec"))
    keys = KEY + '[[public_keys]]\nid = "KEC"\npem = "ec.pem"\ncomment = "the EC one"\n'
    groups = GROUP + '[[key_groups]]\nname = "h"\nkeys = ["KEC", "K1"]\n'
    dist = parse(
        tmp_path,
        config(keys, groups, 'trusted_key_groups = ["g", "h"]', 'trusted_key_groups = ["h"]')
        + "[private_content]\nstrip_signing_parameters = true\n",
    )
    assert dist.public_keys["K1"].pem == PEM.encode()
    assert dist.public_keys["KEC"].pem == signing.public_pem("ec").encode()
    assert dist.key_groups["h"].keys == ("KEC", "K1")
    assert dist.behaviors[0].trusted_key_groups == ("g", "h")
    assert dist.default_behavior.trusted_key_groups == ("h",)
    assert dist.private_content.strip_signing_parameters is True


def test_behaviours_without_key_groups_are_public(tmp_path: Path) -> None:
    dist = parse(tmp_path, config(KEY, GROUP, "trusted_key_groups = []"))
    assert dist.behaviors[0].trusted_key_groups == ()
    assert dist.default_behavior.trusted_key_groups == ()
    assert dist.private_content.strip_signing_parameters is False


@pytest.mark.parametrize(
    ("keys", "groups", "behavior", "expected"),
    [
        (
            '[[public_keys]]\nid = "K1"\nencoded_key = "garbage"\n',
            "",
            "",
            "edgesim.toml: public_keys[0].encoded_key: the key is not a PEM public key",
        ),
        (
            f"[[public_keys]]\nid = \"K1\"\nencoded_key = '''{signing.private_pem('rsa')}'''\n",
            "",
            "",
            "public_keys[0].encoded_key: the key is a private key",
        ),
        (
            '[[public_keys]]\nid = "K1"\npem = "missing.pem"\n',
            "",
            "",
            "public_keys[0].pem: key file 'missing.pem' does not exist",
        ),
        (
            f"[[public_keys]]\nid = \"K1\"\npem = \"k.pem\"\nencoded_key = '''{PEM}'''\n",
            "",
            "",
            "public_keys[0]: give exactly one of pem (a file) and encoded_key",
        ),
        ('[[public_keys]]\nid = "K1"\n', "", "", "public_keys[0]: give exactly one of pem"),
        (KEY + KEY, "", "", "public_keys[1].id: duplicate public key id 'K1'"),
        (
            f"[[public_keys]]\nid = \"a b\"\nencoded_key = '''{PEM}'''\n",
            "",
            "",
            "public_keys[0].id: key id 'a b' must be",
        ),
        (KEY, '[[key_groups]]\nname = "g"\nkeys = ["K2"]\n', "", "key_groups[0].keys: unknown public key 'K2'"),
        (KEY, '[[key_groups]]\nname = "g"\nkeys = []\n', "", "key_groups[0].keys: a key group needs at least one"),
        (KEY, GROUP + GROUP, "", "key_groups[1].name: duplicate key group 'g'"),
        (KEY, GROUP, 'trusted_key_groups = ["gg"]', "behaviors[0].trusted_key_groups: unknown key group 'gg'"),
        ("", "", 'trusted_key_groups = ["g"]', "unknown key group 'g' (no [[key_groups]] declared)"),
        (KEY, GROUP, 'trusted_key_groups = "g"', "behaviors[0].trusted_key_groups: expected an array"),
    ],
)  # fmt: skip
def test_mistakes_are_named_by_table_and_key(
    tmp_path: Path, keys: str, groups: str, behavior: str, expected: str
) -> None:
    (tmp_path / "k.pem").write_text(PEM)
    assert expected in problems_of(tmp_path, config(keys, groups, behavior))


def test_private_content_settings_are_checked(tmp_path: Path) -> None:
    text = config(KEY) + '[private_content]\nstrip_signing_parameters = "yes"\nstrip = 1\n'
    problems = problems_of(tmp_path, text)
    assert "private_content.strip_signing_parameters: expected true or false" in problems
    assert "private_content.strip: unknown key" in problems
