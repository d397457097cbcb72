"""edgesim.kvs_cli: the parts of ``edgesim kvs …`` that decide before or after the HTTP calls:
flag checks, exit codes, the size check before any batch, what a failed batch run tells the user,
and how a plan is shown. (Whole commands against a running control plane:
tests/integration/test_kvs_cli.py.)"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from edgesim import kvs_cli
from edgesim.cli import main
from edgesim.controlplane import endpoint
from edgesim.controlplane.client import ControlPlaneError, Reply
from edgesim.controlplane.plan import Batch, batches, compute_plan
from edgesim.errors import InputError

UNUSED = "http://127.0.0.1:9"  # commands refused before any request never reach it


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["kvs", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# -- flags -------------------------------------------------------------------------------------


def test_pops_are_upper_cased_and_trimmed() -> None:
    assert kvs_cli.parse_pops("iad, fra ,NRT") == ("IAD", "FRA", "NRT")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("IAD,IAD", "a POP is listed twice"),
        ("IAD;FRA", "expected comma-separated POP codes"),
        ("IAD,", "expected comma-separated POP codes"),
    ],
)
def test_bad_pops_are_input_errors(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        kvs_cli.parse_pops(text)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--port", "70000"], "--port 70000: expected 0-65535"),
        (["--lag-ms", "-1"], "--lag-ms -1.0: must be a finite number"),
        (["--lag-ms", "inf"], "--lag-ms inf: must be a finite number"),
        (["--pops", "IAD,iad"], "a POP is listed twice"),
    ],
)
def test_serve_refuses_bad_flags_with_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, "serve", "--ephemeral", *argv)
    assert code == kvs_cli.EXIT_BAD_INPUT
    assert message in err


@pytest.mark.parametrize("argv", [["s"], ["s", "k", "--store"]])
def test_delete_needs_a_key_or_store_but_not_both(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, _, err = run(capsys, "delete", "--endpoint", UNUSED, *argv)
    assert code == kvs_cli.EXIT_BAD_INPUT
    assert "give either a KEY to delete, or --store" in err


def test_a_bad_import_file_is_refused_before_contacting_the_endpoint(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "data.json"
    bad.write_text('{"data": [{"key": "", "value": "v"}]}')
    for argv in (["create", "s", "--import", str(bad)], ["apply", "s", str(bad)]):
        code, _, err = run(capsys, *argv[:1], "--endpoint", UNUSED, *argv[1:])
        assert code == kvs_cli.EXIT_BAD_INPUT
        assert f"{bad}: data[0]: the key is empty" in err
        assert "cannot reach" not in err


def test_an_unreachable_endpoint_exits_1_and_says_how_to_start_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(capsys, "list", "--endpoint", UNUSED)
    assert code == kvs_cli.EXIT_FAILED == endpoint.EXIT_UNREACHABLE
    assert f"cannot reach the admin endpoint at {UNUSED}: " in err
    assert "edgesim kvs serve" in err


@pytest.fixture
def no_endpoint_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An environment without an endpoint variable, in a directory without edgesim.toml."""
    for name in ("EDGESIM_ENDPOINT", "EDGESIM_KVS_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_environment_names_the_endpoint_and_the_message_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, no_endpoint_env: Path
) -> None:
    monkeypatch.setenv("EDGESIM_KVS_ENDPOINT", UNUSED)  # the older name still works
    code, _, err = run(capsys, "list")
    assert code == kvs_cli.EXIT_FAILED
    assert f"cannot reach the admin endpoint at {UNUSED} (from $EDGESIM_KVS_ENDPOINT)" in err


def test_the_configs_admin_port_names_the_endpoint(
    capsys: pytest.CaptureFixture[str], no_endpoint_env: Path
) -> None:
    (no_endpoint_env / "edgesim.toml").write_text(
        '[server]\nadmin_port = 9\n\n[[origins]]\nid = "web"\nurl = "http://127.0.0.1:3000"\n\n'
        '[default_behavior]\norigin = "web"\n'
    )
    code, _, err = run(capsys, "list")
    assert code == kvs_cli.EXIT_FAILED
    assert (
        "cannot reach the admin endpoint at http://127.0.0.1:9 "
        "(from ./edgesim.toml [server] admin_port)" in err
    )


def test_a_broken_config_is_bad_input_that_says_how_to_skip_it(
    capsys: pytest.CaptureFixture[str], no_endpoint_env: Path
) -> None:
    (no_endpoint_env / "edgesim.toml").write_text("[server\n")
    code, _, err = run(capsys, "list")
    assert code == kvs_cli.EXIT_BAD_INPUT
    assert "invalid TOML" in err
    assert "pass --endpoint URL to skip it" in err


