"""What ``edgesim_server`` keeps to itself: ports, KVS state and files, whatever ``[server]``
says, so that tests in parallel (in one process, or in pytest-xdist workers) share nothing and
nothing is written into the project (issue 12). The xdist run itself is in test_xdist.py."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import pytest

import edgesim.testing.plugin as plugin
from edgesim.errors import InputError
from edgesim.testing.plugin import EdgesimServer
from tests.unit.testing.test_plugin import INNER_INI, PLUGIN_ARGS

StartServer = Callable[..., Awaitable[EdgesimServer]]

# A function that answers by itself: no origin is ever reached.
HELLO_JS = "function handler(event) { return { statusCode: 200, body: 'hi' }; }"

# What a developer's edgesim.toml says for `edgesim serve`: every item would clash between two
# servers started from it at once, or write into the project.
CONFIG = textwrap.dedent(
    """
    [server]
    port = 8080
    admin_port = 8081
    https_port = 8443
    state_dir = "state"
    ephemeral = false
    access_log = "logs/access.log"

    [[origins]]
    id = "app"
    url = "http://127.0.0.1:9"

    [[functions]]
    name = "hello"
    file = "hello.js"

    [default_behavior]
    origin = "app"
    viewer_request = "hello"
    """
)


def tree(root: Path) -> dict[str, bytes | None]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes() if p.is_file() else None
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "logs").mkdir(parents=True)  # so that the configured access log could be opened
    (root / "hello.js").write_text(HELLO_JS)
    (root / "edgesim.toml").write_text(CONFIG)
    return root


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def test_two_servers_from_one_config_share_nothing(
    edgesim_server: StartServer, project: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    before = tree(project)
    config = project / "edgesim.toml"
    first, second = await edgesim_server(config), await edgesim_server(config)
    answers = await asyncio.gather(get(first.url + "/one"), get(second.url + "/two"))
    assert list(answers) == [(200, "hi"), (200, "hi")]
    ports = [
        (e.server.viewer_port, e.server.admin_port, e.server.https_port) for e in (first, second)
    ]
    assert not set(ports[0]) & set(ports[1])
    assert not {8080, 8081, 8443} & set(ports[0] + ports[1])
    # Each server has its own state directory under pytest's temporary directory (per worker
    # under xdist), and the access log the config asked for is there, under its own name.
    assert first.state_dir != second.state_dir
    for edge, path in ((first, "/one"), (second, "/two")):
        assert edge.state_dir.is_relative_to(tmp_path_factory.getbasetemp())
        assert edge.access_log == edge.state_dir / "access.log"
        lines = [line for line in edge.access_log.read_text().splitlines() if line[:1] != "#"]
        assert len(lines) == 1, lines
        assert f"\t{path}\t" in lines[0]
        # KVS state in memory: the access log is the only file a server wrote.
        assert [p.name for p in edge.state_dir.iterdir()] == ["access.log"]
    assert tree(project) == before  # no state/, no logs/access.log, nothing else


async def test_a_config_without_an_access_log_gets_none(
    edgesim_server: StartServer, project: Path
) -> None:
    (project / "edgesim.toml").write_text(CONFIG.replace('access_log = "logs/access.log"\n', ""))
    edge = await edgesim_server(project / "edgesim.toml")
    assert await get(edge.url + "/") == (200, "hi")
    assert edge.access_log is None
    assert list(edge.state_dir.iterdir()) == []


async def test_a_server_table_that_is_no_table_is_still_explained(
    edgesim_server: StartServer,
) -> None:
    config = {"server": 5, "origins": [{"id": "o", "url": "http://127.0.0.1:9"}]}
    with pytest.raises(InputError, match=r"server: expected a table \(\[server\]\), got integer"):
        await edgesim_server(config)


def test_isolated_server_table(tmp_path: Path) -> None:
    table = {"port": 80, "debug_headers": True, "access_log": "/var/log/edge/access.log"}
    assert plugin._isolated(table, tmp_path) == {
        "host": "127.0.0.1",
        "port": 0,
        "admin_port": 0,
        "https_port": 0,
        "ephemeral": True,
        "state_dir": str(tmp_path),
        "access_log": str(tmp_path / "access.log"),
        "debug_headers": True,  # settings that are not about ports or files are kept
    }
    assert table["port"] == 80  # the caller's dict is not changed


WITHOUT_TMPDIR = """
from pathlib import Path

KEPT = {}


async def test_a_server_without_the_tmpdir_plugin(edgesim_server):
    config = {
        "server": {"access_log": "access.log"},
        "origins": [{"id": "o", "url": "http://127.0.0.1:9"}],
        "default_behavior": {"origin": "o"},
    }
    edge = await edgesim_server(config)
    KEPT["state_dir"] = edge.state_dir
    assert edge.access_log.parent == edge.state_dir
    assert edge.state_dir.is_dir()
    assert not edge.state_dir.is_relative_to(Path.cwd())


def test_its_directory_was_removed_after_the_test():
    assert not KEPT["state_dir"].exists()
"""


def test_without_pytests_tmpdir_plugin_a_private_directory_is_used(
    pytester: pytest.Pytester,
) -> None:
    """``-p no:tmpdir`` leaves no tmp_path_factory: the server's directory is then a private
    temporary one, removed after the test."""
    pytester.makeini(INNER_INI)
    pytester.makepyfile(test_inner=WITHOUT_TMPDIR)
    before = tree(pytester.path)
    result = pytester.runpytest(*PLUGIN_ARGS, "-p", "no:tmpdir", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    assert tree(pytester.path) == before