# -- exit codes and messages -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "exit_code"),
    [
        ("ConflictException", kvs_cli.EXIT_CONFLICT),
        ("ValidationException", kvs_cli.EXIT_BAD_INPUT),
        ("ResourceNotFoundException", kvs_cli.EXIT_FAILED),
        ("ServiceQuotaExceededException", kvs_cli.EXIT_FAILED),
    ],
)
def test_refusals_map_to_exit_codes(code: str, exit_code: int) -> None:
    assert kvs_cli._exit_for(ControlPlaneError(code, 400, "m")) == exit_code


def test_a_change_that_would_end_over_5_mb_is_refused_before_any_batch() -> None:
    kvs_cli._check_final_size("s", 5 * 1024 * 1024)
    with pytest.raises(
        InputError, match=r"s: after this change .* 5242881 bytes .*nothing was sent"
    ):
        kvs_cli._check_final_size("s", 5 * 1024 * 1024 + 1)


class FailingAt:
    """A client whose ``update_keys`` fails on call number ``at`` (0-based) with ``code``."""

    def __init__(self, at: int, code: str) -> None:
        self.at, self.code, self.calls = at, code, 0

    def update_keys(self, arn: str, batch: Batch, *, if_match: str) -> Reply:
        if self.calls == self.at:
            raise ControlPlaneError(self.code, 409, "stale")
        self.calls += 1
        return Reply(200, {}, f"KV{self.calls}")


STORE = {"arn": "arn:store", "etag": "KV0"}
WORK = batches({f"k{i}": "v" for i in range(120)})  # three batches


def test_each_batch_carries_the_etag_the_previous_one_returned() -> None:
    seen: list[str] = []

    class Recording(FailingAt):
        def update_keys(self, arn: str, batch: Batch, *, if_match: str) -> Reply:
            seen.append(if_match)
            return super().update_keys(arn, batch, if_match=if_match)

    assert kvs_cli._send(Recording(-1, ""), STORE, WORK) == ("KV3", 3)  # type: ignore[arg-type]
    assert seen == ["KV0", "KV1", "KV2"]


@pytest.mark.parametrize(
    ("at", "code", "suffix"),
    [
        (0, "ConflictException", " (the store changed since it was read; re-run)"),
        (
            1,
            "ConflictException",
            " (after 1 of 3 batches were applied: the store is partly updated; re-run to finish)",
        ),
        (
            2,
            "ServiceQuotaExceededException",
            " (after 2 of 3 batches were applied: the store is partly updated)",
        ),
        (0, "ServiceQuotaExceededException", ""),
    ],
)
def test_a_failed_batch_says_how_far_the_run_got_and_whether_to_rerun(
    at: int, code: str, suffix: str
) -> None:
    with pytest.raises(ControlPlaneError) as info:
        kvs_cli._send(FailingAt(at, code), STORE, WORK)  # type: ignore[arg-type]
    assert info.value.message == "stale" + suffix


# -- showing a plan ----------------------------------------------------------------------------


LIVE = {"same": "1", "old": "x", "extra": "e", "a key": "v"}
DESIRED = {"same": "1", "old": "y", "new": "n"}


def show(capsys: pytest.CaptureFixture[str], *, prune: bool, as_json: bool = False) -> str:
    plan = compute_plan(LIVE, DESIRED, prune=prune)
    kvs_cli._show_plan(argparse.Namespace(json=as_json), plan, header="s → data.json")
    return capsys.readouterr().out


def test_plan_lists_each_key_with_its_sign_and_a_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert show(capsys, prune=False).splitlines() == [
        "s → data.json",
        '  + "new"',
        '  ~ "old"',
        '  ? "extra" (not in the file)',
        '  ? "a key" (not in the file)',
        "1 to add, 1 to change, 0 to delete, 1 unchanged; 2 not in the file kept (--prune "
        "deletes them)",
    ]
    assert show(capsys, prune=True).splitlines()[3:] == [
        '  - "extra"',
        '  - "a key"',
        "1 to add, 1 to change, 2 to delete, 1 unchanged",
    ]


def test_plan_as_json_says_what_is_kept_without_prune(capsys: pytest.CaptureFixture[str]) -> None:
    doc: dict[str, Any] = json.loads(show(capsys, prune=False, as_json=True))
    assert doc == {
        "add": {"new": "n"},
        "change": {"old": {"from": "x", "to": "y"}},
        "delete": [],
        "keep_extra": ["extra", "a key"],
        "unchanged": 1,
    }
